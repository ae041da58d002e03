"""SPA, Reality Check and StepM under the composite null: every mean <= 0, not only all zero.

Issue 15: the SPA statistic is floored at 0, and a strict count at that boundary made the lower
and consistent p-values go to 0 for families that are clearly *worse* than the benchmark.
"""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import SPA

from crypto_analyzer.stats import family_tests, reality_check, spa, stepm
from crypto_analyzer.stats._family_core import long_run_variance
from crypto_analyzer.stats.calibration import NEGATIVE_MEAN_TESTS, run_calibration

BLOCK = 10.0


def _all_negative(seed: int = 5, n: int = 250, k: int = 10, mean: float = -0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)) + mean


@pytest.mark.parametrize("studentize", [True, False])
def test_all_negative_family_gives_large_spa_pvalues(studentize: bool) -> None:
    d = _all_negative()
    assert (d.mean(axis=0) < 0).all()
    res = spa(d, seed=3, reps=2000, block_length=BLOCK, studentize=studentize)
    assert res.statistic == 0.0
    assert res.pvalue_lower == res.pvalue_consistent == res.pvalue_upper == 1.0


def test_all_negative_family_rc_and_stepm_find_nothing() -> None:
    d = _all_negative()
    rc = reality_check(d, seed=3, reps=2000, block_length=BLOCK)
    assert rc.p_value is not None and rc.p_value > 0.5
    for recentring in ("upper", "consistent", "lower"):
        res = stepm(d, seed=3, reps=2000, block_length=BLOCK, recentring=recentring)
        assert res.rejected == ()
        assert res.adjusted_pvalues is not None and min(res.adjusted_pvalues) > 0.4, recentring


def test_tie_at_exactly_zero_is_the_boundary() -> None:
    # The best hypothesis has a sample mean of exactly 0 (equal counts of +1 and -1).
    rng = np.random.default_rng(8)
    tie = rng.permutation(np.r_[np.ones(125), -np.ones(125)])
    d = np.column_stack([tie, _all_negative(k=4)])
    assert d[:, 0].mean() == 0.0
    res = spa(d, seed=4, reps=1000, block_length=BLOCK)
    assert res.statistic == 0.0 and res.best_hypothesis == "h0"
    assert res.pvalue_lower == res.pvalue_consistent == res.pvalue_upper == 1.0
    both = family_tests(d, seed=4, reps=1000, block_length=BLOCK)
    assert both.stepm.rejected == ()
    assert both.reality_check.p_value is not None and both.reality_check.p_value > 0.4


def test_just_above_the_boundary_the_pvalue_is_not_one() -> None:
    # One tiny positive mean: T > 0, so the weak and strict counts agree and p < 1.
    d = _all_negative(k=4)
    d[:, 0] -= d[:, 0].mean() - 1e-3
    res = spa(d, seed=4, reps=1000, block_length=BLOCK)
    assert res.statistic is not None and res.statistic > 0
    assert res.pvalue_upper is not None and 0.05 < res.pvalue_upper < 1.0


def test_all_negative_family_against_arch() -> None:
    # arch has no floor at 0: its p-value compares the (negative) best mean with its bootstrap
    # distribution. Both are far from rejecting; ours, at the boundary, is exactly 1 >= arch's.
    # arch never divides by omega, so the studentized oracle is arch run on d / omega.
    d = _all_negative()
    omega = np.sqrt(long_run_variance(d, "stationary", BLOCK))
    oracle = SPA(np.zeros(d.shape[0]), -d / omega, block_size=int(BLOCK), reps=5000, seed=9)
    oracle.compute()
    ours = spa(d, seed=9, reps=5000, block_length=BLOCK)
    for variant in ("lower", "consistent", "upper"):
        theirs = float(oracle.pvalues[variant])
        assert theirs > 0.3, (variant, theirs)
        assert getattr(ours, f"pvalue_{variant}") == 1.0 >= theirs


@pytest.mark.slow
def test_consistent_spa_size_on_negative_means() -> None:
    # The configuration: ten means at -0.2 sd, T = 250 (about 30 % rejections before).
    rejections = 0
    reps = 100
    for rep in range(reps):
        d = np.random.default_rng([15, rep]).standard_normal((250, 10)) - 0.2
        res = family_tests(d, seed=rep, reps=199)
        p = res.spa.pvalue_consistent
        rejections += p is not None and p <= 0.05
        assert res.reality_check.p_value is not None and res.reality_check.p_value > 0.05
        assert res.stepm.rejected == ()
    assert rejections == 0


def test_calibration_has_negative_mean_null_column() -> None:
    result = run_calibration(
        reps=40, n_obs=250, tests=("spa", "hac_t", "stepm"), dgps=("iid", "negmean")
    )
    cells = {(r.test, r.dgp, r.scenario): r for r in result.rows}
    assert ("hac_t", "negmean", "null") not in cells  # two-sided: not a null there
    assert ("spa", "negmean", "power") not in cells
    for test in ("spa", "stepm"):
        row = cells[(test, "negmean", "null")]
        assert test in NEGATIVE_MEAN_TESTS
        assert row.band_high is not None and row.rate <= row.band_high
        assert row.within_band is True
