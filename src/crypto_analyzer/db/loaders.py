"""Loaders: the only place research inputs are read from the database.

``research/`` never imports ``db/``; the pipeline calls these and hands the frames over. SQLite
is read through ADBC into Arrow (no Python object per cell); other backends, or a batch the Arrow
reader refuses, go through pandas over the SQLAlchemy connection. Both return the same frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import NotFoundError, ValidationError
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


def _read(engine: Engine, query: sa.Select[Any]) -> pd.DataFrame:
    path = sqlite_path(engine.url)
    if path is not None:
        frame = _read_arrow(path, engine, query)
        if frame is not None:
            return frame
    with engine.connect() as connection:
        return pd.read_sql(query, connection)


def _read_arrow(path: Any, engine: Engine, query: sa.Select[Any]) -> pd.DataFrame | None:
    try:
        from adbc_driver_sqlite import dbapi as adbc
    except ImportError:
        return None
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    try:
        with adbc.connect(sqlite_uri(path, read_only=True)) as connection:
            cursor = connection.cursor()
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            cursor.execute(str(compiled))
            table = cursor.fetch_arrow_table()
            cursor.close()
    except OSError:  # the Arrow reader refused a type change between batches
        return None
    return table.to_pandas()
