"""Workspace mode per tenant: ``governed`` (default) or ``sandbox``, fixed once chosen.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Review finding 6 of issue 21: ``CRYPTO_ANALYZER_FIXED_TIME`` could date governed events at will.
Governed writes now use the real clock; only an explicit sandbox (``init --sandbox``, the demo) may
use a pinned one. The mode lives in the database, next to what it governs, as ``tenants.mode``
with a CHECK. A tenant without a row is governed.

The database keeps the choice fixed against anyone with plain DML rights, per dialect:

* ``trg_tenants_guard_update``: ``tenant_id`` and ``mode`` are immutable (renaming a sandbox row
  onto a governed tenant would switch it too);
* ``trg_tenants_no_delete`` (and, on PostgreSQL, ``trg_tenants_no_truncate``): a row cannot be
  removed and inserted again in the other mode;
* ``trg_tenants_guard_insert``: a tenant that already has governance events (it was governed by
  default) cannot be registered as a sandbox.

Someone with DDL rights can still drop the triggers; every governance event records the mode it
was written in, and ``audit verify`` reports events whose mode differs from the tenant's.

Self-contained (nothing imported from ``crypto_analyzer``) and guarded: the column and constraint
are added only when missing, triggers use ``IF NOT EXISTS`` / ``DROP … IF EXISTS``, functions
``CREATE OR REPLACE``; running it twice converges. The downgrade removes all of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_NAME = "ck_tenants_mode"
CHECK_SQL = "mode IN ('governed', 'sandbox')"
TRIGGERS = ("trg_tenants_guard_insert", "trg_tenants_guard_update", "trg_tenants_no_delete")
PG_ONLY_TRIGGERS = ("trg_tenants_no_truncate",)
PG_FUNCTIONS = (
    "ca_guard_tenant_insert()",
    "ca_guard_tenant_update()",
    "ca_reject_tenant_delete()",
)

_SQLITE_TRIGGERS = (
    """
CREATE TRIGGER IF NOT EXISTS trg_tenants_guard_insert
BEFORE INSERT ON tenants
BEGIN
    SELECT RAISE(ABORT, 'tenants: a tenant with governance events is governed, not a sandbox')
    WHERE NEW.mode IS NOT 'governed' AND EXISTS (
        SELECT 1 FROM governance_events WHERE tenant_id = NEW.tenant_id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS trg_tenants_guard_update
BEFORE UPDATE ON tenants
BEGIN
    SELECT RAISE(ABORT, 'tenants: tenant_id and mode are immutable')
    WHERE NEW.tenant_id IS NOT OLD.tenant_id OR NEW.mode IS NOT OLD.mode;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS trg_tenants_no_delete
BEFORE DELETE ON tenants
BEGIN
    SELECT RAISE(ABORT, 'tenants rows cannot be deleted: DELETE is not allowed');
END
""",
)

_PG_FUNCTIONS = (
    """
CREATE OR REPLACE FUNCTION ca_guard_tenant_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.mode IS DISTINCT FROM 'governed' AND EXISTS (
            SELECT 1 FROM governance_events WHERE tenant_id = NEW.tenant_id) THEN
        RAISE EXCEPTION 'tenants: a tenant with governance events is governed, not a sandbox (%)',
            NEW.tenant_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION ca_guard_tenant_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id OR NEW.mode IS DISTINCT FROM OLD.mode THEN
        RAISE EXCEPTION 'tenants: tenant_id and mode are immutable (tenant %, mode %)',
            OLD.tenant_id, OLD.mode USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION ca_reject_tenant_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tenants rows cannot be deleted: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
""",
)

_PG_TRIGGERS = (
    ("trg_tenants_guard_insert", "BEFORE INSERT", "FOR EACH ROW", "ca_guard_tenant_insert()"),
    ("trg_tenants_guard_update", "BEFORE UPDATE", "FOR EACH ROW", "ca_guard_tenant_update()"),
    ("trg_tenants_no_delete", "BEFORE DELETE", "FOR EACH ROW", "ca_reject_tenant_delete()"),
    ("trg_tenants_no_truncate", "BEFORE TRUNCATE", "FOR EACH STATEMENT",
     "ca_reject_tenant_delete()"),
)  # fmt: skip


def _columns() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("tenants")}


def _checks() -> set[str]:
    return {
        str(check["name"]) for check in sa.inspect(op.get_bind()).get_check_constraints("tenants")
    }


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    present = "mode" in _columns()
    if dialect == "sqlite":
        if not present:  # SQLite adds a column's own CHECK together with the column
            op.execute(
                "ALTER TABLE tenants ADD COLUMN mode TEXT NOT NULL DEFAULT 'governed' "
                f"CONSTRAINT {CHECK_NAME} CHECK ({CHECK_SQL})"
            )
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        if not present:
            op.execute("ALTER TABLE tenants ADD COLUMN mode TEXT NOT NULL DEFAULT 'governed'")
        if CHECK_NAME not in _checks():
            op.execute(f"ALTER TABLE tenants ADD CONSTRAINT {CHECK_NAME} CHECK ({CHECK_SQL})")
        for function in _PG_FUNCTIONS:
            op.execute(function)
        for name, timing, level, function in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON tenants")
            op.execute(
                f"CREATE TRIGGER {name} {timing} ON tenants {level} EXECUTE FUNCTION {function}"
            )
    else:  # pragma: no cover - settings accept only these two backends
        raise NotImplementedError(f"workspace modes are not written for {dialect!r}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if not sa.inspect(op.get_bind()).has_table("tenants"):
        return
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        if "mode" in _columns():
            op.execute("ALTER TABLE tenants DROP COLUMN mode")
    elif dialect == "postgresql":
        for name in (*TRIGGERS, *PG_ONLY_TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON tenants")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.execute(f"ALTER TABLE tenants DROP CONSTRAINT IF EXISTS {CHECK_NAME}")
        op.execute("ALTER TABLE tenants DROP COLUMN IF EXISTS mode")
