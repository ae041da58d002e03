"""Policy sets combine deny-overrides and fail closed; policy files and plugins are strict."""

from __future__ import annotations

import threading
from importlib import metadata, resources
from typing import Any

import pytest
from gov_factories import FixedPolicy, candidate_for, context_for, strong_bundle

from crypto_analyzer.governance import PolicyConfigError
from crypto_analyzer.governance.policy import (
    ENTRY_POINT_GROUP,
    Decision,
    DefaultPolicy,
    PolicyRegistry,
    PolicySet,
    Reason,
    build_policy_set,
    load_policy_config,
    load_policy_set,
    parse_policy_config,
)
from crypto_analyzer.governance.policy import registry as registry_module


def _evaluate(policy: Any, level: str = "candidate") -> Decision:
    bundle = strong_bundle()
    return policy.evaluate(candidate_for(bundle), bundle, level, context_for(bundle))


def _default_text() -> str:
    return (
        resources.files("crypto_analyzer.governance.policy") / "default_policy.toml"
    ).read_text()


class Raising(FixedPolicy):
    def evaluate(self, *args: Any) -> Decision:
        raise KeyError("input.level")


class Returning(FixedPolicy):
    def __init__(self, answer: Any) -> None:
        super().__init__(policy_id="returning")
        self.answer = answer

    def evaluate(self, *args: Any) -> Any:
        return self.answer


class Hanging(FixedPolicy):
    def __init__(self, release: threading.Event) -> None:
        super().__init__(policy_id="hanging")
        self.release = release

    def evaluate(self, *args: Any) -> Decision:
        self.release.wait()
        return super().evaluate(*args)


def test_deny_overrides_and_reasons_are_combined() -> None:
    policy = PolicySet([FixedPolicy(True), FixedPolicy(False, "b.rule", "b"), FixedPolicy(False)])
    decision = _evaluate(policy)
    assert not decision.allowed
    assert [reason.rule for reason in decision.reasons] == ["b.rule", "fixed.rule"]
    assert decision.policy_id == "fixed+b+fixed"
    assert _evaluate(PolicySet([FixedPolicy(True), FixedPolicy(True)])).allowed


def test_an_empty_set_denies() -> None:
    decision = _evaluate(PolicySet([]))
    assert not decision.allowed and decision.reasons[0].rule == "policy.empty"


def test_an_exception_denies_with_the_reason() -> None:
    decision = _evaluate(PolicySet([FixedPolicy(True), Raising(policy_id="boom")]))
    assert not decision.allowed
    assert str(decision.reasons[0]) == "policy.error: policy 'boom' raised KeyError: 'input.level'"


def test_a_timeout_denies_and_the_late_answer_is_ignored() -> None:
    release = threading.Event()
    try:
        decision = _evaluate(PolicySet([Hanging(release)], timeout_seconds=0.05))
    finally:
        release.set()
    assert not decision.allowed
    assert decision.reasons[0].rule == "policy.timeout"
    assert "'hanging'" in decision.reasons[0].message and "0.05 s" in decision.reasons[0].message


@pytest.mark.parametrize(
    ("answer", "rule"),
    [
        (None, "policy.malformed"),
        ({"allowed": True}, "policy.malformed"),
        (Decision(True, ("not a Reason",), (), "r", "d"), "policy.malformed"),  # type: ignore[arg-type]
        (Decision(True, (Reason("r.rule", "but denies"),), (), "r", "d"), "r.rule"),
        (Decision(False, (), (), "r", "d"), "policy.unexplained"),
    ],
    ids=["none", "dict", "string-reasons", "allow-with-reasons", "deny-without-reasons"],
)
def test_malformed_or_contradictory_answers_deny(answer: Any, rule: str) -> None:
    decision = _evaluate(PolicySet([Returning(answer)]))
    assert not decision.allowed
    assert decision.reasons[0].rule == rule


