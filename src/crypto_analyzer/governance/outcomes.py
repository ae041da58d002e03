"""What governed actions return, and the small rules the service applies around the policy.

Kept apart from :mod:`crypto_analyzer.governance.service` so the service module holds only the
transactions: who may act (:func:`acting_principal`, :func:`check_actor`) and how the record says
so (:func:`recorded_payload`), what an evaluation produced (:class:`Evaluation`), how a database
refusal is reported (:func:`database_error`) and the service's own state-machine check on a
decision (:func:`enforce_lifecycle`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from crypto_analyzer.core.errors import DatabaseError, ValidationError
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance.errors import GovernanceIntegrityError
from crypto_analyzer.governance.policy import Decision, Reason
from crypto_analyzer.governance.principals import Principal, authorize, normalise_principal
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.states import can_transition

__all__ = [
    "Evaluation",
    "acting_principal",
    "check_actor",
    "database_error",
    "enforce_lifecycle",
    "recorded_payload",
]


def check_actor(actor: str) -> str:
    """The principal id of a declared actor name (normalised; see ``governance.principals``)."""
    if not isinstance(actor, str):
        raise ValidationError(f"actor {actor!r} is not a principal name", "pass a name")
    return normalise_principal(actor, what="actor")


def acting_principal(actor: str | Principal, action: str) -> Principal:
    """Who performs ``action``: an authenticated principal whose role allows it, or a name.

    A plain name is normalised and recorded as *declared* (sandboxes, direct Python callers); the
    CLI and the API always pass the :class:`Principal` they authenticated.
    """
    if isinstance(actor, Principal):
        authorize(actor, action)
        return actor
    check_actor(actor)
    return Principal.declared(actor)


def recorded_payload(
    payload: Mapping[str, Any], mode: WorkspaceMode, principal: Principal
) -> dict[str, Any]:
    """An event payload plus how it was made: the workspace mode and how the actor was known."""
    return {**payload, "actor_source": principal.source, "workspace_mode": mode.value}


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
