"""Bars as column blocks: the panel built from them equals, bit for bit and in memory layout, the
panel built from the long frame (several blocks with their own id lists, gaps, another calendar,
released blocks), and bad input is refused with the long frame's messages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from research_helpers import HOUR_MS, bars_frame

from crypto_analyzer.research import (
    BarBlock,
    BarColumns,
    CalendarSpec,
    Panel,
    calendar_panel,
    panel_from_bars,
)

_GRIDS = ("close", "volume", "log_returns", "dollar_volume")
_MONDAY_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def _frame(seed: int, n_times: int = 400, ids: list[Any] | None = None) -> pd.DataFrame:
    """A long frame in the loader's order with gaps (missing bars) and an all-missing row."""
    rng = np.random.default_rng(seed)
    ids = ids or ["eth", "btc", "sol", "ada", "xrp"]
    close = rng.uniform(1.0, 2.0, (n_times, len(ids)))
    close[rng.random(close.shape) < 0.15] = np.nan
    close[7] = np.nan
    volume = rng.uniform(0.0, 9.0, close.shape)
    frame = bars_frame(close, volume, ids=ids, start_ms=_MONDAY_MS)
    return frame.sort_values(["instrument_id", "bar_open_ms"]).reset_index(drop=True)


def _blocks(frame: pd.DataFrame, rows: int, *, extra_id: Any = "zzz") -> BarColumns:
    """The frame as blocks the way the Arrow reader hands them over: each block has its own id
    list (only some ids, in its own order, plus one no row uses), so the lists differ."""
    blocks = []
    for start in range(0, len(frame), rows):
        part = frame.iloc[start : start + rows]
        ids = np.asarray([*pd.unique(part["instrument_id"])[::-1], extra_id], dtype=object)
        codes = pd.Index(ids).get_indexer(part["instrument_id"]).astype(np.int32)
        blocks.append(
            BarBlock(
                codes,
                ids,
                part["bar_open_ms"].to_numpy(dtype=np.int64),
                part["close"].to_numpy(dtype=np.float64),
                part["volume"].to_numpy(dtype=np.float64),
            )
        )
    return BarColumns(blocks)


def _assert_same_bits(expected: Panel, found: Panel) -> None:
    for name in _GRIDS:
        want, got = getattr(expected, name), getattr(found, name)
        assert got.index.equals(want.index) and got.index.dtype == want.index.dtype
        assert got.index.name == want.index.name
        assert got.columns.equals(want.columns) and got.columns.dtype == want.columns.dtype
        assert got.columns.name == want.columns.name
        a, b = want.to_numpy(), got.to_numpy()
        assert a.dtype == b.dtype == np.float64
        assert np.array_equal(a, b, equal_nan=True), name
        assert a.tobytes() == b.tobytes(), name  # NaNs and signed zeros too
        assert (a.flags.c_contiguous, a.flags.f_contiguous) == (
            b.flags.c_contiguous,
            b.flags.f_contiguous,
        ), name
    assert expected.close.to_numpy().flags.c_contiguous  # time-major grids
    assert (found.bar_ms, found.calendar, found.bars_per_year) == (
        expected.bar_ms,
        expected.calendar,
        expected.bars_per_year,
    )


@pytest.mark.parametrize("rows", [1, 97, 400, 10_000])
def test_blocks_with_their_own_ids_give_the_frames_panel(rows: int) -> None:
    frame = _frame(1)
    expected = panel_from_bars(frame)
    _assert_same_bits(expected, panel_from_bars(_blocks(frame, rows)))
    _assert_same_bits(expected, panel_from_bars(BarColumns.from_frame(frame, block_rows=rows)))
    assert list(expected.assets) == ["ada", "btc", "eth", "sol", "xrp"]  # "zzz" has no bar


