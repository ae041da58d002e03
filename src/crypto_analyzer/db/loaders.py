"""Loaders: the only place research inputs are read from the database.

``research/`` never imports ``db/``; the pipeline calls these and hands the frames over. Big
SQLite reads go through ADBC into Arrow (no Python object per cell) in an isolated worker (see
``arrow_reader`` for why it must not run in this process); smaller reads, other backends, or a
batch the Arrow reader refuses go through pandas over the SQLAlchemy connection. Both return the
same frame.

Point in time: with ``as_of`` a loader returns the rows visible at that market watermark
(:mod:`.market_history`), e.g. the watermark a report's dataset id was taken at, so a run reads
exactly the data its recorded id names even if an ingest commits in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.db.arrow_reader import (
    arrow_reader_available,
    read_table_isolated,
    system_pool,
)
from crypto_analyzer.db.bar_arrays import PANEL_BAR_COLUMNS, BarArrays, arrow_bar_arrays
from crypto_analyzer.db.dataset_id import DEFAULT_CHUNK_ROWS, DatasetIdentity, compute_dataset_id
from crypto_analyzer.db.engine import sqlite_path, sqlite_uri
from crypto_analyzer.db.market_history import check_watermark, history_visible, visible_select
from crypto_analyzer.db.row_capture import RowCapture
from crypto_analyzer.db.schema import bars, instruments

__all__ = [
    "BAR_FRAME_COLUMNS",
    "load_bars",
    "load_identified_bar_arrays",
    "load_identified_bars",
    "load_instruments",
]

BAR_FRAME_COLUMNS = (
    "instrument_id",
    "bar_open_ms",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "vwap",
    "log_return",
)
_FLOAT_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "log_return")
_LOG = logging.getLogger(__name__)


def load_bars(
    engine: Engine,
    *,
    tenant_id: str,
    freq: str,
    instrument_ids: Sequence[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    as_of: int | None = None,
    columns: Sequence[str] = BAR_FRAME_COLUMNS,
) -> pd.DataFrame:
    """Bars of one frequency as a long frame sorted by (instrument_id, bar_open_ms); with
    ``as_of``, the bars visible at that market watermark. ``columns``: a subset of
    :data:`BAR_FRAME_COLUMNS` (default all), e.g. only what a panel is built from."""
    if instrument_ids is not None and not instrument_ids:
        raise ValidationError("instrument_ids is empty", "pass None for all instruments")
    columns = _bar_columns(columns)

    def footprint(table: sa.Table) -> sa.ColumnElement[bool]:
        conditions = [table.c.freq == freq]
        if instrument_ids is not None:
            conditions.append(table.c.instrument_id.in_(list(instrument_ids)))
        if start_ms is not None:
            conditions.append(table.c.bar_open_ms >= start_ms)
        if end_ms is not None:
            conditions.append(table.c.bar_open_ms < end_ms)
        return sa.and_(*conditions)

    order = ("instrument_id", "bar_open_ms")
    if as_of is None:
        query = (
            sa.select(*(bars.c[name] for name in columns))
            .where(bars.c.tenant_id == tenant_id, footprint(bars))
            .order_by(*(bars.c[name] for name in order))
        )
        frame = _read(engine, query)
    else:
        frame = _read_as_of(engine, "bars", columns, order, tenant_id, as_of, footprint)
    return _finish_bars(frame, tenant_id, freq)


def load_identified_bars(
    engine: Engine, *, tenant_id: str, freq: str, columns: Sequence[str] = BAR_FRAME_COLUMNS
) -> tuple[DatasetIdentity, pd.DataFrame]:
    """The STRICT dataset id of the default scope and the ``freq`` bars it names, in one pass.

    The bars are kept from the very read that hashes the ``bars`` table (see
    :mod:`.row_capture`), so the table is read once, not once for the id and once for the bars;
    the id is byte-identical to :func:`compute_dataset_id`'s, and the frame equals
    ``load_bars(..., as_of=identity.watermark)``, which is what is read where no rows could be
    kept (PostgreSQL).
    """
    columns = _bar_columns(columns)
    capture = RowCapture("bars", columns, ("freq", freq))
    identity = compute_dataset_id(engine, tenant_id=tenant_id, capture=capture)
    if capture.frame is None:
        frame = load_bars(
            engine, tenant_id=tenant_id, freq=freq, as_of=identity.watermark, columns=columns
        )
        return identity, frame
    return identity, _finish_bars(capture.frame, tenant_id, freq)


def load_identified_bar_arrays(
    engine: Engine, *, tenant_id: str, freq: str, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> tuple[DatasetIdentity, list[BarArrays] | pd.DataFrame]:
    """:func:`load_identified_bars` of the panel's columns (:data:`PANEL_BAR_COLUMNS`), as numpy
    blocks of the Arrow read's batches when the Arrow reader kept the rows.

    The blocks are views of the read's buffers, so no long frame is made (see
    :mod:`.bar_arrays`); where the rows were kept another way or not at all (row reader,
    PostgreSQL, a batch the Arrow reader refuses, no ADBC driver) the result is the loader's frame
    of those columns, exactly what :func:`load_identified_bars` returns. ``chunk_rows``: rows
    of the ``bars`` table per read batch (a block holds that batch's rows of ``freq``).
    """
    capture = RowCapture("bars", PANEL_BAR_COLUMNS, ("freq", freq), keep_arrow=True)
    identity = compute_dataset_id(
        engine, tenant_id=tenant_id, chunk_rows=chunk_rows, capture=capture
    )
    table, capture.arrow = capture.arrow, None
    if table is not None:
        if table.num_rows == 0:
            raise _no_bars(tenant_id, freq)
        blocks = arrow_bar_arrays(table)
        if blocks is not None:
            return identity, blocks
        capture.keep_arrow = False
        capture.finish_arrow(table)
        del table
    if capture.frame is None:
        columns = PANEL_BAR_COLUMNS
        frame = load_bars(
            engine, tenant_id=tenant_id, freq=freq, as_of=identity.watermark, columns=columns
        )
        return identity, frame
    return identity, _finish_bars(capture.frame, tenant_id, freq)


def _no_bars(tenant_id: str, freq: str) -> NotFoundError:
    return NotFoundError(
        f"no {freq} bars for tenant {tenant_id!r} in the requested range",
        "ingest data first (e.g. `crypto-analyzer ingest synthetic`) or check --freq",
    )


def _finish_bars(frame: pd.DataFrame, tenant_id: str, freq: str) -> pd.DataFrame:
    """The loader's frame contract: typed columns, a fresh index; no bars is an error."""
    if frame.empty:
        raise _no_bars(tenant_id, freq)
    frame["bar_open_ms"] = frame["bar_open_ms"].astype("int64")
    for name in _FLOAT_COLUMNS:
        if name in frame.columns:
            frame[name] = frame[name].astype("float64")
    frame["instrument_id"] = _shared_ids(frame["instrument_id"])
    return frame.reset_index(drop=True)


def _bar_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """The requested bar columns in the loader's order; the key columns are always read."""
    unknown = sorted(set(columns) - set(BAR_FRAME_COLUMNS))
    if unknown:
        raise ValidationError(
            f"unknown bar columns {unknown}", f"choose from {', '.join(BAR_FRAME_COLUMNS)}"
        )
    wanted = {"instrument_id", "bar_open_ms", *columns}
    return tuple(name for name in BAR_FRAME_COLUMNS if name in wanted)


def _shared_ids(ids: pd.Series) -> pd.Series:
    """The ids as an object column whose equal ids are one ``str`` object.

    A text column read through Arrow is a string array; ``astype(object)`` made one Python
    string per *row* (about 80 bytes each, the largest part of a long bars frame). The few
    distinct ids are converted once and every row points at its id: same values, one pointer
    a row."""
    if ids.dtype == object:
        return ids
    codes, uniques = pd.factorize(ids)
    if (codes < 0).any():  # a missing id (not possible in ``bars``): convert row by row
        return ids.astype(object)
    shared = np.asarray(uniques, dtype=object).take(codes)
    return pd.Series(shared, index=ids.index, name=ids.name, dtype=object, copy=False)


_INSTRUMENT_COLUMNS = ("instrument_id", "venue", "symbol", "base", "quote", "kind")


def load_instruments(engine: Engine, *, tenant_id: str, as_of: int | None = None) -> pd.DataFrame:
    """Instrument metadata for a tenant; with ``as_of``, as visible at that market watermark."""
    if as_of is not None:
        order = ("instrument_id",)
        return _read_as_of(engine, "instruments", _INSTRUMENT_COLUMNS, order, tenant_id, as_of)
    query = (
        sa.select(*(instruments.c[name] for name in _INSTRUMENT_COLUMNS))
        .where(instruments.c.tenant_id == tenant_id)
        .order_by(instruments.c.instrument_id)
    )
    return _read(engine, query)


def _read_as_of(
    engine: Engine,
    table: str,
    columns: Sequence[str],
    order: Sequence[str],
    tenant_id: str,
    watermark: int,
    where: Callable[[sa.Table], Any] | None = None,
) -> pd.DataFrame:
    """The rows visible at ``watermark``: the live table alone unless a version visible at it was
    replaced (checked again after the read; see :mod:`.market_history`)."""

    def replaced() -> bool:
        with engine.connect() as connection:
            return history_visible(connection, table, tenant_id, watermark)

    def query(with_history: bool) -> sa.Select[Any]:
        rows = visible_select(
            table, columns, tenant_id, watermark, with_history=with_history, where=where
        )
        if isinstance(rows, sa.Select):
            return rows.order_by(*(rows.selected_columns[name] for name in order))
        union = rows.subquery()
        return sa.select(*(union.c[name] for name in columns)).order_by(
            *(union.c[name] for name in order)
        )

    with engine.connect() as connection:
        check_watermark(connection, tenant_id, watermark)
    if not replaced():
        frame = _read(engine, query(False))
        if not replaced():
            return frame
    return _read(engine, query(True))


ARROW_MIN_ROWS = 200_000
"""Results at least this big are read by the isolated Arrow worker (see ``arrow_reader``); the
worker's start (about a second) outweighs its speed below that."""


def _read(engine: Engine, query: sa.Select[Any]) -> pd.DataFrame:
    path = sqlite_path(engine.url)
    if path is not None and arrow_reader_available() and _count(engine, query) >= ARROW_MIN_ROWS:
        frame = _read_arrow(path, engine, query)
        if frame is not None:
            return frame
    with engine.connect() as connection:
        return pd.read_sql(query, connection)


def _count(engine: Engine, query: sa.Select[Any]) -> int:
    counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    with engine.connect() as connection:
        return int(connection.execute(counted).scalar_one())


def _read_arrow(path: Any, engine: Engine, query: sa.Select[Any]) -> pd.DataFrame | None:
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    try:
        table = read_table_isolated(sqlite_uri(path, read_only=True), str(compiled))
    except Exception as exc:  # the worker died or the driver failed: read rows instead
        _LOG.warning("Arrow reader failed (%s); reading rows", exc)
        return None
    # self_destruct: each Arrow column is released once converted, so the read's peak is not
    # the table plus the whole frame
    return None if table is None else table.to_pandas(self_destruct=True, memory_pool=system_pool())
