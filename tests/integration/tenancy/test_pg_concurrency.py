"""Concurrent callers on PostgreSQL, as the application role through one pooled engine.

16 threads evaluate the same candidate at once (then 16 more at the next level): exactly one
promotion per level, every successful call leaves exactly one report and one event, the chain has
no gap and no fork, and ``audit verify`` passes. 8 threads ingest at once: every bar of every
writer is there once, and the market revision log is one contiguous sequence.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.workspace import initialize
from crypto_analyzer.governance import ConcurrentChangeError, verify_workspace
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic

pytestmark = pytest.mark.postgres

TENANT = "desk-a"


def _race(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work(i)`` in ``n`` threads released together; results and unexpected errors."""
    start = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            results.append(work(index))
        except BaseException as exc:  # collected: a thread must not swallow a failure
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, errors


@pytest.fixture
def engine(postgres_url: str, app_url: str) -> Any:
    initialize(load_settings(db_url=app_url, admin_db_url=postgres_url, tenant=TENANT))
    made = create_db_engine(app_url, tenant=TENANT)
    yield made
    made.dispose()


def test_sixteen_concurrent_evaluations_make_one_transition_per_level(
    engine: sa.Engine, store: ArtifactStore
) -> None:
    run = seed_run(engine, store, tenant_id=TENANT)
    service = make_service(engine, store, tenant_id=TENANT)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    ).candidate_id
    succeeded = 0
    for level, actor in (("candidate", "alice"), ("accepted", "bob")):

        def evaluate(_index: int, level: str = level, actor: str = actor) -> str:
            try:
                outcome = service.evaluate(candidate, target=level, actor=actor)
            except ConcurrentChangeError:  # lost the race before writing: nothing written
                return "retry"
            assert outcome.passed
            return outcome.event.event_type

        results, errors = _race(16, evaluate)
        assert not errors, errors
        counts = Counter(results)
        assert counts["promoted"] == 1, counts  # exactly one transition per level
        assert counts["promoted"] + counts["evaluated"] + counts["retry"] == 16
        succeeded += counts["promoted"] + counts["evaluated"]
        assert service.get(candidate).status == level

    with engine.connect() as connection:
        seqs = connection.exec_driver_sql(
            "SELECT seq FROM governance_events ORDER BY seq"
        ).scalars()
        seqs = list(seqs)
        reports = connection.exec_driver_sql("SELECT count(*) FROM eligibility_reports").scalar()
        promoted = connection.exec_driver_sql(
            "SELECT to_status FROM governance_events WHERE event_type = 'promoted' ORDER BY seq"
        ).scalars()
        promoted = list(promoted)
    assert seqs == list(range(len(seqs)))  # no gap, no duplicate
    assert len(seqs) == 1 + succeeded  # created + one event per successful call: none lost
    assert reports == succeeded
    assert promoted == ["candidate", "accepted"]
    report = verify_workspace(engine, store, TENANT)
    assert report.ok, report.findings


def test_eight_concurrent_ingest_writers_add_up(engine: sa.Engine) -> None:
    configs = [
        SyntheticMarketConfig(
            assets=4, days=2, seed=11 + i, start=f"2024-02-{1 + 2 * i:02d}T00:00:00Z"
        )
        for i in range(8)
    ]
    results, errors = _race(
        8, lambda i: ingest_synthetic(engine, configs[i], tenant_id=TENANT, actor=f"writer-{i}")
    )
    assert not errors, errors
    assert len({result["ingest_run_id"] for result in results}) == 8
    expected = sum(config.assets * config.n_bars for config in configs)
    with engine.connect() as connection:
        bars, distinct = connection.exec_driver_sql(
            "SELECT count(*), count(DISTINCT (instrument_id, freq, bar_open_ms)) FROM bars"
        ).one()
        runs = connection.exec_driver_sql(
            "SELECT count(*) FROM ingest_runs WHERE status = 'succeeded'"
        ).scalar()
        revisions = list(
            connection.exec_driver_sql(
                "SELECT revision FROM market_revisions ORDER BY revision"
            ).scalars()
        )
    assert bars == distinct == expected  # every row of every writer, once
    assert runs == 8
    assert revisions == list(range(revisions[0], revisions[0] + len(revisions)))
