"""Dataset identity over an explicit table scope (DESIGN §4).

STRICT: per table, the schema signature of the hashed columns, then every row of the tenant in
primary-key order, streamed in chunks and digested column-wise with type tags
(:mod:`crypto_analyzer.core.cell_encoding`). A table without a primary key has no deterministic row
order, so STRICT refuses it. FAST_DEV: per table, row count plus per-column count/min/max/sum
computed
by the database — a quick fingerprint that is marked as such and can never back a promotion.

The tenant column is filtered on, not hashed: the same rows under two tenants are the same data.

Point in time (invariant 11): ``bars`` and ``instruments`` are versioned, so an identity belongs to
a watermark. Without ``as_of`` the tenant's current watermark ``W`` is read first and every
versioned table is hashed as of ``W`` (:mod:`.market_history`), so the id and its watermark always
belong together even if an ingest commits meanwhile; with ``as_of`` an earlier watermark is
reproduced. The rows as of ``W`` are hashed exactly as the live rows would be, so with no
restatement the id is the one a plain read of the table gives. The ``revision`` stamp is, like the
ingest run id, provenance: it is hashed only when a scope names it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.cell_encoding import ColumnDigest
from crypto_analyzer.core.errors import DatasetIdentityError, NotFoundError, ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.identities import DatasetId, DatasetMode
from crypto_analyzer.core.versions import DATASET_ID_VERSION
from crypto_analyzer.db.arrow_reader import arrow_reader_available, digest_columns_isolated
from crypto_analyzer.db.dataset_scope import DEFAULT_SCOPE, TableScope, parse_scope
from crypto_analyzer.db.engine import sqlite_path, sqlite_uri
from crypto_analyzer.db.market_history import (
    VERSIONED_TABLES,
    check_watermark,
    current_watermark,
    history_visible,
)
from crypto_analyzer.db.tenant_session import set_driver_tenant

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
_REVISION_COLUMN = "revision"


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
    watermark: int | None = None
    """The market watermark the versioned tables were hashed at (None: no versioned table)."""

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
            "watermark": self.watermark,
        }


def compute_dataset_id(
    engine: Engine,
    scope: Sequence[TableScope] = DEFAULT_SCOPE,
    *,
    mode: DatasetMode = DatasetMode.STRICT,
    tenant_id: str = "default",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    as_of: int | None = None,
) -> DatasetIdentity:
    """Compute the dataset id of ``scope`` for one tenant. Read-only; safe on a read-only engine.

    ``as_of`` reproduces the id at an earlier market watermark; it needs a scope of versioned
    tables only (``bars``, ``instruments``). Without it, the versioned tables are hashed as of the
    current watermark, which the identity records.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    ordered = sorted(scope, key=lambda entry: entry.table)
    if len({entry.table for entry in ordered}) != len(ordered):
        raise ValidationError("scope names a table twice", "list each table once")
    unversioned = [entry.table for entry in ordered if entry.table not in VERSIONED_TABLES]
    if as_of is not None and unversioned:
        raise ValidationError(
            f"--as-of needs versioned tables, but {', '.join(unversioned)} keep no history",
            f"restrict the scope to {', '.join(VERSIONED_TABLES)}",
        )
    watermark = None
    if len(unversioned) < len(ordered):  # read W before any table: the id belongs to W
        with engine.connect() as connection:
            if as_of is None:
                watermark = current_watermark(connection, tenant_id)
            else:
                watermark = check_watermark(connection, tenant_id, as_of)
    inspector = sa.inspect(engine)
    digests = []
    for entry in ordered:
        plan = _plan_table(inspector, entry, mode)
        if mode is DatasetMode.STRICT:
            read = partial(_strict_table_digest, engine, plan, chunk_rows=chunk_rows)
        else:
            read = partial(_fast_table_digest, engine, plan)
        digests.append(_as_of(engine, plan, tenant_id, watermark, read))
    digest = sha256_json(
        {
            "mode": mode.value,
            "tables": [{"digest": item.digest, "table": item.table} for item in digests],
            "version": DATASET_ID_VERSION,
        }
    )
    return DatasetIdentity(DatasetId(mode, digest), tenant_id, tuple(digests), watermark)


@dataclass(frozen=True, slots=True)
class _TablePlan:
    table: str
    columns: tuple[str, ...]
    signature: tuple[dict[str, Any], ...]
    order_by: tuple[str, ...]
    text_keys: frozenset[str]
    has_tenant: bool
    versioned: bool
    numeric: frozenset[str]
    columnar: bool
    """True when a SQLite STRICT table with only INTEGER/REAL/TEXT/BLOB columns is hashed: every
    column then has a single storage class and the Arrow reader may be used."""


_COLUMNAR_TYPES = frozenset({"INTEGER", "INT", "REAL", "TEXT", "BLOB"})


