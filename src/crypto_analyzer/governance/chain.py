"""The tamper-evident governance event log: one hash chain per tenant.

Each event stores ``prev_hash`` (the hash of the event before it in the tenant's chain, or
:data:`GENESIS_HASH` for ``seq`` 0) and ``hash = SHA-256(prev_hash ‖ canonical JSON of the event)``,
where the event is every stored column except the two hashes. Changing any field, deleting or
reordering events therefore breaks a link that :func:`verify_chain` recomputes from the rows alone.
The chain alone cannot stop a writer with INSERT rights from computing the next link of a forgery,
so each event also stores a MAC of its hash made with the service key (``mac``, ``mac_key_id``;
``db.record_keys``), which nobody with only database rights can make.

Appends must serialise on the chain head, or two writers would both extend ``seq`` N and fork the
chain. :func:`governed_transaction` takes that lock before anything is read: on SQLite by opening
the transaction with ``BEGIN IMMEDIATE`` (the database write lock), on PostgreSQL with a per-tenant
advisory transaction lock — the same lock the ``governance_events`` insert trigger takes, so even a
writer that bypasses this module queues behind it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.hash_chain import verify_links
from crypto_analyzer.core.hashing import GENESIS_HASH, chained_sha256, sha256_json
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.locks import locked_transaction
from crypto_analyzer.db.record_keys import EVENT_MAC, seal
from crypto_analyzer.db.schema import governance_events
from crypto_analyzer.governance.records import EventRecord

__all__ = [
    "CHAIN_LOCK_PREFIX",
    "GENESIS_HASH",
    "NewEvent",
    "append_event",
    "chain_head",
    "event_hash",
    "governed_transaction",
    "verify_chain",
]


CHAIN_LOCK_PREFIX = "crypto_analyzer.governance_events:"
"""Advisory-lock key prefix; revision 0002's insert trigger uses the same text."""

_HASHED_FIELDS = (
    "actor",
    "candidate_id",
    "created_at",
    "event_id",
    "event_type",
    "from_status",
    "payload_json",
    "report_id",
    "seq",
    "tenant_id",
    "to_status",
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """What a governed action wants to record; the chain adds id, seq, time and hashes."""

    candidate_id: str | None
    event_type: str
    actor: str
    payload: Mapping[str, Any]
    from_status: str | None = None
    to_status: str | None = None
    report_id: str | None = None


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    """``SHA-256(prev_hash ‖ canonical JSON of the hashed fields)`` as 64 hex characters."""
    body = {name: event[name] for name in _HASHED_FIELDS}
    body["seq"] = int(body["seq"])
    return chained_sha256(prev_hash, body)


@contextmanager
def governed_transaction(engine: Engine, tenant_id: str) -> Iterator[Connection]:
    """One transaction that holds the tenant's chain lock from its first statement to commit.

    Commits when the block ends normally; rolls everything back when it raises, so a governed
    action writes all of its rows or none.
    """
    with locked_transaction(engine, CHAIN_LOCK_PREFIX + tenant_id) as connection:
        yield connection


def chain_head(connection: Connection, tenant_id: str) -> tuple[int, str] | None:
    """(seq, hash) of the tenant's newest event, or ``None`` for an empty chain."""
    row = connection.execute(
        sa.select(governance_events.c.seq, governance_events.c.hash)
        .where(governance_events.c.tenant_id == tenant_id)
        .order_by(governance_events.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def append_event(
    connection: Connection,
    tenant_id: str,
    event: NewEvent,
    *,
    created_at: str,
    key: ServiceKey | None,
) -> EventRecord:
    """Append ``event`` to the tenant chain. Call inside :func:`governed_transaction`.

    ``key`` MACs the event (``None`` only where the caller established that the tenant is a
    sandbox: :func:`~crypto_analyzer.db.record_keys.writer_key`).
    """
    head = chain_head(connection, tenant_id)
    seq = 0 if head is None else head[0] + 1
    prev_hash = GENESIS_HASH if head is None else head[1]
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "event_id": "evt_" + sha256_json({"seq": seq, "tenant_id": tenant_id})[:16],
        "seq": seq,
        "candidate_id": event.candidate_id,
        "event_type": event.event_type,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "report_id": event.report_id,
        "actor": event.actor,
        "payload_json": canonical_dumps(dict(event.payload)),
        "created_at": created_at,
        "prev_hash": prev_hash,
    }
    values["hash"] = event_hash(prev_hash, values)
    values.update(seal(key, EVENT_MAC, {"hash": values["hash"]}))
    connection.execute(governance_events.insert().values(**values))
    return EventRecord.from_row(values)


def verify_chain(events: Sequence[EventRecord]) -> list[str]:
    """Findings for one tenant's events in ``seq`` order; empty when the chain is intact.

    Checks that ``seq`` runs 0, 1, 2… without gaps or repeats, that each ``prev_hash`` is the
    previous event's ``hash`` (genesis for the first), and that each ``hash`` is recomputed exactly.
    """
    return verify_links(
        events,
        recompute=lambda event: event_hash(event.prev_hash, _as_mapping(event)),
        label=lambda event: f"event {event.event_id} (seq {event.seq})",
        what="event",
    )


def _as_mapping(event: EventRecord) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _HASHED_FIELDS}
