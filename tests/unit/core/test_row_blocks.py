"""Row-block kernels: a panel processed a block of rows at a time gives the whole-panel bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crypto_analyzer.core.row_blocks as row_blocks_module
from crypto_analyzer.core.row_blocks import map_row_blocks, row_blocks, rows_like
from crypto_analyzer.pipeline.report.tearsheet import tear_sheet
from crypto_analyzer.research import cs_zscore, portfolio_weights

WHOLE = 10**12  # one block: the whole-array computation


@pytest.mark.parametrize(
    ("n_rows", "n_cols", "cells"), [(10, 3, 6), (11, 3, 6), (1, 5, 1), (7, 50, 1)]
)
def test_row_blocks_cover_the_rows_in_order_without_single_row_blocks(
    n_rows, n_cols, cells
) -> None:
    blocks = list(row_blocks(n_rows, n_cols, cells))
    assert [i for block in blocks for i in range(block.start, block.stop)] == list(range(n_rows))
    assert all(block.stop - block.start >= 2 for block in blocks) or n_rows == 1


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
    values = np.asarray(rng.standard_normal((501, 37)) * 1e3, order=order)

    def kernel(block: np.ndarray) -> np.ndarray:
        return (block - np.nanmean(block, axis=1, keepdims=True)) / block.sum(axis=1)[:, None]

    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", 100)
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
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", 97)  # blocks of 2-4 rows
    return whole, compute()


def test_cs_zscore_and_portfolio_weights_are_bit_identical_in_blocks(monkeypatch) -> None:
    signal = _signal(np.random.default_rng(2), 999, 31)
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
    signal = _signal(rng, 1201, 29)
    forward = [
        pd.DataFrame(
            rng.standard_normal(signal.shape) * 0.01, index=signal.index, columns=signal.columns
        )
        for _ in range(2)
    ]
    in_test = np.zeros(len(signal), dtype=bool)
    in_test[400:] = True
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
    assert whole.series["rank_autocorr"].notna().sum() > 500
