"""What a policy is: ``Policy.evaluate(candidate, evidence, level, ctx) -> Decision``.

A decision is data, not control flow: ``allowed`` plus the reasons that deny (each naming its rule,
the value found and the threshold) and warnings that do not. Policies are pure with respect to the
database — everything they may look at is handed over in :class:`EvaluationContext` — so the same
inputs give the same decision whether the caller is the CLI, the API or a test, and an external
decision service can receive exactly the same input document (:func:`input_document`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from crypto_analyzer.attest.verify import EnvelopeCheck
from crypto_analyzer.governance.evidence import EvidenceArtifact, ValidationBundle
from crypto_analyzer.governance.records import CandidateRecord
from crypto_analyzer.governance.research_history import ResearchHistory
from crypto_analyzer.governance.staleness import Staleness

__all__ = [
    "ArtifactVerifier",
    "Decision",
    "EvaluationContext",
    "Policy",
    "Reason",
    "input_document",
]


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding: the rule that produced it and a message with the value and the threshold."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"message": self.message, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy's verdict. ``allowed`` is True only when no rule denied."""

    allowed: bool
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    policy_id: str
    policy_digest: str
    rules: tuple[str, ...] = field(default=())
    """Rules that were evaluated, recorded so an auditor sees what a pass was based on."""

    @classmethod
    def deny(cls, policy_id: str, policy_digest: str, rule: str, message: str) -> Decision:
        """A decision that denies with a single reason (errors, timeouts, missing inputs)."""
        return cls(False, (Reason(rule, message),), (), policy_id, policy_digest, (rule,))

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "policy_digest": self.policy_digest,
            "policy_id": self.policy_id,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "rules": list(self.rules),
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


@runtime_checkable
class ArtifactVerifier(Protocol):
    """Confirms an evidence artifact is in the artifact store with its recorded hash."""

    @property
    def location(self) -> str: ...

    def problem(self, artifact: EvidenceArtifact) -> str | None:
        """``None`` when present and intact, else a description of the problem."""
        ...


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """Everything besides the candidate and its evidence that a rule may consult.

    ``evidence_problem`` explains why ``evidence`` is ``None`` (missing lineage row, hash mismatch,
    schema error); ``evidence_digest`` is the digest of the bundle that was actually loaded.
    ``history`` is the candidate's trial judged against the tenant's trial ledger (``None`` when it
    could not be computed, which the history rules turn into a denial); ``staleness`` lists market
    data restated under the candidate's run since it read its data (``None``: not checked).
    """

    tenant_id: str
    actor: str
    run: Mapping[str, Any] | None
    first_promoter: str | None
    evidence_digest: str | None
    evidence_problem: str | None
    artifacts: ArtifactVerifier | None
    history: ResearchHistory | None = None
    staleness: Staleness | None = None
    signatures: Mapping[str, EnvelopeCheck] | None = None
    """The run's envelopes (``attestation``, ``bundle``) verified at evaluation time (``None``:
    not checked, which denies wherever a signature is required)."""

    def to_dict(self) -> dict[str, Any]:
        run = (
            None
            if self.run is None
            else {key: value for key, value in self.run.items() if key != "config_json"}
        )
        return {
            "actor": self.actor,
            "artifact_store": None if self.artifacts is None else self.artifacts.location,
            "evidence_digest": self.evidence_digest,
            "evidence_problem": self.evidence_problem,
            "first_promoter": self.first_promoter,
            "history": None if self.history is None else self.history.to_dict(),
            "signatures": None
            if self.signatures is None
            else {name: check.to_dict() for name, check in sorted(self.signatures.items())},
            "staleness": None if self.staleness is None else self.staleness.to_dict(),
            "run": run,
            "tenant_id": self.tenant_id,
        }


@runtime_checkable
class Policy(Protocol):
    """A decision procedure. Implementations must not write anything."""

    @property
    def policy_id(self) -> str: ...

    def digest(self) -> str:
        """Identity of the procedure and its settings (thresholds, URL …) as 64 hex."""
        ...

    def evaluate(
        self,
        candidate: CandidateRecord,
        evidence: ValidationBundle | None,
        level: str,
        ctx: EvaluationContext,
    ) -> Decision: ...


def input_document(
    candidate: CandidateRecord,
    evidence: ValidationBundle | None,
    level: str,
    ctx: EvaluationContext,
) -> dict[str, Any]:
    """The JSON input every policy sees (what an external decision service receives)."""
    return {
        "candidate": candidate.to_dict(),
        "context": ctx.to_dict(),
        "evidence": None if evidence is None else evidence.to_canonical_dict(),
        "level": level,
    }
