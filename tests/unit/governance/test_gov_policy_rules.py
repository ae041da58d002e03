"""Every default rule denies on its own, and its reason names the rule, the value and the threshold.

Each case starts from evidence that passes everything (``strong_bundle``) and breaks one thing; the
test asserts the denial, that the named rule is among the reasons, and that the reason text quotes
the offending value and the threshold it missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from gov_factories import (
    MemoryVerifier,
    candidate_for,
    context_for,
    history_for,
    patched,
    run_row_for,
    staleness_for,
    strong_bundle,
)

from crypto_analyzer.attest.verify import EnvelopeCheck, Finding
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.governance.policy import (
    Decision,
    DefaultPolicy,
    EvaluationContext,
    load_policy_config,
    parse_policy_config,
)
from crypto_analyzer.governance.policy.config import DEFAULT_POLICY_RESOURCE

INFORMATIONAL_RULES = {"power.underpowered"}
"""Rules that only ever warn (tested in test_gov_power_rule.py): no deny case exists for them."""

NO_ATTESTATION = {
    "attestation.present": False,
    "attestation.valid": False,
    "attestation.signed": False,
    "attestation.name": None,
    "attestation.sha256": None,
}


def _policy(history: dict[str, Any] | None = None, **level_changes: Any) -> DefaultPolicy:
    config = load_policy_config()
    if history:
        config = config.model_copy(update={"history": config.history.model_copy(update=history)})
    if not level_changes:
        return DefaultPolicy(config)
    levels = config.levels.model_copy(
        update={
            name: getattr(config.levels, name).model_copy(update=level_changes)
            for name in ("candidate", "accepted")
        }
    )
    return DefaultPolicy(config.model_copy(update={"levels": levels}))


@dataclass
class Case:
    rule: str
    fragments: tuple[str, ...]
    changes: dict[str, Any] = field(default_factory=dict)
    level: str = "candidate"
    status: str | None = None
    ctx: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    horizon: int = 4
    missing_artifacts: tuple[str, ...] = ()
    history: dict[str, Any] = field(default_factory=dict)


H = "horizons.1"  # the horizon-4 block of strong_bundle(horizons=(1, 4))
STRONG = strong_bundle(horizons=(1, 4))


def _history(**changes: Any) -> Any:
    """The candidate's (horizon 4) research history with ``changes``; 20 trials, 2 of this run."""
    return history_for(STRONG, 4, **{"unique_trials": 20, "this_run": 2, **changes})


UNSIGNED = EnvelopeCheck(
    "envelopes/x.dsse.json", True, False, None, (Finding("unsigned", "it carries no signature"),)
)
EDITED = EnvelopeCheck(
    "envelopes/x.dsse.json", True, True, None, (Finding("payload_edited", "predicate edited"),)
)

