"""What governed actions return, and the small rules the service applies around the policy.

Kept apart from :mod:`crypto_analyzer.governance.service` so the service module holds only the
transactions: who may act (:func:`check_actor`), what an evaluation produced (:class:`Evaluation`),
how a database refusal is reported (:func:`database_error`) and the service's own state-machine
check on a decision (:func:`enforce_lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from crypto_analyzer.core.errors import DatabaseError, ValidationError
from crypto_analyzer.governance.errors import GovernanceIntegrityError
from crypto_analyzer.governance.policy import Decision, Reason
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.states import can_transition

__all__ = ["Evaluation", "check_actor", "database_error", "enforce_lifecycle"]

_MAX_ACTOR = 200


def check_actor(actor: str) -> str:
    """The principal recorded on every event: non-empty, no surrounding blanks, ≤ 200 chars."""
    if not isinstance(actor, str) or not actor.strip() or actor != actor.strip():
        raise ValidationError(
            f"actor {actor!r} is not a principal name", "pass --actor NAME (no surrounding blanks)"
        )
    if len(actor) > _MAX_ACTOR:
        raise ValidationError(f"actor name is {len(actor)} characters; the limit is {_MAX_ACTOR}")
    return actor


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Outcome of an evaluation: the recorded report and event, and where the candidate ended."""

    candidate: CandidateRecord
    previous_status: str
    report: ReportRecord
    event: EventRecord
    decision: Decision

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def status_changed(self) -> bool:
        return self.candidate.status != self.previous_status

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.to_dict(),
            "decision": self.decision.to_dict(),
            "event": self.event.to_dict(),
            "passed": self.passed,
            "previous_status": self.previous_status,
            "report": self.report.to_dict(),
            "status_changed": self.status_changed,
        }


def database_error(exc: sa.exc.DBAPIError) -> DatabaseError:
    message = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else str(exc)
    if isinstance(exc, sa.exc.IntegrityError):
        return GovernanceIntegrityError(
            f"the database refused the governed write: {message}",
            "the state machine or the event chain forbids it; nothing was written",
        )
    return DatabaseError(f"the governed write failed: {message}", "nothing was written; retry")


def enforce_lifecycle(decision: Decision, candidate: CandidateRecord, level: str) -> Decision:
    """The service's own state-machine check, independent of which policies are configured."""
    if not decision.allowed or candidate.status == level or can_transition(candidate.status, level):
        return decision
    reason = Reason(
        "state.transition",
        f"candidate is {candidate.status}; {candidate.status} -> {level} is not an allowed "
        "transition",
    )
    return replace(decision, allowed=False, reasons=(*decision.reasons, reason))
