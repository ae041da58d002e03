"""``power.underpowered`` informs and never decides: a warning with the numbers, never a denial."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from gov_factories import candidate_for, context_for, patched, strong_bundle

from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.policy import DefaultPolicy, load_policy_config
from crypto_analyzer.governance.policy.config import DEFAULT_POLICY_RESOURCE, parse_policy_config
from crypto_analyzer.stats.power import hac_t_power

H = "horizons.1"  # horizon 4, the candidate's


def _policy(**level_changes: Any) -> DefaultPolicy:
    config = load_policy_config()
    levels = config.levels.model_copy(
        update={
            name: getattr(config.levels, name).model_copy(update=level_changes)
            for name in ("candidate", "accepted")
        }
    )
    return DefaultPolicy(config.model_copy(update={"levels": levels}))


def _decide(changes: dict[str, Any], **limits: Any):
    bundle = patched(strong_bundle(horizons=(1, 4)), changes)
    return _policy(**limits).evaluate(
        candidate_for(bundle), bundle, "candidate", context_for(bundle)
    )


def _power_warnings(decision) -> list[str]:
    return [str(item) for item in decision.warnings if item.rule == "power.underpowered"]


def test_the_default_policy_file_sets_the_threshold() -> None:
    config = load_policy_config()
    assert config.levels.candidate.min_power == 0.8
    assert config.levels.accepted.min_power == 0.8


def test_a_short_history_is_flagged_underpowered_but_still_allowed() -> None:
    # mean IC 0.05 with HAC t 3.0: se 0.0167, so IC 0.02 would reach t 2.5 rarely
    decision = _decide({f"{H}.ic.mean_ic": 0.05, f"{H}.ic.t_hac": 3.0, f"{H}.ic.n_obs": 240})
    assert decision.allowed, [str(reason) for reason in decision.reasons]
    warnings = _power_warnings(decision)
    expected = hac_t_power(0.02, se=0.05 / 3.0, min_t=2.5)
    assert expected < 0.8
    assert len(warnings) == 1 and "underpowered at horizon 4" in warnings[0]
    assert f"{expected:.6g}" in warnings[0] and "240 OOS observations" in warnings[0]
    assert "power.underpowered" in decision.rules
    assert all(reason.rule != "power.underpowered" for reason in decision.reasons)


def test_a_long_precise_history_is_not_flagged() -> None:
    # se 0.002: IC 0.02 gives t about 10
    decision = _decide({f"{H}.ic.mean_ic": 0.05, f"{H}.ic.t_hac": 25.0})
    assert decision.allowed
    assert _power_warnings(decision) == []
    assert "power.underpowered" in decision.rules


def test_the_rule_never_denies_even_when_everything_else_does() -> None:
    decision = _decide({f"{H}.ic.mean_ic": 0.001, f"{H}.ic.t_hac": 0.1})
    assert not decision.allowed
    assert all(reason.rule != "power.underpowered" for reason in decision.reasons)
    assert len(_power_warnings(decision)) == 1


def test_no_hac_t_is_a_warning_that_power_cannot_be_computed() -> None:
    decision = _decide({f"{H}.ic.t_hac": None})
    assert any("cannot be computed" in text for text in _power_warnings(decision))


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_the_threshold_must_be_a_probability(value: float) -> None:
    source = (
        resources.files("crypto_analyzer.governance.policy")
        .joinpath(DEFAULT_POLICY_RESOURCE)
        .read_text()
    )
    broken = source.replace("min_power = 0.8 ", f"min_power = {value} ", 1)
    assert broken != source
    with pytest.raises(PolicyConfigError, match="min_power"):
        parse_policy_config(broken)


def test_a_policy_without_the_key_does_not_apply_the_rule() -> None:
    decision = _decide({f"{H}.ic.mean_ic": 0.05, f"{H}.ic.t_hac": 3.0}, min_power=None)
    assert "power.underpowered" not in decision.rules and _power_warnings(decision) == []
