"""Audit of the service-key MACs on governance events, eligibility reports and trial-ledger rows.

Each keyed row carries ``mac`` and ``mac_key_id`` (``db.record_keys``). A row that someone with only
database rights wrote or changed has no MAC, a MAC that does not match, or — if they used a key of
their own — a MAC made with a key that is not the service key. Each such row is a finding that
names it. In a sandbox, rows written without a key are expected and only warned about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.record_keys import EVENT_MAC, REPORT_MAC, TRIAL_MAC
from crypto_analyzer.db.trial_ledger import TrialRecord
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance.records import EventRecord, ReportRecord

__all__ = ["MacAudit", "audit_macs"]


@dataclass(slots=True)
class MacAudit:
    """Findings (rows that fail) and warnings (sandbox rows written without a key)."""

    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0


def _check(
    audit: MacAudit,
    key: ServiceKey | None,
    mode: WorkspaceMode,
    rows: Iterable[Any],
    *,
    kind: str,
    label: Callable[[Any], str],
    body: Callable[[Any], Any],
) -> None:
    for row in rows:
        audit.checked += 1
        name = label(row)
        if row.mac is None:
            if mode is WorkspaceMode.SANDBOX:
                audit.warnings.append(f"{name} was written without the service key (sandbox)")
            else:
                audit.findings.append(
                    f"{name} has no MAC: the service did not write it with the service key "
                    "(it predates revision 0010, or it was inserted directly into the database)"
                )
            continue
        if key is None:
            continue
        if row.mac_key_id != key.key_id:
            audit.findings.append(
                f"{name}: MAC made with key {row.mac_key_id!r}, not with the configured service "
                f"key {key.key_id!r}"
            )
        elif not key.check(kind, body(row), row.mac):
            audit.findings.append(
                f"{name}: MAC does not match the row — it was forged or changed without the "
                "service key"
            )


def audit_macs(
    key: ServiceKey | None,
    mode: WorkspaceMode,
    events: Sequence[EventRecord],
    reports: Sequence[ReportRecord],
    trials: Sequence[TrialRecord],
) -> MacAudit:
    """Check every row's MAC with ``key`` (``None``: only missing MACs can be told)."""
    audit = MacAudit()
    keyed = sum(sum(1 for row in rows if row.mac is not None) for rows in (events, reports, trials))
    if key is None and keyed:
        message = (
            f"no service key is configured, so the MACs of {keyed} row(s) cannot be checked "
            "(set CRYPTO_ANALYZER_SERVICE_KEY_FILE to the key the service writes with)"
        )
        (audit.warnings if mode is WorkspaceMode.SANDBOX else audit.findings).append(message)
    _check(
        audit,
        key,
        mode,
        events,
        kind=EVENT_MAC,
        label=lambda e: f"event {e.event_id} (seq {e.seq}, {e.event_type} of {e.candidate_id})",
        body=lambda e: {"hash": e.hash},
    )
    _check(
        audit,
        key,
        mode,
        reports,
        kind=REPORT_MAC,
        label=lambda r: f"report {r.report_id} of candidate {r.candidate_id}",
        body=lambda r: r.mac_body,
    )
    _check(
        audit,
        key,
        mode,
        trials,
        kind=TRIAL_MAC,
        label=lambda t: f"trial {t.trial_id} (seq {t.seq})",
        body=lambda t: {"hash": t.hash},
    )
    return audit
