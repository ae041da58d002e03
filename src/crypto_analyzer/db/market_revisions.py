"""Market revisions on the write side: one numbered, locked revision per market-data transaction.

Why it exists (invariant 11). A restatement must not destroy the values it replaces, and the data
visible at any recorded watermark must be reproducible. Each write transaction of ``bars`` or
``instruments`` therefore

1. takes the tenant's market-revision lock (SQLite: ``BEGIN IMMEDIATE``, the database write lock;
   PostgreSQL: a per-tenant advisory transaction lock, the same one revision 0004's
   ``market_revisions`` insert trigger takes),
2. computes ``R`` = the tenant's latest revision + 1 and stamps every row it writes with it (the
   database refuses an UPDATE of a live row that carries anything else, and copies the replaced
   version into history),
3. and, only if the batch changed at least one row, records ``market_revisions`` row ``R`` in the
   same transaction.

An identical re-import changes no row, so it records nothing: the watermark, the history and the
dataset id stay as they were. The SQLite bulk path drives a raw ``sqlite3`` connection and uses the
``*_sql`` texts directly; the plain path uses :func:`market_transaction`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.clock import now, to_iso

__all__ = [
    "REVISION_LOCK_PREFIX",
    "MarketTransaction",
    "RevisionStamp",
    "market_transaction",
    "next_revision_sql",
    "record_revision_sql",
]

REVISION_LOCK_PREFIX = "crypto_analyzer.market_revisions:"
"""Advisory-lock key prefix on PostgreSQL; revision 0004's insert trigger uses the same text."""


def next_revision_sql(paramstyle: str) -> str:
    """The tenant's next revision (latest + 1, starting at 1); one parameter: the tenant."""
    mark = "?" if paramstyle == "qmark" else "%s"
    return f"SELECT COALESCE(MAX(revision), 0) + 1 FROM market_revisions WHERE tenant_id = {mark}"


def record_revision_sql(paramstyle: str) -> str:
    """Insert a ``market_revisions`` row: (tenant, revision, ingest run, created at)."""
    mark = "?" if paramstyle == "qmark" else "%s"
    return (
        "INSERT INTO market_revisions (tenant_id, revision, ingest_run_id, created_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})"
    )


@dataclass(frozen=True, slots=True)
class RevisionStamp:
    """Who writes: the tenant whose revisions are numbered and the ingest run recorded with them.

    Handed to the SQLite bulk path, which runs its own ``BEGIN IMMEDIATE`` transactions on a raw
    connection and calls :meth:`begin` / :meth:`finish` inside each.
    """

    tenant_id: str
    ingest_run_id: str

    def begin(self, raw: sqlite3.Connection) -> tuple[int, int]:
        """Inside the write transaction: ``(next revision, total changes so far)``."""
        (revision,) = raw.execute(next_revision_sql("qmark"), (self.tenant_id,)).fetchone()
        return int(revision), raw.total_changes

    def finish(self, raw: sqlite3.Connection, revision: int, changes_before: int) -> bool:
        """Record ``revision`` if the transaction changed a row; returns whether it did."""
        if raw.total_changes == changes_before:
            return False
        raw.execute(
            record_revision_sql("qmark"),
            (self.tenant_id, revision, self.ingest_run_id, to_iso(now())),
        )
        return True


@dataclass(slots=True)
class MarketTransaction:
    """One open market-data write transaction: stamp rows with :attr:`revision`, run them with
    :meth:`execute`; the revision is recorded on commit only if a row changed."""

    connection: Connection
    revision: int
    _changes_before: int | None = None
    _changed_rows: int = field(default=0)

    def execute(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """``executemany`` of driver-level SQL, counting the rows it changed."""
        result = self.connection.exec_driver_sql(sql, list(rows))
        if self._changes_before is None:  # PostgreSQL: psycopg sums rowcount over the batch
            self._changed_rows += result.rowcount if result.rowcount >= 0 else len(rows)

    @property
    def changed(self) -> bool:
        if self._changes_before is not None:
            return _raw(self.connection).total_changes > self._changes_before
        return self._changed_rows > 0


@contextmanager
def market_transaction(engine: Engine, stamp: RevisionStamp) -> Iterator[MarketTransaction]:
    """A write transaction holding the tenant's market-revision lock from its first statement.

    Commits when the block ends normally, after recording the revision if a row changed; rolls
    everything back when it raises.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        try:
            if sqlite:
                # pysqlite only BEGINs before DML; an explicit IMMEDIATE begin takes the write lock
                # before the latest revision is read.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": REVISION_LOCK_PREFIX + stamp.tenant_id},
                )
            paramstyle = engine.dialect.paramstyle
            revision = int(
                connection.exec_driver_sql(
                    next_revision_sql(paramstyle), (stamp.tenant_id,)
                ).scalar_one()
            )
            transaction = MarketTransaction(
                connection, revision, _raw(connection).total_changes if sqlite else None
            )
            yield transaction
            if transaction.changed:
                connection.exec_driver_sql(
                    record_revision_sql(paramstyle),
                    (stamp.tenant_id, revision, stamp.ingest_run_id, to_iso(now())),
                )
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def _raw(connection: Connection) -> Any:
    return connection.connection.dbapi_connection
