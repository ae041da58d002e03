"""Governance rows as typed, read-only records (what the service returns and audit renders)."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_loads

__all__ = [
    "REPORT_MAC_COLUMNS",
    "CandidateRecord",
    "EventRecord",
    "ReportRecord",
    "report_mac_body",
]

REPORT_MAC_COLUMNS = (
    "tenant_id",
    "report_id",
    "candidate_id",
    "level",
    "passed",
    "evidence_digest",
    "policy_id",
    "policy_digest",
    "reasons_json",
    "warnings_json",
    "actor",
    "created_at",
    "history_json",
    "context_json",
)
"""Every stored column of an eligibility report except its MAC: what the MAC covers, as stored."""


def report_mac_body(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The stored report columns the service-key MAC covers (``passed`` as 0/1)."""
    body: dict[str, Any] = {name: row.get(name) for name in REPORT_MAC_COLUMNS}
    body["passed"] = int(body["passed"])
    return body


def _json_items(text: str) -> tuple[dict[str, Any], ...]:
    """Reasons/warnings stored as a JSON list of objects; anything else is shown as found."""
    try:
        value = canonical_loads(text)
    except (CanonicalJSONError, ValueError):
        return ({"rule": "unreadable", "message": text},)
    if not isinstance(value, list):
        return ({"rule": "unreadable", "message": text},)
    return tuple(
        item if isinstance(item, dict) else {"rule": "", "message": item} for item in value
    )


def _json_object(text: str | None) -> dict[str, Any] | None:
    """A stored JSON object; unreadable text is shown as found (a tampered row must still show)."""
    if text is None:
        return None
    try:
        value = canonical_loads(text)
    except (CanonicalJSONError, ValueError):
        return {"unreadable": text}
    return value if isinstance(value, dict) else {"unreadable": text}


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    """One promotion candidate: a (run, signal, horizon) and where it stands."""

    tenant_id: str
    candidate_id: str
    run_instance_id: str
    run_key: str
    dataset_id: str
    signal: str
    horizon: int
    status: str
    evidence_digest: str
    eligibility_report_id: str | None
    status_reason: str | None
    created_by: str
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> CandidateRecord:
        # names and getters built once (``fields()`` per row was a third of a page's cost)
        return cls(*_candidate_items(row))

    def to_dict(self) -> dict[str, Any]:
        return dict(zip(_CANDIDATE_FIELDS, _candidate_values(self), strict=True))


_CANDIDATE_FIELDS = tuple(item.name for item in fields(CandidateRecord))
_candidate_items = operator.itemgetter(*_CANDIDATE_FIELDS)
_candidate_values = operator.attrgetter(*_CANDIDATE_FIELDS)


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """One eligibility report: the policy's verdict on a candidate's evidence at one level."""

    tenant_id: str
    report_id: str
    candidate_id: str
    level: str
    passed: bool
    evidence_digest: str
    policy_id: str
    policy_digest: str
    reasons: tuple[dict[str, Any], ...]
    warnings: tuple[dict[str, Any], ...]
    actor: str
    created_at: str
    history: dict[str, Any] | None = None
    """The research history the decision judged (``None`` on reports written before it existed)."""
    context: dict[str, Any] | None = None
    """What else the evaluation saw (market watermark, versions, policy document), for re-deriving
    it; ``None`` on reports written before revision 0010."""
    mac: str | None = None
    mac_key_id: str | None = None
    mac_body: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The stored columns exactly as read, which the MAC is checked against."""

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ReportRecord:
        return cls(
            tenant_id=row["tenant_id"],
            report_id=row["report_id"],
            candidate_id=row["candidate_id"],
            level=row["level"],
            passed=bool(row["passed"]),
            evidence_digest=row["evidence_digest"],
            policy_id=row["policy_id"],
            policy_digest=row["policy_digest"],
            reasons=_json_items(row["reasons_json"]),
            warnings=_json_items(row["warnings_json"]),
            actor=row["actor"],
            created_at=row["created_at"],
            history=_json_object(row.get("history_json")),
            context=_json_object(row.get("context_json")),
            mac=row.get("mac"),
            mac_key_id=row.get("mac_key_id"),
            mac_body=report_mac_body(row),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "candidate_id": self.candidate_id,
            "context": self.context,
            "created_at": self.created_at,
            "evidence_digest": self.evidence_digest,
            "history": self.history,
            "level": self.level,
            "mac": self.mac,
            "mac_key_id": self.mac_key_id,
            "passed": self.passed,
            "policy_digest": self.policy_digest,
            "policy_id": self.policy_id,
            "reasons": list(self.reasons),
            "report_id": self.report_id,
            "tenant_id": self.tenant_id,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One link of a tenant's governance event chain."""

    tenant_id: str
    event_id: str
    seq: int
    candidate_id: str | None
    event_type: str
    from_status: str | None
    to_status: str | None
    report_id: str | None
    actor: str
    payload_json: str
    created_at: str
    prev_hash: str
    hash: str
    mac: str | None = None
    """HMAC of ``hash`` with the service key (``None``: written without a key)."""
    mac_key_id: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> EventRecord:
        values: dict[str, Any] = {item.name: row.get(item.name) for item in fields(cls)}
        values["seq"] = int(values["seq"])
        return cls(**values)

    @property
    def payload(self) -> Any:
        """The parsed payload; the raw text when it is not JSON (a tampered row must still show)."""
        try:
            return canonical_loads(self.payload_json)
        except (CanonicalJSONError, ValueError):
            return self.payload_json

    def to_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {item.name: getattr(self, item.name) for item in fields(self)}
        del values["payload_json"]
        values["payload"] = self.payload
        return values
