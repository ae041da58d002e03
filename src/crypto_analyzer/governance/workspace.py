"""Opening the governance service from settings, for the CLI, the API and notebooks alike.

One function builds the service from a :class:`Settings`, so every interface resolves the database,
the artifact store, the tenant and the policy the same way. Reads open a read-only engine and load
no policy; writes open a writable engine, require the schema at head (the triggers of revision
0002 must exist before anything is governed) and load the policy set. :func:`open_governed` also
resolves *who* acts (:func:`~crypto_analyzer.governance.principal_store.resolve_actor`): the token's
principal, the OS account, or — in a sandbox only — a declared name. Writers key their rows with the
workspace's service key (``core.service_key``); :func:`init_service_key` creates one and
:func:`audit_checkpoint` anchors the current chain heads on demand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.service_key import ServiceKey, create_service_key, key_location
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.record_keys import engine_key
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import principal_store
from crypto_analyzer.governance.audit import VerifyReport, trace_candidate, verify_workspace
from crypto_analyzer.governance.checkpoints import Checkpoint, checkpoint_now
from crypto_analyzer.governance.policy import (
    PolicyConfig,
    PolicyRegistry,
    PolicySet,
    build_policy_set,
    load_policy_config,
)
from crypto_analyzer.governance.principals import Principal, os_account_name
from crypto_analyzer.governance.records import EventRecord
from crypto_analyzer.governance.service import GovernanceService
from crypto_analyzer.governance.staleness import Staleness, stale_candidates
from crypto_analyzer.governance.tenants import known_tenant_ids, tenant_policy_config

__all__ = [
    "add_principal",
    "audit_checkpoint",
    "audit_stale",
    "audit_trace",
    "audit_verify",
    "audit_verify_all",
    "disable_principal",
    "init_service_key",
    "list_principals",
    "open_governed",
    "open_service",
    "record_restatements",
]


@contextmanager
def open_service(
    settings: Settings,
    *,
    read_only: bool,
    policy_path: Path | str | None = None,
    registry: PolicyRegistry | None = None,
) -> Iterator[GovernanceService]:
    """A :class:`GovernanceService` for the configured workspace and tenant."""
    with open_engine(settings, read_only=read_only) as engine:
        require_head(engine)
        store = open_settings_store(settings)
        if read_only:  # reads need no key (a broken key file must not stop `promotion list`)
            yield GovernanceService(
                engine, store, tenant_id=settings.tenant, policy=None, service_key=None
            )
            return
        policy = _policy_set(engine, store, settings.tenant, policy_path, registry)
        yield GovernanceService(engine, store, tenant_id=settings.tenant, policy=policy)


def _policy_config(
    engine: Engine, store: ArtifactStore | None, tenant: str, policy_path: Path | str | None
) -> PolicyConfig:
    """``--policy`` when given, else the tenant's own policy, else the packaged default."""
    if policy_path is not None:
        return load_policy_config(policy_path)
    with engine.connect() as connection:
        own = tenant_policy_config(connection, store, tenant)
    return own if own is not None else load_policy_config(None)


def _policy_set(
    engine: Engine,
    store: ArtifactStore | None,
    tenant: str,
    policy_path: Path | str | None,
    registry: PolicyRegistry | None,
) -> PolicySet:
    return build_policy_set(_policy_config(engine, store, tenant, policy_path), registry)


@contextmanager
def open_governed(
    settings: Settings,
    *,
    token: str | None,
    actor: str | None = None,
    policy_path: Path | str | None = None,
    registry: PolicyRegistry | None = None,
) -> Iterator[tuple[GovernanceService, Principal]]:
    """A writable service and the principal acting through it (refused before anything runs)."""
    with open_service(
        settings, read_only=False, policy_path=policy_path, registry=registry
    ) as service:
        with service.engine.connect() as connection:
            principal = principal_store.resolve_actor(
                connection, settings.tenant, token=token, declared=actor, os_account=os_account_name
            )
        yield service, principal


