"""Dataset identity over an explicit table scope (DESIGN §4).

STRICT: per table, the schema signature of the hashed columns, then every row of the tenant in
primary-key order, streamed in chunks and digested column-wise with type tags
(:mod:`crypto_analyzer.core.cell_encoding`). A table without a primary key has no deterministic row
order, so STRICT refuses it. FAST_DEV: per table, row count plus per-column count/min/max/sum
computed
by the database — a quick fingerprint that is marked as such and can never back a promotion.

The tenant column is filtered on, not hashed: the same rows under two tenants are the same data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.cell_encoding import ColumnDigest
from crypto_analyzer.core.errors import DatasetIdentityError, NotFoundError, ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.identities import DatasetId, DatasetMode
from crypto_analyzer.core.versions import DATASET_ID_VERSION
from crypto_analyzer.db.arrow_reader import arrow_reader_available, digest_columns_isolated
from crypto_analyzer.db.engine import sqlite_path, sqlite_uri

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_SCOPE",
    "DatasetIdentity",
    "TableDigest",
    "TableScope",
    "compute_dataset_id",
    "parse_scope",
]

DEFAULT_CHUNK_ROWS = 50_000
COLUMNAR_MIN_ROWS = 200_000
"""Tables at least this big are read by the isolated Arrow worker: about four times faster per
row than tuples, which repays the worker's start (about a second); smaller ones use tuples."""
_LOG = logging.getLogger(__name__)
_TENANT_COLUMN = "tenant_id"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class TableScope:
    """One table in a dataset scope; ``columns=None`` hashes every column but ``tenant_id``."""

    table: str
    columns: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns) if self.columns else None, "table": self.table}

    def __str__(self) -> str:
        return self.table if not self.columns else f"{self.table}({','.join(self.columns)})"


DEFAULT_SCOPE: tuple[TableScope, ...] = (
    TableScope(
        "bars",
        (
            "instrument_id",
            "freq",
            "bar_open_ms",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "vwap",
            "log_return",
        ),
    ),
    TableScope(
        "instruments",
        ("instrument_id", "venue", "symbol", "base", "quote", "kind", "chain", "pair_address"),
    ),
)
"""What a research run consumes: market content, without provenance stamps (run ids, fetch times),
so that re-ingesting identical data — e.g. after a killed backfill is resumed — keeps its
identity."""


@dataclass(frozen=True, slots=True)
class TableDigest:
    """Digest of one table in scope, with what went into it."""

    table: str
    columns: tuple[str, ...]
    row_count: int
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "digest": self.digest,
            "row_count": self.row_count,
            "table": self.table,
        }


@dataclass(frozen=True, slots=True)
class DatasetIdentity:
    """A computed dataset id with its scope and per-table evidence."""

    dataset_id: DatasetId
    tenant_id: str
    tables: tuple[TableDigest, ...]

    @property
    def mode(self) -> DatasetMode:
        return self.dataset_id.mode

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id.value,
            "dataset_id_short": self.dataset_id.short,
            "mode": self.mode.value,
            "tables": [table.to_dict() for table in self.tables],
            "tenant_id": self.tenant_id,
            "version": DATASET_ID_VERSION,
        }


_SCOPE_ENTRY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?\s*")


def parse_scope(spec: str) -> tuple[TableScope, ...]:
    """Parse ``"bars(instrument_id,close),instruments"`` into table scopes; anything else fails."""
    scopes: list[TableScope] = []
    position, text = 0, spec.strip()
    while text and position <= len(text):
        match = _SCOPE_ENTRY.match(text, position)
        if match is None or match.end() == position:
            raise ValidationError(
                f"scope {spec!r} is malformed near {text[position : position + 20]!r}",
                "use TABLE or TABLE(COL,COL,…), separated by commas",
            )
        table, columns = match.group(1), match.group(2)
        names = tuple(name.strip() for name in columns.split(",")) if columns else None
        if names is not None and not all(_IDENTIFIER.match(name) for name in names):
            raise ValidationError(f"column list for {table!r} is malformed: {columns!r}")
        scopes.append(TableScope(table, names))
        position = match.end()
        if position == len(text):
            break
        if text[position] != ",":
            raise ValidationError(
                f"scope {spec!r} is malformed near {text[position : position + 20]!r}",
                "use TABLE or TABLE(COL,COL,…), separated by commas",
            )
        position += 1
    if not scopes:
        raise ValidationError(f"scope {spec!r} names no table", "e.g. --scope bars,instruments")
    return tuple(scopes)


