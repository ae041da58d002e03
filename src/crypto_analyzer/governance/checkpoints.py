"""Chain-head checkpoints: the database's heads, signed with the service key, kept outside it.

Why it exists (DESIGN §3 invariant 12). MACs stop forged rows, but not lost ones: someone with
owner rights can drop the triggers, delete the newest events (an acceptance), restore the
triggers, and every remaining row still verifies; on SQLite, deleting or corrupting the ``-wal``
file silently drops transactions that were committed but not yet copied into the database file.
So after every governed transaction the service writes a checkpoint to the artifact store —
create-only, under ``checkpoints/<tenant>/<time>-<events seq>-<digest16>.json`` — recording the
tenant's event-chain head (seq, hash), trial-ledger head (size, hash) and market watermark, MACed
with the service key. ``audit verify`` then demands that every checkpointed head is still in the
database at its seq with its hash, names the checkpoint that shows a truncated or rewritten
history, and reports heads that no checkpoint covers.

Order after a commit (:func:`anchor`): on SQLite first ``PRAGMA wal_checkpoint(TRUNCATE)`` — the
commit is then in the main database file and an empty WAL has nothing to lose — then the store
checkpoint. Neither can undo the commit: a failure is logged as a warning (stderr in the CLI) and
returned, and the next ``audit verify`` reports the head as not checkpointed until
``crypto-analyzer audit checkpoint`` writes one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.clock import governed_now, now, to_iso
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.hashing import GENESIS_HASH, sha256_json
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.engine import BUSY_TIMEOUT_MS
from crypto_analyzer.db.market_history import current_watermark
from crypto_analyzer.db.schema import governance_events
from crypto_analyzer.db.trial_ledger import ledger_head
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode

__all__ = [
    "CHECKPOINT_MAC",
    "CHECKPOINT_PREFIX",
    "Checkpoint",
    "Heads",
    "anchor",
    "checkpoint_key",
    "checkpoint_now",
    "checkpoint_wal",
    "read_heads",
    "write_checkpoint",
]

CHECKPOINT_PREFIX = "checkpoints"
CHECKPOINT_MAC = "checkpoint"
CHECKPOINT_FORMAT = 1
WAL_CHECKPOINT_TIMEOUT_MS = 2_000
"""How long the post-commit WAL checkpoint waits for readers before giving up (and warning)."""
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Heads:
    """Where a tenant's chains end: events head (``seq`` None when empty), ledger head, market."""

    events_seq: int | None
    events_hash: str
    ledger_size: int
    ledger_hash: str
    market_watermark: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": {"hash": self.events_hash, "seq": self.events_seq},
            "ledger": {"hash": self.ledger_hash, "size": self.ledger_size},
            "market_watermark": self.market_watermark,
        }


