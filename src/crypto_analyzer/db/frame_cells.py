"""Frame cells: a pandas frame turned into the plain Python values a DB-API driver binds.

Why it exists. Both write paths of :class:`~crypto_analyzer.db.provenance.ProvenanceWriter` (the
plain ``executemany`` upsert and the SQLite bulk path) must bind exactly the same value for the
same cell, or the two paths would store different rows: NumPy scalars must become Python ones,
NaN / NA must become None, and a frame that lacks a required column must be refused before any
write. Keeping that conversion in one place is what makes the bulk path a pure optimisation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from crypto_analyzer.core.errors import ValidationError

__all__ = [
    "ColumnMatrix",
    "batches",
    "check_frame",
    "column_lists",
    "constant_columns",
    "plain_row",
]


def check_frame(
    table: sa.Table, frame: pd.DataFrame, columns: Sequence[str], constants: Mapping[str, Any]
) -> None:
    """Refuse a frame lacking a required column or a value in one, before anything is written."""
    required = [
        column.name
        for column in table.columns
        if not column.nullable and column.server_default is None and column.name not in constants
    ]
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValidationError(
            f"{table.name} rows lack required column(s) {', '.join(missing)}",
            "add them to the frame before writing",
        )
    for name in required:
        gaps = int(frame[name].isna().sum())
        if gaps:
            raise ValidationError(
                f"{table.name}.{name} has missing values in {gaps} row(s)",
                "validate and quarantine those records before writing",
            )


def column_lists(frame: pd.DataFrame, columns: Sequence[str]) -> list[list]:
    """Each column as a list of plain Python scalars; missing values (NaN, NA) become None."""
    lists: list[list[Any]] = []
    for name in columns:
        series = frame[name]
        dtype = series.dtype
        if dtype == np.float64 and not series.isna().any():
            lists.append(series.to_numpy(dtype=np.float64).tolist())
        elif dtype == np.int64:
            lists.append(series.to_numpy().tolist())
        else:
            values = series.to_numpy(dtype=object, na_value=None)
            if pd.api.types.is_object_dtype(dtype) and len(values):
                missing = pd.isna(values)
                if missing.any():
                    values = np.where(missing, None, values)
                if any(issubclass(kind, np.generic) for kind in set(map(type, values))):
                    values = np.array([_scalar(value) for value in values], dtype=object)
            lists.append(values.tolist())
    return lists


class ColumnMatrix:
    """The staged columns, grouped by kind, cut into column-major parameter blocks.

    Each group is one 2-D array (object, int64 or float64), so a block's parameters are a few
    ``tolist`` calls; blocks are produced lazily, so the Python numbers are created right before
    SQLite binds them and freed right after, while they are still in the CPU cache.
    """

    def __init__(self, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        arrays = {name: _bindable(frame[name]) for name in columns}
        kinds = sorted({array.dtype.kind for array in arrays.values()})
        self.columns = [
            name for kind in kinds for name in columns if arrays[name].dtype.kind == kind
        ]
        self._groups = [
            np.stack([arrays[name] for name in self.columns if arrays[name].dtype.kind == kind])
            for kind in kinds
        ]

    def blocks(self, start: int, stop: int, rows: int | None = None) -> Iterator[list[Any]]:
        """Parameter lists for rows ``start:stop`` in blocks of ``rows`` (default: one block)."""
        rows = rows or stop - start
        count = (stop - start) // rows
        parts = [
            group[:, start:stop]
            .reshape(len(group), count, rows)
            .transpose(1, 0, 2)
            .reshape(count, -1)
            for group in self._groups
        ]
        if len(parts) == 1:
            return (block.tolist() for block in parts[0])
        return (_joined(blocks) for blocks in zip(*parts, strict=True))


def _joined(blocks: Sequence[np.ndarray]) -> list[Any]:
    cells = blocks[0].tolist()
    for block in blocks[1:]:
        cells += block.tolist()
    return cells


def _bindable(series: pd.Series) -> np.ndarray:
    """One column as an array whose items bind as the plain upsert would bind them."""
    if series.dtype in (np.float64, np.int64):  # NaN binds as NULL in SQLite
        return series.to_numpy()
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series):
        # Few distinct strings (instrument ids): bind the same str object for equal values.
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        values = np.empty(len(uniques) + 1, dtype=object)
        values[:-1] = list(uniques)
        values[-1] = None  # code -1: missing
        return values[codes]
    cells = np.empty(len(series), dtype=object)
    cells[:] = column_lists(series.to_frame(), [series.name])[0]
    return cells


def constant_columns(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """Columns holding one value in every row (e.g. ``freq``): inlined, not bound per row.

    Text and integers only: they inline as exact SQL literals (floats would need care for -0.0
    and non-finite values, and are rarely repeated anyway).
    """
    found: dict[str, Any] = {}
    for name in columns:
        series = frame[name]
        first, last = series.iloc[0], series.iloc[-1]
        textual = pd.api.types.is_string_dtype(series.dtype) and isinstance(first, str)
        if not (series.dtype.kind in "iu" or textual) or first != last:
            continue  # the cheap end-to-end comparison rules out most columns at once
        if textual and "\x00" in first:
            continue
        if bool((series == first).all()):
            found[name] = _scalar(first)
    return found


def plain_row(row: Mapping[str, Any], table: sa.Table) -> dict[str, Any]:
    """One record restricted to ``table``'s columns, with plain Python values and None for gaps."""
    return {
        name: (None if _is_missing(value) else _scalar(value))
        for name, value in row.items()
        if name in table.columns
    }


def batches(rows: Sequence[tuple], size: int) -> Iterator[Sequence[tuple]]:
    """Consecutive slices of ``size`` rows: one transaction each, so a crash loses one batch."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
