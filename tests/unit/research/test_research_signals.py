"""Signals: registry contract, causality of every signal, hand-checked values, normalisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.research import (
    SIGNALS,
    Panel,
    compute_signal,
    cs_rank,
    cs_zscore,
    fit_factor_model,
    get_signal,
    orthogonalize,
    signal_names,
)
from crypto_analyzer.research.causality_check import (
    CAUSALITY_CHECKS,
    FUTURE_SHOCK,
    PREFIX_RECOMPUTE,
    check_causality,
    shocked_panel,
)

_SMALL = {
    "clean_momentum": {"lookback": 24},
    "value_vs_beta": {"lookback": 96},
    "low_vol": {"lookback": 48},
    "low_vol_dispersion": {"lookback": 48, "dispersion_window": 12, "regime_window": 96},
    "volume_surprise": {"short": 4, "lookback": 48},
    "volume_shock": {"window": 12},
    "liquidity_shock_reversion": {"short": 4, "lookback": 48},
}


def _compute(name: str, panel: Panel) -> pd.DataFrame:
    spec = get_signal(name)
    fit = None
    if spec.needs_factor_fit:
        fit = fit_factor_model(panel.log_returns, factor_ids=[1, 2], window=96)
    return compute_signal(name, panel, factor_fit=fit, **_SMALL.get(name, {}))


def test_registry_lists_nine_documented_signals() -> None:
    assert signal_names() == tuple(sorted(SIGNALS))
    assert len(SIGNALS) == 9
    for name, spec in SIGNALS.items():
        assert spec.name == name
        assert "Economic idea" in (spec.func.__doc__ or "")
        assert spec.description
        lookback = spec.lookback(spec.defaults)
        assert isinstance(lookback, int) and lookback >= 1


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_signal_at_t_uses_only_data_up_to_t(name: str, market_panel: Panel) -> None:
    """The library check the report runs on plugins: prefix recompute and a shocked future."""
    findings = check_causality(
        lambda panel: _compute(name, panel), market_panel, cuts=(250, 420), shock_after=400
    )
    assert [f.check for f in findings] == list(CAUSALITY_CHECKS)
    assert all(f.passed for f in findings), findings
    full = _compute(name, market_panel)
    assert full.shape[0] == market_panel.shape[0]
    assert full.iloc[-100:].notna().to_numpy().any()


def _peeking(panel: Panel) -> pd.DataFrame:
    return compute_signal("momentum_24h", panel).shift(-1)


def _whole_sample_demeaned(panel: Panel) -> pd.DataFrame:
    raw = compute_signal("low_vol", panel, winsor_quantile=None, lookback=48)
    return raw - raw.mean()


def test_the_check_catches_a_shift_into_the_future(market_panel: Panel) -> None:
    prefix, shock = check_causality(_peeking, market_panel, cuts=(250, 420), shock_after=400)
    assert prefix.check == PREFIX_RECOMPUTE and not prefix.passed
    assert "first 250 of 600 bars" in prefix.detail and "row 249" in prefix.detail
    assert "np." not in prefix.detail  # labels as a reader writes them
    assert shock.check == FUTURE_SHOCK and not shock.passed
    assert "row 400" in shock.detail


def test_the_check_catches_whole_sample_statistics(market_panel: Panel) -> None:
    prefix, shock = check_causality(_whole_sample_demeaned, market_panel)
    assert not prefix.passed and not shock.passed


def test_the_check_reports_a_signal_that_raises_or_misaligns(market_panel: Panel) -> None:
    def fails_on_short(panel: Panel) -> pd.DataFrame:
        if panel.shape[0] < 600:
            raise RuntimeError("too short")
        return compute_signal("momentum_24h", panel)

    prefix, shock = check_causality(fails_on_short, market_panel)
    assert not prefix.passed and "RuntimeError: too short" in prefix.detail
    assert shock.passed
    dropped = check_causality(lambda p: compute_signal("momentum_24h", p).iloc[1:], market_panel)
    assert not dropped[0].passed and "rows differ" in dropped[0].detail
    with pytest.raises(ValueError, match="cuts must be ints"):
        check_causality(_peeking, market_panel, cuts=(600,))


def test_shocked_panel_leaves_the_past_identical(market_panel: Panel) -> None:
    shocked = shocked_panel(market_panel, 400)
    for field in ("close", "volume", "log_returns", "dollar_volume"):
        before = getattr(market_panel, field)
        after = getattr(shocked, field)
        pd.testing.assert_frame_equal(before.iloc[:401], after.iloc[:401])
        changed = ~np.isclose(before.iloc[401].to_numpy(), after.iloc[401].to_numpy())
        assert changed.sum() >= market_panel.shape[1] - 1, field  # per-asset factors


def test_hand_checked_raw_values(market_panel: Panel) -> None:
    rets = market_panel.log_returns
    mom = compute_signal("momentum_24h", market_panel, winsor_quantile=None)
    np.testing.assert_allclose(mom.iloc[100], rets.iloc[77:101].sum(), rtol=1e-12)
    rev = compute_signal("short_reversal", market_panel, winsor_quantile=None, lookback=2)
    np.testing.assert_allclose(rev.iloc[50], -(rets.iloc[49] + rets.iloc[50]), rtol=1e-12)
    vol = compute_signal("low_vol", market_panel, winsor_quantile=None, lookback=30)
    np.testing.assert_allclose(vol.iloc[200], -rets.iloc[171:201].std(), rtol=1e-12)
    fit = fit_factor_model(rets, factor_ids=[1, 2], window=96)
    cm = compute_signal(
        "clean_momentum", market_panel, factor_fit=fit, winsor_quantile=None, lookback=10, skip=2
    )
    assert list(cm.columns) == list(market_panel.assets)  # factor coins kept as NaN columns
    assert cm[[1, 2]].isna().all().all()
    np.testing.assert_allclose(
        cm.iloc[300].drop([1, 2]), fit.residuals.iloc[289:299].sum(), rtol=1e-12
    )


def test_compute_signal_validation(market_panel: Panel) -> None:
    with pytest.raises(ValueError, match="unknown signal 'nope'"):
        compute_signal("nope", market_panel)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['window'\]"):
        compute_signal("low_vol", market_panel, window=3)
    with pytest.raises(TypeError, match="needs factor_fit"):
        compute_signal("clean_momentum", market_panel)
    in_sample = fit_factor_model(market_panel.log_returns, factor_ids=[1], window=50, lag=0)
    with pytest.raises(ValueError, match="lag >= 1"):
        compute_signal("clean_momentum", market_panel, factor_fit=in_sample)
    with pytest.raises(ValueError, match="lookback must be an int >= 1"):
        compute_signal("low_vol", market_panel, lookback=0)


def test_cs_zscore_rows_are_standardised_and_winsorised() -> None:
    rng = np.random.default_rng(3)
    raw = pd.DataFrame(rng.standard_normal((20, 30)))
    raw.iloc[0, 0] = 1e6
    raw.iloc[1, :28] = np.nan
    z = cs_zscore(raw, winsor_quantile=0.05)
    ok = z.iloc[2:]
    np.testing.assert_allclose(ok.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(ok.std(axis=1, ddof=0), 1.0, atol=1e-12)
    assert z.iloc[0, 0] < 3.0  # the outlier was clipped before scaling
    assert z.iloc[1].isna().all()  # 2 assets < min_assets


def test_cs_zscore_clips_at_numpy_row_quantiles() -> None:
    rng = np.random.default_rng(12)
    raw = rng.standard_t(2, size=(40, 23))
    raw[rng.random(raw.shape) < 0.2] = np.nan
    z = cs_zscore(pd.DataFrame(raw), winsor_quantile=0.07).to_numpy()
    for row, got in zip(raw, z, strict=True):
        lo, hi = np.nanquantile(row, [0.07, 0.93])
        clipped = np.clip(row, lo, hi)
        expect = (clipped - np.nanmean(clipped)) / np.nanstd(clipped)
        np.testing.assert_allclose(got, expect, rtol=0, atol=1e-12)


def test_cs_rank_is_centred_percentile() -> None:
    frame = pd.DataFrame([[3.0, 1.0, 2.0, np.nan], [1.0, 1.0, 2.0, 5.0]])
    out = cs_rank(frame).to_numpy()
    np.testing.assert_allclose(out[0, :3], [0.5, -0.5, 0.0])
    assert np.isnan(out[0, 3])
    np.testing.assert_allclose(out[1], [-1 / 3, -1 / 3, 1 / 6, 0.5])


def test_orthogonalize_removes_earlier_signals() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((50, 20))
    b = 0.7 * a + 0.3 * rng.standard_normal((50, 20))
    c = rng.standard_normal((50, 20)) + b
    frames = {n: pd.DataFrame(v) for n, v in (("a", a), ("b", b), ("c", c))}
    frames["b"].iloc[3, 4] = np.nan
    out = orthogonalize(frames)
    assert list(out) == ["a", "b", "c"]
    oa, ob, oc = (out[n].to_numpy() for n in "abc")
    assert np.isnan(oa[3, 4]) and np.isnan(oc[3, 4])
    for x, y in ((oa, ob), (oa, oc), (ob, oc)):
        np.testing.assert_allclose(np.nansum(x * y, axis=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.nanstd(ob, axis=1), 1.0, atol=1e-12)
    # the first signal is only z-scored
    np.testing.assert_allclose(oa[0], (a[0] - a[0].mean()) / a[0].std(), atol=1e-12)
    with pytest.raises(ValueError, match="not aligned"):
        orthogonalize({"a": frames["a"], "x": frames["b"].iloc[1:]})
