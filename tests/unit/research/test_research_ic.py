"""IC: exactness against scipy / alphalens-reloaded / statsmodels, planted recovery, null size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from alphalens.performance import factor_information_coefficient
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from research_helpers import planted_panel
from scipy import stats

from crypto_analyzer.research import (
    forward_returns,
    ic_decay,
    ic_series,
    summarize_ic,
)
from crypto_analyzer.research._rowstats import (
    _exact_ranks,
    _rank_corr_by_ranks,
    masked_ranks,
    rank_corr,
    row_ranks,
)


def _random_pair(seed: int, n_times: int = 60, n_assets: int = 25) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    sig = rng.standard_normal((n_times, n_assets))
    fwd = 0.2 * sig + rng.standard_normal((n_times, n_assets))
    sig[rng.random(sig.shape) < 0.1] = np.nan
    fwd[rng.random(fwd.shape) < 0.1] = np.nan
    sig[:, :5] = np.round(sig[:, :5])  # ties
    idx = pd.Index(np.arange(n_times) * 3_600_000, name="bar_open_ms")
    return pd.DataFrame(sig, index=idx), pd.DataFrame(fwd, index=idx)


def test_rank_ic_equals_scipy_spearman_per_row() -> None:
    sig, fwd = _random_pair(1)
    ours = ic_series(sig, fwd, method="rank").to_numpy()
    pear = ic_series(sig, fwd, method="pearson").to_numpy()
    for t in range(len(sig)):
        x, y = sig.iloc[t].to_numpy(), fwd.iloc[t].to_numpy()
        ok = ~(np.isnan(x) | np.isnan(y))
        assert ours[t] == pytest.approx(stats.spearmanr(x[ok], y[ok])[0], abs=1e-13)
        assert pear[t] == pytest.approx(stats.pearsonr(x[ok], y[ok])[0], abs=1e-13)


def test_rank_ic_equals_alphalens_reloaded() -> None:
    """Same panel, same labels: alphalens' factor_data is built from our Panel's forward returns."""
    planted = planted_panel(np.random.default_rng(2), n_times=150, n_assets=30, rank_ic=0.1)
    signal = planted.signal.copy()
    signal[np.random.default_rng(3).random(signal.shape) < 0.1] = np.nan
    signal.iloc[:, :4] = signal.iloc[:, :4].round(0)  # ties
    fwd = forward_returns(planted.panel, horizons=[1, 4])
    dates = pd.to_datetime(planted.panel.times, unit="ms", utc=True)
    for h in (1, 4):
        factor_data = pd.concat(
            {
                f"{h}h": fwd[h].set_axis(dates, axis=0).stack(),
                "factor": signal.set_axis(dates, axis=0).stack(),
            },
            axis=1,
            join="inner",
        ).dropna()
        factor_data.index = factor_data.index.set_names(["date", "asset"])
        oracle = factor_information_coefficient(factor_data)[f"{h}h"]
        ours = ic_series(signal, fwd[h], method="rank").set_axis(dates)
        assert oracle.notna().sum() == ours.notna().sum() == len(dates) - h
        np.testing.assert_allclose(
            ours.to_numpy(), oracle.reindex(dates).to_numpy(), rtol=0, atol=1e-10
        )


def test_hac_t_equals_statsmodels_through_stats() -> None:
    sig, fwd = _random_pair(3, n_times=300)
    ic = ic_series(sig, fwd).dropna().to_numpy()
    for horizon in (1, 4, 12, 24):
        summary = summarize_ic(ic, horizon=horizon)
        assert summary.hac_lags is not None and summary.hac_lags >= horizon - 1
        fit = sm.OLS(ic, np.ones_like(ic)).fit(
            cov_type="HAC", cov_kwds={"maxlags": summary.hac_lags, "use_correction": False}
        )
        assert summary.t_hac == pytest.approx(float(fit.tvalues[0]), abs=1e-8)
        assert summary.mean == pytest.approx(float(ic.mean()), abs=1e-15)
        naive = ic.mean() / (ic.std(ddof=1) / np.sqrt(ic.size))
        assert summary.t_naive == pytest.approx(naive, rel=1e-12)
        assert summary.hit_rate == pytest.approx(float(np.mean(ic > 0)))
        assert summary.n_obs == ic.size


def test_summary_validates_and_handles_degenerate_series() -> None:
    with pytest.raises(ValueError, match="hac_lags must be an int >= 3"):
        summarize_ic(np.zeros(10), horizon=4, hac_lags=2)
    with pytest.raises(TypeError, match="ic must be"):
        summarize_ic([0.1, 0.2], horizon=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method must be one of"):
        summarize_ic(np.zeros(3), horizon=1, method="kendall")
    empty = summarize_ic(np.array([np.nan, np.nan]), horizon=1)
    assert empty.n_obs == 0 and empty.mean is None and empty.t_hac is None
    one = summarize_ic(np.array([0.3]), horizon=1)
    assert one.mean == 0.3 and one.std is None


def test_constant_rows_and_too_few_assets_give_nan() -> None:
    sig = pd.DataFrame([[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, np.nan, np.nan], [1.0, 2.0, 3.0, 4.0]])
    fwd = pd.DataFrame([[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    out = ic_series(sig, fwd).to_numpy()
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == pytest.approx(-1.0)


def test_ic_validates_alignment() -> None:
    sig, fwd = _random_pair(4)
    with pytest.raises(ValueError, match="aligned"):
        ic_series(sig, fwd.iloc[1:])
    with pytest.raises(ValueError, match="min_assets"):
        ic_series(sig, fwd, min_assets=2)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 12)),
        elements=st.one_of(
            st.sampled_from([np.nan, 0.0, -0.0, 1.0, -1.0, np.nextafter(1.0, 2.0), 1e-300]),
            st.floats(-5, 5),
        ),
    )
)
def test_row_ranks_match_scipy_rankdata(values: np.ndarray) -> None:
    ours = row_ranks(values)
    for row, got in zip(values, ours, strict=True):
        ok = ~np.isnan(row)
        np.testing.assert_array_equal(np.isnan(got), ~ok)
        if ok.any():
            np.testing.assert_allclose(got[ok], stats.rankdata(row[ok]), rtol=0, atol=1e-12)


def test_fast_ranks_equal_the_exact_path_on_continuous_data() -> None:
    rng = np.random.default_rng(8)
    values = rng.standard_normal((300, 257)) * np.exp(rng.normal(0, 5, (300, 1)))
    valid = rng.random(values.shape) > 0.2
    values[0, :3] = [1.0, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)]  # near-ties: redone
    valid[0, :3] = True
    fast = masked_ranks(values, valid, fill=0.0)
    np.testing.assert_array_equal(fast, _exact_ranks(values, valid, 0.0))
    assert fast[0, 0] == np.sum(values[0][valid[0]] <= 1.0)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_rank_corr_fast_path_equals_scipy(layout: str) -> None:
    """Continuous data (no ties) takes the two-sort fast path; some rows get ties (slow path)."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((200, 37))
    y = 0.3 * x + rng.standard_normal((200, 37))
    x[rng.random(x.shape) < 0.15] = np.nan
    y[rng.random(y.shape) < 0.15] = np.nan
    x[::7, :6] = 1.0  # ties in every 7th row
    y[3::11, :4] = -2.0
    x, y = np.asarray(x, order=layout), np.asarray(y, order=layout)
    ours, n = rank_corr(x, y, min_obs=3)
    valid = ~(np.isnan(x) | np.isnan(y))
    slow, _ = _rank_corr_by_ranks(x, y, valid, 3)
    np.testing.assert_allclose(ours, slow, rtol=0, atol=1e-14)
    for t in range(x.shape[0]):
        ok = valid[t]
        assert n[t] == ok.sum()
        assert ours[t] == pytest.approx(stats.spearmanr(x[t, ok], y[t, ok])[0], abs=1e-13)


