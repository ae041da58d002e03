"""Checking the database against the chain-head checkpoints in the artifact store.

Every checkpoint file of the tenant (or the newest ``limit`` of them: each costs one store read)
is read and its MAC checked with the service key; a file that does not parse, is not signed by the
service key, or is named for other content is a finding. Each valid checkpoint's heads must still
be in the database: the event at its ``seq`` with its hash, the trial at ``size - 1`` with its
hash, and a market watermark at least as high. Otherwise the history was truncated (the row is
gone: rolled back, deleted, a SQLite WAL dropped) or rewritten (the row is there with another
hash), and the finding names the checkpoint. Heads beyond the newest checkpoint are reported too:
they are what a checkpoint failure after a commit leaves, and what rows written around the service
look like. Checking the newest valid checkpoint would be enough to detect any rewrite of what it
covers (each hash commits to the whole chain before it); checking all of them names the earliest
checkpoint a rewrite contradicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_loads
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.schema import governance_events, trial_ledger
from crypto_analyzer.db.trial_ledger import TrialRecord
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance.checkpoints import (
    CHECKPOINT_MAC,
    CHECKPOINT_PREFIX,
    checkpoint_key,
    read_heads,
)
from crypto_analyzer.governance.records import EventRecord

__all__ = ["CheckpointAudit", "audit_checkpoints", "checkpoint_keys", "latest_checkpoint_check"]


@dataclass(slots=True)
class CheckpointAudit:
    """Findings and warnings of the checkpoint check; ``newest`` is the newest valid checkpoint."""

    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0
    newest: dict[str, Any] | None = None


def _order(key: str) -> tuple[int, str] | None:
    """(events seq, time) parsed from a checkpoint file name, or None when it is not one."""
    name = key.rsplit("/", 1)[-1]
    parts = name.removesuffix(".json").split("-")
    if not name.endswith(".json") or len(parts) != 3:
        return None
    stamp, seq, _ = parts
    if seq == "none":
        return (-1, stamp)
    return (int(seq), stamp) if seq.isdigit() else None


def checkpoint_keys(store: ArtifactStore, tenant_id: str) -> tuple[list[str], list[str]]:
    """(checkpoint keys oldest → newest by events seq then time, other files in the folder)."""
    keys = store.list(f"{CHECKPOINT_PREFIX}/{tenant_id}/")
    named = sorted((order, key) for key in keys if (order := _order(key)) is not None)
    return [key for _, key in named], [key for key in keys if _order(key) is None]


def _document(store: ArtifactStore, key: str, tenant_id: str, service_key: ServiceKey) -> dict:
    """The checkpoint at ``key`` once it parses, is the tenant's, signed and named for itself."""
    data = store.get(key)
    document = canonical_loads(data.decode("utf-8"))
    if not isinstance(document, dict):
        raise ValueError("it is not a JSON object")
    body = {name: value for name, value in document.items() if name != "mac"}
    if document.get("tenant_id") != tenant_id:
        raise ValueError(f"it is a checkpoint of tenant {document.get('tenant_id')!r}")
    if document.get("key_id") != service_key.key_id:
        raise ValueError(
            f"it was signed with key {document.get('key_id')!r}, not the configured service key "
            f"{service_key.key_id!r}"
        )
    if not service_key.check(CHECKPOINT_MAC, body, document.get("mac")):
        raise ValueError("its MAC does not match: it was not written with the service key")
    events, ledger = document["events"], document["ledger"]
    shapes = (
        isinstance(events["seq"], int | None),
        isinstance(events["hash"], str),
        isinstance(ledger["size"], int),
        isinstance(ledger["hash"], str),
        isinstance(document["market_watermark"], int),
        isinstance(document["created_at"], str),
    )
    if not all(shapes):
        raise ValueError("a head, the watermark or the time has the wrong type")
    expected = checkpoint_key(tenant_id, document["created_at"], events["seq"], sha256_json(body))
    if expected != key:
        raise ValueError(f"its content belongs under {expected}")
    return document


