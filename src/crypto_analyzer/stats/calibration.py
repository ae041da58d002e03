"""Calibration harness: rejection rates under null DGPs (size) and planted effects (power)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import plain
from crypto_analyzer.stats.cusum import cusum_test
from crypto_analyzer.stats.dsr import deflated_sharpe_ratio
from crypto_analyzer.stats.family import family_tests
from crypto_analyzer.stats.hac import newey_west
from crypto_analyzer.stats.multitest import adjust_pvalues
from crypto_analyzer.stats.null_suite import null_suite
from crypto_analyzer.stats.psr import probabilistic_sharpe_ratio
from crypto_analyzer.stats.supf import sup_f_test

__all__ = [
    "CALIBRATION_DGPS",
    "CALIBRATION_TESTS",
    "CalibrationResult",
    "CalibrationRow",
    "binomial_interval",
    "render_calibration_markdown",
    "run_calibration",
]

CALIBRATION_DGPS = ("iid", "ar1", "garch")
CALIBRATION_TESTS = (
    "hac_t",
    "psr",
    "dsr",
    "reality_check",
    "spa",
    "stepm",
    "bh",
    "by",
    "holm",
    "cusum",
    "cusum_lrv",
    "sup_f",
    "null_suite",
)
CONSERVATIVE_BY_DESIGN = {
    "by": "BY bounds FDR under any dependence; under independence its size is about alpha/sum(1/k)",
    "dsr": "DSR deflates by the expected maximum, not a quantile; far below alpha under the null",
}
_FAMILY = 10
_EFFECT = 0.2
_FAMILY_EFFECT = 0.3
_BREAK = 0.35
_SIGNAL = 0.06
_BOOT_REPS = 199
_NULL_DRAWS = 99
_PANEL = (60, 20)
_LONG_RUN_VARIANCE = {"iid": 1.0, "ar1": (1.0 + 0.5) / (1.0 - 0.5), "garch": 1.0}


@dataclass(frozen=True)
class CalibrationRow:
    """One (test, DGP, scenario) cell: rejections out of ``reps`` and, for nulls, the band."""

    test: str
    dgp: str
    scenario: str
    rejections: int
    reps: int
    rate: float
    band_low: float | None
    band_high: float | None
    within_band: bool | None
    note: str | None


@dataclass(frozen=True)
class CalibrationResult:
    """All calibration cells plus the settings that produced them."""

    rows: tuple[CalibrationRow, ...]
    reps: int
    n_obs: int
    alpha: float
    seed: int
    dgps: tuple[str, ...]
    schema_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def binomial_interval(reps: int, alpha: float, level: float = 0.99) -> tuple[float, float]:
    """Central ``level`` acceptance band of the rejection *rate* of a size-``alpha`` test."""
    tail = (1.0 - level) / 2.0
    low = float(sps.binom.ppf(tail, reps, alpha)) / reps
    high = float(sps.binom.ppf(1.0 - tail, reps, alpha)) / reps
    return low, high


def _simulate(dgp: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Unit-variance, zero-mean series along axis 0 (each column independent)."""
    burn = 100
    e = rng.standard_normal((shape[0] + burn, *shape[1:]))
    if dgp == "iid":
        return e[burn:]
    out = np.empty_like(e)
    if dgp == "ar1":
        phi = 0.5
        out[0] = e[0]
        scale = math.sqrt(1.0 - phi**2)
        for t in range(1, e.shape[0]):
            out[t] = phi * out[t - 1] + scale * e[t]
        return out[burn:]
    omega, a, b = 0.05, 0.10, 0.85
    var = np.full(e.shape[1:], omega / (1.0 - a - b))
    for t in range(e.shape[0]):
        out[t] = np.sqrt(var) * e[t]
        var = omega + a * out[t] ** 2 + b * var
    return out[burn:]


Test = Callable[[str, bool, int, float, np.random.Generator, int], bool]