def test_planted_rank_ic_is_recovered() -> None:
    planted = planted_panel(np.random.default_rng(7), n_times=3000, n_assets=60, rank_ic=0.08)
    fwd = forward_returns(planted.panel, horizons=[1, 4])
    ic = ic_series(planted.signal, fwd[1])
    assert abs(ic.mean() - planted.rank_ic) <= 0.01
    decay = ic_decay(planted.signal, fwd)
    assert decay.loc[(1, "rank"), "mean"] == pytest.approx(ic.mean())
    # the planted signal only predicts the next bar; the 4-bar label dilutes it to about half
    assert abs(decay.loc[(4, "rank"), "mean"] - planted.rank_ic / 2) < 0.015


def test_pure_noise_hac_t_has_correct_size_over_200_seeds() -> None:
    outside = 0
    means = []
    for seed in range(200):
        planted = planted_panel(
            np.random.default_rng(10_000 + seed), n_times=1000, n_assets=15, rank_ic=0.0
        )
        fwd = forward_returns(planted.panel, horizons=[1])[1]
        summary = summarize_ic(ic_series(planted.signal, fwd), horizon=1)
        assert summary.t_hac is not None
        outside += abs(summary.t_hac) > 2.6
        means.append(summary.mean)
    assert outside <= 4  # >= 98 % of seeds inside +/-2.6 (nominal 99.07 %)
    assert max(abs(m) for m in means) < 0.05


def _persistent_noise(rng: np.random.Generator, shape: tuple[int, int], phi: float) -> np.ndarray:
    out = np.empty(shape)
    out[0] = rng.standard_normal(shape[1])
    shocks = rng.standard_normal(shape) * np.sqrt(1.0 - phi**2)
    for t in range(1, shape[0]):
        out[t] = phi * out[t - 1] + shocks[t]
    return out


@pytest.mark.slow
def test_overlapping_labels_hac_keeps_size_where_naive_t_does_not() -> None:
    """A persistent signal scored on 12-bar labels gives autocorrelated ICs under the null.

    HAC with lag >= 11 keeps the size near nominal; the naive t, which assumes independent ICs,
    rejects far too often. Signal and returns are independent (no planted effect).
    """
    hac_out = naive_out = 0
    for seed in range(200):
        rng = np.random.default_rng(50_000 + seed)
        planted = planted_panel(rng, n_times=1200, n_assets=12, rank_ic=0.0)
        signal = planted.signal.copy()
        signal.loc[:, :] = _persistent_noise(rng, signal.shape, phi=0.8)
        fwd = forward_returns(planted.panel, horizons=[12])[12]
        summary = summarize_ic(ic_series(signal, fwd), horizon=12)
        assert summary.hac_lags is not None and summary.hac_lags >= 11
        hac_out += abs(summary.t_hac) > 2.6
        naive_out += abs(summary.t_naive) > 2.6
    assert hac_out <= 4  # >= 98 % inside +/-2.6
    assert naive_out > 3 * max(hac_out, 1)
