"""Block-wise pieces of :func:`~crypto_analyzer.research.portfolio.portfolio_weights`.

The weights of a panel used to be built as whole-panel frames step by step (a masked copy of the
signal, the targets, a pandas copy of them, then ``where``, ``ffill`` and ``fillna`` for the
rebalance hold): six grids at once, 800 MB at 500 assets x 4 years of hourly bars. Here the
targets come out a block of rows at a time and are written, already held, into the one output
array; the values and the output's memory order are those of the whole-frame steps (the memory
order matters: the backtest sums each row in the order its layout sets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from crypto_analyzer.core.row_blocks import row_blocks, rows_like

__all__: list[str] = []

Block = tuple[slice, np.ndarray]


def target_blocks(
    values: np.ndarray,
    kernel: Callable[[np.ndarray], np.ndarray],
    active: np.ndarray | None = None,
) -> Iterator[Block]:
    """``(rows, kernel(values[rows]))`` block by block, rows outside ``active`` read as all-NaN.

    Each block is in the memory order of ``values`` (:func:`rows_like`), as
    :func:`~crypto_analyzer.core.row_blocks.map_row_blocks` hands it, so the row-wise kernel sums
    in the same order as on the whole array. Masking a block copy gives the bits of masking the
    whole frame first (``frame.where(active)`` keeps the frame's layout), without that copy.

    Raises
    ------
    ValueError
        An active row holds +/-inf (the whole-frame check only saw active rows).
    """
    n_rows, n_cols = values.shape
    blocks = row_blocks(n_rows, n_cols) if n_rows >= 2 else iter([slice(0, n_rows)])
    for rows in blocks:
        part = rows_like(values, rows)
        if active is not None:
            keep = active[rows]
            if not keep.all():
                part = np.array(part, order="K")  # a copy in the same memory order
                part[~keep] = np.nan
            if np.isinf(part).any():
                raise ValueError("signal contains +/-inf; use NaN for missing values")
        yield rows, kernel(part)


def hold_rebalances(out: np.ndarray, blocks: Iterable[Block], every: int) -> np.ndarray:
    """Write ``blocks`` into ``out`` with row ``t`` holding row ``t - t % every``; returns ``out``.

    This is ``where(t % every == 0).ffill().fillna(0.0)`` of the whole frame: a NaN in a
    rebalance row takes the column's last value from an earlier rebalance row (0 before any),
    and every row in between copies its rebalance row. Blocks come in row order and may start
    between two rebalances; the last held row is carried from one block to the next.
    """
    last: np.ndarray | None = None  # held weights of the latest rebalance row seen
    for rows, part in blocks:
        if rows.stop <= rows.start:  # an empty frame
            continue
        first_fresh = -(-rows.start // every) * every
        fresh = part[np.arange(first_fresh, rows.stop, every) - rows.start]  # a copy
        if np.isnan(fresh).any():
            previous = np.zeros(part.shape[1]) if last is None else last
            for row in fresh:
                gaps = np.isnan(row)
                row[gaps] = previous[gaps]
                previous = row
        if rows.start % every:
            assert last is not None  # row 0 rebalances, so only a later block starts mid-hold
            fresh = np.concatenate([last[None, :], fresh])
        group = np.arange(rows.start, rows.stop) // every - rows.start // every
        np.take(fresh, group, axis=0, out=out[rows])
        last = fresh[-1].copy()
    return out
