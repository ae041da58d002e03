"""One transaction that holds a named write lock from its first statement to its commit.

Append-only hash chains (governance events, the trial ledger) must serialise their appends: two
writers that both read head N would both write N + 1 and fork the chain. Taking the lock *before*
the head is read makes read-and-append atomic. On SQLite the lock is the database write lock
(``BEGIN IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock on the key, which the
chain's insert trigger takes too, so even a writer that bypasses this module queues behind it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = ["locked_transaction"]


@contextmanager
def locked_transaction(engine: Engine, lock_key: str) -> Iterator[Connection]:
    """Commit when the block ends normally; roll everything back when it raises."""
    with engine.connect() as connection:
        try:
            if engine.dialect.name == "sqlite":
                # pysqlite only BEGINs before DML; an explicit IMMEDIATE begin takes the write lock
                # before anything is read.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": lock_key},
                )
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
