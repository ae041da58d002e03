"""Bars as column blocks: what a panel is scattered from, without a long pandas frame.

A long bars frame at 500 instruments x 4 years of hours is 17.5 M rows, about a gigabyte, and the
Arrow read it was converted from was another one at the same moment; the panel needs only four
of its columns. :class:`BarColumns` holds just those, as numpy blocks (one per read batch, views
of the read's buffers where the types allow), each block with its own instrument-id list: the
reader dictionary-encodes the ids per batch, so the lists differ between blocks.
:func:`~crypto_analyzer.research.panel.panel_from_bars` scatters the blocks into the grids one at
a time and, when asked, forgets each block once it is scattered, so the peak is the kept columns
plus the grids. A long DataFrame goes through the same code: :meth:`BarColumns.from_frame` cuts it
into blocks of views, so there is one implementation and both give the same bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BAR_COLUMNS", "BLOCK_ROWS", "BarBlock", "BarColumns", "as_bar_columns", "bar_layout"]

BAR_COLUMNS = ("instrument_id", "bar_open_ms", "open", "high", "low", "close", "volume")
"""Columns a long bars frame handed to the panel must carry (extra columns are ignored)."""

_NUMERIC = ("open", "high", "low", "close", "volume")
_PANEL_COLUMNS = ("instrument_id", "bar_open_ms", "close", "volume")
BLOCK_ROWS = 65_536
"""Rows of one block when a frame is cut into blocks (the Arrow reader's batch size): the
scatter's per-block temporaries stay small whatever the frame's length."""


@dataclass(frozen=True, slots=True, eq=False)
class BarBlock:
    """One batch of bars; ``ids[codes[i]]`` is the instrument of row ``i``.

    ``ids`` is this block's own id list (e.g. one Arrow batch's dictionary); ids no row uses are
    allowed and ignored. The arrays are used as given (no copy), so they may be read-only views
    of a reader's buffers."""

    codes: np.ndarray
    ids: Any
    bar_open_ms: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        kinds = (
            ("codes", self.codes, "i"),
            ("bar_open_ms", self.bar_open_ms, "i"),
            ("close", self.close, "f"),
            ("volume", self.volume, "f"),
        )
        for name, values, kind in kinds:
            if not isinstance(values, np.ndarray) or values.ndim != 1:
                raise TypeError(f"BarBlock.{name} must be a 1-d numpy array")
            if values.dtype.kind != kind or (kind == "f" and values.dtype != np.float64):
                wanted = "an integer" if kind == "i" else "a float64"
                raise TypeError(f"BarBlock.{name} must be {wanted} array, got {values.dtype}")
        if self.bar_open_ms.dtype != np.int64:
            raise TypeError(f"BarBlock.bar_open_ms must be int64, got {self.bar_open_ms.dtype}")
        if len({len(self.codes), len(self.bar_open_ms), len(self.close), len(self.volume)}) != 1:
            raise ValueError("BarBlock arrays must all have the same length")

    def __len__(self) -> int:
        return len(self.codes)


class BarColumns:
    """The bars a panel is built from: instrument, open time, close and volume, as blocks.

    The blocks are in the order given; the order of rows does not change the panel (duplicate
    (instrument, time) pairs are refused however they are spread over blocks)."""

    __slots__ = ("_blocks", "_drained", "_times")

    def __init__(self, blocks: Iterable[BarBlock]) -> None:
        self._blocks = [block for block in blocks if len(block)]
        self._drained = False
        self._times: np.ndarray | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, block_rows: int = BLOCK_ROWS) -> BarColumns:
        """A long frame (``instrument_id, bar_open_ms, close, volume``) as blocks of views."""
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"bars must be a pandas DataFrame, got {type(frame).__name__}")
        _check_frame_columns(frame, _PANEL_COLUMNS)
        codes, ids = pd.factorize(frame["instrument_id"])
        times = frame["bar_open_ms"].to_numpy(dtype=np.int64)
        close = frame["close"].to_numpy(dtype=np.float64, na_value=np.nan)
        volume = frame["volume"].to_numpy(dtype=np.float64, na_value=np.nan)
        return cls(
            BarBlock(
                codes[start : start + block_rows],
                ids,
                times[start : start + block_rows],
                close[start : start + block_rows],
                volume[start : start + block_rows],
            )
            for start in range(0, len(codes), block_rows)
        )

    def __len__(self) -> int:
        return sum(len(block) for block in self._blocks)

    @property
    def blocks(self) -> tuple[BarBlock, ...]:
        """The blocks (refused once :meth:`drain` handed them out)."""
        if self._drained:
            raise ValueError(
                "these bars were released while a panel was built from them; read them again"
            )
        return tuple(self._blocks)

    def drain(self) -> Iterator[BarBlock]:
        """Hand out the blocks and forget each: the caller holds a block's memory only while it
        uses it (nothing else may hold the arrays for them to be freed)."""
        self.blocks  # noqa: B018 - refuses a second drain
        self._drained = True
        while self._blocks:
            yield self._blocks.pop(0)

    def times(self) -> np.ndarray:
        """The distinct bar open times, sorted (``np.unique`` of all times, block by block)."""
        if self._times is None:
            found = np.empty(0, dtype=np.int64)
            for block in self.blocks:
                times = block.bar_open_ms
                if found.size:  # most blocks repeat times already found: only merge new ones
                    at = np.minimum(np.searchsorted(found, times), found.size - 1)
                    times = times[found[at] != times]
                if times.size:
                    found = np.union1d(found, times)
            self._times = found
        return self._times


