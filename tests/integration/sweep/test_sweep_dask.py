"""A 520-trial sweep gives byte-identical results in-process, on a LocalCluster of two worker
processes, and on a cluster that loses a worker mid-sweep; every trial lands in the ledger.

The in-process run is the oracle (module-scoped); each cluster run is a new execution of the same
sweep in the same workspace, so its artifacts must carry the same bytes.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sweep_workspace import count, grid, workspace

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.trial_ledger import read_trials, verify_ledger
from crypto_analyzer.pipeline.sweep import (
    SweepProgress,
    SweepResult,
    make_executor,
    parse_sweep_config,
    run_sweep,
)

IDENTICAL = ("sweep/trials.parquet", "sweep/series.parquet", "sweep/family.json")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return workspace(tmp_path_factory.mktemp("sweep-dask"))


@pytest.fixture(scope="module")
def baseline(settings: Settings) -> SweepResult:
    config = parse_sweep_config(grid(large=True, chunk_size=20))
    return run_sweep(settings, config, actor="alice")


def _ledger(settings: Settings, run_instance_id: str) -> list:
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            return read_trials(connection, "default", run_instance_id=run_instance_id)
    finally:
        engine.dispose()


def test_the_in_process_sweep_records_every_trial_and_the_family(
    settings: Settings, baseline: SweepResult
) -> None:
    assert baseline.n_trials == 520 and baseline.chunks_evaluated == 26
    trials = _ledger(settings, baseline.run_instance_id)
    assert len(trials) == 520
    assert len({trial.trial_key for trial in trials}) == 520  # cost scenarios are distinct trials
    assert {trial.family_size for trial in trials} == {520}
    assert all(trial.hypothesis_id.count("#") == 1 for trial in trials)
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            assert verify_ledger(read_trials(connection, "default")) == []
    finally:
        engine.dispose()
    assert count(settings, "SELECT n_hypotheses FROM sweep_families WHERE family_id = :f",
                 f=baseline.run_instance_id) == 520  # fmt: skip
    assert count(settings, "SELECT COUNT(*) FROM sweep_hypotheses WHERE family_id = :f",
                 f=baseline.run_instance_id) == 520  # fmt: skip
    assert count(settings, "SELECT COUNT(*) FROM runs WHERE run_instance_id = :r AND status = "
                 "'succeeded'", r=baseline.run_instance_id) == 1  # fmt: skip
    family = baseline.family.to_dict()
    assert family["n_trials"] == 520 and family["dsr"]["n_trials"] == 520
    assert family["rc_p"] is not None and family["spa_p"] is not None
    assert family["pbo"] is not None and 0.0 <= family["pbo"]["pbo"] <= 1.0
    assert len(family["family"]["stepm"]["adjusted_pvalues"]) == 520
    # The planted signal leads the search.
    assert baseline.best(1)[0]["signal"] == "volume_shock"


def test_a_local_cluster_of_two_workers_gives_identical_artifacts(
    settings: Settings, baseline: SweepResult
) -> None:
    links: list[str] = []
    executor = make_executor("local", 2, on_cluster=links.append)
    config = parse_sweep_config(grid(large=True, chunk_size=20))
    result = run_sweep(settings, config, actor="alice", executor=executor)
    assert links and links[0].startswith("http")
    assert result.run_instance_id != baseline.run_instance_id
    assert result.executor == "LocalCluster of 2 worker(s)"
    for name in IDENTICAL:
        assert result.artifacts[name] == baseline.artifacts[name], name
    assert len(_ledger(settings, result.run_instance_id)) == 520


@pytest.fixture
def cluster() -> Iterator[object]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as local:  # fmt: skip
        yield local


class _KillOneWorker(SweepProgress):
    """After the first chunk comes back, SIGKILL one worker process (its nanny restarts it)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.killed: int | None = None
        self.chunks = 0

    def chunk_done(self, n_trials: int) -> None:
        self.chunks += 1
        if self.killed is None:
            from distributed import Client

            with Client(self.address) as client:
                pids = sorted(client.run(os.getpid).values())
            self.killed = pids[0]
            os.kill(self.killed, signal.SIGKILL)


def test_a_worker_killed_mid_sweep_costs_only_its_chunk(
    settings: Settings, baseline: SweepResult, cluster: object
) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    killer = _KillOneWorker(address)
    config = parse_sweep_config(grid(large=True, chunk_size=20))
    result = run_sweep(settings, config, actor="alice", executor=make_executor(address, None),
                       progress=killer)  # fmt: skip
    assert killer.killed is not None and killer.chunks == 26
    from distributed import Client

    with Client(address) as client:
        assert killer.killed not in client.run(os.getpid).values()
    for name in IDENTICAL:
        assert result.artifacts[name] == baseline.artifacts[name], name
    assert len(_ledger(settings, result.run_instance_id)) == 520


def test_the_sweep_artifacts_are_recorded_with_lineage(
    settings: Settings, baseline: SweepResult
) -> None:
    """The artifacts the client wrote are the ones the run's rows name (and the store holds)."""
    store = open_store(settings.artifacts)
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT name, artifact_sha256 FROM run_artifacts WHERE run_instance_id = :r"
                ),
                {"r": baseline.run_instance_id},
            ).all()
    finally:
        engine.dispose()
    assert {name for name, _ in rows} >= set(IDENTICAL)
    for name, sha in rows:
        assert store.ref(f"runs/{baseline.run_instance_id}/{name}").sha256 == sha
