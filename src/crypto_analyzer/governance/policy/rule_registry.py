"""Policy rule kinds: the one registry behind the policy file's ``[[rules]]`` tables.

The default policy's fixed rule families (provenance, effect, snooping, …) judge the typed fields
of the bundle. Everything else is a *rule kind* registered here — built-in kinds in code, external
ones through the entry-point group ``crypto_analyzer.policy_rules`` — and switched on by a
``[[rules]]`` table of the policy file naming the kind, the levels it applies at and its settings.
So a new statistic becomes a gate with a plugin (its procedure) and a policy file entry, without a
change to the engine. The built-in kind ``procedure_field`` reads one named field of a procedure's
result from the bundle and compares it with a bound; a missing procedure or field denies with the
reason the evidence gives.

A kind registered twice is refused; a plugin that fails to import is an error, never a skip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crypto_analyzer.core.plugins import PluginSource, load_entry_points
from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs, fmt

__all__ = [
    "ENTRY_POINT_GROUP",
    "HorizonRule",
    "ProcedureFieldRule",
    "RuleFactory",
    "RuleRegistry",
    "default_rule_registry",
    "reset_default_rule_registry",
]

ENTRY_POINT_GROUP = "crypto_analyzer.policy_rules"


@runtime_checkable
class HorizonRule(Protocol):
    """One configured rule: judges the candidate's horizon evidence into ``out``."""

    def check(self, inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None: ...


RuleFactory = Callable[[Mapping[str, Any]], HorizonRule]
"""Builds a rule from its ``settings`` table; raises ``ValueError`` for bad settings."""


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


class ProcedureFieldSettings(_Settings):
    procedure: str = Field(min_length=1, max_length=100)
    field: str = Field(min_length=1, max_length=200)
    min: float | int | None = None
    max: float | int | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> ProcedureFieldSettings:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        return self


class ProcedureFieldRule:
    """Bound on one field of a procedure selected in the report (``procedures.extra``).

    Rule id ``procedure.<procedure>.<field>``. Denies when the bundle has no result of the
    procedure, when the field is missing (with the procedure's reason), when it is not a number,
    or when it is outside ``[min, max]``.
    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = ProcedureFieldSettings.model_validate(dict(settings))

    def check(self, inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
        name, field = self.settings.procedure, self.settings.field
        rule = f"procedure.{name}.{field}"
        what = f"{field} of procedure {name!r} at horizon {horizon.horizon}"
        evidence = horizon.procedures.get(name)
        if evidence is None:
            out.deny(
                rule,
                f"{what} missing: the bundle has no result of procedure {name!r} "
                "(select it under procedures.extra in the report config)",
            )
            return
        value = evidence.fields.get(field)
        if value is None:
            why = evidence.missing_reason or (
                None if field in evidence.fields else f"procedure {name!r} has no field {field!r}"
            )
            # at_least/at_most deny a missing value and say why it is missing
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            out.deny(rule, f"{what} is {value!r}, not a number")
            return
        else:
            why = None
        number: float | int | None = value
        if self.settings.min is not None:
            out.at_least(rule, what, number, self.settings.min, why)
        if self.settings.max is not None:
            out.at_most(rule, what, number, self.settings.max, why)

    def __repr__(self) -> str:
        s = self.settings
        return f"ProcedureFieldRule({s.procedure}.{s.field} in [{fmt(s.min)}, {fmt(s.max)}])"


class RuleRegistry:
    """Rule kinds by name; registering a kind twice is refused."""

    def __init__(self) -> None:
        self._kinds: dict[str, tuple[RuleFactory, str]] = {}

    def register(
        self, kind: str, factory: RuleFactory, *, source: PluginSource | None = None
    ) -> None:
        where = source.describe() if source else f"{getattr(factory, '__module__', '?')} (code)"
        if not isinstance(kind, str) or not kind:
            raise PolicyConfigError(f"policy rule kind from {where} must be a non-empty string")
        if not callable(factory):
            raise PolicyConfigError(f"policy rule kind {kind!r} from {where} is not callable")
        known = self._kinds.get(kind)
        if known is not None:
            if known[0] is factory:
                return  # a built-in also declared as this project's entry point
            raise PolicyConfigError(
                f"policy rule kind {kind!r} from {where} is already registered by {known[1]}",
                "rule kinds are unique: rename one plugin or uninstall one distribution",
            )
        self._kinds[kind] = (factory, where)

    def load_entry_points(self) -> RuleRegistry:
        """Register every ``crypto_analyzer.policy_rules`` entry point (broken ones raise)."""
        for source, factory in load_entry_points(ENTRY_POINT_GROUP):
            self.register(source.name or "", factory, source=source)
        return self

    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._kinds))

    def create(self, kind: str, settings: Mapping[str, Any]) -> HorizonRule:
        found = self._kinds.get(kind)
        if found is None:
            raise PolicyConfigError(
                f"the policy file has a rule of kind {kind!r}, which is not registered "
                f"(registered: {', '.join(self.kinds()) or 'none'})",
                f"install the plugin (entry point group {ENTRY_POINT_GROUP!r}) or remove the rule",
            )
        try:
            rule = found[0](settings)
        except (ValueError, TypeError, pydantic.ValidationError) as exc:
            raise PolicyConfigError(
                f"policy rule of kind {kind!r} has invalid settings: {exc}",
                "fix the rule's settings table in the policy file",
            ) from None
        if not isinstance(rule, HorizonRule):
            raise PolicyConfigError(
                f"policy rule kind {kind!r} built {type(rule).__name__}, which has no check()",
                "return an object with check(inputs, horizon, out)",
            )
        return rule


_DEFAULT: RuleRegistry | None = None


def default_rule_registry() -> RuleRegistry:
    """Built-in kinds plus every installed ``crypto_analyzer.policy_rules`` plugin (cached)."""
    global _DEFAULT
    if _DEFAULT is None:
        registry = RuleRegistry()
        registry.register("procedure_field", ProcedureFieldRule)
        _DEFAULT = registry.load_entry_points()
    return _DEFAULT


def reset_default_rule_registry() -> None:
    """Forget the discovered registry (tests that install or remove plugins)."""
    global _DEFAULT
    _DEFAULT = None