def record_restatements(settings: Settings, *, token: str | None) -> list[EventRecord]:
    """After market data was written: record each new restatement on the candidates it affects.

    Authenticates only when some candidate is stale, so ingest into a workspace without
    candidates (or without restatements) needs no principal.
    """
    with open_service(settings, read_only=True) as reader:
        if not any(item.stale for item in reader.staleness()):
            return []
    with open_governed(settings, token=token) as (service, principal):
        return service.record_restatements(actor=principal)


def add_principal(
    settings: Settings, name: str, role: str, *, token: str | None, display_name: str | None = None
) -> principal_store.IssuedKey:
    """``principals add``: register a principal and issue its token (shown once)."""
    with open_engine(settings, read_only=False) as engine:
        require_head(engine)
        return principal_store.register_principal(
            engine, settings.tenant, name, role, token=token, display_name=display_name
        )


def disable_principal(
    settings: Settings, name: str, *, token: str | None
) -> principal_store.PrincipalRow:
    """``principals disable``: disable a principal and revoke its keys."""
    with open_engine(settings, read_only=False) as engine:
        require_head(engine)
        return principal_store.disable_principal(engine, settings.tenant, name, token=token)


def list_principals(settings: Settings) -> list[principal_store.PrincipalRow]:
    """``principals list`` (read-only)."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return principal_store.list_principals(engine, settings.tenant)


def audit_trace(settings: Settings, candidate_id: str) -> dict[str, Any]:
    """``audit trace``: the candidate's full record, from the database alone (read-only)."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return trace_candidate(engine, settings.tenant, candidate_id)


def audit_verify(
    settings: Settings,
    *,
    policy_path: Path | str | None = None,
    checkpoints: int | None = None,
) -> VerifyReport:
    """``audit verify``: every audit check for the configured tenant (read-only).

    The policy file says whether stale results fail the audit (``on_restatement``);
    ``checkpoints`` limits the checkpoint check to the newest N (default: all).
    """
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        store = open_settings_store(settings)
        history = _policy_config(engine, store, settings.tenant, policy_path).history
        return verify_workspace(
            engine,
            store,
            settings.tenant,
            on_restatement=history.on_restatement,
            checkpoints=checkpoints,
        )


def audit_verify_all(
    settings: Settings,
    *,
    policy_path: Path | str | None = None,
    checkpoints: int | None = None,
) -> dict[str, VerifyReport]:
    """``audit verify --all-tenants``: :func:`audit_verify` for every tenant the database knows.

    The tenants are listed on the owner/migration URL (admin work); each tenant is then verified
    on the application URL as that tenant, exactly as ``audit verify --tenant T`` would.
    """
    with open_engine(settings, read_only=True, admin=True) as engine:
        require_head(engine)
        with engine.connect() as connection:
            tenant_ids = known_tenant_ids(connection)
    return {
        tenant: audit_verify(
            settings.model_copy(update={"tenant": tenant}),
            policy_path=policy_path,
            checkpoints=checkpoints,
        )
        for tenant in tenant_ids
    }


def audit_checkpoint(settings: Settings) -> Checkpoint:
    """``audit checkpoint``: sign the tenant's current chain heads into the artifact store."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return checkpoint_now(
            engine, open_settings_store(settings), settings.tenant, engine_key(engine)
        )


def init_service_key(settings: Settings, path: Path | str | None = None) -> ServiceKey:
    """``keys init-service``: a new service key at ``path``, else where the workspace looks.

    Where it looks: the file named by ``CRYPTO_ANALYZER_SERVICE_KEY_FILE``, else (SQLite) next to
    the database. A PostgreSQL workspace has no default place: pass a path on the service host.
    """
    target = Path(path) if path is not None else key_location(settings.db_url).path
    if target is None:
        raise ConfigError(
            "this database has no default place for a service key (only a SQLite workspace has "
            "one, next to its file)",
            "pass --path on the service host and set CRYPTO_ANALYZER_SERVICE_KEY_FILE to it",
        )
    return create_service_key(target)


def audit_stale(settings: Settings) -> list[Staleness]:
    """``audit stale``: candidate and accepted results and what was restated under each."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        with engine.connect() as connection:
            return stale_candidates(connection, settings.tenant, statuses=("candidate", "accepted"))