def test_the_default_policy_file_loads_and_its_digest_identifies_the_set() -> None:
    config = load_policy_config()
    policy = load_policy_set()
    assert policy.policy_id == config.policy_id == "crypto_analyzer.default"
    assert policy.digest() == config.digest()
    assert [type(member) for member in policy.members] == [DefaultPolicy]
    assert config.thresholds("accepted").separation_of_duties
    assert not config.thresholds("candidate").separation_of_duties


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (
            lambda t: t.replace("min_hac_t = 2.5 ", "", 1),
            "levels.candidate.min_hac_t: Field required",
        ),
        (lambda t: t.replace("max_bh_p = 0.05", "max_bh_p = 1.5", 1), "max_bh_p"),
        (lambda t: t.replace("min_oos_obs = 200", 'min_oos_obs = "200"', 1), "min_oos_obs"),
        (
            lambda t: t.replace("require_execution = true", "require_execution = 1", 1),
            "require_execution",
        ),
        (lambda t: t + "\nsurprise = 1\n", "surprise"),
        (
            lambda t: t + "\n[external]\npolicy_id = 'x'\nurl = 'ftp://x'\ntimeout_seconds = 1\n",
            "url",
        ),
        (lambda t: t.replace("[provenance]", "[provenance", 1), "not valid TOML"),
    ],
    ids=["missing", "range", "type", "bool-as-int", "unknown-key", "bad-url", "syntax"],
)
def test_policy_files_are_validated(edit: Any, fragment: str) -> None:
    with pytest.raises(PolicyConfigError, match=fragment):
        parse_policy_config(edit(_default_text()))


def test_a_policy_file_path_is_read_and_a_missing_one_is_an_error(tmp_path: Any) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(_default_text().replace("min_mean_ic = 0.02", "min_mean_ic = 0.5"))
    strict = load_policy_set(path)
    assert strict.digest() != load_policy_set().digest()
    decision = _evaluate(strict)
    assert any(
        reason.rule == "effect.mean_ic" and "0.5" in reason.message for reason in decision.reasons
    )
    with pytest.raises(PolicyConfigError, match="does not exist"):
        load_policy_set(tmp_path / "nope.toml")


def _with_plugins(names: str, settings: str = "") -> Any:
    text = _default_text().replace("plugins = []", f"plugins = [{names}]")
    return parse_policy_config(text + settings)


def test_programmatic_plugins_join_the_one_set_when_the_file_lists_them() -> None:
    registry = PolicyRegistry()
    registry.register("strict-desk", lambda settings: FixedPolicy(False, "desk.rule", "desk"))
    # Registered but not listed: the file decides what takes part.
    assert [m.policy_id for m in build_policy_set(load_policy_config(), registry).members] == [
        "crypto_analyzer.default"
    ]
    config = _with_plugins('"strict-desk"')
    policy = build_policy_set(config, registry)
    assert [member.policy_id for member in policy.members] == ["crypto_analyzer.default", "desk"]
    assert policy.digest() == config.digest() != load_policy_config().digest()
    decision = _evaluate(policy)
    assert not decision.allowed and [reason.rule for reason in decision.reasons] == ["desk.rule"]


def test_registry_refuses_duplicates_unknown_names_and_non_policies() -> None:
    registry = PolicyRegistry()
    registry.register("a", lambda settings: FixedPolicy())
    with pytest.raises(PolicyConfigError, match="already registered"):
        registry.register("a", lambda settings: FixedPolicy())
    with pytest.raises(PolicyConfigError, match="no policy of that name is registered"):
        build_policy_set(_with_plugins('"b"'), registry)
    registry.register("c", lambda settings: object())
    with pytest.raises(PolicyConfigError, match="not a Policy"):
        build_policy_set(_with_plugins('"c"'), registry)


def test_entry_point_plugins_load_with_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [metadata.EntryPoint("fixed", "gov_factories:fixed_policy_factory", ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry_module.metadata, "entry_points", lambda group: points)
    config = _with_plugins('"fixed"', "\n[plugin_settings.fixed]\nallowed = false\n")
    policy = build_policy_set(config)
    assert [member.policy_id for member in policy.members][-1] == "plugin.fixed"
    assert not _evaluate(policy).allowed


def test_a_broken_entry_point_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [metadata.EntryPoint("broken", "no_such_module_xyz:factory", ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry_module.metadata, "entry_points", lambda group: points)
    with pytest.raises(PolicyConfigError, match=r"'broken'.*failed to load"):
        PolicyRegistry().load_entry_points()
