"""Row blocks of a (time x asset) array, for kernels whose every output row depends on its row only.

Cross-sectional kernels (z-scores, quantile labels, rank correlations) build several temporaries
the size of their input. Run over blocks of rows they need a block's worth instead, and give the
same bits, provided each block keeps the memory order of the whole array (see :func:`rows_like`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np

__all__ = [
    "MIN_BLOCK_CELLS",
    "ROW_BLOCK_CELLS",
    "is_column_major",
    "map_row_blocks",
    "row_blocks",
    "rows_like",
]

ROW_BLOCK_CELLS = 1 << 20
"""Cells per row block of the chunked kernels: 8 MB per float64 temporary, so a kernel with a
handful of whole-array temporaries needs tens of MB instead of several times its input."""

MIN_BLOCK_CELLS = 1 << 18
"""Smallest block (unless the array is smaller): 256 KiB even for one-byte (boolean) cells, the
size from which numpy elides temporaries; see :func:`row_blocks`."""


def row_blocks(
    n_rows: int, n_cols: int, cells: int | None = None, *, min_cells: int | None = None
) -> Iterator[slice]:
    """Consecutive row slices of about ``cells`` (default :data:`ROW_BLOCK_CELLS`) cells each,
    covering ``range(n_rows)``; no block is smaller than ``min_cells`` (default
    :data:`MIN_BLOCK_CELLS`) unless the whole array is, the last one joining the block before.

    The floor is what makes a block compute like the whole array: numpy reuses a temporary in
    place (and so keeps *its* memory order) only from 256 KiB on, so a small block could lay a
    result out differently from the whole-array call and sum its rows in another order. A block
    also never has a single row unless the array has (a one-row block is both row- and
    column-major).
    """
    floor = MIN_BLOCK_CELLS if min_cells is None else min_cells
    step = max(2, (cells or ROW_BLOCK_CELLS) // max(n_cols, 1), -(-floor // max(n_cols, 1)))
    starts = list(range(0, n_rows, step))
    if len(starts) > 1:
        last = n_rows - starts[-1]
        if last == 1 or last * n_cols < floor:
            starts.pop()  # the short tail joins the block before it
    for start, stop in zip(starts, [*starts[1:], n_rows], strict=True):
        yield slice(start, stop)


def is_column_major(values: np.ndarray) -> bool:
    """Column-major and not also row-major (a single row or column is both)."""
    return bool(values.flags.f_contiguous and not values.flags.c_contiguous)


def rows_like(values: np.ndarray, rows: slice) -> np.ndarray:
    """``values[rows]`` in the memory order of ``values``.

    A reduction along a row adds in an order set by the layout: pairwise over a row-major row,
    one column after another over a column-major array. A row block of a column-major array is
    not column-major by itself, so it is copied into that order (a block's worth of memory);
    every per-row sum of a chunked kernel then has exactly the bits of the whole-array kernel.
    """
    part = values[rows]
    if is_column_major(values):
        return np.asfortranarray(part)
    return part


def map_row_blocks(kernel: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``kernel(*arrays)`` computed a block of rows at a time, for a row-wise ``kernel``.

    Each block sees its arrays in their whole-array memory order (:func:`rows_like`), so numpy
    makes the same layout choices for it as for the whole arrays; the result is laid out as the
    blocks come out (and so as the whole-array call's result would be), which keeps every later
    reduction over it bit-identical too.
    """
    n_rows, n_cols = arrays[0].shape
    if n_rows < 2:
        return kernel(*arrays)
    out: np.ndarray | None = None
    for rows in row_blocks(n_rows, n_cols):
        part = kernel(*(rows_like(values, rows) for values in arrays))
        if out is None:
            order: Literal["C", "F"] = "F" if is_column_major(part) else "C"
            out = np.empty((n_rows, *part.shape[1:]), part.dtype, order=order)
        out[rows] = part
    assert out is not None  # n_rows >= 2: at least one block
    return out
