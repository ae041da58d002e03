"""Calibration harness: rejection rates under null DGPs (size) and planted effects (power)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._calibration_runs import FAMILY_SIZE, RUNNERS
from crypto_analyzer.stats._serialize import plain

__all__ = [
    "CALIBRATION_DGPS",
    "CALIBRATION_TESTS",
    "NEGATIVE_MEAN_TESTS",
    "CalibrationResult",
    "CalibrationRow",
    "binomial_interval",
    "check_calibration_arguments",
    "exact_size",
    "render_calibration_markdown",
    "run_calibration",
]

CALIBRATION_DGPS = ("iid", "ar1", "garch", "negmean")
NEGATIVE_MEAN_TESTS = ("psr", "dsr", "reality_check", "spa", "stepm")
"""One-sided tests of ``E[x] <= 0`` for which the negative-mean DGP is a (composite) null; the
other tests are two-sided or location-invariant, so that column is left empty for them."""
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
    "cusum_lrv",
    "sup_f",
    "null_suite",
)
CONSERVATIVE_BY_DESIGN = {
    "by": "BY bounds FDR under any dependence; under independence its size is alpha/sum(1/k)",
    "dsr": "DSR deflates by the expected maximum, not a quantile; far below alpha under the null",
}


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
    exact_rate: float | None = None
    """The exact size under the DGP's independence, where it is known in closed form (BH, BY,
    Holm on independent exact p-values); ``None`` otherwise."""


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


def exact_size(test: str, alpha: float, m: int = FAMILY_SIZE) -> float | None:
    """Closed-form size of a multiplicity procedure on ``m`` independent exact null p-values.

    Under the global null the chance of any rejection is: BH, ``alpha`` (Simes' test); BY,
    ``alpha / sum_{k<=m} 1/k`` (BH at the reduced level); Holm, ``1 - (1 - alpha/m)^m`` (its first
    step decides). Other tests have no closed form here (``None``).
    """
    if test == "bh":
        return alpha
    if test == "by":
        return alpha / sum(1.0 / k for k in range(1, m + 1))
    if test == "holm":
        return 1.0 - (1.0 - alpha / m) ** m
    return None


def binomial_interval(reps: int, alpha: float, level: float = 0.99) -> tuple[float, float]:
    """Central ``level`` acceptance band of the rejection *rate* of a size-``alpha`` test."""
    tail = (1.0 - level) / 2.0
    low = float(sps.binom.ppf(tail, reps, alpha)) / reps
    high = float(sps.binom.ppf(1.0 - tail, reps, alpha)) / reps
    return low, high


def check_calibration_arguments(
    *,
    reps: Any,
    n_obs: Any,
    alpha: Any,
    seed: Any,
    dgps: Any = CALIBRATION_DGPS,
    tests: Any = CALIBRATION_TESTS,
) -> None:
    """Raise ``TypeError``/``ValueError`` for arguments :func:`run_calibration` would refuse, so
    a caller can tell a bad argument (a user error) from a fault inside the simulation."""
    _run_calibration_iv(reps, n_obs, alpha, seed, dgps, tests)


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
    reps: int = 1000,
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
        ``"garch"`` GARCH(1,1) with :math:`(\omega,\alpha,\beta) = (0.05, 0.10, 0.85)`; these have
        mean 0 and unit unconditional variance. ``"negmean"`` is the composite null of the
        one-sided tests (:data:`NEGATIVE_MEAN_TESTS`): iid N(mu_k, 1) with every mu_k strictly
        negative (from -0.3 to -0.05 sd across a family, -0.05 sd for a single series). A valid
        test of ``E[x] <= 0`` rejects at most alpha of the time here too; it is run for the null
        scenario only, and other tests have no cell in this column.
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
    (PSR, and the HAC t / family tests in finite samples) may over-reject; the table shows by how
    much. The break tests are the robust versions the report uses: CUSUM and sup-F (a HAC
    sup-Wald) with a long-run variance. Planted effects: mean ``0.2 / sqrt(T/100)`` (HAC, PSR),
    ``0.3 / sqrt(T/100)`` for one model of ten (RC/SPA/StepM, DSR) or three of ten (BH/BY/Holm),
    a 0.35 shift at T/2 (CUSUM, sup-F) and returns ``+ 0.06 * signal`` (null suite).
    """
    reps_value, n, level, seed_int, chosen_dgps, chosen_tests = _run_calibration_iv(
        reps, n_obs, alpha, seed, dgps, tests
    )
    low, high = binomial_interval(reps_value, level)
    scenarios = ("null", "power") if power else ("null",)
    rows = []
    for test in chosen_tests:
        runner = RUNNERS[test]
        for dgp in chosen_dgps:
            if dgp == "negmean" and test not in NEGATIVE_MEAN_TESTS:
                continue
            for scenario in scenarios if dgp != "negmean" else ("null",):
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
                        within_band=_within(dgp, rate, low, high) if is_null else None,
                        note=CONSERVATIVE_BY_DESIGN.get(test) if is_null else None,
                        exact_rate=exact_size(test, level) if is_null else None,
                    )
                )
    return CalibrationResult(
        rows=tuple(rows), reps=reps_value, n_obs=n, alpha=level, seed=seed_int, dgps=chosen_dgps
    )


def _within(dgp: str, rate: float, low: float, high: float) -> bool:
    """Inside the band; under the composite negative-mean null only the upper end applies."""
    if dgp == "negmean":
        return rate <= high
    return low <= rate <= high


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
        "| test | " + " | ".join(result.dgps) + " | exact | 99% band | note |",
        "|---" * (len(result.dgps) + 4) + "|",
    ]
    tests = list(dict.fromkeys(row.test for row in result.rows))
    cells = {(r.test, r.dgp, r.scenario): r for r in result.rows}
    for test in tests:
        values = []
        band = ""
        note = ""
        exact = ""
        for dgp in result.dgps:
            row = cells.get((test, dgp, "null"))
            if row is None:
                values.append("")
                continue
            mark = "" if row.within_band else " *"
            values.append(f"{row.rate:.3f}{mark}")
            band = f"[{row.band_low:.3f}, {row.band_high:.3f}]"
            exact = "" if row.exact_rate is None else f"{row.exact_rate:.3f}"
            note = row.note or ""
        lines.append(f"| {test} | " + " | ".join(values) + f" | {exact} | {band} | {note} |")
    lines += [
        "",
        "`*` = outside the 99% band. `exact` = the size in closed form where it is known "
        "(multiplicity procedures on independent exact p-values, family of "
        f"{FAMILY_SIZE}); the simulated rate should be close to it.",
        "",
    ]
    if "negmean" in result.dgps:
        lines += [
            "`negmean` is the composite null of the one-sided tests (every mean strictly "
            "negative, from -0.3 to -0.05 sd): a valid test stays at or below the band's upper "
            "end there; being below the band is expected.",
            "",
        ]
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
