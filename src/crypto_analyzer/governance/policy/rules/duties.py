"""Separation of duties: who accepts must not be who created or first promoted the candidate."""

from __future__ import annotations

from crypto_analyzer.governance.policy.base import EvaluationContext
from crypto_analyzer.governance.policy.config import LevelThresholds
from crypto_analyzer.governance.policy.rules._base import Findings
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["check_duties"]


def check_duties(
    candidate: CandidateRecord, ctx: EvaluationContext, limits: LevelThresholds, out: Findings
) -> None:
    """``duties.separation``: compared by principal name, exactly."""
    if not limits.separation_of_duties:
        return
    rule = "duties.separation"
    out.check(rule)
    roles = {"creator": candidate.created_by, "first_promoter": ctx.first_promoter}
    for role in limits.distinct_from:
        other = roles[role]
        if other is not None and other == ctx.actor:
            what = "created" if role == "creator" else "first promoted"
            out.deny(
                rule,
                f"actor {ctx.actor!r} {what} candidate {candidate.candidate_id}; this level "
                f"needs a principal other than {sorted(set(filter(None, roles.values())))!r}",
            )
