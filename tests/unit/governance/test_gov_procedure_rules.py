"""Policy rules of registered kinds: ``[[rules]]`` in a policy file judge plugin procedure results.

A procedure selected in the report is carried in the bundle by name (``procedures.<name>``); the
built-in rule kind ``procedure_field`` bounds one of its fields. Missing evidence denies with the
reason the bundle gives; kinds are registered once; a bad rule is a configuration error up front.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from gov_factories import candidate_for, context_for, patched, strong_bundle

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.policy import DefaultPolicy, load_policy_config, parse_policy_config
from crypto_analyzer.governance.policy.rule_registry import (
    ProcedureFieldRule,
    RuleRegistry,
    default_rule_registry,
)

DEFAULT_TEXT = (
    resources.files("crypto_analyzer.governance.policy") / "default_policy.toml"
).read_text()
RULE = "procedure.sign_test.p_value"


def _policy(settings: str, kind: str = "procedure_field", levels: str = '["candidate"]') -> Any:
    text = (
        DEFAULT_TEXT + f'\n[[rules]]\nkind = "{kind}"\nlevels = {levels}\nsettings = {settings}\n'
    )
    return parse_policy_config(text, source="test policy")


def _with_procedure(fields: dict[str, Any], why: str | None = None) -> ValidationBundle:
    evidence = {"version": "2", "fields": fields, "missing_reason": why}
    return patched(strong_bundle(), {"horizons.1.procedures": {"sign_test": evidence}})


def _reasons(bundle: ValidationBundle, settings: str, level: str = "candidate") -> list[str]:
    policy = DefaultPolicy(_policy(settings))
    decision = policy.evaluate(candidate_for(bundle), bundle, level, context_for(bundle))
    assert RULE in decision.rules or level != "candidate"
    return [reason.message for reason in decision.reasons if reason.rule == RULE]


BOUND = '{ procedure = "sign_test", field = "p_value", max = 0.05 }'


def test_a_field_within_its_bound_passes_and_one_outside_denies_with_the_values() -> None:
    assert _reasons(_with_procedure({"p_value": 0.01, "n_obs": 300}), BOUND) == []
    assert _reasons(_with_procedure({"p_value": 0.2}), BOUND) == [
        "p_value of procedure 'sign_test' at horizon 4 is 0.2, above the maximum 0.05"
    ]
    both = '{ procedure = "sign_test", field = "n_obs", min = 500, max = 1000 }'
    policy = DefaultPolicy(_policy(both))
    bundle = _with_procedure({"p_value": 0.01, "n_obs": 300})
    decision = policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert [r.message for r in decision.reasons if r.rule == "procedure.sign_test.n_obs"] == [
        "n_obs of procedure 'sign_test' at horizon 4 is 300, below the minimum 500"
    ]


def test_missing_evidence_denies_saying_why() -> None:
    assert _reasons(strong_bundle(), BOUND) == [
        "p_value of procedure 'sign_test' at horizon 4 missing: the bundle has no result of "
        "procedure 'sign_test' (select it under procedures.extra in the report config)"
    ]
    why = "12 OOS IC values, fewer than 20"
    assert _reasons(_with_procedure({"p_value": None}, why), BOUND) == [
        f"p_value of procedure 'sign_test' at horizon 4 missing: {why}; the maximum is 0.05"
    ]
    assert _reasons(_with_procedure({"n_obs": 300}), BOUND) == [
        "p_value of procedure 'sign_test' at horizon 4 missing: procedure 'sign_test' has no "
        "field 'p_value'; the maximum is 0.05"
    ]
    assert _reasons(_with_procedure({"p_value": "low"}), BOUND) == [
        "p_value of procedure 'sign_test' at horizon 4 is 'low', not a number"
    ]
    assert _reasons(_with_procedure({"p_value": True}), BOUND) == [
        "p_value of procedure 'sign_test' at horizon 4 is True, not a number"
    ]


def test_a_rule_applies_only_at_its_levels() -> None:
    bundle = _with_procedure({"p_value": 0.2})
    policy = DefaultPolicy(_policy(BOUND, levels='["accepted"]'))
    decision = policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert RULE not in decision.rules


def test_bad_rules_are_configuration_errors_when_the_policy_is_built() -> None:
    with pytest.raises(PolicyConfigError, match="kind 'no_such_kind', which is not registered"):
        DefaultPolicy(_policy(BOUND, kind="no_such_kind"))
    with pytest.raises(PolicyConfigError, match="give `min`, `max` or both"):
        DefaultPolicy(_policy('{ procedure = "sign_test", field = "p_value" }'))
    with pytest.raises(PolicyConfigError, match="Extra inputs are not permitted"):
        DefaultPolicy(_policy('{ procedure = "x", field = "p", max = 1, maxx = 2 }'))
    with pytest.raises(PolicyConfigError, match="levels"):
        _policy(BOUND, levels='["someday"]')


def test_a_kind_is_registered_once_and_a_rule_that_raises_denies() -> None:
    registry = RuleRegistry()
    registry.register("procedure_field", ProcedureFieldRule)
    registry.register("procedure_field", ProcedureFieldRule)  # the same factory twice: no clash
    with pytest.raises(PolicyConfigError, match=r"'procedure_field' from .* is already registered"):
        registry.register("procedure_field", lambda settings: ProcedureFieldRule(settings))

    class Exploding:
        def __init__(self, settings: Any) -> None:
            pass

        def check(self, inputs: Any, horizon: Any, out: Any) -> None:
            raise RuntimeError("boom")

    registry.register("exploding", Exploding)
    policy = DefaultPolicy(_policy("{}", kind="exploding"), rule_registry=registry)
    bundle = strong_bundle()
    decision = policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert not decision.allowed
    assert [r.rule for r in decision.reasons] == ["rules[0].exploding.error"]
    assert "procedure_field" in default_rule_registry().kinds()


def test_the_digest_covers_rules_and_is_unchanged_without_them() -> None:
    plain = load_policy_config()
    assert plain.digest() == sha256_json(plain.model_dump(mode="json", exclude={"rules"}))
    assert _policy(BOUND).digest() != plain.digest()
    looser = '{ procedure = "sign_test", field = "p_value", max = 0.1 }'
    assert _policy(looser).digest() != _policy(BOUND).digest()


def test_bundle_bytes_leave_out_an_empty_procedures_table() -> None:
    bundle = strong_bundle()
    assert b'"procedures"' not in bundle.to_bytes()
    again = ValidationBundle.from_bytes(bundle.to_bytes())
    assert again == bundle and again.evidence_digest() == bundle.evidence_digest()
    carrying = _with_procedure({"p_value": 0.01, "n_obs": 300, "label": "x", "ok": True})
    data = carrying.to_bytes()
    assert b'"procedures":{"sign_test"' in data
    assert ValidationBundle.from_bytes(data) == carrying
    fields = ValidationBundle.from_bytes(data).horizons[1].procedures["sign_test"].fields
    assert fields == {"p_value": 0.01, "n_obs": 300, "label": "x", "ok": True}
    types = {key: type(value) for key, value in fields.items()}
    assert types == {"p_value": float, "n_obs": int, "label": str, "ok": bool}
