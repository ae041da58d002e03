"""Bulk upsert for SQLite: the fast path behind ``ProvenanceWriter`` for large writes.

Why it exists. A per-row ``executemany`` of the upsert pays, for every row, Python binding of every
column, one statement step, the table's CHECK expressions and two foreign-key probes — about
40 k rows/s, too slow for backfills of millions of bars. The costs that matter, measured on 1 M
bars: the foreign-key probes (a B-tree lookup per row and key), the CHECKs on stamp columns
(``source IN (…)``, ``status IN (…)``: SQLite evaluates each ``IN`` list per row, ~1.5 s) and one
statement step per row. This module removes them without weakening any guarantee. Per batch,
inside ``BEGIN IMMEDIATE``:

1. one preflight query evaluates the CHECKs that read only stamps (tenant, run, provider, fetch
   time, status, source and any column holding one value in every row, all inlined as SQL
   literals) once, and the foreign keys over the batch's *distinct* key values;
2. the rows go straight into the table, 200 per ``INSERT … SELECT … FROM (VALUES …) … ON CONFLICT
   DO UPDATE … WHERE <changed>``, with ``foreign_keys`` off and ``ignore_check_constraints`` on for
   this connection only. The per-row CHECKs still run, as the schema's own SQL text evaluated on
   each row as written: a row that fails one gets NULL in a NOT NULL column, so SQLite aborts the
   statement;
3. on any integrity error the batch is rolled back and replayed through the plain, fully checked
   upsert, so the database raises its own error and nothing of the batch is kept. (If the replay
   succeeds, the preflight was merely conservative and the checked replay's write stands.)

For a point-in-time table (``bars``), each batch first reads the tenant's next market revision —
the write lock makes it this batch's — and inlines it as the ``revision`` literal (the cached
statements are rebuilt when it changes, once per 200 k-row batch); after the writes it records the
revision if SQLite's change counter moved (:mod:`.market_revisions`). A checked replay does the
same in its own transaction.

The write lock is held from the preflight to the commit, so nothing can invalidate it in between;
NOT NULL and STRICT type checks run inside SQLite as always. Skipping CHECKs on the conflict
(update) path is equivalent too: a CHECK may read only inserted columns (which the upsert compares
and replaces, or key columns, equal by definition) or only columns absent from the write (left as
they were). :meth:`SqliteBulk.plan` returns None (the caller then uses the plain upsert) for a
table and frame where some CHECK mixes the two, and for a frame that would bind text to a numeric
column (text compares above every number, but SQLite stores and checks it as a number).

Where the time goes (1 M bars, 200 k-row batches, 2-core VM): SQLite's B-tree work ~1 s, binding
~0.8 s, creating the Python numbers ~0.6 s, commit ~0.75 s. Parameters are bound column-major
(``?1, ?201, ?401, …`` for the first row of a block), so each block's list comes from a few
``tolist`` calls on NumPy slices, generated lazily: the numbers are created right before SQLite
binds them and freed right after, while still in the CPU cache (building them all up front cost
twice as much). WAL checkpoints run on a second connection in a thread while the next batch is
written (SQLite releases the GIL); the write waits for the last one before returning. The
connection's pragmas are restored before it returns to the pool.

This module runs the batches; the SQL they run and the eligibility rules are in
:mod:`.sqlite_bulk_sql`, the parameter blocks in :mod:`.frame_cells` and the background
checkpoints in :mod:`.sqlite_checkpoint`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.db.frame_cells import ColumnMatrix, column_lists, constant_columns
from crypto_analyzer.db.market_revisions import RevisionStamp
from crypto_analyzer.db.sqlite_bulk_sql import (
    eligible,
    keyed,
    orphan_probe,
    projection,
    row_checks,
    sentinel_column,
    sql_literal,
    static_probe,
    text_in_numeric,
)
from crypto_analyzer.db.sqlite_checkpoint import Checkpointer

__all__ = ["REVISION_COLUMN", "SqliteBulk", "column_lists"]  # column_lists: from frame_cells

REVISION_COLUMN = "revision"
"""The market-revision stamp of versioned tables (set per batch when a ``stamp`` is given)."""

BLOCK_ROWS = 200
"""Rows per INSERT (200 × columns stays far below SQLite's 32,766 parameters)."""

_PROBE_ROWS = 400
"""Distinct foreign-key tuples per preflight statement (well below the 999-parameter floor)."""

_TUNED = {
    "cache_size": -131_072,
    "wal_autocheckpoint": 0,
    "foreign_keys": 0,
    "ignore_check_constraints": 1,
}
"""For the write only, restored afterwards: a batch fits in a 128 MiB cache (no spill before
commit), the WAL is checkpointed about every 64 MiB, and the per-row constraint work is replaced by
the preflight and the in-statement CHECKs. Set outside any transaction (``foreign_keys`` is a no-op
inside one)."""


class SqliteBulk:
    """A bulk upsert of one frame into one table, ready to run (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        table: sa.Table,
        frame: pd.DataFrame,
        constants: Mapping[str, Any],
        conflict: str,
        stamp: RevisionStamp | None = None,
    ) -> None:
        self._engine = engine
        self._stamp = stamp
        self._constants = dict(constants)
        self._table = table
        self._frame = frame
        self._matrix = ColumnMatrix(frame, [name for name in frame if name not in constants])
        self._varying = self._matrix.columns  # grouped by kind: the order parameters bind in
        self._literals = {name: sql_literal(value) for name, value in constants.items()}
        columns = (*self._varying, *constants)
        self._replay = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}){conflict}"
        )
        self._tail = tuple(constants.values())
        self._conflict = conflict
        self._statements: dict[int, str] = {}
        self._preflight = static_probe(table, self._varying, self._literals)
        self._orphans = [
            orphan_probe(fk, self._varying, self._literals)
            for fk in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
            if keyed(fk, self._varying, self._literals)
            and any(e.parent.name in self._varying for e in fk.elements)
        ]

    @classmethod
    def plan(
        cls,
        engine: Engine,
        table: sa.Table,
        frame: pd.DataFrame,
        varying: Sequence[str],
        constants: Mapping[str, Any],
        conflict: str,
        stamp: RevisionStamp | None = None,
    ) -> SqliteBulk | None:
        """The bulk upsert of ``frame``, or None when it is not eligible (use the plain one).

        ``varying`` columns come from ``frame``; ``constants`` are the stamps, one value for every
        row; ``conflict`` is the upsert's ``ON CONFLICT …`` clause for these columns. With a
        ``stamp`` (versioned tables), the ``revision`` constant is a placeholder: each batch takes
        the tenant's next market revision inside its transaction, stamps it on every row and
        records it if the batch changed a row (:mod:`.market_revisions`).
        """
        repeated = constant_columns(frame, varying)
        constants = {**constants, **repeated}
        varying = [name for name in varying if name not in repeated]
        if not eligible(table, {*varying, *constants}):
            return None
        if text_in_numeric(engine, table, frame, varying):
            return None
        if row_checks(table, varying) and not sentinel_column(table, [*varying, *constants]):
            return None
        return cls(engine, table, frame[varying], constants, conflict, stamp)

    def write(self, batch_rows: int) -> int:
        """Upsert every row, one transaction per ``batch_rows``; returns the count."""
        total = len(self._frame)
        with self._engine.connect() as connection:
            # SQLite only (see eligible()); an open connection always holds its DBAPI connection.
            raw = cast(sqlite3.Connection, connection.connection.dbapi_connection)
            saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in _TUNED}
            try:
                _set_pragmas(raw, _TUNED)
                with Checkpointer(raw) as checkpointer:
                    for start in range(0, total, batch_rows):
                        self._batch(connection, raw, start, min(start + batch_rows, total))
                        checkpointer.request()
            finally:
                if raw.in_transaction:
                    raw.rollback()
                _set_pragmas(raw, saved)
        return total

    def _batch(self, connection: Any, raw: sqlite3.Connection, start: int, stop: int) -> None:
        whole = start + (stop - start) // BLOCK_ROWS * BLOCK_ROWS
        orphans = self._orphan_queries(self._frame.iloc[start:stop])
        raw.execute("BEGIN IMMEDIATE")
        revision = changes = 0
        try:
            if self._stamp is not None:  # under the write lock: nobody can take R meanwhile
                revision, changes = self._stamp.begin(raw)
                self._use_revision(revision)
            clean = not raw.execute(self._preflight).fetchone()[0] and not any(
                raw.execute(sql, params).fetchone()[0] for sql, params in orphans
            )
            if clean:
                blocks = self._matrix.blocks(start, whole, BLOCK_ROWS)
                raw.executemany(self._statement(BLOCK_ROWS), blocks)
                if whole < stop:
                    rest = next(self._matrix.blocks(whole, stop))
                    raw.execute(self._statement(stop - whole), rest)
        except sqlite3.IntegrityError:
            clean = False  # a per-row CHECK (or NOT NULL / STRICT) refused a row
        if clean:
            if self._stamp is not None:
                self._stamp.finish(raw, revision, changes)
            raw.commit()
            return
        raw.rollback()
        self._replay_checked(connection, raw, self._frame.iloc[start:stop])

    def _replay_checked(self, connection: Any, raw: sqlite3.Connection, part: pd.DataFrame) -> None:
        """Replay the batch with every constraint on: the database raises its own error."""
        _set_pragmas(raw, {"foreign_keys": 1, "ignore_check_constraints": 0})
        cells = list(zip(*column_lists(part, self._varying), strict=True))
        with connection.begin():
            revision = changes = 0
            if self._stamp is not None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite would BEGIN DEFERRED
                revision, changes = self._stamp.begin(raw)
                self._use_revision(revision)
            connection.exec_driver_sql(self._replay, [row + self._tail for row in cells])
            if self._stamp is not None:
                self._stamp.finish(raw, revision, changes)
        _set_pragmas(raw, _TUNED)  # the checked replay was accepted: a conservative preflight

    def _use_revision(self, revision: int) -> None:
        """Stamp ``revision`` from now on: a new literal, so the cached statements are rebuilt
        (once per batch that took a new revision; a batch is 200 k rows by default)."""
        if self._constants.get(REVISION_COLUMN) == revision:
            return
        self._constants[REVISION_COLUMN] = revision
        self._literals[REVISION_COLUMN] = sql_literal(revision)
        self._tail = tuple(self._constants.values())
        self._statements.clear()

    def _statement(self, rows: int) -> str:
        """``INSERT … SELECT … FROM (VALUES …)`` for ``rows`` rows, parameters column-major."""
        cached = self._statements.get(rows)
        if cached is not None:
            return cached
        width = len(self._varying)
        values = ", ".join(
            "(" + ", ".join(f"?{column * rows + row + 1}" for column in range(width)) + ")"
            for row in range(rows)
        )
        columns = [*self._varying, *self._literals]
        sentinel = sentinel_column(self._table, columns)
        failed = row_checks(self._table, self._varying)
        projected = [
            f"CASE WHEN {failed} THEN NULL ELSE {self._cell(name)} END"
            if failed and name == sentinel
            else self._cell(name)
            for name in columns
        ]
        stored = projection(self._table, self._varying, self._literals)
        sql = (
            f"INSERT INTO {self._table.name} ({', '.join(columns)}) "
            f"SELECT {', '.join(projected)} FROM (SELECT {stored} FROM (VALUES {values})) AS v "
            f"WHERE true{self._conflict}"
        )
        self._statements[rows] = sql
        return sql

    def _cell(self, name: str) -> str:
        return name if name in self._varying else self._literals[name]

    def _orphan_queries(self, part: pd.DataFrame) -> list[tuple[str, list[Any]]]:
        """Foreign-key probes over the batch's distinct, non-NULL staged key tuples."""
        queries = []
        for staged, template in self._orphans:
            keys = part[staged].dropna().drop_duplicates()
            lists = column_lists(keys, staged)
            tuples = list(zip(*lists, strict=True))
            for first in range(0, len(tuples), _PROBE_ROWS):
                chunk = tuples[first : first + _PROBE_ROWS]
                rows = ", ".join(["(" + ", ".join("?" * len(staged)) + ")"] * len(chunk))
                queries.append((template.replace("{rows}", rows), [v for t in chunk for v in t]))
        return queries


def _set_pragmas(raw: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        raw.execute(f"PRAGMA {name}={int(value)}")
