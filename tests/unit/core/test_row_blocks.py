"""Row-block kernels: a panel processed a block of rows at a time gives the whole-panel bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crypto_analyzer.core.row_blocks as row_blocks_module
from crypto_analyzer.core.row_blocks import MIN_BLOCK_CELLS, map_row_blocks, row_blocks, rows_like
from crypto_analyzer.pipeline.report.tearsheet import tear_sheet
from crypto_analyzer.research import (
    CostModel,
    Panel,
    backtest,
    cs_zscore,
    execution_evidence,
    panel_from_bars,
    portfolio_weights,
)

WHOLE = 10**12  # one block: the whole-array computation
BLOCK = MIN_BLOCK_CELLS  # the smallest blocks row_blocks makes: several per test panel


@pytest.mark.parametrize(
    ("n_rows", "n_cols", "cells", "floor"),
    [(10, 3, 6, 1), (11, 3, 6, 1), (1, 5, 1, 1), (7, 50, 1, 1), (100, 10, 50, 300), (9, 1, 1, 4)],
)
def test_row_blocks_cover_the_rows_in_order_above_the_floor(n_rows, n_cols, cells, floor) -> None:
    blocks = list(row_blocks(n_rows, n_cols, cells, min_cells=floor))
    assert [i for block in blocks for i in range(block.start, block.stop)] == list(range(n_rows))
    sizes = [block.stop - block.start for block in blocks]
    if len(blocks) > 1:
        assert min(sizes) >= 2 and min(sizes) * n_cols >= floor


def test_rows_like_keeps_the_memory_order() -> None:
    column_major = np.asfortranarray(np.arange(60.0).reshape(12, 5))
    part = rows_like(column_major, slice(3, 7))
    assert part.flags.f_contiguous and not part.flags.c_contiguous
    assert np.array_equal(part, column_major[3:7])
    row_major = np.arange(60.0).reshape(12, 5)
    assert np.shares_memory(rows_like(row_major, slice(3, 7)), row_major)  # a view, no copy


@pytest.mark.parametrize("order", ["C", "F"])
def test_map_row_blocks_equals_the_whole_array_call(order, monkeypatch) -> None:
    rng = np.random.default_rng(1)
    values = np.asarray(rng.standard_normal((3001, 300)) * 1e3, order=order)

    def kernel(block: np.ndarray) -> np.ndarray:
        return (block - np.nanmean(block, axis=1, keepdims=True)) / block.sum(axis=1)[:, None]

    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", BLOCK)
    assert len(list(row_blocks(*values.shape))) == 3
    blocked = map_row_blocks(kernel, values)
    whole = kernel(values)
    assert np.array_equal(blocked, whole)
    assert blocked.flags.f_contiguous == whole.flags.f_contiguous


def _signal(rng: np.random.Generator, n_rows: int, n_cols: int) -> pd.DataFrame:
    raw = rng.standard_normal((n_rows, n_cols)) * rng.uniform(0.1, 5.0, n_cols)
    raw[rng.random(raw.shape) < 0.15] = np.nan
    frame = pd.DataFrame(
        raw, index=pd.RangeIndex(0, 10 * n_rows, 10), columns=[f"a{i}" for i in range(n_cols)]
    )
    return frame.rolling(3, min_periods=1).mean()  # a computed frame, laid out as signals are


def _both(monkeypatch, compute):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", WHOLE)
    whole = compute()
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", BLOCK)
    return whole, compute()


def test_cs_zscore_and_portfolio_weights_are_bit_identical_in_blocks(monkeypatch) -> None:
    signal = _signal(np.random.default_rng(2), 3001, 300)
    whole, blocked = _both(monkeypatch, lambda: cs_zscore(signal, winsor_quantile=0.05))
    assert whole.equals(blocked)
    for method in ("top_bottom_k", "signal"):
        kwargs = {
            "method": method,
            "k": 4 if method == "top_bottom_k" else None,
            "rebalance_every": 1,
        }
        whole, blocked = _both(monkeypatch, lambda kw=kwargs: portfolio_weights(signal, **kw))
        assert whole.equals(blocked)
        # and every row-sum over them (what a backtest adds) has the same bits
        assert np.array_equal(
            whole.abs().sum(axis=1).to_numpy(), blocked.abs().sum(axis=1).to_numpy()
        )


@pytest.mark.parametrize("horizon", [1, 4])
def test_tear_sheet_is_bit_identical_in_blocks(monkeypatch, horizon) -> None:
    rng = np.random.default_rng(3)
    signal = _signal(rng, 2400, 300)
    forward = [
        pd.DataFrame(
            rng.standard_normal(signal.shape) * 0.01, index=signal.index, columns=signal.columns
        )
        for _ in range(2)
    ]
    in_test = np.zeros(len(signal), dtype=bool)
    in_test[800:] = True
    bars = pd.DataFrame(
        rng.random((len(signal), 4)),
        index=signal.index,
        columns=["turnover", "gross", "net", "cost"],
    )

    def compute():  # type: ignore[no-untyped-def]
        return tear_sheet(
            "s@h",
            signal=signal,
            forward_h=forward[0],
            forward_1=forward[1],
            in_test=in_test,
            horizon=horizon,
            bars=bars,
            linear_rate=3e-4,
            bar_ms=3_600_000,
        )

    whole, blocked = _both(monkeypatch, compute)
    assert whole.series.equals(blocked.series)
    assert np.array_equal(whole.quantile_mean, blocked.quantile_mean, equal_nan=True)
    assert whole.series["rank_autocorr"].notna().sum() > 1500


def _market(rng: np.random.Generator, n_assets: int = 300, n_bars: int = 2000) -> Panel:
    frames = []
    for asset in range(n_assets):
        times = np.arange(n_bars, dtype=np.int64)[rng.random(n_bars) > 0.1] * 3_600_000
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, len(times))))
        volume = rng.random(len(times)) * (rng.random(len(times)) > 0.05)  # some bars: no volume
        frames.append(
            pd.DataFrame({"instrument_id": f"x:{asset:02d}", "bar_open_ms": times, "open": close,
                          "high": close, "low": close, "close": close, "volume": volume})
        )  # fmt: skip
    return panel_from_bars(pd.concat(frames, ignore_index=True))


@pytest.mark.parametrize(
    ("method", "k", "rebalance"), [("top_bottom_k", 4, 1), ("signal", None, 3)]
)
def test_backtest_and_capacity_are_bit_identical_in_blocks(
    monkeypatch, method, k, rebalance
) -> None:
    panel = _market(np.random.default_rng(4))
    weights = portfolio_weights(
        panel.log_returns.rolling(5).sum(), method=method, k=k, rebalance_every=rebalance
    )
    costs = CostModel(fee_bps=2.0, half_spread_bps=1.0, impact_coef=0.01)
    for lag in (1, 3):
        whole, blocked = _both(
            monkeypatch,
            lambda lag=lag: backtest(weights, panel, cost_model=costs, aum=1e5, lag=lag),
        )
        assert whole.bars.equals(blocked.bars)
        assert whole.bars["cost"].gt(0).sum() > 500  # trades were priced, impact included
    whole, blocked = _both(
        monkeypatch,
        lambda: execution_evidence(
            weights, panel, cost_model=costs, aum_grid=[1e4, 1e6], max_participation=0.1
        ),
    )
    assert whole == blocked