CASES = {
    # provenance
    "schema_version": Case("provenance.schema_version", ("2", "[1]"), {"schema_version": 2}),
    "fast_dev": Case(
        "provenance.dataset_strict",
        ("'fast_dev'", "STRICT"),
        {"dataset_mode": "fast_dev", "dataset_id": "fastdev-" + "d" * 64},
    ),
    "fast_dev_run": Case(
        "provenance.dataset_strict", ("'fast_dev'", "'strict'"), run={"dataset_mode": "fast_dev"}
    ),
    "run_key": Case(
        "provenance.run_key", ("run_key disagrees", "bundle 123412341234"), {"run_key": "1234" * 16}
    ),
    "dataset_id": Case(
        "provenance.dataset_id", ("dataset_id disagrees", "run eeee"), run={"dataset_id": "e" * 64}
    ),
    "config_digest": Case(
        "provenance.config_digest",
        ("config digest disagrees", "run ffff"),
        run={"config_digest": "f" * 64},
    ),
    "engine_version": Case(
        "provenance.engine_version", ("'9.9.9'", repr(ENGINE_VERSION)), {"engine_version": "9.9.9"}
    ),
    "spec_version": Case(
        "provenance.spec_version", ("'42'", repr(SPEC_VERSION)), {"spec_version": "42"}
    ),
    "seed_version": Case(
        "provenance.seed_version", ("99", f"[{SEED_VERSION}]"), {"seed_version": 99}
    ),
    "evidence_digest": Case(
        "provenance.evidence_digest",
        ("evidence digest disagrees", "abab"),
        ctx={"evidence_digest": "ab" * 32},
    ),
    "artifact_missing": Case(
        "provenance.artifacts",
        ("'ic/momentum.json'", "missing"),
        missing_artifacts=("ic/momentum.json",),
    ),
    "no_store": Case("provenance.artifacts", ("no artifact store",), ctx={"artifacts": None}),
    "run_failed": Case("provenance.run", ("'failed'", "'succeeded'"), run={"status": "failed"}),
    "run_unknown": Case("provenance.run", ("is not in tenant",), run={}),
    "run_instance": Case(
        "provenance.run_instance",
        ("run instance disagrees", "bundle run-elsewhere"),
        {"run_instance_id": "run-elsewhere"},
    ),
    "signal": Case("provenance.signal", ("signal disagrees", "bundle other"), {"signal": "other"}),
    # sample
    "oos_obs": Case("sample.min_oos_obs", ("150", "200"), {f"{H}.ic.n_obs": 150}),
    "assets": Case("sample.min_assets", ("8", "10"), {f"{H}.ic.n_assets": 8}),
    # effect at the candidate's own horizon
    "mean_ic": Case("effect.mean_ic", ("0.01", "0.02", "horizon 4"), {f"{H}.ic.mean_ic": 0.01}),
    "hac_t": Case("effect.hac_t", ("2.1", "2.5"), {f"{H}.ic.t_hac": 2.1}),
    "hac_t_missing": Case("effect.hac_t", ("missing", "2.5"), {f"{H}.ic.t_hac": None}),
    "bh_p": Case("effect.bh_p", ("0.08", "0.05"), {f"{H}.multiple_testing.bh_adjusted_p": 0.08}),
    "dsr": Case("effect.dsr", ("0.9", "0.95"), {f"{H}.deflated_sharpe.dsr": 0.9}),
    "pbo": Case("effect.pbo", ("0.6", "0.5", "family of 6"), {f"{H}.overfitting.pbo": 0.6}),
    "pbo_missing": Case("effect.pbo", ("missing", "0.5"), {f"{H}.overfitting.pbo": None}),
    "horizon_absent": Case("effect.horizon", ("horizon 2", "1, 4"), horizon=2),
    # data snooping
    "family_p": Case(
        "snooping.family_p",
        ("0.2", "0.1", "0.05"),
        {f"{H}.data_snooping.rc_p": 0.2, f"{H}.data_snooping.spa_p": 0.1},
    ),
    "family_p_missing": Case(
        "snooping.family_p",
        ("neither", "0.05"),
        {f"{H}.data_snooping.rc_p": None, f"{H}.data_snooping.spa_p": None},
    ),
    "romano_wolf": Case(
        "snooping.romano_wolf", ("0.07", "0.05"), {f"{H}.data_snooping.rw_p": 0.07}
    ),
    "draws": Case(
        "snooping.draws", ("900", "1000", "0.95"), {f"{H}.data_snooping.rw_draws_actual": 900}
    ),
    "skipped": Case(
        "snooping.skipped",
        ("family of 6", "bootstrap timed out"),
        {f"{H}.data_snooping.skip_reason": "bootstrap timed out"},
    ),
    # execution and regime
    "execution_missing": Case(
        "execution.present", ("no execution evidence",), {f"{H}.execution": None}
    ),
    "net_sharpe": Case(
        "execution.net_sharpe", ("0.3", "0.5", "1,000,000"), {f"{H}.execution.net_sharpe": 0.3}
    ),
    "participation": Case(
        "execution.participation", ("0.2", "0.05"), {f"{H}.execution.max_participation": 0.2}
    ),
    "regime": Case(
        "regime.worst_ic",
        ("'high_vol'", "-0.01", "minimum 0"),
        {f"{H}.regime.worst_regime_ic": -0.01},
    ),
    "regime_required": Case(
        "regime.worst_ic",
        ("no regime evidence",),
        {f"{H}.regime": None},
        limits={"require_regime": True},
    ),
    # fold causality
    "attestation_missing": Case(
        "causality.attestation", ("no fold-causality", "walk-forward"), NO_ATTESTATION
    ),
    "attestation_invalid": Case("causality.valid", ("not valid",), {"attestation.valid": False}),
    "attestation_hash": Case("causality.artifact", ("differs",), {"attestation.sha256": "c" * 64}),
    "attestation_for_accepted": Case(
        "causality.attestation",
        ("level accepted requires it",),
        {**NO_ATTESTATION, "walk_forward_used": False, "split_plan_digest": None},
        level="accepted",
        status="candidate",
    ),
    # signatures are judged from what evaluation verified (ctx.signatures), never the bundle's flag
    "signature": Case(
        "causality.signature",
        ("unsigned", "carries no signature"),
        {"attestation.signed": True},
        limits={"require_signature": True},
        ctx={"signatures": {"attestation": UNSIGNED, "bundle": UNSIGNED}},
    ),
    "signature_unchecked": Case(
        "evidence.signature",
        ("requires signatures", "not checked"),
        limits={"require_signature": True},
    ),
    "signature_tampered": Case(
        "evidence.signature",
        ("payload_edited",),
        ctx={"signatures": {"bundle": EDITED}},
    ),
    # separation of duties
    "creator_accepts": Case(
        "duties.separation",
        ("'alice' created", "'carol'"),
        level="accepted",
        status="candidate",
        ctx={"actor": "alice"},
    ),
    "promoter_accepts": Case(
        "duties.separation",
        ("'carol' first promoted",),
        level="accepted",
        status="candidate",
        ctx={"actor": "carol"},
    ),
    # the research history (trial ledger)
    "history_missing": Case("history.ledger", ("not available",), ctx={"history": None}),
    "history_no_trial": Case(
        "history.trial",
        ("no trial momentum@4",),
        ctx={"history": _history(problem="the trial ledger has no trial momentum@4 of run r")},
    ),
    "history_dsr": Case(
        "history.dsr",
        ("0.4", "0.95", "trials in scope: 20 (this run: 2)"),
        ctx={"history": _history(dsr=0.4)},
    ),
    "history_dsr_missing": Case(
        "history.dsr", ("missing", "0.95"), ctx={"history": _history(dsr=None)}
    ),
    "history_bh": Case(
        "history.multiple_testing",
        ("Benjamini-Hochberg", "0.3", "0.05", "trials in scope: 20 (this run: 2)"),
        ctx={"history": _history(bh_p=0.3)},
    ),
    "history_by": Case(
        "history.multiple_testing",
        ("Benjamini-Yekutieli", "0.2", "0.05"),
        ctx={"history": _history(by_p=0.2)},
        history={"multiple_testing": "by"},
    ),
    "history_lord": Case(
        "history.online_fdr",
        ("LORD++", "trial #20 of 20", "level 0.0001"),
        ctx={"history": _history(online_level=0.0001, online_rejected=False)},
        history={"multiple_testing": "lord++"},
    ),
    "restated": Case(
        "history.restated",
        ("restated since", "bars 1h", "3 row(s)", "revision 7", "ir_restate", "rerun the report"),
        ctx={"staleness": staleness_for(STRONG, restated=3)},
    ),
    "restated_unknown": Case(
        "history.restated",
        ("no data watermark",),
        ctx={"staleness": staleness_for(STRONG, watermark=None)},
    ),
    "restated_unchecked": Case(
        "history.restated", ("could not be checked",), ctx={"staleness": None}
    ),
    # the state machine, as a rule
    "skip_a_level": Case("state.transition", ("exploratory -> accepted",), level="accepted"),
    "terminal": Case("state.transition", ("rejected", "terminal"), status="rejected"),
}