def read_heads(connection: Connection, tenant_id: str) -> Heads:
    """The tenant's current heads."""
    row = connection.execute(
        sa.select(governance_events.c.seq, governance_events.c.hash)
        .where(governance_events.c.tenant_id == tenant_id)
        .order_by(governance_events.c.seq.desc())
        .limit(1)
    ).first()
    ledger = ledger_head(connection, tenant_id)
    return Heads(
        events_seq=None if row is None else int(row[0]),
        events_hash=GENESIS_HASH if row is None else str(row[1]),
        ledger_size=ledger.size,
        ledger_hash=ledger.hash,
        market_watermark=current_watermark(connection, tenant_id),
    )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint as written: its store key and the signed document."""

    key: str
    tenant_id: str
    heads: Heads
    created_at: str
    key_id: str
    mac: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.heads.to_dict(),
            "created_at": self.created_at,
            "key": self.key,
            "key_id": self.key_id,
            "mac": self.mac,
            "tenant_id": self.tenant_id,
        }


def checkpoint_key(tenant_id: str, created_at: str, events_seq: int | None, digest: str) -> str:
    """``checkpoints/<tenant>/<compact UTC time>-<events seq>-<digest16>.json``."""
    compact = created_at.replace("-", "").replace(":", "")
    seq = "none" if events_seq is None else str(events_seq)
    return f"{CHECKPOINT_PREFIX}/{tenant_id}/{compact}-{seq}-{digest[:16]}.json"


def checkpoint_body(tenant_id: str, heads: Heads, created_at: str, key_id: str) -> dict[str, Any]:
    """Everything a checkpoint records except its MAC (what the MAC covers)."""
    return {
        **heads.to_dict(),
        "created_at": created_at,
        "format": CHECKPOINT_FORMAT,
        "key_id": key_id,
        "tenant_id": tenant_id,
    }


def write_checkpoint(
    store: ArtifactStore, key: ServiceKey, tenant_id: str, heads: Heads, *, created_at: str
) -> Checkpoint:
    """Sign ``heads`` and store them (create-only; identical content is written once)."""
    body = checkpoint_body(tenant_id, heads, created_at, key.key_id)
    mac = key.mac(CHECKPOINT_MAC, body)
    location = checkpoint_key(tenant_id, created_at, heads.events_seq, sha256_json(body))
    store.put(location, canonical_bytes({**body, "mac": mac}))
    return Checkpoint(location, tenant_id, heads, created_at, key.key_id, mac)


def _stamp(connection: Connection, tenant_id: str) -> str:
    mode = read_mode(connection, tenant_id)
    return to_iso(now() if mode is WorkspaceMode.SANDBOX else governed_now())


def checkpoint_now(
    engine: Engine, store: ArtifactStore | None, tenant_id: str, key: ServiceKey | None
) -> Checkpoint:
    """Write a checkpoint of the current heads (``audit checkpoint``); errors are raised."""
    if key is None:
        raise ConfigError(
            "a checkpoint is signed with the service key, and none is configured",
            "set CRYPTO_ANALYZER_SERVICE_KEY_FILE (or create one: `crypto-analyzer keys "
            "init-service`)",
        )
    if store is None:
        raise ConfigError(
            "checkpoints live in the artifact store, and none is configured",
            "set CRYPTO_ANALYZER_ARTIFACTS",
        )
    with engine.connect() as connection:
        heads = read_heads(connection, tenant_id)
        stamp = _stamp(connection, tenant_id)
    return write_checkpoint(store, key, tenant_id, heads, created_at=stamp)


def checkpoint_wal(engine: Engine) -> str | None:
    """On SQLite, copy the WAL into the database file and truncate it; why not, or None."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={WAL_CHECKPOINT_TIMEOUT_MS}")
        try:
            busy, log, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if busy:
        return (
            f"the SQLite WAL could not be checkpointed ({max(0, log - copied)} of {log} frames "
            "still only in the -wal file; another connection is reading); the next governed "
            "commit retries"
        )
    return None


def anchor(
    engine: Engine, store: ArtifactStore | None, tenant_id: str, key: ServiceKey | None
) -> list[str]:
    """After a governed commit: checkpoint the WAL, then write a store checkpoint.

    Never raises for what it could not do — the transaction is committed and stays so — but logs
    each problem as a warning and returns them. Without a key (a sandbox) nothing is signed.
    """
    problems: list[str] = []
    try:
        problem = checkpoint_wal(engine)
    except sa.exc.DBAPIError as exc:
        problem = f"the SQLite WAL checkpoint failed: {exc.orig}"
    if problem is not None:
        problems.append(problem)
    if key is not None:
        try:
            written = checkpoint_now(engine, store, tenant_id, key)
        except Exception as exc:  # the commit stands; the missing checkpoint is an audit finding
            problems.append(
                f"the chain-head checkpoint was not written ({type(exc).__name__}: {exc}); "
                "`crypto-analyzer audit verify` reports the head as not checkpointed until "
                "`crypto-analyzer audit checkpoint` writes one"
            )
        else:
            _LOG.debug("checkpoint %s written", written.key)
    for problem in problems:
        _LOG.warning("%s", problem)
    return problems
