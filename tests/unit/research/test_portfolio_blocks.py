"""Block-wise portfolio weights: the bits and memory order of the whole-frame steps they replace.

The reference below is the former implementation (a masked copy of the signal, targets by row
block, a pandas copy, EMA, then ``where``/``ffill``/``fillna`` for the hold). Blocks are made
small so that several of them cross rebalance boundaries mid-hold.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

import crypto_analyzer.core.row_blocks as row_blocks_module
from crypto_analyzer.core.row_blocks import MIN_BLOCK_CELLS, is_column_major, map_row_blocks
from crypto_analyzer.research import CostModel, backtest, panel_from_bars
from crypto_analyzer.research._checks import as_float_array
from crypto_analyzer.research._holding import hold_rebalances
from crypto_analyzer.research.portfolio import (
    _target_rows,
    active_portfolio_weights,
    portfolio_weights,
)


def _former_weights(
    signal: pd.DataFrame,
    *,
    method: str,
    k: int | None,
    rebalance_every: int,
    ema_halflife: float | None,
    gross: float = 1.0,
) -> pd.DataFrame:
    w = map_row_blocks(
        partial(_target_rows, method=method, k=k, gross=gross), as_float_array(signal)
    )
    out = pd.DataFrame(w, index=signal.index, columns=signal.columns)
    if ema_halflife is not None:
        out = out.ewm(halflife=ema_halflife, adjust=False).mean()
    if rebalance_every > 1:
        keep = np.arange(len(out)) % rebalance_every == 0
        out = out.where(pd.Series(keep, index=out.index), axis=0).ffill().fillna(0.0)
    return out


def _signal(order: str, n_rows: int = 3001, n_cols: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    raw = rng.standard_normal((n_rows, n_cols)) * rng.uniform(0.1, 5.0, n_cols)
    raw[rng.random(raw.shape) < 0.15] = np.nan
    raw[5:40] = np.nan  # some bars with no view at all
    values = np.asarray(raw, order=order)
    index = pd.RangeIndex(0, 10 * n_rows, 10)
    return pd.DataFrame(values, index=index, columns=[f"a{i}" for i in range(n_cols)], copy=False)


def _same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert new.index.equals(old.index) and new.columns.equals(old.columns)
    a, b = new.to_numpy(), old.to_numpy()
    assert a.dtype == b.dtype == np.float64
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(np.signbit(a), np.signbit(b))  # -0.0 stays -0.0
    assert is_column_major(a) == is_column_major(b)


@pytest.fixture
def small_blocks(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", MIN_BLOCK_CELLS)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("method", "k"), [("top_bottom_k", 4), ("signal", None)])
@pytest.mark.parametrize("rebalance_every", [1, 4, 7, 1000])
@pytest.mark.parametrize("ema_halflife", [None, 2.5])
def test_weights_equal_the_whole_frame_steps(
    small_blocks, order, method, k, rebalance_every, ema_halflife
) -> None:
    signal = _signal(order)
    kwargs = {
        "method": method,
        "k": k,
        "rebalance_every": rebalance_every,
        "ema_halflife": ema_halflife,
    }
    old = _former_weights(signal, **kwargs)
    _same(portfolio_weights(signal, **kwargs), old)
    active = np.ones(len(signal), dtype=bool)
    active[:900] = False  # inactive rows cross the first block boundary
    active[2000:2003] = False
    masked = signal.where(pd.Series(active, index=signal.index), np.nan)
    _same(active_portfolio_weights(signal, active, **kwargs), _former_weights(masked, **kwargs))
    assert old.abs().to_numpy().sum() > 100  # the weights are not trivially zero


def test_backtest_of_active_weights_equals_the_masked_signal_path(small_blocks) -> None:
    rng = np.random.default_rng(5)
    n_assets, n_bars = 120, 2500
    frames = []
    for asset in range(n_assets):
        times = np.arange(n_bars, dtype=np.int64) * 3_600_000
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n_bars)))
        frames.append(
            pd.DataFrame({"instrument_id": f"x:{asset:03d}", "bar_open_ms": times, "open": close,
                          "high": close, "low": close, "close": close,
                          "volume": rng.random(n_bars)})
        )  # fmt: skip
    panel = panel_from_bars(pd.concat(frames, ignore_index=True))
    signal = panel.log_returns.rolling(5).sum()
    active = np.zeros(n_bars, dtype=bool)
    active[700:] = True
    costs = CostModel(fee_bps=2.0, half_spread_bps=1.0, impact_coef=0.01)
    masked = signal.where(pd.Series(active, index=signal.index), np.nan)
    for every in (1, 4):
        old = _former_weights(masked, method="top_bottom_k", k=10, rebalance_every=every,
                              ema_halflife=None)  # fmt: skip
        new = active_portfolio_weights(signal, active, k=10, rebalance_every=every)
        a = backtest(old, panel, cost_model=costs, aum=1e5)
        b = backtest(new, panel, cost_model=costs, aum=1e5)
        assert a.bars.equals(b.bars)
        assert a.bars["gross"].abs().sum() > 0


def test_hold_rebalances_fills_gaps_as_ffill_then_zero() -> None:
    rng = np.random.default_rng(7)
    values = rng.standard_normal((40, 5))
    values[rng.random(values.shape) < 0.4] = np.nan
    values[0, 1] = -0.0
    frame = pd.DataFrame(values)
    for every in (1, 3, 5, 50):
        keep = np.arange(len(frame)) % every == 0
        old = frame.where(pd.Series(keep), axis=0).ffill().fillna(0.0).to_numpy()
        blocks = [(rows, values[rows]) for rows in (slice(0, 7), slice(7, 8), slice(8, 40))]
        new = hold_rebalances(np.empty(values.shape), blocks, every)
        assert np.array_equal(new, old)
        assert np.array_equal(np.signbit(new), np.signbit(old))


def test_active_weights_refuse_bad_input() -> None:
    signal = _signal("F", n_rows=10, n_cols=4)
    with pytest.raises(TypeError, match="active must be a 1-D boolean"):
        active_portfolio_weights(signal, [True] * 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="active has 9 entries"):
        active_portfolio_weights(signal, np.ones(9, dtype=bool))
    with_inf = signal.copy()
    with_inf.iloc[2, 1] = np.inf
    active = np.ones(10, dtype=bool)
    with pytest.raises(ValueError, match=r"\+/-inf"):
        active_portfolio_weights(with_inf, active, k=1)
    active[2] = False  # an inactive row may hold anything: the masked frame never saw it
    masked = with_inf.where(pd.Series(active, index=signal.index), np.nan)
    _same(
        active_portfolio_weights(with_inf, active, k=1),
        _former_weights(masked, method="top_bottom_k", k=1, rebalance_every=1, ema_halflife=None),
    )
