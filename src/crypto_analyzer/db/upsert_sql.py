"""Upsert statement text shared by both write paths of the provenance writer.

Why it exists. The rerun guarantee of :mod:`.provenance` (an identical row is left untouched with
its original provenance; a changed row takes the new values and the new provenance) lives in one
``ON CONFLICT … DO UPDATE … WHERE <changed>`` clause. The plain upsert (PostgreSQL, SQLite) and
the SQLite bulk path must append the very same clause, so it is built here, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

__all__ = ["conflict_clause", "insert_sql", "key_columns"]


def key_columns(table: sa.Table) -> tuple[str, ...]:
    """The primary key's column names: the conflict target of every upsert."""
    return tuple(column.name for column in table.primary_key.columns)


def conflict_clause(
    table: sa.Table,
    columns: Sequence[str],
    conflict: Sequence[str],
    values: Sequence[str],
    stamps: Sequence[str],
) -> str:
    """``ON CONFLICT`` clause: update ``values`` and ``stamps`` only when a value differs."""
    updates = [name for name in (*values, *stamps) if name in columns]
    compared = [name for name in values if name in columns]
    if not updates or not compared:
        return f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    differs = " OR ".join(
        f"{table.name}.{name} IS DISTINCT FROM excluded.{name}" for name in compared
    )
    assignments = ", ".join(f"{name} = excluded.{name}" for name in updates)
    return f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {assignments} WHERE {differs}"


def insert_sql(
    table: sa.Table,
    columns: Sequence[str],
    paramstyle: str,
    *,
    conflict: Sequence[str] | None,
    values: Sequence[str] = (),
    stamps: Sequence[str] = (),
) -> str:
    """``INSERT … VALUES (…)`` for the driver's ``paramstyle``, with the conflict clause unless
    ``conflict`` is None (append-only tables)."""
    placeholder = "?" if paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([placeholder] * len(columns))})"
    )
    if conflict is None:
        return sql
    return sql + conflict_clause(table, columns, conflict, values, stamps)
