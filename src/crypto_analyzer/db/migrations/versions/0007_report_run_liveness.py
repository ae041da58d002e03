"""Report run liveness: which process owns a ``running`` run, and the ``interrupted`` status.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05

A report run killed between its ``running`` row and its final transaction (SIGKILL, OOM, a
reboot) left that row ``running`` forever. Like ingest runs (revision 0003), a ``runs`` row now
records the process id and host that started it, so the next report run on that host can see the
process is gone and close the run as ``interrupted`` with the reason, and ``doctor`` can name it.
Both columns are nullable: runs written before this revision have no owner on record.

The ``runs`` status CHECK must accept ``interrupted``. PostgreSQL replaces the named constraint.
SQLite cannot alter a constraint, and its usual answer, rebuilding the table (create, copy, drop,
rename), does not work here: ``runs`` is the parent of several foreign keys, foreign keys are on,
and ``PRAGMA foreign_keys`` cannot be switched off inside the migration's transaction, so dropping
the old table fails as soon as a child row exists. This revision therefore uses SQLite's own
documented procedure for *relaxing* a CHECK constraint (lang_altertable.html, "making other kinds
of table schema changes"): rewrite the table's CREATE statement in ``sqlite_schema`` under
``writable_schema`` and bump ``schema_version``, in one transaction. It is safe here because the
new CHECK admits every row the old one did, so no stored row can violate it, and the table's
pages, indexes and foreign keys are untouched.

Self-contained like the earlier revisions; guarded so running it twice converges. The downgrade
is real: ``interrupted`` rows become ``failed`` (their ``error`` keeps the reason) before the
CHECK is narrowed again, then the columns are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COLUMNS = (("pid", INT64), ("host", sa.Text()))
CONSTRAINT = "ck_runs_status"
NARROW = "status IN ('running', 'succeeded', 'failed')"
WIDE = "status IN ('running', 'succeeded', 'failed', 'interrupted')"


def _existing() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("runs")}


def _sqlite_check(old: str, new: str) -> None:
    """Rewrite the CHECK text of ``runs`` in place (documented procedure, see module doc)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
    ).scalar_one()
    old_clause = f"CONSTRAINT {CONSTRAINT} CHECK ({old})"
    new_clause = f"CONSTRAINT {CONSTRAINT} CHECK ({new})"
    if new_clause in sql:
        return
    if sql.count(old_clause) != 1:
        raise RuntimeError(
            f"table runs has no CHECK {old_clause!r} to rewrite; it was not created by these "
            "migrations — recreate the workspace or fix the table by hand"
        )
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'runs'",
            (sql.replace(old_clause, new_clause),),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA quick_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"PRAGMA quick_check after rewriting the runs CHECK: {problems}")


def _postgres_check(new: str) -> None:
    bind = op.get_bind()
    current = bind.exec_driver_sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = %(name)s AND conrelid = 'runs'::regclass",
        {"name": CONSTRAINT},
    ).scalar()
    wanted = "'interrupted'" in new
    if current is not None and ("'interrupted'" in current) == wanted:
        return
    op.execute(f"ALTER TABLE runs DROP CONSTRAINT IF EXISTS {CONSTRAINT}")
    op.execute(f"ALTER TABLE runs ADD CONSTRAINT {CONSTRAINT} CHECK ({new})")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_check(NARROW, WIDE)
    elif dialect == "postgresql":
        _postgres_check(WIDE)
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"revision 0007 is not written for {dialect!r}")
    present = _existing()
    for name, column_type in COLUMNS:
        if name not in present:
            op.add_column("runs", sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    present = _existing()
    for name, _ in reversed(COLUMNS):
        if name in present:
            op.drop_column("runs", name)
    op.execute(
        "UPDATE runs SET status = 'failed', "
        "error = COALESCE(error, 'interrupted: the process ended without finishing the run') "
        "WHERE status = 'interrupted'"
    )
    if dialect == "sqlite":
        _sqlite_check(WIDE, NARROW)
    elif dialect == "postgresql":
        _postgres_check(NARROW)
