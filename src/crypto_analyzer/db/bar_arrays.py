"""The columns a panel is built from, as numpy arrays of the Arrow read's batches.

A report needs four columns of the bars (instrument, open time, close, volume). Converting the
Arrow read to a pandas frame held the table and the frame at once (each about a gigabyte at 17.5 M
bars) and the frame stayed until the panel was built. Here each record batch becomes one block of
numpy arrays that are views of the batch's own buffers (no copy for the fixed-width columns; the
instrument ids stay the batch's dictionary codes plus its short dictionary), so the research layer
scatters the panel straight from the read's memory. ``research`` does not import Arrow, hence
plain numpy blocks here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["PANEL_BAR_COLUMNS", "BarArrays", "arrow_bar_arrays"]

PANEL_BAR_COLUMNS = ("instrument_id", "bar_open_ms", "close", "volume")
"""The bar columns a panel reads (open/high/low are checked by the database and never used)."""


class BarArrays(NamedTuple):
    """One batch: ``ids[codes[i]]`` is row ``i``'s instrument (``ids``: the batch's own list)."""

    codes: np.ndarray
    ids: np.ndarray
    bar_open_ms: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def arrow_bar_arrays(table: Any) -> list[BarArrays] | None:
    """A ``pyarrow.Table`` of :data:`PANEL_BAR_COLUMNS` as one :class:`BarArrays` per batch;
    ``None`` when a column is not what the panel reads (a null, a type other than text ids,
    integer times and float prices), so the caller converts it the general way instead."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if tuple(table.column_names) != PANEL_BAR_COLUMNS:
        return None
    if any(table.column(name).null_count for name in PANEL_BAR_COLUMNS):
        return None
    types = [table.schema.field(name).type for name in PANEL_BAR_COLUMNS[1:]]
    if not (pa.types.is_integer(types[0]) and all(map(pa.types.is_floating, types[1:]))):
        return None
    blocks: list[BarArrays] = []
    for batch in table.to_batches():
        if batch.num_rows == 0:
            continue
        ids = batch.column(0)
        if pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
            ids = pc.dictionary_encode(ids)
        if not pa.types.is_dictionary(ids.type):
            return None
        blocks.append(
            BarArrays(
                _numpy(ids.indices, None),
                np.asarray(ids.dictionary.to_pylist(), dtype=object),
                _numpy(batch.column(1), np.int64),
                _numpy(batch.column(2), np.float64),
                _numpy(batch.column(3), np.float64),
            )
        )
    return blocks


def _numpy(array: Any, dtype: type[np.generic] | None) -> np.ndarray:
    """The array's values as numpy: a view of its buffer when the type already matches."""
    values = array.to_numpy(zero_copy_only=False)
    return values if dtype is None else values.astype(dtype, copy=False)
