"""Is row-level security still what revision 0011 made? (PostgreSQL; SQLite has none.)

The owner can switch row-level security off, drop a policy or add a permissive one that opens
every row (``USING (true)``) — DDL the application role cannot run, but a hostile operator can.
Permissive policies are OR-ed, so one extra policy undoes the isolation silently. ``audit verify``
and ``db check`` therefore compare the catalog with what 0011 made, for every table of the schema
with a ``tenant_id`` column: RLS enabled and forced, ``ca_tenant_isolation`` for every role with
the tenant predicate in both USING and WITH CHECK, ``ca_tenant_admin`` for the table owner only,
and no other policy.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crypto_analyzer.db.schema import metadata

__all__ = ["ADMIN_POLICY", "ISOLATION_POLICY", "row_security_findings"]

ISOLATION_POLICY = "ca_tenant_isolation"
ADMIN_POLICY = "ca_tenant_admin"
_PREDICATE = "(tenant_id = current_setting('app.tenant_id'::text, true))"


def row_security_findings(connection: sa.Connection) -> list[str]:
    """One sentence per deviation; empty when every tenant table is isolated as migrated."""
    if connection.dialect.name != "postgresql":
        return []
    expected = sorted(table.name for table in metadata.sorted_tables if "tenant_id" in table.c)
    tables = {
        row.relname: row
        for row in connection.execute(
            sa.text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND c.relname = ANY(:names)"
            ),
            {"names": expected},
        )
    }
    policies: dict[str, list[Any]] = {}
    for row in connection.execute(
        sa.text(
            "SELECT tablename, policyname, permissive, roles, cmd, qual, with_check "
            "FROM pg_policies WHERE schemaname = current_schema() AND tablename = ANY(:names)"
        ),
        {"names": expected},
    ):
        policies.setdefault(row.tablename, []).append(row)
    findings: list[str] = []
    for name in expected:
        table = tables.get(name)
        if table is None:
            continue  # a missing table is schema drift, reported by `db check`
        if not table.relrowsecurity or not table.relforcerowsecurity:
            findings.append(
                f"{name}: row-level security is "
                f"{'not forced' if table.relrowsecurity else 'disabled'}; tenants are not "
                "isolated by the database (restore with `ALTER TABLE … ENABLE/FORCE ROW LEVEL "
                "SECURITY` and find out who had DDL rights)"
            )
        findings.extend(_policy_findings(name, table.owner, policies.get(name, [])))
    return findings


def _policy_findings(table: str, owner: str, found: list[Any]) -> list[str]:
    problems: list[str] = []
    by_name = {row.policyname: row for row in found}
    isolation = by_name.pop(ISOLATION_POLICY, None)
    if isolation is None:
        problems.append(f"{table}: policy {ISOLATION_POLICY} is missing")
    elif (
        isolation.permissive != "PERMISSIVE"
        or isolation.cmd != "ALL"
        or list(isolation.roles) != ["public"]
        or isolation.qual != _PREDICATE
        or isolation.with_check != _PREDICATE
    ):
        problems.append(f"{table}: policy {ISOLATION_POLICY} was changed")
    admin = by_name.pop(ADMIN_POLICY, None)
    if admin is not None and list(admin.roles) != [owner]:
        roles = ", ".join(admin.roles)
        problems.append(f"{table}: policy {ADMIN_POLICY} applies to {roles}, not the owner")
    for extra in sorted(by_name):
        problems.append(
            f"{table}: policy {extra} was not made by any migration; a permissive policy can open "
            "every tenant's rows — drop it unless you know why it is there"
        )
    return problems
