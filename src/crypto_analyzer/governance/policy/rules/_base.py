"""What every default rule receives and how it reports: inputs in, findings collected."""

from __future__ import annotations

from dataclasses import dataclass, field

from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.policy.base import EvaluationContext, Measurement, Reason
from crypto_analyzer.governance.policy.config import (
    HistorySettings,
    LevelThresholds,
    ProvenanceConfig,
)
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["Findings", "RuleInputs", "fmt"]


def fmt(value: float | int | None) -> str:
    """Numbers in reasons: integers as such, floats with up to 6 significant digits."""
    if value is None:
        return "missing"
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}"


@dataclass(frozen=True, slots=True)
class RuleInputs:
    """The candidate, its bundle (already loaded), the level's thresholds and the context."""

    candidate: CandidateRecord
    bundle: ValidationBundle
    level: str
    limits: LevelThresholds
    provenance: ProvenanceConfig
    history: HistorySettings
    ctx: EvaluationContext


@dataclass(slots=True)
class Findings:
    """Collects denials and warnings, and remembers every rule that was looked at."""

    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)

    def check(self, rule: str) -> None:
        if rule not in self.rules:
            self.rules.append(rule)

    def deny(self, rule: str, message: str) -> None:
        self.check(rule)
        self.reasons.append(Reason(rule, message))

    def warn(self, rule: str, message: str) -> None:
        self.check(rule)
        self.warnings.append(Reason(rule, message))

    def at_least(
        self,
        rule: str,
        what: str,
        value: float | int | None,
        minimum: float,
        why: str | None = None,
    ) -> None:
        """Deny unless ``value >= minimum``; a missing value denies, saying why it is missing."""
        self.check(rule)
        self.measurements.append(Measurement(rule, what, value, minimum, ">="))
        if value is None:
            self.deny(rule, f"{_missing(what, why)}; the minimum is {fmt(minimum)}")
        elif not value >= minimum:
            self.deny(rule, f"{what} is {fmt(value)}, below the minimum {fmt(minimum)}")

    def at_most(
        self,
        rule: str,
        what: str,
        value: float | int | None,
        maximum: float,
        why: str | None = None,
    ) -> None:
        """Deny unless ``value <= maximum``; a missing value denies, saying why it is missing."""
        self.check(rule)
        self.measurements.append(Measurement(rule, what, value, maximum, "<="))
        if value is None:
            self.deny(rule, f"{_missing(what, why)}; the maximum is {fmt(maximum)}")
        elif not value <= maximum:
            self.deny(rule, f"{what} is {fmt(value)}, above the maximum {fmt(maximum)}")


def _missing(what: str, why: str | None) -> str:
    """``"<what> missing: <why>"`` when the evidence says why, else ``"<what> is missing"``."""
    return f"{what} missing: {why}" if why else f"{what} is missing"
