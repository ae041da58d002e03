"""Loaders: the only place research inputs are read from the database.

``research/`` never imports ``db/``; the pipeline calls these and hands the frames over. Big
SQLite reads go through ADBC into Arrow (no Python object per cell) in an isolated worker (see
``arrow_reader`` for why it must not run in this process); smaller reads, other backends, or a
batch the Arrow reader refuses go through pandas over the SQLAlchemy connection. Both return the
same frame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.db.arrow_reader import arrow_reader_available, read_table_isolated
from crypto_analyzer.db.engine import sqlite_path, sqlite_uri
from crypto_analyzer.db.schema import bars, instruments

__all__ = ["BAR_FRAME_COLUMNS", "load_bars", "load_instruments"]

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
) -> pd.DataFrame:
    """Bars of one frequency as a long frame sorted by (instrument_id, bar_open_ms)."""
    query = (
        sa.select(*(bars.c[name] for name in BAR_FRAME_COLUMNS))
        .where(bars.c.tenant_id == tenant_id, bars.c.freq == freq)
        .order_by(bars.c.instrument_id, bars.c.bar_open_ms)
    )
    if instrument_ids is not None:
        if not instrument_ids:
            raise ValidationError("instrument_ids is empty", "pass None for all instruments")
        query = query.where(bars.c.instrument_id.in_(list(instrument_ids)))
    if start_ms is not None:
        query = query.where(bars.c.bar_open_ms >= start_ms)
    if end_ms is not None:
        query = query.where(bars.c.bar_open_ms < end_ms)
    frame = _read(engine, query)
    if frame.empty:
        raise NotFoundError(
            f"no {freq} bars for tenant {tenant_id!r} in the requested range",
            "ingest data first (e.g. `crypto-analyzer ingest synthetic`) or check --freq",
        )
    frame["bar_open_ms"] = frame["bar_open_ms"].astype("int64")
    for name in _FLOAT_COLUMNS:
        frame[name] = frame[name].astype("float64")
    frame["instrument_id"] = frame["instrument_id"].astype(object)
    return frame.reset_index(drop=True)


def load_instruments(engine: Engine, *, tenant_id: str) -> pd.DataFrame:
    """Instrument metadata for a tenant."""
    query = (
        sa.select(
            instruments.c.instrument_id,
            instruments.c.venue,
            instruments.c.symbol,
            instruments.c.base,
            instruments.c.quote,
            instruments.c.kind,
        )
        .where(instruments.c.tenant_id == tenant_id)
        .order_by(instruments.c.instrument_id)
    )
    return _read(engine, query)


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
    return None if table is None else table.to_pandas()
