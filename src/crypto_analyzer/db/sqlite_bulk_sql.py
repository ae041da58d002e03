"""SQL text and eligibility rules for the SQLite bulk upsert (:mod:`.sqlite_bulk`).

Why it exists. The bulk path is only equivalent to the plain, fully checked upsert because of the
SQL it runs: the preflight that evaluates stamp-only CHECKs and stamp foreign keys once per batch,
the orphan probes over a batch's distinct key tuples, the projection that re-evaluates per-row
CHECKs on each row as written, and the rules that send a table or frame back to the plain upsert
when that equivalence would not hold. Kept apart from the code that runs the batches, these
builders are pure functions of the table and the columns, and can be read (and reviewed) as the
statement of that equivalence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = [
    "eligible",
    "keyed",
    "orphan_probe",
    "projection",
    "row_checks",
    "sentinel_column",
    "sql_literal",
    "static_probe",
    "text_in_numeric",
]


def _check_texts(table: sa.Table) -> list[tuple[str, set[str]]]:
    """Each CHECK's SQL text with the table columns it reads."""
    names = [column.name for column in table.columns]
    found = []
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            text = str(constraint.sqltext)
            found.append((text, {name for name in names if re.search(rf"\b{name}\b", text)}))
    return found


def eligible(table: sa.Table, inserted: set[str]) -> bool:
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


def row_checks(table: sa.Table, varying: Sequence[str]) -> str:
    """``NOT (a) OR NOT (b) …`` over the CHECKs that read a per-row column (NULL passes, as in
    a CHECK)."""
    return " OR ".join(
        f"NOT ({text})" for text, reads in _check_texts(table) if reads & set(varying)
    )


def projection(table: sa.Table, varying: Sequence[str], literals: Mapping[str, str]) -> str:
    """Every table column as the write stores it: ``VALUES`` column *i* for the *i*-th varying
    column, stamps as literals, absent columns NULL."""
    position = {name: index + 1 for index, name in enumerate(varying)}
    return ", ".join(
        f"{f'column{position[c.name]}' if c.name in position else literals.get(c.name, 'NULL')}"
        f" AS {c.name}"
        for c in table.columns
    )


def static_probe(table: sa.Table, varying: Sequence[str], literals: Mapping[str, str]) -> str:
    """One query: a stamp-only CHECK fails, or a foreign key made of stamps has no parent."""
    row = f"SELECT {projection(table, [], literals)}"
    tests = [
        f"EXISTS (SELECT 1 FROM ({row}) AS v WHERE NOT ({text}))"
        for text, reads in _check_texts(table)
        if not reads & set(varying)
    ]
    for constraint in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name)):
        pairs = [(element.parent.name, element.column) for element in constraint.elements]
        if any(local in varying for local, _ in pairs) or not keyed(constraint, [], literals):
            continue
        parent = pairs[0][1].table.name
        joins = " AND ".join(f"p.{remote.name} = {literals[local]}" for local, remote in pairs)
        tests.append(f"NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {joins})")
    return "SELECT " + (" OR ".join(tests) if tests else "false")


def keyed(
    constraint: sa.ForeignKeyConstraint, varying: Sequence[str], literals: Mapping[str, str]
) -> bool:
    """Every local column of the key can hold a value; one that is NULL in every row (absent, or
    a NULL stamp) means the key constrains nothing (SQL semantics)."""
    return all(
        e.parent.name in varying or literals.get(e.parent.name, "NULL") != "NULL"
        for e in constraint.elements
    )


def orphan_probe(
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


def sentinel_column(table: sa.Table, columns: Sequence[str]) -> str | None:
    """A NOT NULL column of the write outside the key: NULL there makes SQLite abort the statement
    (a NULL in an ``INTEGER PRIMARY KEY`` would instead pick a new rowid)."""
    return next(
        (n for n in columns if not table.c[n].nullable and not table.c[n].primary_key), None
    )


def text_in_numeric(
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


def sql_literal(value: Any) -> str:
    """SQL literal for a stamp or repeated value (text or integer only; see
    :func:`~crypto_analyzer.db.frame_cells.constant_columns`)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise TypeError("boolean stamps are not expected")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot inline {value!r} as an SQL literal")
