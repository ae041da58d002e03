"""Concurrent governed writes serialise on the chain head: no fork, no gap, no lost event."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from gov_workspace import make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import verify_workspace


def test_parallel_evaluations_extend_one_chain(
    backend_engine: sa.Engine, backend_url: str, store: ArtifactStore
) -> None:
    run = seed_run(backend_engine, store)
    setup = make_service(backend_engine, store)
    candidates = [
        setup.create(
            run_instance_id=run.run_instance_id, signal="momentum", horizon=h, actor="alice"
        ).candidate_id
        for h in (1, 4)
    ]
    rounds = 4
    errors: list[BaseException] = []
    start = threading.Barrier(len(candidates))

    def worker(candidate: str) -> None:
        engine = create_db_engine(backend_url)  # separate pools: real concurrent sessions
        try:
            service = make_service(engine, store)
            start.wait()
            for _ in range(rounds):
                service.evaluate(candidate, target="candidate", actor="alice")
        except BaseException as exc:  # reported below; a thread must not swallow failures
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(c,)) for c in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_workspace(backend_engine, store, "default")
    assert report.ok, report.findings
    assert report.checked["events"] == len(candidates) * (1 + rounds)
