"""The PostgreSQL application role: a non-owner login with DML rights only.

Two roles run a team deployment (``docs/tenancy.md``): the *owner* (migration) role owns the
schema, runs ``init`` / ``db upgrade`` and the admin commands; the *application* role is what the
CLI, the API and the workers connect as. Row-level security binds the application role to the
tenant of its transaction, and because it owns nothing it cannot turn the policies or the
triggers off. It gets no TRUNCATE (which skips row triggers and row security) and, on the
append-only tables, no UPDATE or DELETE either: what the database can refuse through rights it
refuses, before any trigger runs.

:func:`ensure_app_role` runs after every upgrade by the owner. It creates the role when it is
missing and the owner may create roles; otherwise it reports what an administrator must run.
It refuses a role that would defeat the isolation (superuser, BYPASSRLS, or the owner itself).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.db.schema import APPEND_ONLY_TABLES

__all__ = ["AppRoleOutcome", "AppRoleStatus", "ensure_app_role", "grant_statements"]

_VERSION_TABLE = "alembic_version"


class AppRoleStatus(enum.StrEnum):
    """What :func:`ensure_app_role` did."""

    CREATED = "created"
    GRANTED = "granted"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class AppRoleOutcome:
    """The role, what happened to it, and (when missing) the SQL an administrator must run."""

    role: str
    status: AppRoleStatus
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"hint": self.hint, "role": self.role, "status": self.status.value}


def grant_statements(connection: Connection, role: str) -> list[str]:
    """GRANT statements giving ``role`` DML (no DDL, no TRUNCATE) on the current schema's tables."""
    quoted = _quote(connection, role)
    schema = connection.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
    database = connection.exec_driver_sql("SELECT quote_ident(current_database())").scalar_one()
    tables = connection.exec_driver_sql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    ).scalars()
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
    ]
    for name in tables:
        table = f"{schema}.{_quote(connection, name)}"
        statements.append(f"REVOKE ALL ON {table} FROM {quoted}")
        if name == _VERSION_TABLE or name in APPEND_ONLY_TABLES:
            rights = "SELECT" if name == _VERSION_TABLE else "SELECT, INSERT"
        else:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {rights} ON {table} TO {quoted}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}")
    return statements


def ensure_app_role(engine: Engine, role: str) -> AppRoleOutcome:
    """Create ``role`` if needed (LOGIN, no password, no special rights) and grant it DML.

    Run by the owner after a migration; a no-op on SQLite. Raises :class:`ConfigError` when
    ``role`` is the connecting (owner) role, a superuser or has BYPASSRLS.
    """
    if engine.dialect.name != "postgresql":
        return AppRoleOutcome(role, AppRoleStatus.NOT_APPLICABLE)
    with engine.begin() as connection:
        me = connection.exec_driver_sql("SELECT current_user").scalar_one()
        if me == role:
            raise ConfigError(
                f"the application role {role!r} is the role running the migration (the owner)",
                "run init/db upgrade as the owner role (CRYPTO_ANALYZER_ADMIN_DB_URL) and set "
                "CRYPTO_ANALYZER_APP_ROLE to a different role",
            )
        found = connection.execute(
            sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        status = AppRoleStatus.GRANTED
        if found is None:
            may = connection.exec_driver_sql(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            ).scalar_one()
            if not may:
                return AppRoleOutcome(
                    role,
                    AppRoleStatus.MISSING,
                    f"ask a server administrator to run: CREATE ROLE {role} LOGIN PASSWORD '…'; "
                    "then rerun `crypto-analyzer db upgrade` as the owner to grant it",
                )
            connection.exec_driver_sql(
                f"CREATE ROLE {_quote(connection, role)} LOGIN NOSUPERUSER NOBYPASSRLS "
                "NOCREATEDB NOCREATEROLE NOREPLICATION"
            )
            status = AppRoleStatus.CREATED
        elif found.rolsuper or found.rolbypassrls:
            raise ConfigError(
                f"the application role {role!r} is a superuser or has BYPASSRLS, so row-level "
                "security would not bind it",
                f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS, or name another role",
            )
        for statement in grant_statements(connection, role):
            connection.exec_driver_sql(statement)
    return AppRoleOutcome(role, status)


def _quote(connection: Connection, name: str) -> str:
    return str(connection.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one())
