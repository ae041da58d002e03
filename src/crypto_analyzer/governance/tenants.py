"""The tenants registry: list and create tenants, each with its own chain heads and policy.

Every tenant already has its own hash chains (``governance_events`` and ``trial_ledger`` are
chained per tenant, ``governance.checkpoints.read_heads``); the registry shows them side by side
and lets an admin register a tenant before its first write, optionally with a policy of its own.

A tenant's own policy is stored like every policy a decision used: content-addressed in the
artifact store (``policies/<digest>.json``, ``governance.policy.documents``), its digest in
``tenants.policy_digest``. A command given ``--policy`` uses that file; otherwise the tenant's
policy when it has one, else the packaged default. Loading checks the document against the digest,
so a policy document edited in the store is refused, never silently applied.

Listing every tenant is admin work: it opens the owner/migration URL (``Settings.migration_url``),
the only role row-level security lets see across tenants on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.schema import governance_events, runs, tenants, trial_ledger
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode, register_tenant
from crypto_analyzer.governance.checkpoints import read_heads
from crypto_analyzer.governance.policy import PolicyConfig, load_policy_config
from crypto_analyzer.governance.policy.documents import (
    load_policy_document,
    policy_document_key,
    store_policy_document,
)

__all__ = [
    "TenantInfo",
    "create_tenant",
    "known_tenant_ids",
    "list_tenants",
    "tenant_policy_config",
]


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """One tenant: registration (None for a tenant that wrote before it was registered), mode,
    own policy digest, and the heads of its two hash chains."""

    tenant_id: str
    registered: bool
    mode: str
    created_at: str | None
    policy_digest: str | None
    events_seq: int | None
    events_hash: str
    ledger_size: int

    def to_dict(self) -> dict[str, object]:
        return {
            "created_at": self.created_at,
            "events_hash": self.events_hash,
            "events_seq": self.events_seq,
            "ledger_size": self.ledger_size,
            "mode": self.mode,
            "policy_digest": self.policy_digest,
            "registered": self.registered,
            "tenant_id": self.tenant_id,
        }


def known_tenant_ids(connection: Connection) -> list[str]:
    """Every tenant the database knows: registered, or with runs, events or trials."""
    query = sa.union(
        sa.select(tenants.c.tenant_id),
        sa.select(governance_events.c.tenant_id).distinct(),
        sa.select(trial_ledger.c.tenant_id).distinct(),
        sa.select(runs.c.tenant_id).distinct(),
    )
    return sorted(str(value) for value in connection.execute(query).scalars())


def _info(connection: Connection, tenant_id: str) -> TenantInfo:
    row = (
        connection.execute(sa.select(tenants).where(tenants.c.tenant_id == tenant_id))
        .mappings()
        .first()
    )
    heads = read_heads(connection, tenant_id)
    return TenantInfo(
        tenant_id=tenant_id,
        registered=row is not None,
        mode=read_mode(connection, tenant_id).value,
        created_at=None if row is None else row["created_at"],
        policy_digest=None if row is None else row["policy_digest"],
        events_seq=heads.events_seq,
        events_hash=heads.events_hash,
        ledger_size=heads.ledger_size,
    )


def list_tenants(settings: Settings) -> list[TenantInfo]:
    """``tenants list`` (admin, read-only): every tenant with its chain heads."""
    with open_engine(settings, read_only=True, admin=True) as engine:
        require_head(engine)
        with engine.connect() as connection:
            return [_info(connection, tenant) for tenant in known_tenant_ids(connection)]


def create_tenant(
    settings: Settings,
    tenant_id: str,
    *,
    mode: WorkspaceMode = WorkspaceMode.GOVERNED,
    policy_path: Path | str | None = None,
    store: ArtifactStore | None = None,
) -> TenantInfo:
    """``tenants create`` (admin): register ``tenant_id``, optionally with its own policy file.

    Idempotent for the same mode and policy; a different mode is refused (``register_tenant``)
    and so is a different policy for a tenant that already has one (its decisions were made
    under that policy; a new policy is a new tenant or an explicit ``--policy``).
    """
    target = settings.model_copy(update={"tenant": tenant_id})
    digest = None
    if policy_path is not None:
        config = load_policy_config(policy_path)
        store_policy_document(store or open_settings_store(target), config)
        digest = config.digest()
    with open_engine(target, read_only=False, admin=True) as engine:
        require_head(engine)
        with engine.begin() as connection:
            register_tenant(connection, tenant_id, mode)
            if digest is not None:
                current = connection.execute(
                    sa.select(tenants.c.policy_digest).where(tenants.c.tenant_id == tenant_id)
                ).scalar_one()
                if current not in (None, digest):
                    raise ConfigError(
                        f"tenant {tenant_id!r} already has policy {current[:16]}…",
                        "pass --policy to a command to use another policy file for it",
                    )
                connection.execute(
                    tenants.update()
                    .where(tenants.c.tenant_id == tenant_id)
                    .values(policy_digest=digest)
                )
        with engine.connect() as connection:
            return _info(connection, tenant_id)


def tenant_policy_config(
    connection: Connection, store: ArtifactStore | None, tenant_id: str
) -> PolicyConfig | None:
    """The tenant's own policy (digest-checked from the store), or None when it has none."""
    digest = connection.execute(
        sa.select(tenants.c.policy_digest).where(tenants.c.tenant_id == tenant_id)
    ).scalar_one_or_none()
    if digest is None:
        return None
    if store is None:
        raise ConfigError(
            f"tenant {tenant_id!r} has its own policy, stored in the artifact store, and no "
            "store is configured",
            "set CRYPTO_ANALYZER_ARTIFACTS",
        )
    return load_policy_document(store, policy_document_key(digest), digest)
