"""Report runs whose process died: revision 0007, closing them, ``doctor``, and the rerun.

A report run killed between its ``running`` row and its final transaction used to stay
``running`` forever, and under a pinned clock every rerun collided with its run instance id
(an internal IntegrityError). Now the row names its pid and host, the next run on that host
closes it as ``interrupted``, ``doctor`` names it meanwhile, and a rerun takes the next free id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from report_workspace import DATASET, SMALL, dead_pid, workspace

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.attest.dsse import Envelope
from crypto_analyzer.core.identities import run_instance_id
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import alembic_config, schema_drift, schema_status, upgrade
from crypto_analyzer.db.registry import start_run
from crypto_analyzer.db.run_liveness import start_run_instance
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import doctor

KEY = "e" * 64


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    reset_settings_cache()


def _running(engine: sa.Engine, run_id: str, pid: int | None, host: str | None) -> None:
    with engine.begin() as connection:
        start_run(
            connection, tenant_id="default", run_key=KEY, run_instance_id=run_id,
            dataset_id=DATASET, config={}, actor="t",
        )  # fmt: skip
        connection.execute(
            sa.text("UPDATE runs SET pid = :pid, host = :host WHERE run_instance_id = :run"),
            {"pid": pid, "host": host, "run": run_id},
        )


def _runs(engine: sa.Engine) -> dict[str, tuple[str, str | None, int | None, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT run_instance_id, status, error, pid, host FROM runs")
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


def test_revision_0007_widens_the_status_and_round_trips_with_rows(backend_url: str) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(  # the runs row as revision 0003 knows it (no pid, no host)
            sa.text(
                "INSERT INTO runs (tenant_id, run_instance_id, run_key, dataset_id, dataset_mode, "
                "config_json, config_digest, engine_version, spec_version, seed_version, actor, "
                "status, started_at) VALUES ('default', 'r-old', :k, :d, 'strict', '{}', :k, "
                "'1', '1', 1, 't', 'running', '2025-01-01T00:00:00.000000Z')"
            ),
            {"k": KEY, "d": DATASET.value},
        )
        connection.execute(
            sa.text(
                "INSERT INTO run_metrics (tenant_id, run_instance_id, name, value) "
                "VALUES ('default', 'r-old', 'm', 1.0)"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE runs SET status = 'interrupted'"))  # not yet allowed
    upgrade(engine)
    upgrade(engine)  # twice: converges
    assert schema_status(engine).at_head and schema_drift(engine) == []
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE runs SET status = 'interrupted', error = 'why', pid = 7, host = 'h'")
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE runs SET status = 'vanished'"))  # still a CHECK
    assert _runs(engine) == {"r-old": ("interrupted", "why", 7, "h")}
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT status, error FROM runs")).one()
        columns = {c["name"] for c in sa.inspect(connection).get_columns("runs")}
        metrics = connection.execute(sa.text("SELECT COUNT(*) FROM run_metrics")).scalar_one()
    assert tuple(row) == ("failed", "why") and metrics == 1  # the reason and the children stay
    assert not {"pid", "host"} & columns
    upgrade(engine)
    assert schema_drift(engine) == []
    engine.dispose()


def test_dead_runs_of_this_host_are_closed_and_the_new_run_takes_the_next_free_id(
    backend_engine: sa.Engine, pinned: None
) -> None:
    host = socket.gethostname()
    first = run_instance_id(KEY)
    dead = dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _running(backend_engine, first, dead, host)  # a crashed run holding attempt 0
        _running(backend_engine, "r-live", sleeper.pid, host)
        _running(backend_engine, "r-elsewhere", dead, host + "-other")
        _running(backend_engine, "r-legacy", None, None)  # written before revision 0007
        started = start_run_instance(
            backend_engine, tenant_id="default", run_key=KEY, dataset_id=DATASET, config={},
            actor="t",
        )  # fmt: skip
        runs = _runs(backend_engine)
        again = start_run_instance(
            backend_engine, tenant_id="default", run_key=KEY, dataset_id=DATASET, config={},
            actor="t",
        )  # fmt: skip
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [closed.run_instance_id for closed in started.closed] == [first]
    status, error, _, _ = runs[first]
    assert status == "interrupted" and error is not None
    assert f"process {dead} on {host}" in error and "audit verify" in error
    assert runs["r-live"][0] == runs["r-elsewhere"][0] == runs["r-legacy"][0] == "running"
    assert started.attempt == 1 and started.run_instance_id == run_instance_id(KEY, attempt=1)
    assert runs[started.run_instance_id] == ("running", None, os.getpid(), host)
    assert again.attempt == 2 and again.closed == ()  # its owner (this process) is alive


def test_doctor_names_a_dead_report_run_until_the_next_run_closes_it(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    engine = create_db_engine(settings.db_url)
    _running(engine, "r-dead", dead_pid(), socket.gethostname())
    check = {c.name: c for c in doctor(settings).checks}["report runs"]
    assert not check.ok
    assert "run r-dead" in check.detail and "closes them as interrupted" in check.detail
    start_run_instance(
        engine, tenant_id="default", run_key=KEY, dataset_id=DATASET, config={}, actor="t"
    )
    engine.dispose()
    check = {c.name: c for c in doctor(settings).checks}["report runs"]
    assert check.ok and "1 interrupted" in check.detail, check.detail


def test_a_rerun_under_a_pinned_clock_succeeds_and_only_its_run_id_differs(
    tmp_path: Path, pinned: None
) -> None:
    settings = workspace(tmp_path)
    config = ReportConfig.model_validate(SMALL)
    first = run_report(settings, config, actor="alice")
    second = run_report(settings, config, actor="alice")  # used to fail: run id exists
    assert first.run_key == second.run_key
    assert second.run_instance_id == run_instance_id(first.run_key, attempt=1)
    store = open_store(settings.artifacts)
    names = [entry["name"] for entry in first.manifest["artifacts"]]
    assert names == [entry["name"] for entry in second.manifest["artifacts"]]
    # Artifacts that embed the run id (report, overview, bundles) differ in it, and so do the
    # hashes of those artifacts where the manifest lists them; nothing else may differ.
    swaps = {second.run_instance_id: first.run_instance_id}
    for before, after in zip(
        first.manifest["artifacts"], second.manifest["artifacts"], strict=True
    ):
        swaps[after["sha256"]] = before["sha256"]
    same = 0
    for name in names:
        before = store.get(f"runs/{first.run_instance_id}/{name}")
        after = store.get(f"runs/{second.run_instance_id}/{name}")
        same += before == after
        if name.startswith("envelopes/"):  # the statement is base64 inside: compare it decoded
            before, after = _statement(before), _statement(after)
        for new, old in swaps.items():
            after = after.replace(new.encode(), old.encode())
        assert after == before, name
    assert same >= len(names) // 2  # most artifacts do not mention the run at all


def _statement(envelope: bytes) -> bytes:
    """An unsigned envelope's payload type and statement, decoded."""
    parsed = Envelope.from_bytes(envelope)
    assert not parsed.signatures
    return parsed.payload_type.encode() + b"\n" + parsed.payload
