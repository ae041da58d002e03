"""Lifecycle rule: a level can be granted only along an allowed edge of the state machine."""

from __future__ import annotations

from crypto_analyzer.governance.policy.rules._base import Findings
from crypto_analyzer.governance.records import CandidateRecord
from crypto_analyzer.governance.states import TERMINAL_STATUSES, can_transition

__all__ = ["check_lifecycle"]


def check_lifecycle(candidate: CandidateRecord, level: str, out: Findings) -> None:
    """``state.transition``: re-evaluating the current level, or one allowed step up."""
    rule = "state.transition"
    out.check(rule)
    status = candidate.status
    if status == level:
        return
    if status in TERMINAL_STATUSES:
        out.deny(rule, f"candidate is {status}, which is terminal; no level can be granted")
    elif not can_transition(status, level):
        out.deny(
            rule,
            f"candidate is {status}; {status} -> {level} is not an allowed transition "
            "(exploratory -> candidate -> accepted)",
        )
