"""Opening the governance service from settings, for the CLI, the API and notebooks alike.

One function builds the service from a :class:`Settings`, so every interface resolves the database,
the artifact store, the tenant and the policy the same way. Reads open a read-only engine and load
no policy; writes open a writable engine, require the schema at head (the triggers of revision
0002 must exist before anything is governed) and load the policy set.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crypto_analyzer.artifacts import open_settings_store
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance.audit import VerifyReport, trace_candidate, verify_workspace
from crypto_analyzer.governance.policy import PolicyRegistry, load_policy_set
from crypto_analyzer.governance.service import GovernanceService

__all__ = ["audit_trace", "audit_verify", "default_actor", "open_service"]


def default_actor(settings: Settings | None = None) -> str:
    """The principal to record when none is given: a configured actor, else the OS user."""
    configured = getattr(settings, "actor", None) if settings is not None else None
    if isinstance(configured, str) and configured.strip():
        return configured.strip()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    if not user or not user.strip():
        raise ConfigError(
            "cannot tell who is acting: the OS user name is unavailable", "pass --actor NAME"
        )
    return user.strip()


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
        policy = None if read_only else load_policy_set(policy_path, registry)
        yield GovernanceService(engine, store, tenant_id=settings.tenant, policy=policy)


def audit_trace(settings: Settings, candidate_id: str) -> dict[str, Any]:
    """``audit trace``: the candidate's full record, from the database alone (read-only)."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return trace_candidate(engine, settings.tenant, candidate_id)


def audit_verify(settings: Settings) -> VerifyReport:
    """``audit verify``: every audit check for the configured tenant (read-only)."""
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        return verify_workspace(engine, open_settings_store(settings), settings.tenant)
