"""Policy sets: several policies, one decision, deny-overrides, and no way to fail open.

Each member runs under :func:`guarded_evaluate`: an exception, a timeout, or an answer that is not
a well-formed :class:`Decision` becomes a denial that names the member and what went wrong. The set
allows only if it has at least one member and every member allowed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.policy.base import (
    Decision,
    EvaluationContext,
    Measurement,
    Policy,
    Reason,
)
from crypto_analyzer.governance.policy.config import HistorySettings, PolicyConfig
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["PolicySet", "guarded_evaluate"]

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_HISTORY = HistorySettings(
    scope="overlapping_data",
    multiple_testing="bh",
    online_alpha=0.05,
    online_w0=0.025,
    on_restatement="require_reevaluation",
)
"""Research-history settings of a set built without a policy file (the packaged defaults)."""


def _identity(policy: Any) -> tuple[str, str]:
    try:
        policy_id = str(policy.policy_id)
    except Exception:  # a member that cannot even name itself still gets a denial, not a crash
        policy_id = type(policy).__name__
    try:
        digest = str(policy.digest())
    except Exception:
        digest = ""
    return policy_id, digest


def guarded_evaluate(
    policy: Policy,
    candidate: CandidateRecord,
    evidence: ValidationBundle | None,
    level: str,
    ctx: EvaluationContext,
    *,
    timeout_seconds: float,
) -> Decision:
    """Run one policy in a worker thread; errors, timeouts and malformed answers deny.

    The worker is a daemon thread: a policy that never returns cannot keep the process alive, and
    its late answer is discarded.
    """
    policy_id, digest = _identity(policy)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["decision"] = policy.evaluate(candidate, evidence, level, ctx)
        except BaseException as exc:  # reported to the caller as a denial
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"policy:{policy_id}", daemon=True)
    worker.start()
    worker.join(timeout_seconds)
    if worker.is_alive():
        return Decision.deny(
            policy_id,
            digest,
            "policy.timeout",
            f"policy {policy_id!r} gave no decision within {timeout_seconds:g} s",
        )
    if "error" in outcome:
        exc = outcome["error"]
        return Decision.deny(
            policy_id,
            digest,
            "policy.error",
            f"policy {policy_id!r} raised {type(exc).__name__}: {exc}",
        )
    decision = outcome.get("decision")
    if not isinstance(decision, Decision) or not isinstance(decision.allowed, bool):
        return Decision.deny(
            policy_id,
            digest,
            "policy.malformed",
            f"policy {policy_id!r} returned {type(decision).__name__}, not a Decision",
        )
    items = (*decision.reasons, *decision.warnings)
    if not all(isinstance(item, Reason) for item in items):
        return Decision.deny(
            policy_id,
            digest,
            "policy.malformed",
            f"policy {policy_id!r} returned reasons or warnings that are not Reason objects",
        )
    if decision.allowed and decision.reasons:
        # An "allow" that carries denial reasons is contradictory; the reasons win.
        return Decision(
            False, decision.reasons, decision.warnings, policy_id, digest, decision.rules
        )
    if not decision.allowed and not decision.reasons:
        return Decision(
            False,
            (Reason("policy.unexplained", f"policy {policy_id!r} denied without a reason"),),
            decision.warnings,
            policy_id,
            digest,
            decision.rules,
        )
    return decision


class PolicySet:
    """Members combined deny-overrides. ``policy_id``/``digest`` identify the whole set.

    ``history`` tells the governance service how to gather the research history every member
    receives in the evaluation context (which trials are in scope; the online FDR budget).
    ``config`` is the policy file the set was built from (``None`` for a set assembled in code):
    the service stores it so ``audit verify`` can re-derive every decision under it.
    """

    def __init__(
        self,
        members: Sequence[Policy],
        *,
        policy_id: str | None = None,
        digest: str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        history: HistorySettings = DEFAULT_HISTORY,
        config: PolicyConfig | None = None,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds}")
        self._members = tuple(members)
        self._policy_id = policy_id
        self._digest = digest
        self.timeout_seconds = timeout_seconds
        self.history = history
        self.config = config

    @property
    def members(self) -> tuple[Policy, ...]:
        return self._members

    @property
    def policy_id(self) -> str:
        if self._policy_id is not None:
            return self._policy_id
        return "+".join(_identity(member)[0] for member in self._members) or "empty"

    def member_digests(self) -> list[dict[str, str]]:
        """Each member's id and digest, recorded in governance events."""
        return [
            {"digest": digest, "policy_id": policy_id}
            for policy_id, digest in (_identity(member) for member in self._members)
        ]

    def digest(self) -> str:
        if self._digest is not None:
            return self._digest
        return sha256_json({"combining": "deny-overrides", "members": self.member_digests()})

    def evaluate(
        self,
        candidate: CandidateRecord,
        evidence: ValidationBundle | None,
        level: str,
        ctx: EvaluationContext,
    ) -> Decision:
        """One decision from all members; any deny denies."""
        if not self._members:
            return Decision.deny(
                self.policy_id, self.digest(), "policy.empty", "the policy set has no members"
            )
        decisions = [
            guarded_evaluate(
                member, candidate, evidence, level, ctx, timeout_seconds=self.timeout_seconds
            )
            for member in self._members
        ]
        reasons: list[Reason] = []
        warnings: list[Reason] = []
        rules: list[str] = []
        measurements: list[Measurement] = []
        for decision in decisions:
            reasons.extend(decision.reasons)
            warnings.extend(decision.warnings)
            rules.extend(rule for rule in decision.rules if rule not in rules)
            measurements.extend(decision.measurements)
        return Decision(
            allowed=all(decision.allowed for decision in decisions),
            reasons=tuple(reasons),
            warnings=tuple(warnings),
            policy_id=self.policy_id,
            policy_digest=self.digest(),
            rules=tuple(rules),
            measurements=tuple(measurements),
        )