def _columnar_eligible(inspector: sa.Inspector, table: str, columns: Sequence[str]) -> bool:
    bind = cast(Engine, inspector.bind)  # the inspector is always made from the engine
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
    versioned = entry.table in VERSIONED_TABLES and _REVISION_COLUMN in reflected
    implicit = [n for n in available if not (versioned and n == _REVISION_COLUMN)]
    columns = entry.columns or tuple(implicit)
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
        versioned=versioned,
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


def _mark(engine: Engine) -> str:
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


@dataclass(frozen=True, slots=True)
class _Source:
    """What a table digest reads: the text after ``FROM``, its parameters, the key order."""

    sql: str
    params: tuple[Any, ...]
    order: str
    size: tuple[str, tuple[Any, ...]]
    """What to count to choose the reader: the tenant's live rows (close to the rows as of any
    recent watermark; the choice changes speed only, never the digest)."""


def _source(
    engine: Engine, plan: _TablePlan, tenant_id: str, watermark: int | None, history: bool
) -> _Source:
    """The tenant's rows of ``plan.table``: all of them (``watermark`` None), the live rows
    written up to ``watermark`` (one key-ordered scan), or those plus the replaced versions
    visible at it (``history``: a ``UNION ALL`` sorted by the key)."""
    collate = ' COLLATE "C"' if engine.dialect.name == "postgresql" else ""
    quoted = partial(_quote, engine)

    def order(names: Sequence[str]) -> str:
        return ", ".join(quoted(n) + (collate if n in plan.text_keys else "") for n in names)

    mark, table = _mark(engine), quoted(plan.table)
    tenant = f"{quoted(_TENANT_COLUMN)} = {mark}"
    where = f" WHERE {tenant}" if plan.has_tenant else ""
    params = (tenant_id,) if plan.has_tenant else ()
    size = (f"{table}{where}", params)
    if watermark is None or not plan.versioned:
        return _Source(f"{table}{where}", params, order(plan.order_by), size)
    live = f"{tenant} AND {quoted(_REVISION_COLUMN)} <= {mark}"
    if not history:
        return _Source(f"{table} WHERE {live}", (tenant_id, watermark), order(plan.order_by), size)
    select_list = ", ".join(quoted(name) for name in plan.columns)
    replaced = f"{live} AND {quoted('superseded_revision')} > {mark}"
    union = (
        f"(SELECT {select_list} FROM {table} WHERE {live} UNION ALL "
        f"SELECT {select_list} FROM {quoted(plan.table + '_history')} WHERE {replaced}) AS v"
    )
    keys = [name for name in plan.order_by if name != _TENANT_COLUMN]  # one tenant: no order
    union_params = (tenant_id, watermark, tenant_id, watermark, watermark)
    return _Source(union, union_params, order(keys), size)


def _as_of(
    engine: Engine,
    plan: _TablePlan,
    tenant_id: str,
    watermark: int | None,
    read: Callable[[_Source], TableDigest],
) -> TableDigest:
    """Digest of the rows visible at ``watermark``, by the fast path when no version visible at
    it was replaced. The history is checked again after a fast read: it is append-only, so if it
    is still empty, nothing the read should have seen had been replaced when it ran."""
    if watermark is None or not plan.versioned:
        return read(_source(engine, plan, tenant_id, None, False))

    def replaced() -> bool:
        with engine.connect() as connection:
            return history_visible(connection, plan.table, tenant_id, watermark)

    if not replaced():
        digest = read(_source(engine, plan, tenant_id, watermark, False))
        if not replaced():
            return digest
    return read(_source(engine, plan, tenant_id, watermark, True))


def _strict_table_digest(
    engine: Engine, plan: _TablePlan, source: _Source, *, chunk_rows: int
) -> TableDigest:
    select_list = ", ".join(_quote(engine, name) for name in plan.columns)
    sql = f"SELECT {select_list} FROM {source.sql} ORDER BY {source.order}"
    params = source.params
    column_digests: list[ColumnDigest] | None = None
    path = sqlite_path(engine.url) if plan.columnar else None
    if path is not None and _table_rows(engine, *source.size) >= COLUMNAR_MIN_ROWS:
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
            driver = raw.driver_connection
            assert driver is not None  # a live pool connection always wraps a driver connection
            set_driver_tenant(engine, driver)  # row-level security: read as the engine's tenant
            cursor = driver.cursor(name="crypto_analyzer_dataset_id")
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


def _fast_table_digest(engine: Engine, plan: _TablePlan, source: _Source) -> TableDigest:
    aggregates = ["COUNT(*)"]
    for name in plan.columns:
        quoted = _quote(engine, name)
        aggregates += [f"COUNT({quoted})", f"MIN({quoted})", f"MAX({quoted})"]
        if name in plan.numeric:
            aggregates.append(f"SUM({quoted})")
    sql = f"SELECT {', '.join(aggregates)} FROM {source.sql}"
    (row,) = [found for chunk in _stream(engine, sql, source.params, 1) for found in chunk]
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
