"""Workspace services behind ``init``, ``doctor`` and ``check-dataset``.

Each is one function over :class:`Settings` so the CLI, the API and notebooks share a code path.
``init`` also creates the workspace's service key where the workspace looks for it by default
(next to a SQLite file) when none is there yet; ``doctor`` says whether a key is configured and
whether the newest chain-head checkpoint matches the database.
``check-dataset --as-of`` reproduces a dataset id at a market watermark named by its number, by a
report run (the watermark it recorded; its recorded id is compared) or by an ingest run (the last
revision it wrote).
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import check_store_url, open_settings_store, registered_schemes
from crypto_analyzer.core.errors import CryptoAnalyzerError, NotFoundError, ValidationError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.core.service_key import (
    create_service_key,
    key_location,
    resolve_service_key,
)
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
from crypto_analyzer.db.market_history import check_watermark, ingest_run_watermark
from crypto_analyzer.db.migrate import SchemaStatus, require_head
from crypto_analyzer.db.registry import get_run
from crypto_analyzer.db.run_liveness import liveness_check
from crypto_analyzer.db.workspace import initialize, open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode
from crypto_analyzer.governance.checkpoint_audit import latest_checkpoint_check

__all__ = [
    "AsOfCheck",
    "AsOfReference",
    "DoctorReport",
    "KeyStatus",
    "check_dataset",
    "check_dataset_as_of",
    "doctor",
    "init_workspace",
    "key_status",
]

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
    """Create and migrate the database, register the tenant as governed (or a sandbox), and
    create the service key at the SQLite default place when none is there yet.

    A key named by ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` is never created here: a deployment that
    points at a key must provide it (``keys init-service`` on the service host).
    """
    status = initialize(settings, mode)
    location = key_location(settings.db_url)
    if location.source == "default" and location.path is not None and not location.path.exists():
        create_service_key(location.path)
    return status


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """The workspace's service key as the writers will find it (never the secret)."""

    key_id: str | None
    location: str
    problem: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"key_id": self.key_id, "location": self.location, "problem": self.problem}


def key_status(settings: Settings) -> KeyStatus:
    """Which service key the workspace uses, where it is looked for, or why it is unusable."""
    location = key_location(settings.db_url)
    try:
        key = resolve_service_key(settings.db_url)
    except CryptoAnalyzerError as exc:
        return KeyStatus(None, location.describe(), str(exc))
    return KeyStatus(None if key is None else key.key_id, location.describe())


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
                checks.extend(_keyed_checks(settings, engine))
    except CryptoAnalyzerError as exc:
        checks.append(HealthCheck("database reachable", False, str(exc)))
    try:
        ok, detail = check_store_url(settings.artifacts_url)
    except CryptoAnalyzerError as exc:
        ok, detail = False, str(exc)
    checks.append(HealthCheck("artifact store", ok, detail))
    # imported here: the research layer pulls in pandas, which commands without plugins skip
    from crypto_analyzer.plugins.signal_discovery import check_installed_signals

    checks.append(HealthCheck("signal plugins", *check_installed_signals()))
    checks.append(_plugins_check())
    return DoctorReport(
        settings={
            "artifacts": settings.artifacts_url,
            "db_url": describe_url(settings.db_url),
            "fixed_time": settings.fixed_time.isoformat() if settings.fixed_time else None,
            "log_level": settings.log_level,
            "tenant": settings.tenant,
        },
        environment=environment,
        checks=tuple(checks),
    )


def _keyed_checks(settings: Settings, engine: Engine) -> list[HealthCheck]:
    """``service key`` (configured and usable) and ``chain checkpoint`` (the newest matches)."""
    status = key_status(settings)
    with engine.connect() as connection:
        mode = read_mode(connection, settings.tenant)
    governed = mode is WorkspaceMode.GOVERNED
    if status.problem is not None:
        key_check = HealthCheck("service key", False, status.problem)
    elif status.key_id is None:
        detail = f"none configured (looked: {status.location})"
        detail += (
            "; governed writes are refused until one is: `crypto-analyzer keys init-service`"
            if governed
            else "; this sandbox writes records without MACs"
        )
        key_check = HealthCheck("service key", not governed, detail)
    else:
        key_check = HealthCheck("service key", True, f"key id {status.key_id} at {status.location}")
    try:
        key = resolve_service_key(settings.db_url)
    except CryptoAnalyzerError:
        key = None
    try:
        store = open_settings_store(settings)
    except CryptoAnalyzerError as exc:
        return [key_check, HealthCheck("chain checkpoint", False, str(exc))]
    with engine.connect() as connection:
        ok, detail = latest_checkpoint_check(connection, store, settings.tenant, key, mode)
    return [key_check, HealthCheck("chain checkpoint", ok, detail)]


def _environment() -> dict[str, Any]:
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
    *,
    as_of: int | str | None = None,
) -> DatasetIdentity:
    """Dataset identity of ``scope`` for the configured tenant; read-only, schema must be at
    head. ``as_of`` (a watermark, report run or ingest run; see :func:`check_dataset_as_of`)
    reproduces it at that market watermark; without it, it is taken at the current one."""
    if as_of is not None:
        return check_dataset_as_of(settings, as_of, scope, mode).identity
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return compute_dataset_id(engine, scope, mode=mode, tenant_id=settings.tenant)


@dataclass(frozen=True, slots=True)
class AsOfReference:
    """What ``--as-of`` named and the market watermark it stands for.

    ``kind`` is ``watermark``, ``report_run`` (its recorded watermark; ``recorded_dataset_id`` is
    the id the run recorded) or ``ingest_run`` (the last revision it wrote).
    """

    given: str
    kind: str
    watermark: int
    run_id: str | None = None
    recorded_dataset_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "given": self.given,
            "kind": self.kind,
            "recorded_dataset_id": self.recorded_dataset_id,
            "run_id": self.run_id,
            "watermark": self.watermark,
        }


@dataclass(frozen=True, slots=True)
class AsOfCheck:
    """A dataset id recomputed at a watermark, and whether it reproduces a run's recorded id."""

    reference: AsOfReference
    identity: DatasetIdentity

    @property
    def reproduced(self) -> bool | None:
        """None when nothing was recorded to compare with (a watermark or an ingest run)."""
        recorded = self.reference.recorded_dataset_id
        return None if recorded is None else recorded == self.identity.dataset_id.value

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.identity.to_dict(),
            "as_of": self.reference.to_dict(),
            "recorded_dataset_id": self.reference.recorded_dataset_id,
            "reproduced": self.reproduced,
        }


_INTEGER = re.compile(r"[+-]?[0-9]+")


def check_dataset_as_of(
    settings: Settings,
    as_of: int | str,
    scope: Sequence[TableScope] = DEFAULT_SCOPE,
    mode: DatasetMode = DatasetMode.STRICT,
) -> AsOfCheck:
    """Recompute the dataset id at the watermark ``as_of`` names and compare it with a report
    run's recorded id.

    ``as_of``: an integer is a watermark; otherwise a report run id (or unique prefix: its
    recorded watermark, compared with its recorded dataset id, so the scope and mode must be the
    run's) or an ingest run id (or prefix: the last revision it wrote). Anything else is a
    ValidationError.
    """
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        reference = _resolve_as_of(engine, settings.tenant, as_of)
        if reference.kind == "report_run":
            run = get_run(engine, settings.tenant, str(reference.run_id))
            if tuple(scope) != DEFAULT_SCOPE or mode.value != run.dataset_mode:
                raise ValidationError(
                    f"report run {run.run_instance_id} recorded a {run.dataset_mode} dataset id "
                    "of the default scope; it cannot be compared with another scope or mode",
                    "drop --scope/--mode, or give a watermark instead of the run",
                )
        identity = compute_dataset_id(
            engine, scope, mode=mode, tenant_id=settings.tenant, as_of=reference.watermark
        )
    return AsOfCheck(reference, identity)


def _resolve_as_of(engine: Engine, tenant_id: str, as_of: int | str) -> AsOfReference:
    if isinstance(as_of, bool) or not isinstance(as_of, int | str):
        raise ValidationError(f"--as-of {as_of!r} is neither a watermark nor a run id")
    given = str(as_of).strip()
    with engine.connect() as connection:
        if _INTEGER.fullmatch(given):
            watermark = check_watermark(connection, tenant_id, int(given))
            return AsOfReference(given, "watermark", watermark)
        if given.startswith("ir_"):
            run_id, watermark = ingest_run_watermark(connection, tenant_id, given)
            return AsOfReference(given, "ingest_run", watermark, run_id)
    try:
        run = get_run(engine, tenant_id, given)
    except NotFoundError:
        raise ValidationError(
            f"--as-of {given!r} names no watermark, report run or ingest run of tenant "
            f"{tenant_id!r}",
            "give a watermark (an integer), a report run id (or unique prefix) or an ingest run id",
        ) from None
    if run.data_watermark is None:
        raise ValidationError(
            f"report run {run.run_instance_id} recorded no data watermark (it ran before "
            "point-in-time market data)",
            "compare its dataset id with plain `check-dataset`, or give a watermark",
        )
    return AsOfReference(
        given, "report_run", run.data_watermark, run.run_instance_id, run.dataset_id
    )


def _plugins_check() -> HealthCheck:
    """Every registry loads its plugins: a broken or clashing plugin is a failed check."""
    # imported here: the registries pull in the statistics stack, which most commands skip
    from crypto_analyzer.governance.policy.rule_registry import default_rule_registry
    from crypto_analyzer.stats.procedures import default_registry

    try:
        procedures = default_registry().names()
        kinds = default_rule_registry().kinds()
        schemes = tuple(registered_schemes())
    except CryptoAnalyzerError as exc:
        return HealthCheck("plugins", False, str(exc))
    return HealthCheck(
        "plugins",
        True,
        f"{len(procedures)} statistical procedures, {len(kinds)} policy rule kind(s), "
        f"artifact store schemes {', '.join(s + '://' for s in schemes)}",
    )
