"""Reproductions: a ``reproduced`` governance event, and the per-table digests a run's data had.

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-02

``crypto-analyzer reproduce`` re-executes a recorded run from the audit trail and compares every
artifact with the recorded SHA-256s. Two facts must be recordable for that:

* ``governance_events.event_type`` also allows ``reproduced``: who reproduced a candidate's run,
  when, and with what result. It is an audit fact like ``restated``: ``from_status`` and
  ``to_status`` stay NULL and no status changes (the replay in ``audit verify`` checks both).
* ``runs.dataset_tables_json`` (nullable): the per-table digests behind the run's dataset id, so a
  reproduction whose data no longer has the recorded id can name the tables that changed instead
  of only saying that the combined digest differs. NULL for runs written before this revision.

The event type CHECK is widened the way revision 0005 widened it: PostgreSQL drops and re-adds the
named constraint; SQLite rebuilds the table from its stored SQL and recreates the table's own
indexes and triggers from their stored SQL, so the hash-chain, MAC and append-only triggers (and
hence the trigger manifest) are unchanged. Self-contained and idempotent; the downgrade refuses
while ``reproduced`` events exist (the append-only log cannot drop them) and then restores the
previous CHECK and drops the column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_EVENT_TYPES = ("created", "evaluated", "promoted", "rejected", "revoked", "restated")
NEW_EVENT_TYPES = (*OLD_EVENT_TYPES, "reproduced")
TABLES_COLUMN = "dataset_tables_json"
_CONSTRAINT = "ck_governance_events_event_type"


def _check_sql(types: Sequence[str]) -> str:
    return "event_type IN (" + ", ".join(f"'{name}'" for name in types) + ")"


def _set_event_types(types: Sequence[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        current = bind.exec_driver_sql(
            f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '{_CONSTRAINT}'"
        ).scalar()
        if current is not None and sorted(re.findall(r"'([^']*)'", current)) == sorted(types):
            return
        op.execute(f"ALTER TABLE governance_events DROP CONSTRAINT IF EXISTS {_CONSTRAINT}")
        check = _check_sql(types)
        op.execute(f"ALTER TABLE governance_events ADD CONSTRAINT {_CONSTRAINT} CHECK ({check})")
        return
    _rebuild_sqlite_events(_check_sql(types))


def _rebuild_sqlite_events(wanted: str) -> None:
    """Recreate ``governance_events`` from its stored SQL with the CHECK ``wanted``; its indexes
    and triggers are read first and recreated verbatim after the rename (``legacy_alter_table``
    keeps SQLite from re-parsing other tables' triggers while the table is briefly absent)."""
    bind = op.get_bind()
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'governance_events'"
    ).scalar_one()
    found = re.search(r"CHECK \((event_type IN \([^)]*\))\)", table_sql)
    if found is None:
        raise RuntimeError("governance_events has no event_type CHECK to change; schema drifted")
    if found.group(1) == wanted:
        return
    dependents = [
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'governance_events' "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    rebuilt = re.sub(
        r'^CREATE TABLE\s+"?governance_events"?',
        "CREATE TABLE governance_events__rebuild",
        table_sql.replace(found.group(1), wanted, 1),
        count=1,
    )
    bind.exec_driver_sql("PRAGMA legacy_alter_table = ON")
    try:
        bind.exec_driver_sql("DROP TABLE IF EXISTS governance_events__rebuild")
        bind.exec_driver_sql(rebuilt)
        bind.exec_driver_sql(
            "INSERT INTO governance_events__rebuild SELECT * FROM governance_events"
        )
        bind.exec_driver_sql("DROP TABLE governance_events")
        bind.exec_driver_sql("ALTER TABLE governance_events__rebuild RENAME TO governance_events")
        for statement in dependents:
            bind.exec_driver_sql(statement)
    finally:
        bind.exec_driver_sql("PRAGMA legacy_alter_table = OFF")


def _run_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("runs")}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - settings allow only these
        raise NotImplementedError(f"reproductions are not written for {dialect!r}")
    if TABLES_COLUMN not in _run_columns():
        op.add_column("runs", sa.Column(TABLES_COLUMN, sa.Text(), nullable=True))
    _set_event_types(NEW_EVENT_TYPES)


def downgrade() -> None:
    bind = op.get_bind()
    recorded = bind.exec_driver_sql(
        "SELECT COUNT(*) FROM governance_events WHERE event_type = 'reproduced'"
    ).scalar_one()
    if recorded:
        raise RuntimeError(
            f"cannot downgrade below 0015: {recorded} governance event(s) record reproductions, "
            "and the append-only log cannot drop them"
        )
    _set_event_types(OLD_EVENT_TYPES)
    if TABLES_COLUMN in _run_columns():
        # Plain DROP COLUMN on both dialects (SQLite >= 3.35); runs has no trigger naming it.
        op.execute(f"ALTER TABLE runs DROP COLUMN {TABLES_COLUMN}")
