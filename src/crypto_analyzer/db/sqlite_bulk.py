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
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["SqliteBulk", "column_lists"]

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
    ) -> None:
        self._engine = engine
        self._table = table
        self._frame = frame
        self._matrix = _ColumnMatrix(frame, [name for name in frame if name not in constants])
        self._varying = self._matrix.columns  # grouped by kind: the order parameters bind in
        self._literals = {name: _sql_literal(value) for name, value in constants.items()}
        columns = (*self._varying, *constants)
        self._replay = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}){conflict}"
        )
        self._tail = tuple(constants.values())
        self._conflict = conflict
        self._statements: dict[int, str] = {}
        self._preflight = _static_probe(table, self._varying, self._literals)
        self._orphans = [
            _orphan_probe(fk, self._varying, self._literals)
            for fk in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
            if _keyed(fk, self._varying, self._literals)
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
    ) -> SqliteBulk | None:
        """The bulk upsert of ``frame``, or None when it is not eligible (use the plain one).

        ``varying`` columns come from ``frame``; ``constants`` are the stamps, one value for every
        row; ``conflict`` is the upsert's ``ON CONFLICT …`` clause for these columns.
        """
        repeated = _constant_columns(frame, varying)
        constants = {**constants, **repeated}
        varying = [name for name in varying if name not in repeated]
        if not _eligible(table, {*varying, *constants}):
            return None
        if _text_in_numeric(engine, table, frame, varying):
            return None
        if _row_checks(table, varying) and not _sentinel_column(table, [*varying, *constants]):
            return None
        return cls(engine, table, frame[varying], constants, conflict)

    def write(self, batch_rows: int) -> int:
        """Upsert every row, one transaction per ``batch_rows``; returns the count."""
        total = len(self._frame)
        with self._engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in _TUNED}
            try:
                _set_pragmas(raw, _TUNED)
                with _Checkpointer(raw) as checkpointer:
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
        try:
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
            raw.commit()
            return
        raw.rollback()
        self._replay_checked(connection, raw, self._frame.iloc[start:stop])

    def _replay_checked(self, connection: Any, raw: sqlite3.Connection, part: pd.DataFrame) -> None:
        """Replay the batch with every constraint on: the database raises its own error."""
        _set_pragmas(raw, {"foreign_keys": 1, "ignore_check_constraints": 0})
        rows = [row + self._tail for row in zip(*column_lists(part, self._varying), strict=True)]
        with connection.begin():
            connection.exec_driver_sql(self._replay, rows)
        _set_pragmas(raw, _TUNED)  # the checked replay was accepted: a conservative preflight

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
        sentinel = _sentinel_column(self._table, columns)
        failed = _row_checks(self._table, self._varying)
        projected = [
            f"CASE WHEN {failed} THEN NULL ELSE {self._cell(name)} END"
            if failed and name == sentinel
            else self._cell(name)
            for name in columns
        ]
        stored = _projection(self._table, self._varying, self._literals)
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


class _Checkpointer:
    """WAL checkpoints on a second connection, in a thread, while the next batch is written.

    SQLite releases the GIL while it copies WAL frames into the database file and syncs it, so
    the copy of batch *n* overlaps the writing of batch *n + 1* instead of stalling its commit.
    Leaving the context waits for a final checkpoint: the write returns with its WAL copied, as a
    commit with automatic checkpoints would have left it (the work stays inside the call).
    """

    def __init__(self, raw: sqlite3.Connection) -> None:
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
        path = raw.execute("PRAGMA database_list").fetchone()[2]
        self._path = path if mode == "wal" and path else None
        self._wanted = threading.Condition()
        self._pending = False
        self._done = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def __enter__(self) -> _Checkpointer:
        if self._path is not None:
            self._thread.start()
        return self

    def request(self) -> None:
        with self._wanted:
            self._pending = True
            self._wanted.notify()

    def __exit__(self, *exc: object) -> None:
        if self._path is None:
            return
        with self._wanted:
            self._done = True
            self._wanted.notify()
        self._thread.join()

    def _run(self) -> None:
        # Errors are dropped on purpose: the data is committed either way, and a checkpoint that
        # cannot run now runs at the next commit or close.
        with (
            contextlib.suppress(sqlite3.Error),
            contextlib.closing(
                sqlite3.connect(self._path, timeout=0, isolation_level=None)
            ) as connection,
        ):
            while True:
                with self._wanted:
                    while not (self._pending or self._done):
                        self._wanted.wait()
                    last, self._pending = self._done, False
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if last:
                    return


class _ColumnMatrix:
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