def _decide(case: Case) -> Decision:
    bundle = strong_bundle(horizons=(1, 4))
    candidate = candidate_for(bundle, horizon=case.horizon, status=case.status or "exploratory")
    bundle = patched(bundle, case.changes) if case.changes else bundle
    run = None
    if case.run is not None:
        run = {} if case.run == {} else run_row_for(bundle, **case.run)
    base = context_for(bundle, verifier=MemoryVerifier(bundle, missing=case.missing_artifacts))
    values = {
        "tenant_id": base.tenant_id,
        "actor": base.actor,
        "run": base.run if case.run is None else (run or None),
        "first_promoter": base.first_promoter,
        "evidence_digest": bundle.evidence_digest(),
        "evidence_problem": None,
        "artifacts": base.artifacts,
        "history": _history(),
        "staleness": staleness_for(STRONG),
    }
    values.update(case.ctx)
    ctx = EvaluationContext(**values)
    return _policy(case.history, **case.limits).evaluate(candidate, bundle, case.level, ctx)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_denies_and_says_why(name: str) -> None:
    case = CASES[name]
    decision = _decide(case)
    assert not decision.allowed
    matching = [reason for reason in decision.reasons if reason.rule == case.rule]
    assert matching, [str(reason) for reason in decision.reasons]
    text = " | ".join(str(reason) for reason in matching)
    assert text.startswith(case.rule)
    for fragment in case.fragments:
        assert fragment in text, (fragment, text)


