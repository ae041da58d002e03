"""History rewritten with owner rights is found against signed checkpoints (issue 21, finding 3).

An operator with DDL rights drops the triggers, deletes or edits events (recomputing the chain
where needed) and restores the triggers exactly: chain, triggers and consistency checks all pass.
The chain-head checkpoints the service signed into the artifact store after every governed
transaction still name the lost or rewritten head. A checkpoint that could not be written is a
warning at the time and a finding until ``audit checkpoint`` writes one; checkpoint files the
service key did not sign are findings themselves.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_forgery import delete_and_rechain, drop_triggers, event_rows, one, rechain
from gov_forgery import restore_triggers as restore
from gov_workspace import make_service, seed_run
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.service_key import ServiceKey, create_service_key, key_id_of
from crypto_analyzer.governance import VerifyReport, verify_workspace
from crypto_analyzer.governance.checkpoints import (
    Heads,
    checkpoint_key,
    checkpoint_now,
    write_checkpoint,
)

runner = CliRunner()


def _accepted_last(engine: sa.Engine, store: ArtifactStore, *, denied_first: bool = False) -> str:
    """A candidate accepted by the last governed action (optionally after a denied evaluation)."""
    run = seed_run(engine, store)
    service = make_service(engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    if denied_first:
        assert not service.evaluate(candidate, target="accepted", actor="bob").passed
    service.promote(candidate, target="candidate", actor="alice")
    service.promote(candidate, target="accepted", actor="bob")
    assert not service.anchor_problems
    assert verify_workspace(engine, store, "default").ok
    return candidate


def _checks(report: VerifyReport) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.check, []).append(finding.message)
    return found


def _report_id(engine: sa.Engine, candidate: str, level: str) -> str:
    return one(
        engine,
        "SELECT report_id FROM eligibility_reports WHERE candidate_id = :c AND level = :l",
        c=candidate,
        l=level,
    )["report_id"]


def test_a_deleted_acceptance_with_the_triggers_restored_is_found_only_by_the_checkpoint(
    backend_engine: sa.Engine, backend_url: str, store: ArtifactStore
) -> None:
    candidate = _accepted_last(backend_engine, store)
    first = _report_id(backend_engine, candidate, "candidate")
    accepted = _report_id(backend_engine, candidate, "accepted")
    saved = drop_triggers(backend_engine)
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM governance_events WHERE seq = 2")
        connection.execute(
            sa.text("DELETE FROM eligibility_reports WHERE report_id = :r"), {"r": accepted}
        )
        connection.execute(
            sa.text(
                "UPDATE promotion_candidates SET status = 'candidate', "
                "eligibility_report_id = :r WHERE candidate_id = :c"
            ),
            {"r": first, "c": candidate},
        )
    restore(backend_engine, saved)
    report = verify_workspace(backend_engine, store, "default")
    found = _checks(report)
    assert set(found) == {"checkpoint"}, report.findings  # every other check is satisfied
    assert any(
        m.startswith("checkpoint checkpoints/default/")
        and "-2-" in m.split()[1]
        and "no event at seq 2 (its newest is 1)" in m
        for m in found["checkpoint"]
    ), found
    env = {"CRYPTO_ANALYZER_ARTIFACTS": store.url}
    doctor = runner.invoke(app, ["doctor", "--db", backend_url, "--json"], env=env)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["chain checkpoint"]["ok"] is False, checks["chain checkpoint"]
    assert "seq 2 is gone or rewritten" in checks["chain checkpoint"]["detail"]
    assert checks["service key"]["ok"] is True


def test_an_emptied_governance_record_is_found_by_the_checkpoints(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    """Every event, report, candidate and trial deleted: nothing is left to be inconsistent."""
    _accepted_last(backend_engine, store)
    saved = drop_triggers(backend_engine)
    with backend_engine.begin() as connection:
        for table in (
            "governance_events",
            "eligibility_reports",
            "promotion_candidates",
            "trial_ledger",
        ):
            connection.exec_driver_sql(f"DELETE FROM {table}")
    restore(backend_engine, saved)
    found = _checks(verify_workspace(backend_engine, store, "default"))
    assert set(found) == {"checkpoint"}, found
    assert any("no event at seq 2 (its newest is None)" in m for m in found["checkpoint"]), found
    assert any("trial ledger of 2 row(s)" in m for m in found["checkpoint"]), found


def test_a_middle_event_deleted_and_the_chain_recomputed_is_found(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    _accepted_last(backend_engine, store, denied_first=True)
    denied = event_rows(backend_engine)[1]
    saved = drop_triggers(backend_engine)
    delete_and_rechain(backend_engine, 1)
    with backend_engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM eligibility_reports WHERE report_id = :r"),
            {"r": denied["report_id"]},
        )
    restore(backend_engine, saved)
    found = _checks(verify_workspace(backend_engine, store, "default"))
    assert "chain" not in found and "triggers" not in found, found
    messages = found["checkpoint"]
    assert any("records event seq 1 with hash" in m and "was rewritten" in m for m in messages)
    assert any("no event at seq 3" in m for m in messages), messages
    assert any("MAC does not match" in m for m in found["mac"])


def test_an_edited_event_behind_restored_triggers_is_found(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    _accepted_last(backend_engine, store)
    saved = drop_triggers(backend_engine)
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("UPDATE governance_events SET actor = 'mallory' WHERE seq = 0")
        connection.exec_driver_sql(
            "UPDATE promotion_candidates SET created_by = 'mallory'"
        )  # so the row agrees with the edited event
    rechain(backend_engine)
    restore(backend_engine, saved)
    found = _checks(verify_workspace(backend_engine, store, "default"))
    assert "chain" not in found and "triggers" not in found, found
    edited = event_rows(backend_engine)[0]["event_id"]
    assert any(
        m.startswith(f"event {edited} (seq 0") and "does not match" in m for m in found["mac"]
    ), found
    assert any(
        "records event seq 0 with hash" in m and "rewritten" in m for m in found["checkpoint"]
    )


def test_a_checkpoint_that_cannot_be_written_is_a_warning_then_a_finding_until_one_is(
    backend_engine: sa.Engine,
    backend_url: str,
    store: ArtifactStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = seed_run(backend_engine, store)
    service = make_service(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    folder = Path(store.url.removeprefix("file://")) / "checkpoints" / "default"
    aside = folder.with_name("aside")
    folder.rename(aside)
    folder.write_text("a file where the tenant's checkpoint folder belongs")
    outcome = service.promote(candidate, target="candidate", actor="alice")
    assert outcome.candidate.status == "candidate"  # committed regardless
    assert any("checkpoint was not written" in p for p in service.anchor_problems)
    assert any(
        "checkpoint was not written" in r.getMessage() and r.levelname == "WARNING"
        for r in caplog.records
    )
    folder.unlink()
    aside.rename(folder)
    found = _checks(verify_workspace(backend_engine, store, "default"))
    assert set(found) == {"checkpoint"}, found
    assert any(
        "events seq 1–1 are not covered by any checkpoint (the newest ends at 0)" in m
        for m in found["checkpoint"]
    ), found
    env = {"CRYPTO_ANALYZER_ARTIFACTS": store.url}
    made = runner.invoke(app, ["audit", "checkpoint", "--db", backend_url, "--json"], env=env)
    assert made.exit_code == 0, made.output
    written = json.loads(made.stdout)
    assert written["events"]["seq"] == 1 and written["key"].startswith("checkpoints/default/")
    verified = runner.invoke(app, ["audit", "verify", "--db", backend_url, "--json"], env=env)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True


def test_checkpoint_files_the_service_key_did_not_sign_are_findings(
    backend_engine: sa.Engine, store: ArtifactStore, service_key: ServiceKey, tmp_path: Path
) -> None:
    _accepted_last(backend_engine, store)
    genuine = checkpoint_now(backend_engine, store, "default", service_key)
    attacker = create_service_key(tmp_path / "mallory.key")
    forged_heads = Heads(5, "f" * 64, 9, "e" * 64, 0)
    foreign = write_checkpoint(
        store, attacker, "default", forged_heads, created_at="2099-01-01T00:00:00.000000Z"
    )
    body = json.loads(store.get(genuine.key))
    body.pop("mac")
    edited = {**body, "market_watermark": 7}
    edited_key = checkpoint_key(
        "default", body["created_at"], body["events"]["seq"], sha256_json(edited)
    )
    store.put(edited_key, canonical_bytes({**edited, "mac": genuine.mac}))
    store.put("checkpoints/default/notes.txt", b"not a checkpoint")
    found = _checks(verify_workspace(backend_engine, store, "default"))
    assert set(found) == {"checkpoint"}, found
    messages = found["checkpoint"]
    assert any(
        m.startswith(f"checkpoint {foreign.key} is not a valid checkpoint")
        and f"signed with key {attacker.key_id!r}" in m
        for m in messages
    ), messages
    assert any(
        m.startswith(f"checkpoint {edited_key} is not a valid checkpoint")
        and "MAC does not match" in m
        for m in messages
    ), messages
    assert any("notes.txt is in the checkpoint folder" in m for m in messages)
    newest = verify_workspace(backend_engine, store, "default", checkpoints=1)
    assert newest.checked["checkpoints"] == 1


def test_keys_init_service_creates_a_0600_key_once_and_a_loose_key_is_refused(
    backend_engine: sa.Engine, backend_url: str, store: ArtifactStore, tmp_path: Path
) -> None:
    target = tmp_path / "host" / "service.key"
    target.parent.mkdir()
    made = runner.invoke(app, ["keys", "init-service", "--path", str(target)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    secret = bytes.fromhex(target.read_text().strip())
    assert len(secret) == 32 and made.stdout.strip() == key_id_of(secret)
    again = runner.invoke(app, ["keys", "init-service", "--path", str(target)])
    assert again.exit_code == 2 and "already exists" in again.stderr, again.output
    assert bytes.fromhex(target.read_text().strip()) == secret  # never overwritten
    os.chmod(target, 0o644)
    env = {"CRYPTO_ANALYZER_ARTIFACTS": store.url, "CRYPTO_ANALYZER_SERVICE_KEY_FILE": str(target)}
    loose = runner.invoke(app, ["audit", "verify", "--db", backend_url], env=env)
    assert loose.exit_code == 2 and "group or others" in loose.stderr, loose.output
    assert "chmod 600" in loose.stderr
