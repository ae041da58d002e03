"""The default policy: every gating rule of DESIGN §7, thresholds from a policy file.

Rule families run independently, so one denial never hides another: a report lists everything that
is wrong at once. A rule family that raises is itself a denial naming the family — a bug in a rule
can only ever block a promotion, never grant one.
"""

from __future__ import annotations

from collections.abc import Callable

from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.policy.base import Decision, EvaluationContext
from crypto_analyzer.governance.policy.config import PolicyConfig
from crypto_analyzer.governance.policy.rules import (
    Findings,
    RuleInputs,
    check_causality,
    check_duties,
    check_effect,
    check_execution,
    check_history,
    check_lifecycle,
    check_power,
    check_provenance,
    check_regime,
    check_sample,
    check_signatures,
    check_snooping,
)
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["DefaultPolicy"]


class DefaultPolicy:
    """Provenance, sample, effect, data snooping, execution, regime, causality, duties and the
    research history (the candidate judged against every trial in its scope)."""

    def __init__(self, config: PolicyConfig) -> None:
        self._config = config

    @property
    def policy_id(self) -> str:
        return self._config.policy_id

    @property
    def config(self) -> PolicyConfig:
        return self._config

    def digest(self) -> str:
        return self._config.digest()

    def evaluate(
        self,
        candidate: CandidateRecord,
        evidence: ValidationBundle | None,
        level: str,
        ctx: EvaluationContext,
    ) -> Decision:
        out = Findings()
        limits = self._config.thresholds(level)
        self._guarded(out, "state", lambda: check_lifecycle(candidate, level, out))
        self._guarded(out, "duties", lambda: check_duties(candidate, ctx, limits, out))
        if evidence is None:
            problem = ctx.evidence_problem or "no validation bundle was supplied"
            out.deny("input.evidence", problem)
        else:
            self._evidence_rules(candidate, evidence, level, ctx, out)
        return Decision(
            allowed=not out.reasons,
            reasons=tuple(out.reasons),
            warnings=tuple(out.warnings),
            policy_id=self.policy_id,
            policy_digest=self.digest(),
            rules=tuple(out.rules),
        )

    def _evidence_rules(
        self,
        candidate: CandidateRecord,
        evidence: ValidationBundle,
        level: str,
        ctx: EvaluationContext,
        out: Findings,
    ) -> None:
        inputs = RuleInputs(
            candidate=candidate,
            bundle=evidence,
            level=level,
            limits=self._config.thresholds(level),
            provenance=self._config.provenance,
            history=self._config.history,
            ctx=ctx,
        )
        self._guarded(out, "provenance", lambda: check_provenance(inputs, out))
        self._guarded(out, "causality", lambda: check_causality(inputs, out))
        self._guarded(out, "signatures", lambda: check_signatures(inputs, out))
        self._guarded(out, "history", lambda: check_history(inputs, out))
        horizon = evidence.horizon(candidate.horizon)
        if horizon is None:
            found = ", ".join(str(item.horizon) for item in evidence.horizons)
            out.deny(
                "effect.horizon",
                f"the bundle has no evidence for horizon {candidate.horizon} (it has {found})",
            )
            return
        for family, rule in (
            ("sample", check_sample),
            ("effect", check_effect),
            ("snooping", check_snooping),
            ("execution", check_execution),
            ("regime", check_regime),
            ("power", check_power),
        ):
            # mypy cannot infer a lambda whose defaults bind loop variables
            self._guarded(out, family, lambda rule=rule: rule(inputs, horizon, out))  # type: ignore[misc]

    @staticmethod
    def _guarded(out: Findings, family: str, run: Callable[[], None]) -> None:
        try:
            run()
        except Exception as exc:  # fail closed: a broken rule denies, naming itself
            message = f"rule family {family!r} raised {type(exc).__name__}: {exc}"
            out.deny(f"{family}.error", message)