def compute_dataset_id(
    engine: Engine,
    scope: Sequence[TableScope] = DEFAULT_SCOPE,
    *,
    mode: DatasetMode = DatasetMode.STRICT,
    tenant_id: str = "default",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> DatasetIdentity:
    """Compute the dataset id of ``scope`` for one tenant. Read-only; safe on a read-only engine."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    ordered = sorted(scope, key=lambda entry: entry.table)
    if len({entry.table for entry in ordered}) != len(ordered):
        raise ValidationError("scope names a table twice", "list each table once")
    inspector = sa.inspect(engine)
    digests = []
    for entry in ordered:
        plan = _plan_table(inspector, entry, mode)
        if mode is DatasetMode.STRICT:
            digests.append(_strict_table_digest(engine, plan, tenant_id, chunk_rows))
        else:
            digests.append(_fast_table_digest(engine, plan, tenant_id))
    digest = sha256_json(
        {
            "mode": mode.value,
            "tables": [{"digest": item.digest, "table": item.table} for item in digests],
            "version": DATASET_ID_VERSION,
        }
    )
    return DatasetIdentity(DatasetId(mode, digest), tenant_id, tuple(digests))


@dataclass(frozen=True, slots=True)
class _TablePlan:
    table: str
    columns: tuple[str, ...]
    signature: tuple[dict[str, Any], ...]
    order_by: tuple[str, ...]
    text_keys: frozenset[str]
    has_tenant: bool
    numeric: frozenset[str]
    columnar: bool
    """True when a SQLite STRICT table with only INTEGER/REAL/TEXT/BLOB columns is hashed: every
    column then has a single storage class and the Arrow reader may be used."""


_COLUMNAR_TYPES = frozenset({"INTEGER", "INT", "REAL", "TEXT", "BLOB"})


def _columnar_eligible(inspector: sa.Inspector, table: str, columns: Sequence[str]) -> bool:
    bind = inspector.bind
    if bind.dialect.name != "sqlite":
        return False
    with bind.connect() as connection:
        listing = connection.exec_driver_sql("PRAGMA table_list").mappings().all()
        strict = any(row["name"] == table and row["strict"] for row in listing)
        declared = {
            row["name"]: str(row["type"]).upper()
            for row in connection.exec_driver_sql(f"PRAGMA table_info({table})").mappings()
        }
    return strict and all(declared.get(name) in _COLUMNAR_TYPES for name in columns)


def _plan_table(inspector: sa.Inspector, entry: TableScope, mode: DatasetMode) -> _TablePlan:
    if not inspector.has_table(entry.table):
        raise NotFoundError(
            f"table {entry.table!r} is not in the database",
            "check the scope, or run `crypto-analyzer init` if the schema is missing",
        )
    reflected = {column["name"]: column for column in inspector.get_columns(entry.table)}
    primary_key = list(inspector.get_pk_constraint(entry.table).get("constrained_columns") or [])
    if mode is DatasetMode.STRICT and not primary_key:
        raise DatasetIdentityError(
            f"table {entry.table!r} has no primary key, so its rows have no deterministic order",
            "STRICT identity needs one; add a primary key or use --mode fast-dev",
        )
    available = [name for name in reflected if name != _TENANT_COLUMN]
    columns = entry.columns or tuple(available)
    unknown = [name for name in columns if name not in reflected or name == _TENANT_COLUMN]
    if unknown:
        raise ValidationError(
            f"table {entry.table!r} has no hashable column(s) {', '.join(unknown)}",
            f"available: {', '.join(available)}",
        )
    key_columns = [name for name in primary_key if name != _TENANT_COLUMN]
    missing_keys = [name for name in key_columns if name not in columns]
    if missing_keys:
        raise ValidationError(
            f"scope for {entry.table!r} omits primary-key column(s) {', '.join(missing_keys)}",
            "a dataset id must cover row identity; include them",
        )
    signature = tuple(
        {
            "name": name,
            "nullable": bool(reflected[name]["nullable"]),
            "pk": primary_key.index(name) + 1 if name in primary_key else 0,
            "type": _portable_type(reflected[name]["type"]),
        }
        for name in columns
    )
    return _TablePlan(
        table=entry.table,
        columns=tuple(columns),
        signature=signature,
        order_by=tuple(primary_key),
        text_keys=frozenset(
            n for n in primary_key if _portable_type(reflected[n]["type"]) == "str"
        ),
        has_tenant=_TENANT_COLUMN in reflected,
        numeric=frozenset(
            name for name in columns if _portable_type(reflected[name]["type"]) in ("int", "float")
        ),
        columnar=_columnar_eligible(inspector, entry.table, columns),
    )


def _portable_type(column_type: sa.types.TypeEngine[Any]) -> str:
    """Backend-neutral type name (``int``, ``float``, ``str``…), so SQLite and PostgreSQL agree."""
    try:
        return column_type.python_type.__name__
    except NotImplementedError:
        return str(column_type).lower()


def _quote(engine: Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def _where(engine: Engine, plan: _TablePlan) -> str:
    if not plan.has_tenant:
        return ""
    placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    return f" WHERE {_quote(engine, _TENANT_COLUMN)} = {placeholder}"


def _strict_table_digest(
    engine: Engine, plan: _TablePlan, tenant_id: str, chunk_rows: int
) -> TableDigest:
    collate = ' COLLATE "C"' if engine.dialect.name == "postgresql" else ""
    order = ", ".join(
        _quote(engine, name) + (collate if name in plan.text_keys else "") for name in plan.order_by
    )
    select_list = ", ".join(_quote(engine, name) for name in plan.columns)
    source = f"{_quote(engine, plan.table)}{_where(engine, plan)}"
    sql = f"SELECT {select_list} FROM {source} ORDER BY {order}"
    params = (tenant_id,) if plan.has_tenant else ()
    column_digests: list[ColumnDigest] | None = None
    path = sqlite_path(engine.url) if plan.columnar else None
    if path is not None and _table_rows(engine, source, params) >= COLUMNAR_MIN_ROWS:
        column_digests = _digest_columnar(path, sql, params, len(plan.columns), chunk_rows)
    if column_digests is None:
        column_digests = _digest_rows(engine, sql, params, len(plan.columns), chunk_rows)
    row_count = column_digests[0].count if column_digests else 0
    digest = sha256_json(
        {
            "columns": [column.hexdigest() for column in column_digests],
            "mode": DatasetMode.STRICT.value,
            "row_count": row_count,
            "signature": list(plan.signature),
            "table": plan.table,
            "version": DATASET_ID_VERSION,
        }
    )
    return TableDigest(plan.table, plan.columns, row_count, digest)


def _digest_rows(
    engine: Engine, sql: str, params: tuple[Any, ...], width: int, chunk_rows: int
) -> list[ColumnDigest]:
    """Row-tuple reader (any backend): transpose each chunk, then digest column by column."""
    digests = [ColumnDigest() for _ in range(width)]
    for rows in _stream(engine, sql, params, chunk_rows):
        for index, digest in enumerate(digests):
            digest.update(list(map(itemgetter(index), rows)))
    return digests


def _digest_columnar(
    path: Path, sql: str, params: tuple[Any, ...], width: int, chunk_rows: int
) -> list[Any] | None:
    """Arrow reader for big SQLite STRICT tables, isolated in a worker (see ``arrow_reader``).

    Returns None when the reader is unavailable, refuses the data or fails: the caller then uses
    the row reader, whose digest is identical by construction, so a fallback changes speed only.
    """
    if not arrow_reader_available():
        return None
    try:
        return digest_columns_isolated(
            sqlite_uri(path, read_only=True), sql, params, width, chunk_rows
        )
    except Exception as exc:  # the worker died or the driver failed: the row reader decides
        _LOG.warning("Arrow reader failed (%s); using the row reader", exc)
        return None


def _table_rows(engine: Engine, source: str, params: tuple[Any, ...]) -> int:
    (row,) = [found for chunk in _stream(engine, f"SELECT COUNT(*) FROM {source}", params, 1)
              for found in chunk]  # fmt: skip
    return int(row[0])


def _stream(
    engine: Engine, sql: str, params: tuple[Any, ...], chunk_rows: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield lists of row tuples straight from the DBAPI cursor (server-side on PostgreSQL)."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cursor = raw.driver_connection.cursor(name="crypto_analyzer_dataset_id")
        else:
            cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(chunk_rows):
                yield rows
        finally:
            cursor.close()
    finally:
        raw.rollback()
        raw.close()


def _fast_table_digest(engine: Engine, plan: _TablePlan, tenant_id: str) -> TableDigest:
    aggregates = ["COUNT(*)"]
    for name in plan.columns:
        quoted = _quote(engine, name)
        aggregates += [f"COUNT({quoted})", f"MIN({quoted})", f"MAX({quoted})"]
        if name in plan.numeric:
            aggregates.append(f"SUM({quoted})")
    sql = f"SELECT {', '.join(aggregates)} FROM {_quote(engine, plan.table)}{_where(engine, plan)}"
    params = (tenant_id,) if plan.has_tenant else ()
    (row,) = [found for chunk in _stream(engine, sql, params, 1) for found in chunk]
    fingerprint = ColumnDigest()
    fingerprint.update(list(row))
    digest = sha256_json(
        {
            "aggregates": fingerprint.hexdigest(),
            "mode": DatasetMode.FAST_DEV.value,
            "row_count": int(row[0]),
            "signature": list(plan.signature),
            "table": plan.table,
            "version": DATASET_ID_VERSION,
        }
    )
    return TableDigest(plan.table, plan.columns, int(row[0]), digest)
