"""``db copy``: move a workspace between databases (SQLite ↔ PostgreSQL) and prove the copy.

The target is brought to head by the migrations and must hold no row; the rows are then copied by
``db.copy`` in one transaction with every trigger on. Afterwards the copy is checked, per tenant,
on the target itself: the dataset id is recomputed on both sides and must be equal, and the full
``audit verify`` (hash chains, MACs with the source's service key, triggers, replayed state
machine, artifact hashes, checkpoints) must pass. Artifacts are not copied: both databases point
at the same artifact store (``CRYPTO_ANALYZER_ARTIFACTS``), whose keys the lineage rows name.

The service key never moves silently. The source's key verifies the target; a SQLite target
without ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` looks next to its file, so ``copy_key`` writes the
same key there (refused if a key already is there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import open_settings_store
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.service_key import (
    ServiceKey,
    copy_service_key,
    key_location,
    resolve_service_key,
)
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.copy import (
    DEFAULT_BATCH_ROWS,
    Progress,
    copy_rows,
    source_tenants,
    target_is_empty,
)
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine, describe_url
from crypto_analyzer.db.migrate import head_revision, require_head, schema_status, upgrade
from crypto_analyzer.db.roles import ensure_app_role
from crypto_analyzer.db.tenant_session import with_tenant
from crypto_analyzer.governance.audit import verify_workspace

__all__ = ["CopyResult", "TenantCheck", "copy_database"]


@dataclass(frozen=True, slots=True)
class TenantCheck:
    """One tenant after the copy: dataset ids on both sides and the target's audit."""

    tenant_id: str
    source_dataset_id: str
    target_dataset_id: str
    audit_ok: bool
    findings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.audit_ok and self.source_dataset_id == self.target_dataset_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_ok": self.audit_ok,
            "dataset_id_equal": self.source_dataset_id == self.target_dataset_id,
            "findings": list(self.findings),
            "ok": self.ok,
            "source_dataset_id": self.source_dataset_id,
            "target_dataset_id": self.target_dataset_id,
            "tenant_id": self.tenant_id,
        }


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What was copied where, and the per-tenant proof."""

    source: str
    target: str
    rows: dict[str, int]
    tenants: tuple[TenantCheck, ...] = field(default_factory=tuple)
    service_key_id: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.tenants)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": dict(sorted(self.rows.items())),
            "service_key_id": self.service_key_id,
            "source": self.source,
            "target": self.target,
            "tenants": [check.to_dict() for check in self.tenants],
        }


def copy_database(
    settings: Settings,
    source_url: str,
    target_url: str,
    *,
    tenant: str | None = None,
    batch: int = DEFAULT_BATCH_ROWS,
    copy_key: bool = False,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy every tenant (or ``tenant``) of ``source_url`` into the empty ``target_url``.

    Run it as the owner of both databases (it migrates the target and reads every tenant); with
    ``tenant`` it needs only that tenant's rights on the source.
    """
    step = progress or (lambda _message: None)
    if source_url == target_url:
        raise ConfigError("the source and the target are the same database", "name a new target")
    key = resolve_service_key(source_url)
    source = create_db_engine(source_url, read_only=True, must_exist=True, tenant=tenant)
    target = create_db_engine(target_url, must_exist=False)
    try:
        require_head(source)
        _prepare_target(target, settings)
        with source.connect() as reader:
            tenant_ids = [tenant] if tenant is not None else source_tenants(reader)
            with target.begin() as writer:
                counts = copy_rows(reader, writer, tenant_ids, batch=batch, progress=step)
        if copy_key and key is not None:
            _place_key(key, target_url)
        store = open_settings_store(settings)
        checks = []
        for tenant_id in tenant_ids:
            step(f"{tenant_id}: dataset id and audit on the target")
            before = compute_dataset_id(with_tenant(source, tenant_id), tenant_id=tenant_id)
            after = compute_dataset_id(with_tenant(target, tenant_id), tenant_id=tenant_id)
            report = verify_workspace(
                with_tenant(target, tenant_id), store, tenant_id, service_key=key
            )
            checks.append(
                TenantCheck(
                    tenant_id,
                    before.dataset_id.value,
                    after.dataset_id.value,
                    report.ok,
                    tuple(f"{f.check}: {f.message}" for f in report.findings),
                )
            )
        return CopyResult(
            describe_url(source_url),
            describe_url(target_url),
            counts.rows,
            tuple(checks),
            None if key is None else key.key_id,
        )
    finally:
        source.dispose()
        target.dispose()


def _prepare_target(target: Engine, settings: Settings) -> None:
    status = schema_status(target)
    if status.current is not None and status.current != head_revision():
        raise ConfigError(
            f"the target database is at revision {status.current}, not empty at head",
            "copy into a new database (or an empty one migrated with `db upgrade`)",
        )
    if status.current is not None:
        with target.connect() as connection:
            filled = target_is_empty(connection)
        if filled:
            raise ConfigError(
                f"the target database is not empty ({', '.join(filled[:5])} hold rows)",
                "copy into a new, empty database",
            )
    upgrade(target)
    ensure_app_role(target, settings.app_role)


def _place_key(key: ServiceKey, target_url: str) -> None:
    location = key_location(target_url)
    if location.source == "default" and location.path is not None and not location.path.exists():
        copy_service_key(key, location.path)
