"""Replaying the state machine: every status must be the result of its candidate's events.

``audit verify`` walks each candidate's events in chain order through the state machine of
``governance.states`` — created, then evaluations and promotions backed by their reports, reviewer
rejections and revocations — and demands that the walk ends where the candidate row stands, linked
to the report of its last promotion. Every evaluation event must also say what its report says
(level, passed, policy digest, evidence digest, research-history digest, actor). A status set by
hand, or an event whose report was swapped or flipped, therefore shows even when each row on its
own looks well formed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.states import GENESIS_STATUS, REVIEW_TARGETS, can_transition

__all__ = ["AUDIT_FACTS", "replay_findings", "report_event_mismatches"]

AUDIT_FACTS: Mapping[str, str] = {
    "restated": "a restatement never does",
    "reproduced": "a reproduction never does",
}
"""Event types that record a fact about a candidate and never move its status (both statuses
NULL): market data restated under it, a re-execution of its run compared with the record."""


def _payload(event: EventRecord) -> dict[str, Any]:
    payload = event.payload
    return payload if isinstance(payload, dict) else {}


def report_event_mismatches(event: EventRecord, report: ReportRecord) -> list[str]:
    """What ``event`` records about its evaluation that its ``report`` does not say."""
    payload = _payload(event)
    history = payload.get("history")
    recorded_history = history.get("digest") if isinstance(history, dict) else None
    policy = payload.get("policy")
    policy_digest = policy.get("digest") if isinstance(policy, dict) else None
    pairs: list[tuple[str, Any, Any]] = [
        ("candidate", event.candidate_id, report.candidate_id),
        ("level", payload.get("level"), report.level),
        ("passed", payload.get("passed"), report.passed),
        ("policy digest", policy_digest, report.policy_digest),
        ("evidence digest", payload.get("evidence_digest") or "", report.evidence_digest),
        (
            "research-history digest",
            recorded_history,
            None if report.history is None else sha256_json(report.history),
        ),
        ("actor", event.actor, report.actor),
    ]
    return [
        f"{what} {_short(mine)} (report says {_short(theirs)})"
        for what, mine, theirs in pairs
        if mine != theirs
    ]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:20] + "…'"


def _walk(
    candidate: CandidateRecord, own: Sequence[EventRecord], reports: Mapping[str, ReportRecord]
) -> tuple[str | None, str | None, str | None, list[str]]:
    """(status, linked report, status reason, findings) after replaying ``own``."""
    findings: list[str] = []
    status: str | None = None
    linked: str | None = None
    reason: str | None = None
    for event in own:
        label = f"event {event.event_id} (seq {event.seq}, {event.event_type})"
        if event.event_type == "created":
            if status is not None:
                findings.append(f"{label} creates the candidate a second time")
            elif (event.from_status, event.to_status) != (None, GENESIS_STATUS):
                findings.append(f"{label} does not create it as {GENESIS_STATUS}")
            elif event.actor != candidate.created_by:
                findings.append(
                    f"{label} was made by {event.actor!r}, the row says created by "
                    f"{candidate.created_by!r}"
                )
            status = GENESIS_STATUS
            continue
        if status is None:
            findings.append(f"{label} comes before the candidate was created")
            status = GENESIS_STATUS
        if event.event_type in AUDIT_FACTS:
            if event.from_status is not None or event.to_status is not None:
                findings.append(f"{label} changes a status; {AUDIT_FACTS[event.event_type]}")
            continue
        if event.from_status != status:
            findings.append(f"{label} starts from {event.from_status}, the candidate was {status}")
        if event.event_type in ("evaluated", "promoted"):
            report = reports.get(event.report_id or "")
            if report is None:
                findings.append(f"{label} names report {event.report_id}, which does not exist")
                continue
            mismatches = report_event_mismatches(event, report)
            if mismatches:
                findings.append(
                    f"{label} disagrees with its report {report.report_id}: "
                    + "; ".join(mismatches)
                )
            if event.event_type == "promoted":
                if not (report.passed and event.to_status == report.level):
                    findings.append(
                        f"{label} moves to {event.to_status} on report {report.report_id} "
                        f"(level {report.level}, passed={report.passed})"
                    )
                elif not can_transition(status, report.level):
                    findings.append(f"{label}: {status} -> {report.level} is not an allowed edge")
                status, linked, reason = report.level, report.report_id, None
            elif event.to_status is not None:
                findings.append(f"{label} (an evaluation) changes the status to {event.to_status}")
            elif report.passed and report.level != status:
                findings.append(
                    f"{label}: report {report.report_id} passed level {report.level}, yet the "
                    f"candidate stayed {status}"
                )
        elif event.event_type in REVIEW_TARGETS:
            if status not in REVIEW_TARGETS[event.event_type] or event.to_status != (
                event.event_type
            ):
                findings.append(f"{label}: {status} -> {event.to_status} is not an allowed edge")
            status, reason = event.event_type, _payload(event).get("reason")
        else:
            findings.append(f"{label} is not an event type of the state machine")
    return status, linked, reason, findings


def replay_findings(
    candidates: Sequence[CandidateRecord],
    reports: Mapping[str, ReportRecord],
    events: Sequence[EventRecord],
) -> list[str]:
    """One message per disagreement between a candidate's row and the replay of its events."""
    by_candidate: dict[str, list[EventRecord]] = {}
    for event in events:
        if event.candidate_id is not None:
            by_candidate.setdefault(event.candidate_id, []).append(event)
    findings: list[str] = []
    for candidate in candidates:
        own = by_candidate.get(candidate.candidate_id, [])
        status, linked, reason, problems = _walk(candidate, own, reports)
        label = f"candidate {candidate.candidate_id}"
        findings.extend(f"{label}: {problem}" for problem in problems)
        if status != candidate.status:
            findings.append(
                f"{label} is {candidate.status}, but replaying its {len(own)} event(s) through "
                f"the state machine gives {status}: the status was changed outside the service"
            )
            continue
        if status in ("candidate", "accepted") and candidate.eligibility_report_id != linked:
            findings.append(
                f"{label} links report {candidate.eligibility_report_id}, but its promotion to "
                f"{status} was decided by report {linked}"
            )
        if status in REVIEW_TARGETS and candidate.status_reason != reason:
            findings.append(
                f"{label}: the row's reason {candidate.status_reason!r} is not the reason "
                f"{reason!r} its {status} event records"
            )
    return findings