def test_integer_ids_and_any_row_order_give_the_same_panel() -> None:
    frame = _frame(2, ids=[7, 3, 11])
    expected = panel_from_bars(frame)
    shuffled = frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
    bars = _blocks(shuffled, 50, extra_id=99)
    assert np.array_equal(bars.times(), np.unique(frame["bar_open_ms"].to_numpy()))
    _assert_same_bits(expected, panel_from_bars(bars))
    assert expected.assets.dtype == np.int64


@pytest.mark.parametrize(
    "spec",
    [
        CalendarSpec(),
        CalendarSpec(kind="weekdays"),
        CalendarSpec(kind="weekdays", gap_rule="carry", max_gap=2),
        CalendarSpec(kind="24/7", gap_rule="carry"),
    ],
    ids=["auto", "weekdays", "weekdays-carry", "24/7-carry"],
)
def test_calendar_panels_from_blocks_equal_the_frames(spec: CalendarSpec) -> None:
    frame = _frame(3, n_times=24 * 21)
    expected, report = calendar_panel(frame, spec)
    for release in (False, True):
        found, found_report = calendar_panel(_blocks(frame, 128), spec, release=release)
        _assert_same_bits(expected, found)
        assert found_report == report


def test_a_released_panel_is_the_same_and_the_blocks_are_gone() -> None:
    frame = _frame(4)
    bars = _blocks(frame, 64)
    kept = panel_from_bars(bars)  # only read: the bars can be used again
    assert len(bars) == len(frame)
    _assert_same_bits(kept, panel_from_bars(bars, release=True))
    with pytest.raises(ValueError, match="released while a panel was built"):
        panel_from_bars(bars)


def _refusal(bars: Any) -> str:
    with pytest.raises((ValueError, TypeError)) as caught:
        panel_from_bars(bars, bar_ms=HOUR_MS)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(close=f["close"].where(f.index != 5, -1.0)), "must be > 0"),
        (lambda f: f.assign(close=f["close"].where(f.index != 5, np.nan)), "NaN or inf"),
        (lambda f: f.assign(volume=f["volume"].where(f.index != 9, np.inf)), "NaN or inf"),
        (lambda f: f.assign(volume=f["volume"].where(f.index != 9, -0.5)), "volume'] must be"),
        (lambda f: pd.concat([f.iloc[:70], f.iloc[69:]]), "duplicate"),  # across a block edge
        (lambda f: pd.concat([f, f.iloc[[3]]]).sample(frac=1.0, random_state=1), "duplicate"),
        (lambda f: f.assign(bar_open_ms=f["bar_open_ms"] + (f.index == 2) * 5), "not on the"),
    ],
    ids=["close", "nan-close", "inf-volume", "volume", "dup-edge", "dup-shuffled", "off-grid"],
)
def test_blocks_are_refused_with_the_frames_message(change: Any, message: str) -> None:
    bad = change(_frame(5)).reset_index(drop=True)
    from_frame = _refusal(bad)
    assert message in from_frame
    assert _refusal(_blocks(bad, 70)) == from_frame


def test_bad_blocks_are_refused() -> None:
    ids = np.asarray(["a"], dtype=object)
    times = np.array([0, HOUR_MS], dtype=np.int64)
    prices = np.ones(2)
    missing = BarColumns([BarBlock(np.array([0, -1]), ids, times, prices, prices)])
    assert "without an instrument_id" in _refusal(missing)
    assert _refusal(BarColumns([])) == "bars must not be empty"
    with pytest.raises(TypeError, match="close must be a float64"):
        BarBlock(np.zeros(2, dtype=np.int32), ids, times, prices.astype(np.float32), prices)
    with pytest.raises(TypeError, match="bar_open_ms must be int64"):
        BarBlock(np.zeros(2, dtype=np.int32), ids, times.astype(np.int32), prices, prices)
    with pytest.raises(ValueError, match="same length"):
        BarBlock(np.zeros(1, dtype=np.int32), ids, times, prices, prices)
    with pytest.raises(TypeError, match="DataFrame or BarColumns"):
        panel_from_bars(times)
