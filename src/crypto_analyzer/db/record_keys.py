"""Which service key keys a governed write, and the rule that a governed tenant must have one.

Every writer of a keyed table (governance events, eligibility reports, the trial ledger) asks
:func:`writer_key` inside its transaction: in a governed tenant a missing key refuses the write
before anything is written (fail closed), in a sandbox the row is written with ``mac`` NULL, which
``audit verify`` reports as a warning. :func:`engine_key` turns the default
:data:`KEY_FROM_ENVIRONMENT` into the workspace's key (``core.service_key``), so callers that pass
nothing get exactly what the CLI would use.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.service_key import ServiceKey, key_location, resolve_service_key
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode

__all__ = [
    "EVENT_MAC",
    "KEY_FROM_ENVIRONMENT",
    "REPORT_MAC",
    "SIGNING_KEY_MAC",
    "TRIAL_MAC",
    "KeyArgument",
    "engine_key",
    "seal",
    "writer_key",
]

EVENT_MAC: Final = "governance_event"
REPORT_MAC: Final = "eligibility_report"
TRIAL_MAC: Final = "trial_ledger"
SIGNING_KEY_MAC: Final = "signing_key"
"""MAC domains: a MAC of one kind never verifies as another."""


class _FromEnvironment:
    def __repr__(self) -> str:
        return "KEY_FROM_ENVIRONMENT"


KEY_FROM_ENVIRONMENT: Final = _FromEnvironment()
"""Default of every ``service_key`` argument: the key the environment configures for the engine's
database (``CRYPTO_ANALYZER_SERVICE_KEY_FILE``, else next to a SQLite file), or none."""

KeyArgument = ServiceKey | None | _FromEnvironment


def engine_key(engine: Engine, key: KeyArgument = KEY_FROM_ENVIRONMENT) -> ServiceKey | None:
    """``key`` itself, or the configured key of ``engine``'s database for the default."""
    if isinstance(key, _FromEnvironment):
        return resolve_service_key(engine.url)
    return key


def writer_key(
    connection: Connection, tenant_id: str, key: ServiceKey | None, *, what: str
) -> ServiceKey | None:
    """The key to MAC ``what`` with; refuses a governed write without one (call before writing)."""
    if key is not None or read_mode(connection, tenant_id) is WorkspaceMode.SANDBOX:
        return key
    where = key_location(connection.engine.url).describe()
    raise ConfigError(
        f"{what} in governed tenant {tenant_id!r} must be keyed with the service key, and none is "
        f"configured (looked for it: {where}); nothing was written",
        "create one with `crypto-analyzer keys init-service` on the service host and set "
        "CRYPTO_ANALYZER_SERVICE_KEY_FILE to it",
    )


def seal(key: ServiceKey | None, kind: str, body: Any) -> dict[str, str | None]:
    """``{"mac": …, "mac_key_id": …}`` for a row (both None without a key)."""
    if key is None:
        return {"mac": None, "mac_key_id": None}
    return {"mac": key.mac(kind, body), "mac_key_id": key.key_id}