def _against_database(
    audit: CheckpointAudit,
    key: str,
    document: dict[str, Any],
    events: dict[int, str],
    trials: dict[int, str],
    watermark: int,
) -> None:
    label = f"checkpoint {key} (written {document['created_at']})"
    seq, head = document["events"]["seq"], document["events"]["hash"]
    if seq is not None:
        found = events.get(seq)
        newest = max(events, default=None)
        if found is None:
            audit.findings.append(
                f"{label} records event seq {seq} with hash {head[:16]}…, but the database has "
                f"no event at seq {seq} (its newest is {newest}): governance history committed "
                "before the checkpoint was lost — deleted, rolled back, or a SQLite WAL dropped"
            )
        elif found != head:
            audit.findings.append(
                f"{label} records event seq {seq} with hash {head[:16]}…, the database has "
                f"{found[:16]}… there: the event history up to seq {seq} was rewritten"
            )
    size, ledger_hash = document["ledger"]["size"], document["ledger"]["hash"]
    if size > 0:
        found = trials.get(size - 1)
        if found is None:
            audit.findings.append(
                f"{label} records a trial ledger of {size} row(s), but the database has no "
                f"trial at seq {size - 1}: trials recorded before the checkpoint were lost"
            )
        elif found != ledger_hash:
            audit.findings.append(
                f"{label} records trial seq {size - 1} with hash {ledger_hash[:16]}…, the "
                f"database has {found[:16]}… there: the trial ledger was rewritten"
            )
    if watermark < document["market_watermark"]:
        audit.findings.append(
            f"{label} records market watermark {document['market_watermark']}, the database's "
            f"is {watermark}: market revisions committed before the checkpoint were lost"
        )


def _coverage(
    audit: CheckpointAudit,
    mode: WorkspaceMode,
    valid: Sequence[dict[str, Any]],
    events: Sequence[EventRecord],
    trials: Sequence[TrialRecord],
) -> None:
    """Heads newer than every checkpoint: findings in a governed tenant, warnings in a sandbox."""
    report = audit.warnings if mode is WorkspaceMode.SANDBOX else audit.findings
    covered_seq = max(
        (doc["events"]["seq"] for doc in valid if doc["events"]["seq"] is not None), default=-1
    )
    covered_size = max((doc["ledger"]["size"] for doc in valid), default=0)
    hint = (
        "the checkpoint after a governed write was not written (see the warning it printed), or "
        "the rows were added around the service; once they are verified, run `crypto-analyzer "
        "audit checkpoint`"
    )
    if events and events[-1].seq > covered_seq:
        newest = f"the newest ends at {covered_seq}" if covered_seq >= 0 else "none covers any"
        report.append(
            f"events seq {covered_seq + 1}–{events[-1].seq} are not covered by any checkpoint "
            f"({newest}): {hint}"
        )
    if trials and len(trials) > covered_size:
        report.append(
            f"trial-ledger rows seq {covered_size}–{len(trials) - 1} are not covered by any "
            f"checkpoint: {hint}"
        )


