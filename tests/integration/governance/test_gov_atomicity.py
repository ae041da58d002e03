"""Fault injection: an exception at any step of a governed action leaves no partial write.

The service reports each step to an observer; here the observer raises at one chosen step, and the
database must look exactly as before — no report without its event, no event without its status
change, no status change without its report — on SQLite and PostgreSQL. After each fault the same
action is retried cleanly and must succeed, so the faults also prove nothing was left locked.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from gov_workspace import count_rows, make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.governance import verify_workspace

EVALUATE_STEPS = (
    "loaded",
    "decided",
    "locked",
    "report_written",
    "event_appended",
    "status_updated",
)
CREATE_STEPS = ("loaded", "locked", "candidate_inserted", "event_appended")
REVIEW_STEPS = ("locked", "event_appended", "status_updated")


class Fault(RuntimeError):
    pass


class Injector:
    """Observer that records every step and raises at the armed one."""

    def __init__(self) -> None:
        self.armed: str | None = None
        self.seen: list[str] = []

    def __call__(self, step: str) -> None:
        self.seen.append(step)
        if step == self.armed:
            raise Fault(f"injected at {step}")


def _faults_leave_no_trace(engine: sa.Engine, injector: Injector, steps, action) -> object:
    for step in steps:
        before = count_rows(engine)
        injector.armed = step
        with pytest.raises(Fault, match=step):
            action()
        assert count_rows(engine) == before, f"partial write after a fault at {step!r}"
    injector.armed = None
    injector.seen.clear()
    result = action()
    assert tuple(injector.seen) == steps, "the fault list must cover every step"
    return result


def test_faults_during_create(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    injector = Injector()
    service = make_service(backend_engine, store, observer=injector)
    run = seed_run(backend_engine, store)
    created = _faults_leave_no_trace(
        backend_engine,
        injector,
        CREATE_STEPS,
        lambda: service.create(
            run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
        ),
    )
    assert count_rows(backend_engine)["governance_events"] == 1
    assert verify_workspace(backend_engine, store, "default").ok
    assert created is not None


def test_faults_during_evaluate(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    injector = Injector()
    service = make_service(backend_engine, store, observer=injector)
    run = seed_run(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    for target, actor in (("candidate", "alice"), ("accepted", "bob")):
        outcome = _faults_leave_no_trace(
            backend_engine,
            injector,
            EVALUATE_STEPS,
            lambda target=target, actor=actor: service.evaluate(
                candidate, target=target, actor=actor
            ),
        )
        assert outcome.status_changed  # type: ignore[attr-defined]
    # A denied evaluation has no status step; faults before it are just as clean.
    denied_steps = EVALUATE_STEPS[:-1]
    _faults_leave_no_trace(
        backend_engine,
        injector,
        denied_steps,
        lambda: service.evaluate(candidate, target="candidate", actor="bob"),
    )
    report = verify_workspace(backend_engine, store, "default")
    assert report.ok, report.findings
    assert report.checked["reports"] == 3 and report.checked["events"] == 4


def test_faults_during_reject_and_revoke(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    injector = Injector()
    service = make_service(backend_engine, store, observer=injector)
    run = seed_run(backend_engine, store)
    first = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=1, actor="alice"
    ).candidate_id
    second = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.promote(second, target="candidate", actor="alice")
    service.promote(second, target="accepted", actor="bob")
    _faults_leave_no_trace(
        backend_engine,
        injector,
        REVIEW_STEPS,
        lambda: service.reject(first, reason="weak", actor="rita"),
    )
    _faults_leave_no_trace(
        backend_engine,
        injector,
        REVIEW_STEPS,
        lambda: service.revoke(second, reason="decayed", actor="rita"),
    )
    assert sorted(row[1] for row in count_rows(backend_engine)["statuses"]) == [
        "rejected",
        "revoked",
    ]
    assert verify_workspace(backend_engine, store, "default").ok


def test_a_database_refusal_rolls_back_the_whole_action(
    backend_engine: sa.Engine, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a bug that links the wrong report: the trigger refuses the status change, and the
    # report and event written earlier in the same transaction disappear with it.
    from crypto_analyzer.governance import GovernanceIntegrityError, repository

    service = make_service(backend_engine, store)
    run = seed_run(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    original = repository.update_status

    def wrong_report(connection, candidate, **values):  # type: ignore[no-untyped-def]
        return original(connection, candidate, **{**values, "report_id": "rep_somebody_else"})

    monkeypatch.setattr(repository, "update_status", wrong_report)
    before = count_rows(backend_engine)
    with pytest.raises(GovernanceIntegrityError, match="need a linked report"):
        service.evaluate(candidate, target="candidate", actor="alice")
    assert count_rows(backend_engine) == before
