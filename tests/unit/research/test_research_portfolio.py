"""Portfolio construction, execution lag, costs, capacity curve and execution evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from research_helpers import bars_frame, planted_panel

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.research import (
    CostModel,
    Panel,
    backtest,
    capacity_curve,
    execution_evidence,
    panel_from_bars,
    portfolio_weights,
)


def test_top_bottom_k_weights() -> None:
    sig = pd.DataFrame(
        [[5.0, 1.0, 3.0, 2.0, 4.0, 0.0], [1.0, 2.0, np.nan, np.nan, np.nan, 3.0]],
        columns=list("abcdef"),
    )
    w = portfolio_weights(sig, k=2)
    assert w.iloc[0].tolist() == [0.25, -0.25, 0.0, 0.0, 0.25, -0.25]
    assert w.iloc[1].tolist() == [0.0] * 6  # 3 assets < 2k: flat
    w = portfolio_weights(sig, method="signal", k=None, gross=2.0)
    np.testing.assert_allclose(w.abs().sum(axis=1), [2.0, 2.0])
    np.testing.assert_allclose(w.sum(axis=1), [0.0, 0.0], atol=1e-15)
    assert w.iloc[1, 2] == 0.0


def test_rebalance_and_ema_smoothing() -> None:
    rng = np.random.default_rng(0)
    sig = pd.DataFrame(rng.standard_normal((9, 6)))
    raw = portfolio_weights(sig, k=1)
    held = portfolio_weights(sig, k=1, rebalance_every=3)
    for t in range(9):
        pd.testing.assert_series_equal(held.iloc[t], raw.iloc[t - t % 3], check_names=False)
    smooth = portfolio_weights(sig, k=1, ema_halflife=1.0)
    alpha = 0.5  # halflife 1 bar
    expect = raw.iloc[0].to_numpy()
    for t in range(1, 9):
        expect = alpha * raw.iloc[t].to_numpy() + (1 - alpha) * expect
    np.testing.assert_allclose(smooth.iloc[-1], expect, atol=1e-15)
    with pytest.raises(ValueError, match="k applies to method='top_bottom_k' only"):
        portfolio_weights(sig, method="signal", k=3)


def _two_asset_panel() -> Panel:
    close = np.array([[100.0, 50.0], [110.0, 50.0], [99.0, 55.0], [99.0, 44.0]])
    volume = np.array([[1e4, 2e4], [1e4, 2e4], [1e4, 2e4], [1e4, 2e4]])
    return panel_from_bars(bars_frame(close, volume))


def test_backtest_hand_example_with_lag_and_costs() -> None:
    panel = _two_asset_panel()
    w = pd.DataFrame(
        [[0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.0, 0.0]],
        index=panel.times,
        columns=panel.assets,
    )
    cm = CostModel(fee_bps=10, half_spread_bps=5, impact_coef=0.1, impact_exponent=0.5)
    res = backtest(w, panel, cost_model=cm, aum=1e5)
    bars = res.bars
    # held over bar t = target at t-1
    # simple returns: R1 = [+10%, 0], R2 = [-10%, +10%], R3 = [0, -20%]
    np.testing.assert_allclose(bars["gross"], [0.0, 0.05, -0.10, -0.10], atol=1e-12)
    np.testing.assert_allclose(bars["turnover"], [0.0, 1.0, 0.0, 2.0])
    # bar 1 buys 0.5 of each side: participation 0.5 * 1e5 / dv, dv = 1.1e6 and 1e6
    part = np.array([0.5e5 / 1.1e6, 0.5e5 / 1.0e6])
    cost1 = 1.0 * 0.0015 + np.sum(0.5 * 0.1 * np.sqrt(part))
    # bar 3 flips: |dh| = 1 per asset, dv = 0.99e6 and 0.88e6
    part3 = np.array([1e5 / 0.99e6, 1e5 / 0.88e6])
    cost3 = 2.0 * 0.0015 + np.sum(0.1 * np.sqrt(part3))
    np.testing.assert_allclose(bars["cost"], [0.0, cost1, 0.0, cost3], atol=1e-12)
    np.testing.assert_allclose(bars["net"], bars["gross"] - bars["cost"])
    assert bars["max_participation"].iloc[3] == pytest.approx(part3.max())
    assert bars["trades_without_volume"].sum() == 0


def test_backtest_validation() -> None:
    panel = _two_asset_panel()
    w = pd.DataFrame(0.0, index=panel.times, columns=panel.assets)
    with pytest.raises(ValueError, match="lag must be an int >= 1"):
        backtest(w, panel, cost_model=CostModel(), lag=0)
    with pytest.raises(ValueError, match="contains NaN"):
        backtest(w.where(w > 0), panel, cost_model=CostModel())
    with pytest.raises(ValueError, match="fee_bps must be >= 0"):
        CostModel(fee_bps=-1)


def test_capacity_curve_matches_backtest_and_decays() -> None:
    planted = planted_panel(np.random.default_rng(5), n_times=800, n_assets=20, rank_ic=0.1)
    w = portfolio_weights(planted.signal, k=4)
    cm = CostModel(fee_bps=1, half_spread_bps=0.5, impact_coef=0.05)
    grid = [1e2, 1e3, 1e4, 1e5, 1e6]
    curve = capacity_curve(w, planted.panel, cost_model=cm, aum_grid=grid)
    for aum in (1e4, 1e6):
        res = backtest(w, planted.panel, cost_model=cm, aum=aum)
        assert curve.loc[aum, "net_sharpe"] == pytest.approx(res.sharpe("net"), rel=1e-10)
        assert curve.loc[aum, "max_participation"] == pytest.approx(
            res.bars["max_participation"].max(), rel=1e-10
        )
    assert curve["net_sharpe"].is_monotonic_decreasing
    assert curve["gross_sharpe"].nunique() == 1
    assert curve.loc[1e2, "net_sharpe"] > 0 > curve.loc[1e6, "net_sharpe"]


def test_execution_evidence_is_canonical_and_picks_capacity() -> None:
    planted = planted_panel(np.random.default_rng(6), n_times=600, n_assets=20, rank_ic=0.1)
    w = portfolio_weights(planted.signal, k=4)
    cm = CostModel(fee_bps=1, half_spread_bps=0.5, impact_coef=0.05)
    grid = [1e2, 1e3, 1e4, 1e5, 1e6]
    doc = execution_evidence(
        w, planted.panel, cost_model=cm, aum_grid=grid, max_participation=0.5, min_net_sharpe=1.0
    )
    canonical_dumps(doc)
    assert doc["schema"] == "crypto_analyzer.research.execution_evidence"
    assert doc["schema_version"] == 1 and len(doc["curve"]) == 5
    ok = [
        p["aum"] for p in doc["curve"] if p["net_sharpe"] >= 1.0 and p["max_participation"] <= 0.5
    ]
    assert doc["capacity_aum"] == max(ok)
    none = execution_evidence(
        w, planted.panel, cost_model=cm, aum_grid=[1e9], max_participation=1e-6
    )
    assert none["capacity_aum"] is None
