"""Tampering by someone who can drop triggers is still found by ``audit verify``.

The triggers are dropped by hand (what a user with DDL rights could do); then events, reports,
artifacts and lineage are edited one at a time. Every edit must produce a finding that names what
broke, and undoing the edit must make that finding go away again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.db.health import expected_triggers
from crypto_analyzer.governance import VerifyReport, verify_workspace

EVENT_EDITS = {
    "tenant_id": "other-tenant",
    "event_id": "evt_forged",
    "seq": 99,
    "candidate_id": "cand_other",
    "event_type": "rejected",
    "from_status": "candidate",
    "to_status": "revoked",
    "report_id": "rep_other",
    "actor": "mallory",
    "payload_json": '{"passed":true}',
    "created_at": "2030-01-01T00:00:00.000000Z",
    "prev_hash": "0" * 64,
    "hash": "f" * 64,
}


def _drop_triggers(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            names = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
            for name in list(names):
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
        else:
            rows = connection.exec_driver_sql(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"
            ).all()
            for name, table in rows:
                connection.exec_driver_sql(f'DROP TRIGGER "{name}" ON "{table}"')


def _governed(engine: sa.Engine, store: ArtifactStore) -> str:
    service = make_service(engine, store)
    run = seed_run(engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.evaluate(candidate, target="accepted", actor="bob")  # denied: skips a level
    service.promote(candidate, target="candidate", actor="alice")
    service.promote(candidate, target="accepted", actor="bob")
    assert verify_workspace(engine, store, "default").ok
    _drop_triggers(engine)
    return candidate


def _findings(engine: sa.Engine, store: ArtifactStore, check: str | None = None) -> list[str]:
    report: VerifyReport = verify_workspace(engine, store, "default")
    triggers = {f.message for f in report.findings if f.check == "triggers"}
    assert len(triggers) == len(expected_triggers(engine.dialect.name))  # all dropped, all reported
    return [
        f"{f.check}: {f.message}"
        for f in report.findings
        if f.check != "triggers" and (check is None or f.check == check)
    ]


def _row(engine: sa.Engine, seq: int) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.text("SELECT * FROM governance_events WHERE seq = :s"), {"s": seq}
            )
            .mappings()
            .one()
        )


def test_editing_any_event_field_is_found(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    _governed(backend_engine, store)
    assert _findings(backend_engine, store) == []
    original = _row(backend_engine, 2)
    columns = ", ".join(f"{name} = :{name}" for name in EVENT_EDITS)
    for field, value in EVENT_EDITS.items():
        with backend_engine.begin() as connection:
            connection.execute(
                sa.text(f"UPDATE governance_events SET {field} = :v WHERE event_id = :e"),
                {"v": value, "e": original["event_id"]},
            )
        found = _findings(backend_engine, store, "chain")
        assert found, f"editing {field} went unnoticed"
        key = value if field == "event_id" else original["event_id"]
        with backend_engine.begin() as connection:
            connection.execute(
                sa.text(f"UPDATE governance_events SET {columns} WHERE event_id = :key"),
                {**{name: original[name] for name in EVENT_EDITS}, "key": key},
            )
        assert _findings(backend_engine, store) == [], f"restoring {field} left findings"


def test_deleting_a_middle_or_the_last_event_is_found(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    _governed(backend_engine, store)
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM governance_events WHERE seq = 1")
    middle = _findings(backend_engine, store)
    assert any("chain:" in item and "expected seq 1" in item for item in middle), middle
    assert any("consistency:" in item for item in middle)  # its report lost its event
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM governance_events WHERE seq >= 2")
    # Truncating the tail leaves an intact (shorter) chain; the cross-checks still see it.
    tail = _findings(backend_engine, store)
    assert not any(item.startswith("chain:") for item in tail)
    assert any("no event records reaching its current status" in item for item in tail), tail


def test_report_artifact_and_lineage_tampering_is_found(
    backend_engine: sa.Engine, store: ArtifactStore, tmp_path: Path
) -> None:
    candidate = _governed(backend_engine, store)
    with backend_engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE eligibility_reports SET passed = 0 WHERE report_id = "
            f"(SELECT eligibility_report_id FROM promotion_candidates "
            f"WHERE candidate_id = '{candidate}')"
        )
    assert any("does not justify the status" in item for item in _findings(backend_engine, store))
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("UPDATE eligibility_reports SET passed = 1")
        connection.exec_driver_sql("DELETE FROM eligibility_reports WHERE level = 'candidate'")
    found = _findings(backend_engine, store, "consistency")
    assert any("which does not exist" in item for item in found), found
    with backend_engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE artifact_lineage SET artifact_sha256 = 'aa' "
            "WHERE logical_name = 'ic/momentum.json'"
        )
    artifacts = _findings(backend_engine, store, "artifacts")
    assert any("'ic/momentum.json'" in item and "lineage recorded" in item for item in artifacts)
    lineage = _findings(backend_engine, store, "lineage")
    assert any("lineage hash of 'ic/momentum.json'" in item for item in lineage), lineage


def test_incomplete_lineage_of_an_accepted_candidate_is_found(
    sqlite_engine: sa.Engine, store: ArtifactStore
) -> None:
    run = seed_run(
        sqlite_engine, store, omit_lineage=("ic/momentum.json", "attestation/momentum.json")
    )
    service = make_service(sqlite_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.promote(candidate, target="candidate", actor="alice")
    service.promote(candidate, target="accepted", actor="bob")
    report = verify_workspace(sqlite_engine, store, "default")
    messages = [finding.message for finding in report.findings]
    assert {finding.check for finding in report.findings} == {"lineage"}
    assert any("'ic/momentum.json' has no lineage row" in m for m in messages)
    assert any("has no attests edge" in m for m in messages)


@pytest.mark.parametrize("dropped", ["trg_promotion_candidates_guard_update"])
def test_a_missing_trigger_is_a_finding(sqlite_engine: sa.Engine, dropped: str) -> None:
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER {dropped}")
    report = verify_workspace(sqlite_engine, None, "default")
    assert [(f.check, dropped in f.message) for f in report.findings] == [("triggers", True)]
