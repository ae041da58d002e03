"""Private DGPs and one-replication runners of the calibration harness (:mod:`.calibration`).

Each runner draws one data set from a named DGP (with or without the planted effect), runs one
procedure and answers "rejected at alpha?". Kept apart so the harness stays small.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats as sps

from crypto_analyzer.stats.cusum import cusum_test
from crypto_analyzer.stats.dsr import deflated_sharpe_ratio
from crypto_analyzer.stats.family import family_tests
from crypto_analyzer.stats.hac import newey_west
from crypto_analyzer.stats.multitest import adjust_pvalues
from crypto_analyzer.stats.null_suite import null_suite
from crypto_analyzer.stats.psr import probabilistic_sharpe_ratio
from crypto_analyzer.stats.supf import sup_f_test

__all__: list[str] = []

FAMILY_SIZE = 10
_FAMILY = FAMILY_SIZE
_EFFECT = 0.2
_FAMILY_EFFECT = 0.3
_BREAK = 0.35
_SIGNAL = 0.06
_BOOT_REPS = 199
_NULL_DRAWS = 99
_PANEL = (60, 20)
_LONG_RUN_VARIANCE = {"iid": 1.0, "ar1": (1.0 + 0.5) / (1.0 - 0.5), "garch": 1.0, "negmean": 1.0}
_NEGATIVE_MEANS = (-0.3, -0.05)  # per-observation sd units, spread over the family's columns


def _simulate(dgp: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Unit-variance, zero-mean series along axis 0 (each column independent)."""
    burn = 100
    e = rng.standard_normal((shape[0] + burn, *shape[1:]))
    if dgp == "iid":
        return e[burn:]
    if dgp == "negmean":
        # Strictly negative means: from -0.3 to -0.05 sd across a family's columns, the one
        # closest to the boundary (-0.05 sd) for a single series.
        low, high = _NEGATIVE_MEANS
        means = np.linspace(low, high, shape[1]) if len(shape) > 1 else np.asarray(high)
        return e[burn:] + means
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
    return sup_f_test(x, seed=s, reps=_BOOT_REPS, long_run_variance=True).p_value <= alpha


def _t_null(dgp: str, effect: bool, n: int, alpha: float, rng: np.random.Generator, s: int) -> bool:
    signal = rng.standard_normal(_PANEL)
    returns = _simulate(dgp, _PANEL, rng)
    if effect:
        returns += _SIGNAL * signal
    res = null_suite(signal, returns, seed=s, draws=_NULL_DRAWS, models=("permuted_signal",))
    return res.nulls[0].p_value_ic <= alpha


RUNNERS: dict[str, Test] = {
    "hac_t": _t_hac,
    "psr": _t_psr,
    "dsr": _t_dsr,
    "reality_check": _family("reality_check"),
    "spa": _family("spa"),
    "stepm": _family("stepm"),
    "bh": _multitest("bh"),
    "by": _multitest("by"),
    "holm": _multitest("holm"),
    "cusum_lrv": _t_cusum(True),
    "sup_f": _t_supf,
    "null_suite": _t_null,
}