def _t_hac(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
    x = _simulate(dgp, (n,), rng) + (_EFFECT if effect else 0.0) / math.sqrt(n / 100)
    p = newey_west(x).p_value
    return p is not None and p < alpha


def _t_psr(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
    x = _simulate(dgp, (n,), rng) + (_EFFECT if effect else 0.0) / math.sqrt(n / 100)
    return probabilistic_sharpe_ratio(x).psr > 1.0 - alpha


def _panel(dgp: str, effect: bool, n: int, rng: np.random.Generator) -> np.ndarray:
    d = _simulate(dgp, (n, _FAMILY), rng)
    if effect:
        d[:, 0] += _FAMILY_EFFECT / math.sqrt(n / 100)
    return d


def _t_dsr(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
    d = _panel(dgp, effect, n, rng)
    sharpes = d.mean(axis=0) / d.std(axis=0, ddof=1)
    best = int(np.argmax(sharpes))
    return deflated_sharpe_ratio(d[:, best], trial_sharpes=sharpes).dsr > 1.0 - alpha


def _family(kind: str) -> Test:
    def run(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
        res = family_tests(_panel(dgp, effect, n, rng), seed=s, reps=_BOOT_REPS, alpha=alpha)
        if kind == "reality_check":
            p = res.reality_check.p_value
        elif kind == "spa":
            p = res.spa.pvalue_consistent
        else:
            return bool(res.stepm.rejected)
        return p is not None and p <= alpha

    return run


def _multitest(method: str) -> Test:
    def run(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
        d = _simulate(dgp, (n, _FAMILY), rng)
        if effect:
            d[:, :3] += _FAMILY_EFFECT / math.sqrt(n / 100)
        # z-tests with the DGP's known long-run variance: exact p-values under the iid null, so
        # the row measures the adjustment rather than the finite-sample error of a HAC p-value.
        z = d.mean(axis=0) * math.sqrt(n) / math.sqrt(_LONG_RUN_VARIANCE[dgp])
        pvalues = 2.0 * sps.norm.sf(np.abs(z))
        return any(adjust_pvalues(pvalues, method=method, alpha=alpha).rejected)

    return run


def _break_series(dgp: str, effect: bool, n: int, rng: np.random.Generator) -> np.ndarray:
    x = _simulate(dgp, (n,), rng)
    if effect:
        x[n // 2 :] += _BREAK
    return x


def _t_cusum(lrv: bool) -> Test:
    def run(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
        return cusum_test(_break_series(dgp, effect, n, rng), long_run_variance=lrv).p_value < alpha

    return run


def _t_supf(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
    x = _break_series(dgp, effect, n, rng)
    return sup_f_test(x, seed=s, reps=_BOOT_REPS).p_value <= alpha


def _t_null(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
    signal = rng.standard_normal(_PANEL)
    returns = _simulate(dgp, _PANEL, rng)
    if effect:
        returns += _SIGNAL * signal
    res = null_suite(signal, returns, seed=s, draws=_NULL_DRAWS, models=("permuted_signal",))
    return res.nulls[0].p_value_ic <= alpha


_RUNNERS: dict[str, Test] = {
    "hac_t": _t_hac,
    "psr": _t_psr,
    "dsr": _t_dsr,
    "reality_check": _family("reality_check"),
    "spa": _family("spa"),
    "stepm": _family("stepm"),
    "bh": _multitest("bh"),
    "by": _multitest("by"),
    "holm": _multitest("holm"),
    "cusum": _t_cusum(False),
    "cusum_lrv": _t_cusum(True),
    "sup_f": _t_supf,
    "null_suite": _t_null,
}


def _run_calibration_iv(
    reps: Any, n_obs: Any, alpha: Any, seed: Any, dgps: Any, tests: Any
) -> tuple[int, int, float, int, tuple[str, ...], tuple[str, ...]]:
    reps_value = v.integer(reps, "reps", minimum=10)
    n = v.integer(n_obs, "n_obs", minimum=60)
    level = v.probability_level(alpha, "alpha")
    seed_int = v.seed_value(seed)
    chosen = []
    for name, allowed, value in (
        ("dgps", CALIBRATION_DGPS, dgps),
        ("tests", CALIBRATION_TESTS, tests),
    ):
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
            raise TypeError(f"{name} must be a non-empty tuple of names from {list(allowed)}")
        chosen.append(tuple(v.choice(item, name, allowed) for item in value))
    return reps_value, n, level, seed_int, chosen[0], chosen[1]


def run_calibration(
    *,
    reps: int = 300,
    n_obs: int = 250,
    alpha: float = 0.05,
    seed: int = 20240605,
    dgps: tuple[str, ...] = CALIBRATION_DGPS,
    tests: tuple[str, ...] = CALIBRATION_TESTS,
    power: bool = True,
) -> CalibrationResult:
    r"""Monte-Carlo size and power of every procedure in ``stats``.

    Parameters
    ----------
    reps : int, keyword-only
        Replications per (test, DGP, scenario) cell, at least 10.
    n_obs : int, keyword-only
        Series length T (>= 60). Families have 10 hypotheses; the null-suite panel is 60 x 20.
    alpha : float, keyword-only
        Nominal level.
    seed : int, keyword-only
        Master seed; every cell's data and bootstrap seeds derive from it through
        ``numpy.random.SeedSequence([seed, dgp, test, scenario, rep])``, so cells are independent
        and any cell can be replayed alone.
    dgps : tuple of str, keyword-only
        Null data-generating processes: ``"iid"`` N(0,1); ``"ar1"`` with :math:`\phi = 0.5`;
        ``"garch"`` GARCH(1,1) with :math:`(\omega,\alpha,\beta) = (0.05, 0.10, 0.85)`. All have
        mean 0 and unit unconditional variance.
    tests : tuple of str, keyword-only
        Subset of :data:`CALIBRATION_TESTS`.
    power : bool, keyword-only
        Also run the planted-effect scenario (mean shift, one superior model, mid-sample break or
        a real signal, by test).

    Returns
    -------
    CalibrationResult

    Notes
    -----
    A null cell is "within band" when its rejection count lies in the central 99% interval of
    Binomial(reps, alpha) (:func:`binomial_interval`). BY and DSR are conservative by design
    (see ``note``), so they are expected below the band. Under AR(1) and GARCH the iid-based tests
    (PSR, CUSUM, sup-F with iid bootstrap) are expected to over-reject; the table shows by how
    much. Planted effects: mean ``0.2 / sqrt(T/100)`` (HAC, PSR), ``0.3 / sqrt(T/100)`` for one
    model of ten (RC/SPA/StepM, DSR) or three of ten (BH/BY/Holm), a 0.35 shift at T/2 (CUSUM,
    sup-F) and returns ``+ 0.06 * signal`` (null suite).
    """
    reps_value, n, level, seed_int, chosen_dgps, chosen_tests = _run_calibration_iv(
        reps, n_obs, alpha, seed, dgps, tests
    )
    low, high = binomial_interval(reps_value, level)
    scenarios = ("null", "power") if power else ("null",)
    rows = []
    for test in chosen_tests:
        runner = _RUNNERS[test]
        for dgp in chosen_dgps:
            for scenario in scenarios:
                hits = 0
                for rep in range(reps_value):
                    key = [
                        seed_int,
                        CALIBRATION_DGPS.index(dgp),
                        CALIBRATION_TESTS.index(test),
                        scenarios.index(scenario),
                        rep,
                    ]
                    state = np.random.SeedSequence(key).generate_state(2, dtype=np.uint64)
                    rng = make_rng(int(state[0]))
                    hits += runner(dgp, scenario == "power", n, level, rng, int(state[1]))
                rate = hits / reps_value
                is_null = scenario == "null"
                rows.append(
                    CalibrationRow(
                        test=test,
                        dgp=dgp,
                        scenario=scenario,
                        rejections=hits,
                        reps=reps_value,
                        rate=rate,
                        band_low=low if is_null else None,
                        band_high=high if is_null else None,
                        within_band=(low <= rate <= high) if is_null else None,
                        note=CONSERVATIVE_BY_DESIGN.get(test) if is_null else None,
                    )
                )
    return CalibrationResult(
        rows=tuple(rows), reps=reps_value, n_obs=n, alpha=level, seed=seed_int, dgps=chosen_dgps
    )


def render_calibration_markdown(result: CalibrationResult, command: str) -> str:
    """Markdown report: the producing command, then size and power tables."""
    lines = [
        "# Calibration of crypto-analyzer statistics",
        "",
        "Generated by:",
        "",
        "```",
        command,
        "```",
        "",
        f"reps per cell = {result.reps}, T = {result.n_obs}, alpha = {result.alpha}, "
        f"seed = {result.seed}. Null band = central 99% interval of "
        f"Binomial({result.reps}, {result.alpha}) / reps.",
        "",
        "## Size (rejection rate under the null)",
        "",
        "| test | " + " | ".join(result.dgps) + " | 99% band | note |",
        "|---" * (len(result.dgps) + 3) + "|",
    ]
    tests = list(dict.fromkeys(row.test for row in result.rows))
    cells = {(r.test, r.dgp, r.scenario): r for r in result.rows}
    for test in tests:
        values = []
        band = ""
        note = ""
        for dgp in result.dgps:
            row = cells.get((test, dgp, "null"))
            if row is None:
                values.append("")
                continue
            mark = "" if row.within_band else " *"
            values.append(f"{row.rate:.3f}{mark}")
            band = f"[{row.band_low:.3f}, {row.band_high:.3f}]"
            note = row.note or ""
        lines.append(f"| {test} | " + " | ".join(values) + f" | {band} | {note} |")
    lines += ["", "`*` = outside the 99% band.", ""]
    if any(r.scenario == "power" for r in result.rows):
        lines += [
            "## Power (rejection rate under the planted effect)",
            "",
            "| test | " + " | ".join(result.dgps) + " |",
            "|---" * (len(result.dgps) + 1) + "|",
        ]
        for test in tests:
            values = []
            for dgp in result.dgps:
                row = cells.get((test, dgp, "power"))
                values.append("" if row is None else f"{row.rate:.3f}")
            lines.append(f"| {test} | " + " | ".join(values) + " |")
        lines.append("")
    return "\n".join(lines)
