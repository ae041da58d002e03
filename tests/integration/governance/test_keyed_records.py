"""Forgeries that keep every hash chain intact are named by ``audit verify`` (issue 21, finding 2).

The chains use a public algorithm, so an operator with INSERT and UPDATE rights can append a
complete, well-chained fake promotion with every trigger in place — and one with owner rights can
flip a verdict and recompute the chain. Neither holds the service key: each forged row is named by
its missing, invalid or foreign-key MAC; a verdict that does not follow from the stored evidence is
named by re-deriving it; a status its events do not explain is named by replaying them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_attacks import Workspace, build_workspace
from gov_factories import fixed_policy_factory
from gov_forgery import (
    drop_triggers,
    event_rows,
    forge_promotion,
    one,
    rechain,
    restore_triggers,
)
from gov_workspace import count_rows, make_service, seed_run, strong_trial
from test_gov_tamper import _drop_triggers

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.service_key import ServiceKey, create_service_key
from crypto_analyzer.db.trial_ledger import append_trials, read_trials
from crypto_analyzer.db.workspace_mode import WorkspaceMode, register_tenant
from crypto_analyzer.governance import VerifyReport, verify_workspace
from crypto_analyzer.governance.policy import PolicyRegistry, build_policy_set, load_policy_config
from crypto_analyzer.governance.records import report_mac_body
from crypto_analyzer.governance.research_history import research_history
from crypto_analyzer.governance.states import GENESIS_STATUS


@pytest.fixture
def ws(backend_engine: sa.Engine, store: ArtifactStore) -> Workspace:
    workspace = build_workspace(backend_engine, store)
    assert verify_workspace(backend_engine, store, "default").ok
    return workspace


def _messages(report: VerifyReport, check: str) -> list[str]:
    return [f.message for f in report.findings if f.check == check]


def _mac_of_another_row(engine: sa.Engine) -> tuple[str, str]:
    row = one(engine, "SELECT mac, mac_key_id FROM governance_events WHERE seq = 0")
    return row["mac"], row["mac_key_id"]


@pytest.mark.parametrize("mac", ["none", "copied", "own-key"])
def test_a_well_chained_fake_promotion_with_dml_rights_is_named_row_by_row(
    ws: Workspace, tmp_path: Path, service_key: ServiceKey, mac: str
) -> None:
    """Triggers intact: report + event (correct public hash) + status all pass the database."""
    engine = ws.engine
    model = one(
        engine, "SELECT * FROM eligibility_reports WHERE report_id = :r", r=ws.failed_report
    )
    attacker = create_service_key(tmp_path / "mallory.key")
    macs = {
        "none": (None, None),
        "copied": _mac_of_another_row(engine),  # a genuine MAC, from another row
        "own-key": (
            attacker.mac("governance_event", {"hash": model["report_id"]}),
            attacker.key_id,
        ),
    }[mac]
    report_id, event_id = forge_promotion(
        engine,
        ws.failed,
        copy_report=ws.failed_report,
        to="candidate",
        mac=macs[0],
        mac_key_id=macs[1],
    )
    assert (
        one(engine, "SELECT status FROM promotion_candidates WHERE candidate_id = :c", c=ws.failed)[
            "status"
        ]
        == "candidate"
    )  # the database let it through
    report = verify_workspace(engine, ws.store, "default")
    assert not report.ok
    assert {f.check for f in report.findings} == {"mac", "rederive", "checkpoint"}, report.findings
    macs_found = _messages(report, "mac")
    expected = {
        "none": "has no MAC",
        "copied": "MAC does not match",
        "own-key": f"not with the configured service key {service_key.key_id!r}",
    }[mac]
    for row in (f"report {report_id}", f"event {event_id}"):
        assert any(m.startswith(row) and expected in m for m in macs_found), macs_found
    rederived = _messages(report, "rederive")
    assert any(
        m.startswith(f"report {report_id} of candidate {ws.failed}")
        and "recorded passed=True" in m
        and "gives passed=False" in m
        and "effect.mean_ic" in m
        for m in rederived
    ), rederived
    assert any("not covered by any checkpoint" in m for m in _messages(report, "checkpoint"))


def test_a_fake_acceptance_written_with_the_triggers_dropped_is_named(ws: Workspace) -> None:
    _drop_triggers(ws.engine)
    report_id, event_id = forge_promotion(
        ws.engine, ws.failed, copy_report=ws.failed_report, to="accepted"
    )
    report = verify_workspace(ws.engine, ws.store, "default")
    macs = _messages(report, "mac")
    assert any(m.startswith(f"report {report_id}") and "has no MAC" in m for m in macs), macs
    assert any(m.startswith(f"event {event_id}") and "has no MAC" in m for m in macs), macs
    replay = _messages(report, "consistency")
    assert any(
        f"candidate {ws.failed}" in m and "exploratory -> accepted is not an allowed edge" in m
        for m in replay
    ), replay
    assert any(m.startswith(f"report {report_id}") for m in _messages(report, "rederive"))
    assert not _messages(report, "chain")  # the forged link is a correct link


def test_a_flipped_verdict_with_a_recomputed_chain_is_found_by_re_deriving_it(
    ws: Workspace,
) -> None:
    """Owner rights: the failed report says passed, its event too, and the chain is recomputed."""
    engine = ws.engine
    saved = drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE eligibility_reports SET passed = 1, reasons_json = '[]' "
                "WHERE report_id = :r"
            ),
            {"r": ws.failed_report},
        )
        event = connection.execute(
            sa.text("SELECT event_id, payload_json FROM governance_events WHERE report_id = :r"),
            {"r": ws.failed_report},
        ).one()
        connection.execute(
            sa.text("UPDATE governance_events SET payload_json = :p WHERE event_id = :e"),
            {"p": event[1].replace('"passed":false', '"passed":true'), "e": event[0]},
        )
    rechain(engine)
    restore_triggers(engine, saved)
    report = verify_workspace(engine, ws.store, "default")
    assert not _messages(report, "chain") and not _messages(report, "triggers")
    rederived = _messages(report, "rederive")
    assert any(
        m.startswith(f"report {ws.failed_report} of candidate {ws.failed}")
        and "recorded passed=True" in m
        and "gives passed=False" in m
        for m in rederived
    ), rederived
    macs = _messages(report, "mac")
    assert any(m.startswith(f"report {ws.failed_report}") and "does not match" in m for m in macs)
    assert any(m.startswith(f"event {event[0]}") and "does not match" in m for m in macs)


def test_an_event_that_disagrees_with_its_report_is_found(ws: Workspace) -> None:
    """Only the event is flipped (and re-chained): the report row still says it failed."""
    engine = ws.engine
    _drop_triggers(engine)
    with engine.begin() as connection:
        event = connection.execute(
            sa.text("SELECT event_id, payload_json FROM governance_events WHERE report_id = :r"),
            {"r": ws.failed_report},
        ).one()
        connection.execute(
            sa.text("UPDATE governance_events SET payload_json = :p WHERE event_id = :e"),
            {"p": event[1].replace('"passed":false', '"passed":true'), "e": event[0]},
        )
    rechain(engine)
    report = verify_workspace(engine, ws.store, "default")
    replay = _messages(report, "consistency")
    assert any(
        f"event {event[0]}" in m
        and "disagrees with its report" in m
        and "passed True (report says False)" in m
        for m in replay
    ), replay


def test_a_status_its_events_do_not_explain_is_found(ws: Workspace) -> None:
    """An accepted candidate set back to candidate, linked to its candidate-level report: every
    per-row check holds, only replaying the events shows the status was set by hand."""
    engine = ws.engine
    _drop_triggers(engine)
    first_report = one(
        engine,
        "SELECT report_id FROM eligibility_reports WHERE candidate_id = :c AND level = 'candidate'",
        c=ws.accepted,
    )["report_id"]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE promotion_candidates SET status = 'candidate', "
                "eligibility_report_id = :r WHERE candidate_id = :c"
            ),
            {"r": first_report, "c": ws.accepted},
        )
        connection.execute(
            sa.text(
                "UPDATE promotion_candidates SET status_reason = 'changed my mind' "
                "WHERE candidate_id = :c"
            ),
            {"c": ws.rejected},
        )
    report = verify_workspace(engine, ws.store, "default")
    replay = _messages(report, "consistency")
    assert any(
        m.startswith(f"candidate {ws.accepted} is candidate, but replaying its")
        and "gives accepted" in m
        for m in replay
    ), replay
    assert any(
        f"candidate {ws.rejected}" in m and "'changed my mind' is not the reason" in m
        for m in replay
    ), replay
    assert not any("no event records reaching" in m for m in replay)  # the old check is blind


def test_a_governed_write_without_the_service_key_is_refused_before_anything_is_written(
    backend_engine: sa.Engine, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = seed_run(backend_engine, store)
    service = make_service(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    ).candidate_id
    before = count_rows(backend_engine)
    monkeypatch.delenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE")
    keyless = make_service(backend_engine, store)
    for attempt in (
        lambda: keyless.evaluate(candidate, target="candidate", actor="alice"),
        lambda: keyless.reject(candidate, reason="no", actor="rita"),
        lambda: keyless.create(
            run_instance_id=run.run_instance_id, signal=run.signal, horizon=1, actor="alice"
        ),
    ):
        with pytest.raises(ConfigError, match="must be keyed with the service key"):
            attempt()
    trial = strong_trial(run.run_instance_id, "k", "d", "carry", 9)
    with pytest.raises(ConfigError, match="trial-ledger append"):
        append_trials(backend_engine, "default", [trial], created_at="2025-01-02T00:00:00.000000Z")
    assert count_rows(backend_engine) == before
    with backend_engine.connect() as connection:
        assert len(read_trials(connection, "default")) == 2


def test_a_sandbox_writes_without_a_key_and_the_audit_says_so(
    backend_engine: sa.Engine, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE")
    with backend_engine.begin() as connection:
        register_tenant(connection, "lab", WorkspaceMode.SANDBOX)
    run = seed_run(backend_engine, store, tenant_id="lab")
    service = make_service(backend_engine, store, tenant_id="lab")
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    ).candidate_id
    assert service.evaluate(candidate, target="candidate", actor="alice").passed
    with backend_engine.connect() as connection:
        for table in ("governance_events", "eligibility_reports", "trial_ledger"):
            macs = connection.exec_driver_sql(
                f"SELECT mac, mac_key_id FROM {table} WHERE tenant_id = 'lab'"
            ).all()
            assert macs and all(row == (None, None) for row in macs), table
    report = verify_workspace(backend_engine, store, "lab")
    assert report.ok, report.findings
    warned = [w.message for w in report.warnings if w.check == "mac"]
    assert len(warned) == 2 + 1 + 2  # 2 events, 1 report, 2 trials
    assert all("written without the service key (sandbox)" in w for w in warned)


def test_research_history_re_derives_from_the_ledger_prefix_a_report_recorded(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    run = seed_run(backend_engine, store)
    service = make_service(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    ).candidate_id
    recorded = service.evaluate(candidate, target="candidate", actor="alice").report
    for index in range(3):  # the ledger grows after the decision
        seed_run(backend_engine, store, run_instance_id=f"run-later-{index}", signal="carry")
    assert recorded.history is not None and recorded.context is not None
    size = recorded.history["ledger"]["size"]
    with backend_engine.connect() as connection:
        now = research_history(
            connection, "default", run_instance_id=run.run_instance_id, hypothesis_id="momentum@4"
        )
        then = research_history(
            connection,
            "default",
            run_instance_id=run.run_instance_id,
            hypothesis_id="momentum@4",
            up_to_seq=size,
        )
    assert now.ledger.size == size + 6 and now.to_dict() != recorded.history
    assert then.to_dict() == recorded.history
    assert verify_workspace(backend_engine, store, "default").ok


def test_a_missing_policy_document_is_a_finding(ws: Workspace) -> None:
    context = one(
        ws.engine,
        "SELECT context_json FROM eligibility_reports WHERE report_id = :r",
        r=ws.failed_report,
    )["context_json"]
    key = next(key for key in ws.store.list("policies/") if key in context)
    path = Path(ws.store.url.removeprefix("file://")) / key
    path.unlink()
    report = verify_workspace(ws.engine, ws.store, "default")
    found = _messages(report, "rederive")
    assert any(
        m.startswith(f"report {ws.failed_report}") and "cannot be loaded" in m for m in found
    ), found


def test_a_plugin_policy_is_re_derived_for_its_default_part_only_and_says_so(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    registry = PolicyRegistry()
    registry.register("fixed", fixed_policy_factory)
    config = load_policy_config().model_copy(update={"plugins": ("fixed",)})
    run = seed_run(backend_engine, store)
    service = make_service(backend_engine, store, policy=build_policy_set(config, registry))
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    ).candidate_id
    assert service.evaluate(candidate, target="candidate", actor="alice").passed
    report = verify_workspace(backend_engine, store, "default")
    assert report.ok, report.findings
    warned = [w.message for w in report.warnings if w.check == "rederive"]
    assert any(
        "only the default policy was re-derived; fixed were not re-run" in w for w in warned
    ), warned
    assert report.checked["rederived"] == 1


def test_every_governed_row_carries_a_mac_of_the_service_key(
    ws: Workspace, service_key: ServiceKey
) -> None:
    rows = event_rows(ws.engine)
    assert rows[0]["from_status"] is None and rows[0]["to_status"] == GENESIS_STATUS
    with ws.engine.connect() as connection:
        for table in ("governance_events", "eligibility_reports", "trial_ledger"):
            keys = connection.exec_driver_sql(f"SELECT mac_key_id, mac FROM {table}").all()
            assert keys and all(kid == service_key.key_id and mac for kid, mac in keys), table


def test_a_decision_of_another_engine_version_that_no_longer_re_derives_is_a_warning(
    ws: Workspace, service_key: ServiceKey
) -> None:
    """A genuine report of an older engine (validly MACed) whose reasons today's rules would not
    give: the difference is reported as a warning naming both versions, not as tampering."""
    _drop_triggers(ws.engine)
    row = one(
        ws.engine, "SELECT * FROM eligibility_reports WHERE report_id = :r", r=ws.failed_report
    )
    context = json.loads(row["context_json"])
    older = {
        **row,
        "context_json": canonical_dumps({**context, "engine_version": "0.0.9"}),
        "reasons_json": canonical_dumps([{"message": "a rule of 0.0.9", "rule": "old.rule"}]),
    }
    older["mac"] = service_key.mac("eligibility_report", report_mac_body(older))
    with ws.engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE eligibility_reports SET context_json = :c, reasons_json = :r, "
                "mac = :m WHERE report_id = :id"
            ),
            {
                "c": older["context_json"],
                "r": older["reasons_json"],
                "m": older["mac"],
                "id": ws.failed_report,
            },
        )
    report = verify_workspace(ws.engine, ws.store, "default")
    assert not _messages(report, "rederive") and not _messages(report, "mac"), report.findings
    warned = [w.message for w in report.warnings if w.check == "rederive"]
    assert any(
        w.startswith(f"report {ws.failed_report}") and "decided by engine 0.0.9" in w
        for w in warned
    ), warned