def as_bar_columns(bars: Any) -> BarColumns:
    """The panel's input as :class:`BarColumns`; a long frame is checked as the panel always
    checked it (every :data:`BAR_COLUMNS` present, numeric, finite) and cut into views."""
    if isinstance(bars, BarColumns):
        return bars
    if not isinstance(bars, pd.DataFrame):
        raise TypeError(f"bars must be a pandas DataFrame or BarColumns, got {type(bars).__name__}")
    _check_frame_columns(bars, BAR_COLUMNS)
    # column by column: a float copy of all five columns at once was the size of the frame
    for col in _NUMERIC:
        if not np.isfinite(bars[col].to_numpy(dtype=np.float64, na_value=np.nan)).all():
            raise ValueError(_NOT_FINITE)
    return BarColumns.from_frame(bars)


_NOT_FINITE = "bars has NaN or inf in open/high/low/close/volume; drop such bars first"


def bar_layout(bars: BarColumns) -> tuple[list[Any], list[np.ndarray]]:
    """The panel's columns (the instrument ids with a bar, sorted) and, per block, the column of
    each of its ids; after the panel's checks, in the order (and with the messages) the long
    frame was checked: finite values, close > 0, volume >= 0, no repeated (instrument, time)."""
    blocks = bars.blocks
    if not blocks:
        raise ValueError("bars must not be empty")
    finite = positive = non_negative = coded = True
    used: dict[Any, None] = {}
    for block in blocks:
        finite = finite and bool(np.isfinite(block.close).all() & np.isfinite(block.volume).all())
        positive = positive and not bool((block.close <= 0).any())
        non_negative = non_negative and not bool((block.volume < 0).any())
        if block.codes.min() < 0 or block.codes.max() >= len(block.ids):
            coded = False
            continue
        counts = np.bincount(block.codes, minlength=len(block.ids))
        used.update(dict.fromkeys(block.ids[i] for i in np.flatnonzero(counts)))
    if not finite:
        raise ValueError(_NOT_FINITE)
    if not positive:
        raise ValueError("bars['close'] must be > 0 (log returns need positive prices)")
    if not non_negative:
        raise ValueError("bars['volume'] must be >= 0")
    if not coded:
        raise ValueError("bars has rows without an instrument_id; drop them first")
    columns = sorted(used)
    lookup = pd.Index(columns)
    positions = [lookup.get_indexer(block.ids) for block in blocks]
    if _may_repeat(blocks, positions) and _repeats(blocks, positions):
        raise ValueError("bars has duplicate (instrument_id, bar_open_ms) rows")
    return columns, positions


def _may_repeat(blocks: tuple[BarBlock, ...], positions: list[np.ndarray]) -> bool:
    """False when the rows are strictly increasing in (column, time) across all blocks — the
    loader's order — so no pair can repeat; True means "check with the general test"."""
    last: tuple[int, int] | None = None
    for block, position in zip(blocks, positions, strict=True):
        columns = position[block.codes]
        times = block.bar_open_ms
        first = (int(columns[0]), int(times[0]))
        if last is not None and not first > last:
            return True
        step = np.diff(columns)
        if not bool(((step > 0) | ((step == 0) & (np.diff(times) > 0))).all()):
            return True
        last = (int(columns[-1]), int(times[-1]))
    return False


def _repeats(blocks: tuple[BarBlock, ...], positions: list[np.ndarray]) -> bool:
    """Whether some (column, time) pair occurs twice, in any row order."""
    columns = np.concatenate([p[b.codes] for b, p in zip(blocks, positions, strict=True)])
    times = np.concatenate([block.bar_open_ms for block in blocks])
    order = np.lexsort((times, columns))
    columns, times = columns[order], times[order]
    return bool(((columns[1:] == columns[:-1]) & (times[1:] == times[:-1])).any())


def _check_frame_columns(frame: pd.DataFrame, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"bars is missing columns {missing}; required: {list(required)}")
    if len(frame) == 0:
        raise ValueError("bars must not be empty")
    for col in required[1:]:
        if not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            raise TypeError(f"bars[{col!r}] must be numeric, got dtype {frame[col].dtype}")
