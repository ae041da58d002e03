"""Governance data shaped for the pages: eligibility reports as rule tables, which actions a
principal may take on a candidate, the chain status of the timeline, the lineage graph.

Nothing here decides anything: permissions come from ``governance.principals.authorize`` and
``governance.states`` (the rules the service itself applies), the chain status from
``governance.chain.verify_chain`` and ``governance.timeline.timeline_findings`` (what ``audit
verify`` runs first), the lineage from ``governance.trace.trace_candidate``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crypto_analyzer.core.errors import AuthorizationError
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance.chain import verify_chain
from crypto_analyzer.governance.principals import Principal, authorize
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.states import REVIEW_TARGETS, can_transition
from crypto_analyzer.governance.timeline import timeline_findings

__all__ = [
    "ChainStatus",
    "RuleRow",
    "allowed_actions",
    "chain_status",
    "lineage_graph",
    "rule_rows",
]

_MEASURED = re.compile(
    r"\bis (?P<measured>[-+0-9.eE]+|nan|missing|none),? "
    r"(?P<side>below the minimum|above the maximum) (?P<threshold>[-+0-9.eE]+)"
)


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One rule of an eligibility report: its verdict and, when the reason states them, the
    measured value and the threshold."""

    rule: str
    verdict: str  # pass | deny | warn
    threshold: str
    measured: str
    message: str


def _parsed(message: str) -> tuple[str, str]:
    found = _MEASURED.search(message)
    if found is None:
        return "—", "—"
    side = "≥" if found["side"].startswith("below") else "≤"
    return f"{side} {found['threshold']}", found["measured"]


def rule_rows(report: ReportRecord, events: list[EventRecord]) -> list[RuleRow]:
    """Every rule the report's decision evaluated (from its event), denials and warnings first."""
    rules: list[str] = []
    for event in events:
        payload = event.payload
        if event.report_id == report.report_id and isinstance(payload, dict):
            rules = [str(rule) for rule in payload.get("rules") or []]
    rows: list[RuleRow] = []
    seen: set[str] = set()
    for verdict, items in (("deny", report.reasons), ("warn", report.warnings)):
        for item in items:
            rule, message = str(item.get("rule", "")), str(item.get("message", ""))
            threshold, measured = _parsed(message)
            rows.append(RuleRow(rule, verdict, threshold, measured, message))
            seen.add(rule)
    for rule in rules:
        if rule not in seen:
            rows.append(RuleRow(rule, "pass", "—", "—", ""))
    return rows


def _may(principal: Principal, action: str) -> bool:
    try:
        authorize(principal, action)
    except AuthorizationError:
        return False
    return principal.role is not None


def allowed_actions(principal: Principal, candidate: CandidateRecord) -> dict[str, bool]:
    """Which buttons the page shows: the role grants the action and the status allows the edge."""
    status = candidate.status
    return {
        "evaluate": _may(principal, "evaluate:candidate")
        and (status == "candidate" or can_transition(status, "candidate")),
        "accept": _may(principal, "evaluate:accepted")
        and (status == "accepted" or can_transition(status, "accepted")),
        "reject": _may(principal, "reject") and status in REVIEW_TARGETS["rejected"],
        "revoke": _may(principal, "revoke") and status in REVIEW_TARGETS["revoked"],
    }


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """The hash chain of a tenant's events: ``verified`` or ``broken`` with the findings."""

    events: int
    findings: tuple[str, ...]

    @property
    def label(self) -> str:
        return "verified" if not self.findings else "broken"


def chain_status(events: list[EventRecord], mode: WorkspaceMode) -> ChainStatus:
    """Hash links and timestamps of the whole chain (the first checks of ``audit verify``)."""
    findings = [*verify_chain(events)]
    findings += [message for _check, message in timeline_findings(events, mode)]
    return ChainStatus(len(events), tuple(findings))


def lineage_graph(trace: dict[str, Any]) -> dict[str, Any]:
    """Candidate → reports → run → dataset → artifacts → attestation, as nodes for the page."""
    candidate = trace["candidate"]
    run = trace.get("run") or {}
    lineage = trace.get("lineage") or []
    attestations = [
        row for row in lineage if row.get("artifact_type") == "fold_causality_attestation"
    ]
    bundle = [row for row in lineage if row.get("is_bundle")]
    attested = {
        edge["dst_ref"] for edge in trace.get("edges", []) if edge["edge_type"] == "attests"
    }
    return {
        "candidate": candidate,
        "reports": trace.get("reports") or [],
        "linked_report_id": trace.get("linked_report_id"),
        "run": run,
        "dataset": trace.get("dataset") or {},
        "bundle": bundle,
        "artifacts": lineage,
        "attestations": attestations,
        "attested": attested,
        "edges": trace.get("edges") or [],
    }
