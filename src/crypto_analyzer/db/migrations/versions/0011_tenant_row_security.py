"""Tenant isolation in the database: forced row-level security on every tenant-scoped table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

DESIGN §3 invariant 8 (issue 11). Until now only the code's ``WHERE tenant_id = …`` kept tenants
apart; one forgotten predicate or one raw SQL session crossed them. On PostgreSQL every table with
a ``tenant_id`` column now has row-level security ENABLEd and FORCEd (so it binds the table owner
too) and two policies:

* ``ca_tenant_isolation`` (every role): a row is visible, and may be inserted or updated into,
  only when its ``tenant_id`` equals ``current_setting('app.tenant_id', true)``. The engine layer
  sets that per transaction (``db.tenant_session``); a session that never set it gets NULL and a
  pooled session after a transaction gets '' — neither equals any tenant id, so a connection
  without a tenant sees nothing and writes nothing.
* ``ca_tenant_admin`` (the table owner only, i.e. the migration/owner role): every row. The owner
  already holds DDL rights (it could turn the policies off); this policy makes its cross-tenant
  admin work (``tenants list``, ``audit verify --all-tenants``, ``db copy``) explicit in
  ``pg_policies`` instead of depending on BYPASSRLS. The application connects as a separate,
  non-owner role (``db.roles``) to which only ``ca_tenant_isolation`` applies.

Trigger functions are not SECURITY DEFINER (revision 0009), so the guards and chain checks run
with the writer's rights under these policies: they see the writer's own tenant, which is exactly
what every trigger looks at (each filters on ``NEW.tenant_id``).

The tables are found from the catalog (every table of the migration's schema with a ``tenant_id``
column), so a tenant-scoped table created by an earlier revision cannot be missed; a table created
by a *later* revision must enable the same policies itself. SQLite has no row-level security: this
revision does nothing there (the tenant predicate in every query is enforced by a test).

Both dialects: ``tenants.policy_digest`` (nullable) names the tenant's own policy document, stored
content-addressed in the artifact store (``policies/<digest>.json``); NULL means the packaged
default policy (or ``--policy``). It is the only column of a tenant row that may change (the
guards of 0008 keep ``tenant_id`` and ``mode`` immutable).

Idempotent: the column is added only when missing, ENABLE/FORCE converge, policies are dropped if
present and created again. The downgrade drops both policies, turns row-level security off and
drops the column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ISOLATION_POLICY = "ca_tenant_isolation"
ADMIN_POLICY = "ca_tenant_admin"
_PREDICATE = "tenant_id = current_setting('app.tenant_id', true)"


def _tenant_tables() -> list[tuple[str, str]]:
    """(quoted table name, quoted owner) of every table in the current schema with ``tenant_id``."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT quote_ident(c.relname), quote_ident(pg_get_userbyid(c.relowner)) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY c.relname"
    )
    return [(str(table), str(owner)) for table, owner in rows]


def _has_policy_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("tenants")
    return any(column["name"] == "policy_digest" for column in columns)


def upgrade() -> None:
    if not _has_policy_column():
        op.add_column("tenants", sa.Column("policy_digest", sa.Text(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, owner in _tenant_tables():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {ISOLATION_POLICY} ON {table}")
        op.execute(
            f"CREATE POLICY {ISOLATION_POLICY} ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
            f"USING ({_PREDICATE}) WITH CHECK ({_PREDICATE})"
        )
        op.execute(f"DROP POLICY IF EXISTS {ADMIN_POLICY} ON {table}")
        op.execute(
            f"CREATE POLICY {ADMIN_POLICY} ON {table} AS PERMISSIVE FOR ALL TO {owner} "
            "USING (true) WITH CHECK (true)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _owner in _tenant_tables():
            op.execute(f"DROP POLICY IF EXISTS {ADMIN_POLICY} ON {table}")
            op.execute(f"DROP POLICY IF EXISTS {ISOLATION_POLICY} ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    if _has_policy_column():  # plain DROP COLUMN (SQLite >= 3.35): a batch rebuild loses triggers
        op.execute("ALTER TABLE tenants DROP COLUMN policy_digest")