def audit_checkpoints(
    store: ArtifactStore | None,
    service_key: ServiceKey | None,
    tenant_id: str,
    mode: WorkspaceMode,
    events: Sequence[EventRecord],
    trials: Sequence[TrialRecord],
    watermark: int,
    *,
    limit: int | None = None,
) -> CheckpointAudit:
    """Compare the database with the tenant's checkpoints (all, or the newest ``limit``)."""
    audit = CheckpointAudit()
    soft = audit.warnings if mode is WorkspaceMode.SANDBOX else audit.findings
    history = bool(events or trials)
    if store is None:
        if history:
            soft.append("no artifact store is configured, so the chain heads cannot be checked")
        return audit
    try:
        keys, strays = checkpoint_keys(store, tenant_id)
    except Exception as exc:  # a store that cannot list is a finding, never a crash
        audit.findings.append(f"the checkpoints cannot be listed: {type(exc).__name__}: {exc}")
        return audit
    if not history and not keys and not strays:
        return audit  # nothing written yet, nothing anchored: an empty workspace
    if service_key is None:  # an emptied database with checkpoints left is not "nothing"
        soft.append("no service key is configured, so the checkpoints cannot be verified")
        return audit
    for stray in strays:
        audit.findings.append(f"{stray} is in the checkpoint folder but is not a checkpoint")
    if limit is not None:
        keys = keys[-limit:] if limit > 0 else []
    by_seq = {event.seq: event.hash for event in events}
    by_trial = {trial.seq: trial.hash for trial in trials}
    valid: list[dict[str, Any]] = []
    for key in keys:
        audit.checked += 1
        try:
            document = _document(store, key, tenant_id, service_key)
        except (CanonicalJSONError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            audit.findings.append(f"checkpoint {key} is not a valid checkpoint: {exc}")
            continue
        except Exception as exc:
            audit.findings.append(f"checkpoint {key} cannot be read: {type(exc).__name__}: {exc}")
            continue
        valid.append(document)
        _against_database(audit, key, document, by_seq, by_trial, watermark)
    if valid:
        audit.newest = valid[-1]
    _coverage(audit, mode, valid, events, trials)
    return audit


def _hash_at(connection: Connection, table: sa.Table, tenant_id: str, seq: int) -> str | None:
    return connection.execute(
        sa.select(table.c.hash).where(table.c.tenant_id == tenant_id, table.c.seq == seq)
    ).scalar_one_or_none()


def latest_checkpoint_check(
    connection: Connection,
    store: ArtifactStore,
    tenant_id: str,
    service_key: ServiceKey | None,
    mode: WorkspaceMode,
) -> tuple[bool, str]:
    """``doctor``: (ok, detail) for the newest checkpoint — valid, present in the database, and
    covering the current heads. Cheap: one store listing and one read."""
    heads = read_heads(connection, tenant_id)
    try:
        keys, _ = checkpoint_keys(store, tenant_id)
    except Exception as exc:  # doctor reports, never crashes
        return False, f"the checkpoints cannot be listed: {type(exc).__name__}: {exc}"
    if heads.events_seq is None and heads.ledger_size == 0 and not keys:
        return True, "nothing to anchor yet (no events, no trials)"
    if service_key is None:
        sandbox = mode is WorkspaceMode.SANDBOX
        return sandbox, "no service key, so the heads are not anchored" + (
            " (sandbox)" if sandbox else "; see the service key check"
        )
    try:
        if not keys:
            return False, "no checkpoint in the artifact store although the tenant has history"
        newest = keys[-1]
        document = _document(store, newest, tenant_id, service_key)
    except Exception as exc:  # doctor reports, never crashes
        return False, f"the newest checkpoint cannot be verified: {type(exc).__name__}: {exc}"
    seq, size = document["events"]["seq"], document["ledger"]["size"]
    event_hash = None if seq is None else _hash_at(connection, governance_events, tenant_id, seq)
    if seq is not None and event_hash != document["events"]["hash"]:
        return False, f"{newest}: the event at seq {seq} is gone or rewritten (run audit verify)"
    trial_hash = _hash_at(connection, trial_ledger, tenant_id, size - 1) if size else None
    if size and trial_hash != document["ledger"]["hash"]:
        return False, f"{newest}: trial seq {size - 1} is gone or rewritten (run audit verify)"
    if (heads.events_seq, heads.ledger_size) != (seq, size):
        return False, (
            f"{newest} covers events to seq {seq} and {size} trial(s); the database has events to "
            f"seq {heads.events_seq} and {heads.ledger_size} trial(s): run `crypto-analyzer audit "
            "verify`, then `crypto-analyzer audit checkpoint`"
        )
    return True, f"{newest} matches the database (events to seq {seq}, {size} trial(s))"
