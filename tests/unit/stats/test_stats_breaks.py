"""CUSUM (statsmodels oracle, published critical values) and sup-F (direct OLS, bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from stats_helpers import oracle_vectors
from statsmodels.stats.diagnostic import breaks_cusumolsresid

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import cusum_test, newey_west, sup_f_test


@pytest.mark.parametrize("seed", range(4))
def test_cusum_equals_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(150 + 50 * seed)
    x[len(x) // 2 :] += 0.3 * seed
    ours = cusum_test(x)
    stat, pval, _ = breaks_cusumolsresid(x - x.mean(), ddof=1)
    assert ours.statistic == pytest.approx(stat, rel=1e-12)
    assert ours.p_value == pytest.approx(pval, rel=1e-10)


@pytest.mark.parametrize("vector", oracle_vectors("cusum_critical"), ids=lambda v: v["id"])
def test_cusum_critical_values_are_the_published_ones(vector: dict) -> None:
    crit = cusum_test(np.random.default_rng(0).standard_normal(50)).critical_values
    for level, value in vector["expected"].items():
        assert crit[level] == pytest.approx(value, abs=vector["tolerance"]["abs"])


def test_cusum_long_run_variance_uses_newey_west() -> None:
    x = np.random.default_rng(1).standard_normal(200).cumsum() * 0.05 + np.random.default_rng(
        2
    ).standard_normal(200)
    res = cusum_test(x, long_run_variance=True)
    u = x - x.mean()
    expected = np.abs(np.cumsum(u)).max() / np.sqrt(newey_west(x).long_run_variance * 200)
    assert res.statistic == pytest.approx(expected)
    assert res.variance == "newey-west"
    canonical_dumps(res.to_dict())


def test_sup_f_statistic_equals_direct_ols_per_split() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(120)
    x[70:] += 0.8
    res = sup_f_test(x, seed=1, reps=99, trim=0.15)
    best = -np.inf
    best_k = -1
    ssr0 = float(sm.OLS(x, np.ones(120)).fit().ssr)
    for k in range(int(np.ceil(0.15 * 120)), int(np.floor(0.85 * 120)) + 1):
        dummy = (np.arange(120) >= k).astype(float)
        ssr1 = float(sm.OLS(x, np.column_stack([np.ones(120), dummy])).fit().ssr)
        f = (ssr0 - ssr1) / (ssr1 / (120 - 2))
        if f > best:
            best, best_k = f, k
    assert res.statistic == pytest.approx(best, rel=1e-9)
    assert res.break_index == best_k
    assert res.p_value == pytest.approx(0.01)


def test_sup_f_is_reproducible_and_records_seed() -> None:
    x = np.random.default_rng(4).standard_normal(80)
    a = sup_f_test(x, seed=7, reps=199)
    b = sup_f_test(x, seed=7, reps=199, heteroskedastic=False)
    assert a.to_dict() == b.to_dict() and a.seed == 7 and a.reps == 199
    assert 0.0 < a.p_value <= 1.0
    wild = sup_f_test(x, seed=7, reps=199, heteroskedastic=True)
    assert wild.heteroskedastic and 0.0 < wild.p_value <= 1.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cusum_test(np.arange(5.0)), ValueError, "at least 10"),
        (lambda: cusum_test(np.ones(20)), ValueError, "constant"),
        (lambda: cusum_test(np.arange(20.0), long_run_variance="yes"), TypeError, "bool"),
        (lambda: sup_f_test(np.arange(20.0), seed=1, trim=0.5), ValueError, "trim"),
        (lambda: sup_f_test(np.arange(20.0), seed=1, reps=0), ValueError, "reps"),
        (lambda: sup_f_test(np.arange(20.0), seed=None), TypeError, "seed"),
        (lambda: sup_f_test(np.r_[np.arange(20.0), np.nan], seed=1), ValueError, "NaN"),
    ],
)
def test_validation(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


def test_long_run_variance_sup_f_is_robust_and_records_its_settings() -> None:
    from crypto_analyzer.stats import sup_f_test

    rng = np.random.default_rng(4)
    e = rng.standard_normal(400)
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, x.size):  # AR(1), phi = 0.8: strong serial correlation, no break
        x[t] = 0.8 * x[t - 1] + e[t]
    plain = sup_f_test(x, seed=1, reps=199)
    robust = sup_f_test(x, seed=1, reps=199, long_run_variance=True)
    assert robust.variance == "long-run" and robust.lrv_lags is not None and robust.lrv_lags > 4
    assert plain.variance == "iid" and plain.lrv_lags is None
    # Dividing by the long-run (not the short-run) variance shrinks the statistic.
    assert robust.statistic < plain.statistic
    assert robust.p_value > plain.p_value
    x[200:] += 3.0  # a real break is still found
    assert sup_f_test(x, seed=1, reps=199, long_run_variance=True).p_value < 0.05
    with pytest.raises(ValueError, match="cannot be combined"):
        sup_f_test(x, seed=1, heteroskedastic=True, long_run_variance=True)
