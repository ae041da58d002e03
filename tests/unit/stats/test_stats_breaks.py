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


def test_cusum_long_run_variance_uses_newey_west_with_the_andrews_lag() -> None:
    e = np.random.default_rng(1).standard_normal(200)
    x = np.empty(200)
    x[0] = e[0]
    for t in range(1, 200):  # AR(1), phi = 0.6
        x[t] = 0.6 * x[t - 1] + e[t]
    res = cusum_test(x, long_run_variance=True)
    u = x - x.mean()
    # Andrews (1991), AR(1) plug-in for the Bartlett kernel: 1.1447 (alpha(1) n)^(1/3) with
    # alpha(1) = 4 rho^2 / ((1 - rho)^2 (1 + rho)^2), rho the lag-1 autoregression of u.
    rho = float(u[1:] @ u[:-1]) / float(u[:-1] @ u[:-1])
    lags = int(1.1447 * (4 * rho**2 / ((1 - rho) ** 2 * (1 + rho) ** 2) * 200) ** (1 / 3))
    assert lags > 4  # the series is autocorrelated: more lags than the fixed rule's 4
    omega2 = newey_west(x, lags=lags).long_run_variance
    expected = np.abs(np.cumsum(u)).max() / np.sqrt(omega2 * 200)
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


def _break_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(77)
    shift = rng.standard_normal(100)
    shift[60:] += 0.7
    fat = rng.standard_t(4, 157) * np.linspace(0.5, 2.0, 157)
    e = rng.standard_normal(240)
    ar1 = np.empty(240)
    ar1[0] = e[0]
    for t in range(1, 240):
        ar1[t] = 0.6 * ar1[t - 1] + e[t]
    ar1[150:] += 1.0
    return {"shift": shift, "fat_hetero": fat, "ar1_break": ar1}


# Outputs of sup_f_test(x, seed=11, reps=300, **options) as computed by the implementation before
# the single-pass rewrite: (statistic, p_value, break_index). They are not trusted on their own:
# test_reference_values_match_a_from_scratch_computation rebuilds every one of them from
# statsmodels OLS fits (the statistic) and segment-by-segment regressions of the same draws (the
# p-value).
SUP_F_REFERENCE = [
    ("shift", {}, 22.46068672002392, 0.0033222591362126247, 61),
    ("shift", {"heteroskedastic": True}, 22.46068672002392, 0.0033222591362126247, 61),
    ("shift", {"long_run_variance": True}, 17.34721324092773, 0.006644518272425249, 61),
    ("shift", {"trim": 0.3}, 22.46068672002392, 0.0033222591362126247, 61),
    ("fat_hetero", {}, 2.7758982461571526, 0.5581395348837209, 76),
    ("fat_hetero", {"heteroskedastic": True}, 2.7758982461571526, 0.5282392026578073, 76),
    ("fat_hetero", {"long_run_variance": True}, 2.9184973606344817, 0.53156146179402, 76),
    ("fat_hetero", {"trim": 0.3}, 2.7758982461571526, 0.38870431893687707, 76),
    ("ar1_break", {}, 57.77278473319025, 0.0033222591362126247, 200),
    ("ar1_break", {"heteroskedastic": True}, 57.77278473319025, 0.0033222591362126247, 200),
    ("ar1_break", {"long_run_variance": True}, 10.199372578993533, 0.03322259136212625, 200),
    ("ar1_break", {"trim": 0.3}, 52.75007137702887, 0.0033222591362126247, 167),
]


def _segment_ssr(y: np.ndarray, k: int) -> np.ndarray:
    """SSR of the one-break regression at k for each row: two segments, two-pass variances."""
    first, second = y[..., :k], y[..., k:]
    a = first - first.mean(axis=-1, keepdims=True)
    b = second - second.mean(axis=-1, keepdims=True)
    return (a * a).sum(axis=-1) + (b * b).sum(axis=-1)


@pytest.mark.parametrize(("name", "options", "statistic", "p_value", "index"), SUP_F_REFERENCE)
def test_sup_f_equals_the_reference_values(
    name: str, options: dict, statistic: float, p_value: float, index: int
) -> None:
    res = sup_f_test(_break_inputs()[name], seed=11, reps=300, **options)
    assert res.statistic == pytest.approx(statistic, rel=1e-12)
    assert res.p_value == p_value and res.break_index == index


@pytest.mark.parametrize(("name", "options", "statistic", "p_value", "index"), SUP_F_REFERENCE)
def test_reference_values_match_a_from_scratch_computation(
    name: str, options: dict, statistic: float, p_value: float, index: int
) -> None:
    from crypto_analyzer.core.seeding import make_rng
    from crypto_analyzer.stats.supf import andrews_bartlett_lag

    x = _break_inputs()[name]
    n = x.size
    trim = options.get("trim", 0.15)
    splits = range(max(1, int(np.ceil(trim * n))), min(n - 1, int(np.floor((1 - trim) * n))) + 1)
    ones = np.ones(n)
    ssr0 = float(sm.OLS(x, ones).fit().ssr)
    lrv = options.get("long_run_variance", False)
    if lrv:
        lags = andrews_bartlett_lag(x)
        fit = sm.OLS(x, ones).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
        )
        scale = float(fit.cov_params()[0, 0]) * n  # Bartlett long-run variance of x
    path = []
    for k in splits:
        design = np.column_stack([ones, (np.arange(n) >= k).astype(float)])
        ssr1 = float(sm.OLS(x, design).fit().ssr)
        path.append((ssr0 - ssr1) / scale if lrv else (ssr0 - ssr1) / (ssr1 / (n - 2)))
    best = int(np.argmax(path))
    assert path[best] == pytest.approx(statistic, rel=1e-9)
    assert list(splits)[best] == index
    # The bootstrap: 300 N(0, 1) draws from make_rng(seed) in chunks of 256, times the residuals
    # for the wild version; each draw's sup statistic by segment regressions.
    rng = make_rng(11)
    draws = np.concatenate([rng.standard_normal((256, n)), rng.standard_normal((44, n))])
    if options.get("heteroskedastic"):
        draws *= x - x.mean()
    centred = draws - draws.mean(axis=1, keepdims=True)
    total = (centred * centred).sum(axis=1)
    null = np.full(300, -np.inf)
    for k in splits:
        ssr1 = _segment_ssr(draws, k)
        value = total - ssr1 if lrv else (total - ssr1) / (ssr1 / (n - 2))
        null = np.maximum(null, value)
    assert p_value == (1 + int(np.sum(null >= statistic))) / 301
