"""Database lifecycle services used by ``init`` and ``db …``: open, create, upgrade, inspect.

Reads open read-only engines and never migrate; only :func:`initialize` and
:func:`upgrade_database` run DDL, on the owner/migration URL (``Settings.migration_url``), and
then make sure the PostgreSQL application role exists with its DML grants (``db.roles``). Every
other engine is opened on ``db_url`` for the settings' tenant: on PostgreSQL each transaction sets
``app.tenant_id`` (``db.tenant_session``), which row-level security checks every row against.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.health import TriggerFinding, trigger_findings
from crypto_analyzer.db.migrate import SchemaStatus, schema_drift, schema_status, upgrade
from crypto_analyzer.db.roles import AppRoleOutcome, AppRoleStatus, ensure_app_role
from crypto_analyzer.db.row_security import row_security_findings
from crypto_analyzer.db.workspace_mode import WorkspaceMode, register_tenant

_LOG = logging.getLogger(__name__)

__all__ = [
    "SchemaCheck",
    "check_schema",
    "database_status",
    "initialize",
    "open_engine",
    "upgrade_database",
]


@contextmanager
def open_engine(
    settings: Settings, *, read_only: bool, must_exist: bool = True, admin: bool = False
) -> Iterator[Engine]:
    """Engine for the configured database and tenant, disposed (files and pool closed) on exit.

    ``admin`` opens the owner/migration URL instead of the application URL (the same URL unless
    ``admin_db_url`` is set): only DDL and the admin commands ask for it.
    """
    url = settings.migration_url if admin else settings.db_url
    engine = create_db_engine(
        url, read_only=read_only, must_exist=must_exist, tenant=settings.tenant
    )
    try:
        yield engine
    finally:
        engine.dispose()


def initialize(settings: Settings, mode: WorkspaceMode = WorkspaceMode.GOVERNED) -> SchemaStatus:
    """Create the database if needed, migrate to head and register the tenant in ``mode``.

    Idempotent for the same mode; asking for the other mode of an existing tenant is a
    :class:`~crypto_analyzer.core.errors.ConfigError` (a workspace's mode never changes).
    """
    with open_engine(settings, read_only=False, must_exist=False, admin=True) as engine:
        status = upgrade(engine)
        _report_role(ensure_app_role(engine, settings.app_role))
        with engine.begin() as connection:
            register_tenant(connection, settings.tenant, mode)
        return status


def upgrade_database(settings: Settings) -> SchemaStatus:
    """Apply pending migrations to an existing database (as the owner) and grant the app role."""
    with open_engine(settings, read_only=False, admin=True) as engine:
        status = upgrade(engine)
        _report_role(ensure_app_role(engine, settings.app_role))
        return status


def _report_role(outcome: AppRoleOutcome) -> None:
    """A role the owner could not create is a warning, not a failed migration: the schema is at
    head and usable by the owner; the application role is an administrator's step."""
    if outcome.status is AppRoleStatus.MISSING:
        _LOG.warning("application role %s does not exist: %s", outcome.role, outcome.hint)


def database_status(settings: Settings) -> SchemaStatus:
    """Current/head revision of an existing database, read-only."""
    with open_engine(settings, read_only=True) as engine:
        return schema_status(engine)


@dataclass(frozen=True, slots=True)
class SchemaCheck:
    """Outcome of ``db check``: schema at head, metadata in step, triggers as migrated."""

    status: SchemaStatus
    drift: tuple[str, ...]
    triggers: tuple[TriggerFinding, ...]
    row_security: tuple[str, ...] = ()

    @property
    def missing_triggers(self) -> tuple[str, ...]:
        return tuple(finding.name for finding in self.triggers if finding.kind == "missing")

    @property
    def ok(self) -> bool:
        return (
            self.status.at_head and not self.drift and not self.triggers and not self.row_security
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "drift": list(self.drift),
            "missing_triggers": list(self.missing_triggers),
            "ok": self.ok,
            "row_security": list(self.row_security),
            "status": self.status.to_dict(),
            "triggers": [finding.to_dict() for finding in self.triggers],
        }


def check_schema(settings: Settings) -> SchemaCheck:
    """``alembic check`` plus every trigger compared with the manifest, read-only.

    Triggers are compared only at head: an older schema legitimately lacks later triggers, and
    ``status`` already fails the check.
    """
    with open_engine(settings, read_only=True) as engine:
        status = schema_status(engine)
        drift = tuple(schema_drift(engine)) if status.at_head else ()
        findings: tuple[TriggerFinding, ...] = ()
        security: tuple[str, ...] = ()
        if status.at_head:
            with engine.connect() as connection:
                findings = tuple(trigger_findings(connection))
                security = tuple(row_security_findings(connection))
    return SchemaCheck(status=status, drift=drift, triggers=findings, row_security=security)
