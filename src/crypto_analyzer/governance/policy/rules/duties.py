"""Separation of duties: who accepts must not be who created or first promoted the candidate.

Names are compared as people, not strings (``governance.principals.same_person``): equal
principal ids, the OS account and the registered principal of one name, and look-alike
spellings all count as the same person, so a different case, a Cyrillic letter or a zero-width
space does not make a second reviewer.
"""

from __future__ import annotations

from crypto_analyzer.governance.policy.base import EvaluationContext
from crypto_analyzer.governance.policy.config import LevelThresholds
from crypto_analyzer.governance.policy.rules._base import Findings
from crypto_analyzer.governance.principals import same_person
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["check_duties"]


def check_duties(
    candidate: CandidateRecord, ctx: EvaluationContext, limits: LevelThresholds, out: Findings
) -> None:
    """``duties.separation``: compared by person (normalised id and look-alike skeleton)."""
    if not limits.separation_of_duties:
        return
    rule = "duties.separation"
    out.check(rule)
    roles = {"creator": candidate.created_by, "first_promoter": ctx.first_promoter}
    for role in limits.distinct_from:
        other = roles[role]
        if other is not None and same_person(other, ctx.actor):
            what = "created" if role == "creator" else "first promoted"
            alias = "" if other == ctx.actor else f" (as {other!r})"
            out.deny(
                rule,
                f"actor {ctx.actor!r} {what}{alias} candidate {candidate.candidate_id}; this level "
                f"needs a principal other than {sorted(set(filter(None, roles.values())))!r}",
            )
