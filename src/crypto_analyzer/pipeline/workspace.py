"""Workspace services behind ``init``, ``doctor`` and ``check-dataset``.

Each is one function over :class:`Settings` so the CLI, the API and notebooks share a code path.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

from crypto_analyzer.artifacts.location import check_location, parse_location
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.db.dataset_id import (
    DEFAULT_SCOPE,
    DatasetIdentity,
    TableScope,
    compute_dataset_id,
)
from crypto_analyzer.db.engine import describe_url
from crypto_analyzer.db.health import HealthCheck, database_health
from crypto_analyzer.db.migrate import SchemaStatus, require_head
from crypto_analyzer.db.run_liveness import liveness_check
from crypto_analyzer.db.workspace import initialize, open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode

__all__ = ["DoctorReport", "check_dataset", "doctor", "init_workspace"]

_REQUIRED_PACKAGES = ("numpy", "pandas", "scipy", "sqlalchemy", "alembic", "pydantic", "typer")
_OPTIONAL_PACKAGES = {
    "adbc-driver-sqlite": "columnar dataset identity on SQLite",
    "psycopg": "PostgreSQL backend (extra: postgres)",
    "boto3": "S3-compatible artifact store (extra: s3)",
    "fastapi": "HTTP API (extra: api)",
}


def init_workspace(
    settings: Settings, mode: WorkspaceMode = WorkspaceMode.GOVERNED
) -> SchemaStatus:
    """Create and migrate the database, register the tenant as governed (or a sandbox)."""
    return initialize(settings, mode)


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Everything ``doctor`` looked at; ``ok`` is False if any check failed."""

    settings: dict[str, object]
    environment: dict[str, object]
    checks: tuple[HealthCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_dict(self) -> dict[str, object]:
        return {
            "checks": [check.to_dict() for check in self.checks],
            "environment": self.environment,
            "ok": self.ok,
            "settings": self.settings,
        }


def doctor(settings: Settings, *, full_integrity: bool = False) -> DoctorReport:
    """Check environment, database, schema and artifact store without writing anything."""
    checks: list[HealthCheck] = []
    environment = _environment()
    missing = [name for name in _REQUIRED_PACKAGES if environment["packages"].get(name) is None]
    checks.append(
        HealthCheck(
            "python environment",
            not missing and sys.version_info >= (3, 11),
            f"Python {platform.python_version()}"
            + (f"; missing {', '.join(missing)}" if missing else ""),
        )
    )
    try:
        with open_engine(settings, read_only=True) as engine:
            health = database_health(engine, full_integrity=full_integrity)
            checks.extend(health)
            if any(check.name == "schema at head" and check.ok for check in health):
                checks.append(liveness_check(engine, tenant_id=settings.tenant))
    except CryptoAnalyzerError as exc:
        checks.append(HealthCheck("database reachable", False, str(exc)))
    try:
        ok, detail = check_location(parse_location(settings.artifacts))
    except CryptoAnalyzerError as exc:
        ok, detail = False, str(exc)
    checks.append(HealthCheck("artifact store", ok, detail))
    return DoctorReport(
        settings={
            "artifacts": settings.artifacts,
            "db_url": describe_url(settings.db_url),
            "fixed_time": settings.fixed_time.isoformat() if settings.fixed_time else None,
            "log_level": settings.log_level,
            "tenant": settings.tenant,
        },
        environment=environment,
        checks=tuple(checks),
    )


def _environment() -> dict[str, object]:
    packages: dict[str, str | None] = {}
    for name in (*_REQUIRED_PACKAGES, *_OPTIONAL_PACKAGES):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "crypto_analyzer": ENGINE_VERSION,
        "optional": dict(_OPTIONAL_PACKAGES),
        "packages": packages,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def check_dataset(
    settings: Settings,
    scope: Sequence[TableScope] = DEFAULT_SCOPE,
    mode: DatasetMode = DatasetMode.STRICT,
) -> DatasetIdentity:
    """Dataset identity of ``scope`` for the configured tenant; read-only, schema must be at
    head."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return compute_dataset_id(engine, scope, mode=mode, tenant_id=settings.tenant)