def test_every_default_rule_has_a_deny_case() -> None:
    allowed = _decide(Case("none", (), level="accepted", status="candidate"))
    assert allowed.allowed, [str(reason) for reason in allowed.reasons]
    covered = {case.rule for case in CASES.values()} | INFORMATIONAL_RULES
    assert set(allowed.rules) <= covered, sorted(set(allowed.rules) - covered)


def test_strong_evidence_passes_both_levels_with_a_second_principal() -> None:
    bundle = strong_bundle(horizons=(1, 4))
    policy = _policy()
    first = policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert first.allowed and first.reasons == ()
    second = policy.evaluate(
        candidate_for(bundle, status="candidate"), bundle, "accepted", context_for(bundle)
    )
    assert second.allowed, [str(reason) for reason in second.reasons]
    assert second.policy_digest == load_policy_config().digest()
    assert "duties.separation" in second.rules and "causality.signature" in second.rules


def test_single_hypothesis_families_warn_instead_of_requiring_snooping_tests() -> None:
    bundle = patched(
        strong_bundle(horizons=(1, 4)),
        {
            f"{H}.data_snooping.family_size": 1,
            f"{H}.multiple_testing.family_size": 1,
            f"{H}.overfitting.family_size": 1,
            f"{H}.overfitting.pbo": None,
            f"{H}.data_snooping.rc_p": None,
            f"{H}.data_snooping.rw_p": None,
        },
    )
    decision = _policy().evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert decision.allowed, [str(reason) for reason in decision.reasons]
    assert {"snooping.family", "effect.pbo"} <= {warning.rule for warning in decision.warnings}


def test_missing_evidence_denies_with_the_loading_problem() -> None:
    bundle = strong_bundle()
    ctx = context_for(bundle)
    ctx = EvaluationContext(
        **{**{k: getattr(ctx, k) for k in ctx.__slots__}, "evidence_problem": "hash mismatch"}
    )
    decision = _policy().evaluate(candidate_for(bundle), None, "candidate", ctx)
    assert not decision.allowed
    assert [str(reason) for reason in decision.reasons] == ["input.evidence: hash mismatch"]


def test_a_rule_that_raises_denies_naming_its_family() -> None:
    bundle = strong_bundle(horizons=(1, 4))

    class Exploding(MemoryVerifier):
        def problem(self, artifact: Any) -> str | None:
            raise RuntimeError("store exploded")

    decision = _policy().evaluate(
        candidate_for(bundle), bundle, "candidate", context_for(bundle, verifier=Exploding(bundle))
    )
    assert not decision.allowed
    assert any(
        reason.rule == "provenance.error" and "store exploded" in reason.message
        for reason in decision.reasons
    )


def test_policy_file_digest_ignores_layout_but_not_values() -> None:
    from importlib import resources

    text = (
        resources.files("crypto_analyzer.governance.policy") / DEFAULT_POLICY_RESOURCE
    ).read_text()
    base = parse_policy_config(text).digest()
    assert parse_policy_config("# a comment\n" + text.replace(" = ", "=")).digest() == base
    changed = text.replace("min_mean_ic = 0.02", "min_mean_ic = 0.021", 1)
    assert parse_policy_config(changed).digest() != base


@pytest.mark.parametrize(
    ("actor", "first_promoter"),
    [
        ("ALICE", "carol"),  # the creator in capitals
        ("alice\u200b", "carol"),  # … with a zero-width space
        ("\u0430lice", "carol"),  # … with a Cyrillic a
        ("os:alice", "carol"),  # … as her OS account
        ("bob", "BOB"),  # the first promoter in capitals
        ("b\u03bfb", "bob"),  # … with a Greek omicron
    ],
)
def test_separation_of_duties_sees_through_spellings(actor: str, first_promoter: str) -> None:
    bundle = strong_bundle(horizons=(1, 4))
    ctx = context_for(bundle, actor=actor, first_promoter=first_promoter)
    candidate = candidate_for(bundle, status="candidate", created_by="alice")
    decision = _policy().evaluate(candidate, bundle, "accepted", ctx)
    assert not decision.allowed
    reasons = [str(reason) for reason in decision.reasons]
    assert [reason for reason in reasons if reason.startswith("duties.separation")], reasons


def test_a_restatement_only_warns_when_the_policy_says_warn() -> None:
    case = Case("none", (), ctx={"staleness": staleness_for(STRONG, restated=2)},
                history={"on_restatement": "warn"})  # fmt: skip
    decision = _decide(case)
    assert decision.allowed, [str(reason) for reason in decision.reasons]
    assert [w.rule for w in decision.warnings if w.rule == "history.restated"] == [
        "history.restated"
    ]
