"""Errors raised by the governance layer.

They extend the ``core.errors`` hierarchy (so interfaces map them to exit codes and HTTP statuses
without knowing about governance) and, like every project error, say what was wrong and what to
do. A *denied* evaluation is not an error: it is a recorded outcome. :class:`PromotionDenied` exists
for callers that asked for a promotion and must stop when it did not happen.
"""

from __future__ import annotations

from crypto_analyzer.core.errors import CryptoAnalyzerError, DatabaseError, ValidationError

__all__ = [
    "CandidateExistsError",
    "ConcurrentChangeError",
    "EvidenceError",
    "GovernanceError",
    "GovernanceIntegrityError",
    "InvalidTransitionError",
    "PolicyConfigError",
    "PromotionDenied",
]


class GovernanceError(CryptoAnalyzerError):
    """Base class for governance problems a user can act on."""


class CandidateExistsError(GovernanceError):
    """A candidate for the same (run, signal, horizon) already exists in this tenant."""


class InvalidTransitionError(GovernanceError):
    """A reviewer action (reject, revoke) does not start from a status that allows it."""


class EvidenceError(GovernanceError):
    """A validation bundle is missing, does not match its recorded hash, or does not parse."""


class ConcurrentChangeError(GovernanceError):
    """The candidate changed between reading the evidence and writing the outcome; retry."""


class PromotionDenied(GovernanceError):
    """``promote`` asked for a status change and the policy denied it (the report is recorded)."""

    def __init__(self, problem: str, hint: str | None = None, *, report_id: str = "") -> None:
        self.report_id = report_id
        super().__init__(problem, hint)


class PolicyConfigError(ValidationError):
    """A policy file or a policy registration is malformed."""


class GovernanceIntegrityError(DatabaseError):
    """The database refused a governed write (a trigger or constraint of revision 0002/0001)."""
