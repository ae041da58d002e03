"""The trial ledger can only grow: the database refuses edits, and ``audit verify`` finds rewrites.

T1 (DML rights): UPDATE, DELETE, a chain that does not extend the head, a trial recorded twice,
and on SQLite every conflict-resolution form (REPLACE, INSERT OR REPLACE, UPSERT, UPDATE OR
REPLACE) are refused by the database on both backends. T2 (DDL rights: triggers dropped): an edited
trial, a deleted trial, and a ledger rewritten and re-chained after a decision are each reported.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run, strong_trial
from test_gov_tamper import _drop_triggers

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.db.trial_ledger import (
    TrialRecord,
    append_trials,
    read_trials,
    trial_hash,
)
from crypto_analyzer.governance import verify_workspace


def _ledger(engine: sa.Engine, store: ArtifactStore) -> str:
    """A seeded run (2 trials), a candidate evaluated against them, plus 2 more trials."""
    run = seed_run(engine, store)
    service = make_service(engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    assert service.evaluate(candidate, target="candidate", actor="alice").passed
    seed_run(engine, store, run_instance_id="run-0002", signal="carry")
    return candidate


def _row(engine: sa.Engine, seq: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT * FROM trial_ledger WHERE tenant_id = 'default' AND seq = :s"),
            {"s": seq},
        ).mappings()
        return dict(row.one())


def _insert_sql(row: dict[str, Any], verb: str = "INSERT") -> tuple[str, dict[str, Any]]:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    return f"{verb} INTO trial_ledger ({columns}) VALUES ({values})", row


def _refused(engine: sa.Engine, sql: str, params: dict[str, Any] | None = None) -> str:
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as connection:
        connection.execute(sa.text(sql), params or {})
    return str(caught.value.orig)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE trial_ledger SET p_value = 0.0 WHERE seq = 2",
        "UPDATE trial_ledger SET sharpe = 9.9",
        "DELETE FROM trial_ledger WHERE seq = 3",
        "DELETE FROM trial_ledger",
    ],
)
def test_edits_and_deletions_are_refused(
    backend_engine: sa.Engine, store: ArtifactStore, statement: str
) -> None:
    _ledger(backend_engine, store)
    before = _row(backend_engine, 2)
    assert "trial_ledger is append-only" in _refused(backend_engine, statement)
    assert _row(backend_engine, 2) == before


def test_truncate_is_refused_on_postgresql(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    _ledger(backend_engine, store)
    if backend_engine.dialect.name != "postgresql":
        with backend_engine.connect() as connection:  # SQLite has no TRUNCATE; DELETE is covered
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM trial_ledger").scalar() == 4
        return
    assert "append-only" in _refused(backend_engine, "TRUNCATE trial_ledger")


def test_a_row_must_extend_the_chain_and_cannot_repeat(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    _ledger(backend_engine, store)
    head = _row(backend_engine, 3)
    # A trial squeezed into the middle (an existing seq) or skipping ahead.
    middle = {**_row(backend_engine, 1), "trial_id": "tr_forged", "hypothesis_id": "x@1"}
    refusal = _refused(backend_engine, *_insert_sql(middle))
    assert "seq must extend" in refusal or "rows are never replaced" in refusal
    ahead = {**head, "seq": 9, "trial_id": "tr_ahead", "hypothesis_id": "x@1"}
    assert "seq must extend" in _refused(backend_engine, *_insert_sql(ahead))
    # The next seq but a prev_hash that is not the head's hash (a forked chain).
    forked = {**head, "seq": 4, "prev_hash": "f" * 64, "trial_id": "tr_fork",
              "hypothesis_id": "x@1"}  # fmt: skip
    assert "prev_hash" in _refused(backend_engine, *_insert_sql(forked))
    # A correct link that records a trial already recorded (same run and hypothesis).
    again = {**head, "seq": 4, "prev_hash": head["hash"], "trial_id": "tr_again"}
    refusal = _refused(backend_engine, *_insert_sql(again))
    assert "already recorded" in refusal or "rows are never replaced" in refusal
    with backend_engine.connect() as connection:
        assert len(read_trials(connection, "default")) == 4


@pytest.mark.parametrize(
    "verb",
    ["REPLACE", "INSERT OR REPLACE", "UPSERT", "UPDATE OR REPLACE"],
)
def test_sqlite_conflict_resolution_cannot_rewrite_a_trial(
    sqlite_engine: sa.Engine, store: ArtifactStore, verb: str
) -> None:
    _ledger(sqlite_engine, store)
    before = _row(sqlite_engine, 2)
    forged = {**before, "p_value": 0.0, "sharpe": 9.0}
    if verb == "UPDATE OR REPLACE":
        sql, params = "UPDATE OR REPLACE trial_ledger SET p_value = 0.0 WHERE seq = 2", {}
    elif verb == "UPSERT":
        sql, params = _insert_sql(forged)
        sql += " ON CONFLICT (tenant_id, seq) DO UPDATE SET p_value = excluded.p_value"
    else:
        sql, params = _insert_sql(forged, verb)
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA recursive_triggers = OFF")
    _refused(sqlite_engine, sql, params)
    assert _row(sqlite_engine, 2) == before


def _findings(engine: sa.Engine, store: ArtifactStore) -> list[str]:
    report = verify_workspace(engine, store, "default")
    return [f.message for f in report.findings if f.check == "ledger"]


def test_edits_made_with_ddl_rights_are_found(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    _ledger(backend_engine, store)
    assert _findings(backend_engine, store) == []
    _drop_triggers(backend_engine)
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("UPDATE trial_ledger SET p_value = 0.5 WHERE seq = 2")
    found = _findings(backend_engine, store)
    assert any("seq 2" in message and "a field was edited" in message for message in found)
    with backend_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM trial_ledger WHERE seq = 3")
    assert any("seq 2" in message for message in _findings(backend_engine, store))


def test_a_ledger_rewritten_and_rechained_after_a_decision_is_found(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    """Drop the triggers, delete the evaluated run's trials, recompute every hash: the chain
    verifies again, but the eligibility report's judged head is gone."""
    _ledger(backend_engine, store)
    _drop_triggers(backend_engine)
    with backend_engine.begin() as connection:
        kept = [
            TrialRecord.from_row(row)
            for row in connection.execute(
                sa.text(
                    "SELECT * FROM trial_ledger WHERE run_instance_id = 'run-0002' ORDER BY seq"
                )
            ).mappings()
        ]
        connection.exec_driver_sql("DELETE FROM trial_ledger")
    prev = "0" * 64
    with backend_engine.begin() as connection:
        for seq, trial in enumerate(kept):
            body = {**trial.hashed_fields(), "seq": seq}
            row = {**body, "prev_hash": prev, "hash": trial_hash(prev, body)}
            connection.execute(sa.text(_insert_sql(row)[0]), row)
            prev = row["hash"]
    found = _findings(backend_engine, store)
    assert not any("a field was edited" in message for message in found)  # the chain is intact
    assert any("no longer has" in message and "rewritten" in message for message in found)


def test_appending_the_same_run_twice_is_refused_not_double_counted(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    run = seed_run(backend_engine, store)
    trial = strong_trial(run.run_instance_id, run.bundle.run_key, run.bundle.dataset_id,
                         "momentum", 4)  # fmt: skip
    with pytest.raises(sa.exc.IntegrityError):
        append_trials(backend_engine, "default", [trial], created_at="2025-01-02T00:00:00.000000Z")
    with backend_engine.connect() as connection:
        assert len(read_trials(connection, "default")) == 2