def _set_pragmas(raw: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        raw.execute(f"PRAGMA {name}={int(value)}")


def _check_texts(table: sa.Table) -> list[tuple[str, set[str]]]:
    """Each CHECK's SQL text with the table columns it reads."""
    names = [column.name for column in table.columns]
    found = []
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            text = str(constraint.sqltext)
            found.append((text, {name for name in names if re.search(rf"\b{name}\b", text)}))
    return found


def _eligible(table: sa.Table, inserted: set[str]) -> bool:
    """Every CHECK reads only inserted columns or only absent ones; no absent column of a CHECK
    or foreign key takes a server default (the checks read absent columns as NULL)."""
    for _, reads in _check_texts(table):
        absent = reads - inserted
        if absent and (absent != reads or any(table.c[n].server_default for n in absent)):
            return False
    for constraint in table.foreign_key_constraints:
        for element in constraint.elements:
            column = element.parent
            if column.name not in inserted and column.server_default is not None:
                return False
    return True


def _row_checks(table: sa.Table, varying: Sequence[str]) -> str:
    """``NOT (a) OR NOT (b) …`` over the CHECKs that read a per-row column (NULL passes, as in
    a CHECK)."""
    return " OR ".join(
        f"NOT ({text})" for text, reads in _check_texts(table) if reads & set(varying)
    )


def _projection(table: sa.Table, varying: Sequence[str], literals: Mapping[str, str]) -> str:
    """Every table column as the write stores it: ``VALUES`` column *i* for the *i*-th varying
    column, stamps as literals, absent columns NULL."""
    position = {name: index + 1 for index, name in enumerate(varying)}
    return ", ".join(
        f"{f'column{position[c.name]}' if c.name in position else literals.get(c.name, 'NULL')}"
        f" AS {c.name}"
        for c in table.columns
    )


def _static_probe(table: sa.Table, varying: Sequence[str], literals: Mapping[str, str]) -> str:
    """One query: a stamp-only CHECK fails, or a foreign key made of stamps has no parent."""
    row = f"SELECT {_projection(table, [], literals)}"
    tests = [
        f"EXISTS (SELECT 1 FROM ({row}) AS v WHERE NOT ({text}))"
        for text, reads in _check_texts(table)
        if not reads & set(varying)
    ]
    for constraint in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name)):
        pairs = [(element.parent.name, element.column) for element in constraint.elements]
        if any(local in varying for local, _ in pairs) or not _keyed(constraint, [], literals):
            continue
        parent = pairs[0][1].table.name
        joins = " AND ".join(f"p.{remote.name} = {literals[local]}" for local, remote in pairs)
        tests.append(f"NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {joins})")
    return "SELECT " + (" OR ".join(tests) if tests else "false")


def _keyed(
    constraint: sa.ForeignKeyConstraint, varying: Sequence[str], literals: Mapping[str, str]
) -> bool:
    """Every local column of the key can hold a value; one that is NULL in every row (absent, or
    a NULL stamp) means the key constrains nothing (SQL semantics)."""
    return all(
        e.parent.name in varying or literals.get(e.parent.name, "NULL") != "NULL"
        for e in constraint.elements
    )


def _orphan_probe(
    constraint: sa.ForeignKeyConstraint, varying: Sequence[str], literals: Mapping[str, str]
) -> tuple[list[str], str]:
    """Staged key columns and a ``SELECT EXISTS(…)`` over ``VALUES {rows}`` of their tuples."""
    pairs = [(element.parent.name, element.column) for element in constraint.elements]
    parent = pairs[0][1].table.name
    staged = [local for local, _ in pairs if local in varying]

    def local(name: str) -> str:
        return f"s.column{staged.index(name) + 1}" if name in staged else literals[name]

    joins = " AND ".join(f"p.{remote.name} = {local(name)}" for name, remote in pairs)
    return staged, (
        "SELECT EXISTS (SELECT 1 FROM (VALUES {rows}) AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {joins}))"
    )


def _sentinel_column(table: sa.Table, columns: Sequence[str]) -> str | None:
    """A NOT NULL column of the write outside the key: NULL there makes SQLite abort the statement
    (a NULL in an ``INTEGER PRIMARY KEY`` would instead pick a new rowid)."""
    return next(
        (n for n in columns if not table.c[n].nullable and not table.c[n].primary_key), None
    )


def _text_in_numeric(
    engine: Engine, table: sa.Table, frame: pd.DataFrame, varying: Sequence[str]
) -> bool:
    """Some numeric column would be bound text (checked as text, stored as a number)."""
    for name in varying:
        series = frame[name]
        if series.dtype.kind in "biuf":
            continue
        declared = table.c[name].type.compile(dialect=engine.dialect).upper()
        if "CHAR" in declared or "TEXT" in declared or "CLOB" in declared:
            continue
        if any(isinstance(value, str | bytes) for value in series.to_numpy(dtype=object)):
            return True
    return False


def _constant_columns(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
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


def _sql_literal(value: Any) -> str:
    """SQL literal for a stamp or repeated value (text or integer only; see _constant_columns)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise TypeError("boolean stamps are not expected")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot inline {value!r} as an SQL literal")


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
