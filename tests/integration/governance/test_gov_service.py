"""The governance service end to end: lifecycle, recording, refusals, evidence checks, tenants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_workspace import SeededRun, count_rows, make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.governance import (
    CandidateExistsError,
    ConcurrentChangeError,
    EvidenceError,
    GovernanceService,
    InvalidTransitionError,
    PromotionDenied,
    trace_candidate,
    verify_workspace,
)


def _create(service: GovernanceService, run: SeededRun, horizon: int = 4, actor: str = "alice"):
    return service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=horizon, actor=actor
    )


def test_the_golden_flow_on_both_backends(
    backend_engine: sa.Engine, store: ArtifactStore, seeded: SeededRun, service: GovernanceService
) -> None:
    created = _create(service, seeded)
    assert created.status == "exploratory"
    assert created.evidence_digest == seeded.bundle.evidence_digest()
    first = service.evaluate(created.candidate_id, target="candidate", actor="alice")
    assert first.passed and first.status_changed and first.candidate.status == "candidate"
    assert first.event.event_type == "promoted" and first.event.to_status == "candidate"
    second = service.evaluate(created.candidate_id, target="accepted", actor="bob")
    assert second.passed and second.candidate.status == "accepted"
    assert second.candidate.eligibility_report_id == second.report.report_id
    assert second.report.policy_digest == service_policy_digest()

    trace = trace_candidate(backend_engine, "default", created.candidate_id[:10])
    assert trace["candidate"]["status"] == "accepted"
    assert [event["event_type"] for event in trace["events"]] == ["created", "promoted", "promoted"]
    assert [report["level"] for report in trace["reports"]] == ["candidate", "accepted"]
    assert trace["run"]["run_key"] == created.run_key and trace["run"]["config"]["signal"]
    assert trace["dataset"]["mode"] == "strict"
    assert {row["logical_name"] for row in trace["lineage"]} == {
        "attestation/momentum.json",
        "bundle/momentum.json",
        "ic/momentum.json",
    }
    assert ("bundle/momentum.json", "uses_dataset", created.dataset_id) in {
        (edge["src_name"], edge["edge_type"], edge["dst_ref"]) for edge in trace["edges"]
    }
    json.dumps(trace)  # plain JSON all the way down
    report = verify_workspace(backend_engine, store, "default")
    assert report.ok, report.findings
    assert report.checked["events"] == 3 and report.checked["accepted"] == 1


def service_policy_digest() -> str:
    from crypto_analyzer.governance.policy import load_policy_config

    return load_policy_config().digest()


@pytest.fixture
def sqlite_service(sqlite_engine: sa.Engine, store: ArtifactStore) -> GovernanceService:
    return make_service(sqlite_engine, store)


def test_a_failed_evaluation_is_recorded_and_changes_nothing(
    sqlite_engine: sa.Engine, store: ArtifactStore, sqlite_service: GovernanceService
) -> None:
    weak = seed_run(sqlite_engine, store, changes={"horizons.1.ic.mean_ic": 0.004})
    candidate = _create(sqlite_service, weak)
    before = sqlite_service.get(candidate.candidate_id)
    outcome = sqlite_service.evaluate(candidate.candidate_id, target="candidate", actor="alice")
    assert not outcome.passed and not outcome.status_changed
    assert outcome.event.event_type == "evaluated" and outcome.event.to_status is None
    assert outcome.event.report_id == outcome.report.report_id
    assert any(reason["rule"] == "effect.mean_ic" for reason in outcome.report.reasons)
    assert sqlite_service.get(candidate.candidate_id) == before
    assert len(sqlite_service.reports(candidate.candidate_id)) == 1
    with pytest.raises(PromotionDenied, match=r"effect\.mean_ic") as denied:
        sqlite_service.promote(candidate.candidate_id, target="candidate", actor="alice")
    assert denied.value.report_id in {
        r.report_id for r in sqlite_service.reports(candidate.candidate_id)
    }
    assert len(sqlite_service.events(candidate.candidate_id)) == 3


def test_re_evaluation_is_allowed_and_idempotent_in_effect(
    sqlite_engine: sa.Engine, store: ArtifactStore, sqlite_service: GovernanceService
) -> None:
    candidate = _create(sqlite_service, seed_run(sqlite_engine, store))
    sqlite_service.evaluate(candidate.candidate_id, target="candidate", actor="alice")
    promoted = sqlite_service.get(candidate.candidate_id)
    again = sqlite_service.evaluate(candidate.candidate_id, target="candidate", actor="carol")
    assert again.passed and not again.status_changed
    assert again.event.event_type == "evaluated"
    assert sqlite_service.get(candidate.candidate_id) == promoted
    assert len(sqlite_service.reports(candidate.candidate_id)) == 2


def test_separation_of_duties_and_skipping_a_level(
    sqlite_engine: sa.Engine, store: ArtifactStore, sqlite_service: GovernanceService
) -> None:
    candidate = _create(sqlite_service, seed_run(sqlite_engine, store), actor="alice")
    skip = sqlite_service.evaluate(candidate.candidate_id, target="accepted", actor="bob")
    assert not skip.passed
    assert any(r["rule"] == "state.transition" for r in skip.report.reasons)
    sqlite_service.evaluate(candidate.candidate_id, target="candidate", actor="carol")
    for actor in ("alice", "carol"):
        refused = sqlite_service.evaluate(candidate.candidate_id, target="accepted", actor=actor)
        assert not refused.passed and refused.candidate.status == "candidate"
        assert any(r["rule"] == "duties.separation" for r in refused.report.reasons)
    assert sqlite_service.evaluate(candidate.candidate_id, target="accepted", actor="bob").passed


def test_reviewer_actions_follow_the_state_machine(
    sqlite_engine: sa.Engine, store: ArtifactStore, sqlite_service: GovernanceService
) -> None:
    run = seed_run(sqlite_engine, store)
    early = _create(sqlite_service, run, horizon=1)
    late = _create(sqlite_service, run, horizon=4)
    with pytest.raises(ValidationError, match="needs a reason"):
        sqlite_service.reject(early.candidate_id, reason="  ", actor="rita")
    rejected = sqlite_service.reject(early.candidate_id, reason="no economic story", actor="rita")
    assert rejected.status == "rejected" and rejected.status_reason == "no economic story"
    with pytest.raises(InvalidTransitionError, match="terminal"):
        sqlite_service.reject(early.candidate_id, reason="again", actor="rita")
    with pytest.raises(InvalidTransitionError, match="only accepted"):
        sqlite_service.revoke(late.candidate_id, reason="not yet accepted", actor="rita")
    sqlite_service.promote(late.candidate_id, target="candidate", actor="alice")
    sqlite_service.promote(late.candidate_id, target="accepted", actor="bob")
    with pytest.raises(InvalidTransitionError, match="revoked, not rejected"):
        sqlite_service.reject(late.candidate_id, reason="changed my mind", actor="rita")
    revoked = sqlite_service.revoke(late.candidate_id, reason="capacity collapsed", actor="rita")
    assert revoked.status == "revoked"
    terminal = sqlite_service.evaluate(late.candidate_id, target="accepted", actor="bob")
    assert not terminal.passed and terminal.candidate.status == "revoked"
    events = sqlite_service.events(late.candidate_id)
    assert [(e.event_type, e.actor) for e in events][-2:] == [
        ("revoked", "rita"),
        ("evaluated", "bob"),
    ]
    assert events[-2].payload == {
        "actor_source": "declared",
        "reason": "capacity collapsed",
        "workspace_mode": "governed",
    }
    assert verify_workspace(sqlite_engine, store, "default").ok


def test_creation_checks_run_bundle_and_horizon(
    sqlite_engine: sa.Engine, store: ArtifactStore, sqlite_service: GovernanceService
) -> None:
    run = seed_run(sqlite_engine, store)
    _create(sqlite_service, run)
    with pytest.raises(CandidateExistsError, match="already exists"):
        _create(sqlite_service, run, actor="bob")
    with pytest.raises(ValidationError, match=r"no horizon 2.*1, 4"):
        _create(sqlite_service, run, horizon=2)
    with pytest.raises(NotFoundError, match="no run matches"):
        sqlite_service.create(run_instance_id="run-nope", signal="momentum", horizon=4, actor="a")
    with pytest.raises(EvidenceError, match=r"no lineage row .bundle/carry\.json."):
        sqlite_service.create(
            run_instance_id=run.run_instance_id, signal="carry", horizon=4, actor="a"
        )
    with pytest.raises(ValidationError, match="actor"):
        sqlite_service.create(run_instance_id=run.run_instance_id, signal="x", horizon=4, actor=" ")
    assert count_rows(sqlite_engine)["promotion_candidates"] == 1


def _overwrite(store_root: Path, key: str, data: bytes) -> None:
    path = store_root.joinpath(*key.split("/"))
    path.chmod(0o644)
    path.write_bytes(data)


def test_a_bundle_changed_in_the_store_is_refused(
    sqlite_engine: sa.Engine,
    tmp_path: Path,
    store: ArtifactStore,
    sqlite_service: GovernanceService,
) -> None:
    run = seed_run(sqlite_engine, store)
    candidate = _create(sqlite_service, run)
    _overwrite(tmp_path / "artifacts", run.bundle_key, run.bundle.to_bytes() + b" ")
    outcome = sqlite_service.evaluate(candidate.candidate_id, target="candidate", actor="alice")
    assert not outcome.passed and outcome.report.evidence_digest == ""
    [reason] = outcome.report.reasons
    assert reason["rule"] == "input.evidence" and "lineage recorded" in reason["message"]
    with pytest.raises(EvidenceError, match="changed after the run"):
        _create(sqlite_service, run, horizon=1)


def test_an_evidence_artifact_changed_in_the_store_denies(
    sqlite_engine: sa.Engine,
    tmp_path: Path,
    store: ArtifactStore,
    sqlite_service: GovernanceService,
) -> None:
    run = seed_run(sqlite_engine, store)
    candidate = _create(sqlite_service, run)
    ic = run.bundle.artifact("ic/momentum.json")
    assert ic is not None
    _overwrite(tmp_path / "artifacts", ic.key, b"forged numbers")
    outcome = sqlite_service.evaluate(candidate.candidate_id, target="candidate", actor="alice")
    assert not outcome.passed
    assert [r["rule"] for r in outcome.report.reasons] == ["provenance.artifacts"]
    assert "'ic/momentum.json'" in outcome.report.reasons[0]["message"]
    findings = verify_workspace(sqlite_engine, store, "default").findings
    assert [f.check for f in findings] == ["artifacts"]


def test_tenants_are_isolated(sqlite_engine: sa.Engine, store: ArtifactStore) -> None:
    ours = make_service(sqlite_engine, store, tenant_id="desk-a")
    theirs = make_service(sqlite_engine, store, tenant_id="desk-b")
    run_a = seed_run(sqlite_engine, store, run_instance_id="run-a", tenant_id="desk-a")
    seed_run(sqlite_engine, store, run_instance_id="run-b", tenant_id="desk-b")
    candidate = _create(ours, run_a)
    with pytest.raises(NotFoundError):
        theirs.get(candidate.candidate_id)
    with pytest.raises(NotFoundError):
        theirs.evaluate(candidate.candidate_id, target="candidate", actor="mallory")
    with pytest.raises(NotFoundError, match="no run matches"):
        theirs.create(run_instance_id="run-a", signal="momentum", horizon=4, actor="mallory")
    other = theirs.create(run_instance_id="run-b", signal="momentum", horizon=4, actor="bob")
    assert theirs.events(other.candidate_id)[0].seq == 0  # each tenant has its own chain
    assert [c.candidate_id for c in ours.list_candidates()] == [candidate.candidate_id]
    assert verify_workspace(sqlite_engine, store, "desk-a").checked["events"] == 1


def test_a_concurrent_change_is_detected_and_nothing_is_written(
    sqlite_engine: sa.Engine, store: ArtifactStore
) -> None:
    reviewer = make_service(sqlite_engine, store)
    candidate = _create(reviewer, seed_run(sqlite_engine, store))

    def reject_meanwhile(step: str) -> None:
        if step == "decided":
            reviewer.reject(candidate.candidate_id, reason="meanwhile", actor="rita")

    racer = make_service(sqlite_engine, store, observer=reject_meanwhile)
    before = count_rows(sqlite_engine)
    with pytest.raises(ConcurrentChangeError, match="changed while it was being evaluated"):
        racer.evaluate(candidate.candidate_id, target="candidate", actor="alice")
    after = count_rows(sqlite_engine)
    assert after["eligibility_reports"] == before["eligibility_reports"]
    assert after["governance_events"] == before["governance_events"] + 1  # the rejection only


def test_works_against_file_and_s3_artifact_stores(
    sqlite_engine: sa.Engine, store_url: tuple[str, dict[str, object]]
) -> None:
    url, options = store_url
    store = open_store(url, **options)
    service = make_service(sqlite_engine, store)
    candidate = _create(service, seed_run(sqlite_engine, store))
    assert service.promote(candidate.candidate_id, target="candidate", actor="alice").passed
    assert verify_workspace(sqlite_engine, store, "default").ok
