"""Experiment registry and artifact lineage on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.core.identities import DatasetId, DatasetMode
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.lineage import (
    LineageEdge,
    LineageRecord,
    lineage_for_run,
    record_lineage,
    to_openlineage,
)
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.registry import diff_runs, finish_run, get_run, list_runs, start_run

DATASET = DatasetId(DatasetMode.STRICT, "d" * 64)


def _run(engine: sa.Engine, run_id: str, config: dict[str, object], metrics: dict) -> None:
    with engine.begin() as connection:
        start_run(
            connection,
            tenant_id="default",
            run_key="k" * 64,
            run_instance_id=run_id,
            dataset_id=DATASET,
            config=config,
            actor="alice",
            hypothesis="momentum persists",
            tags=["b", "a"],
        )
    with engine.begin() as connection:
        finish_run(
            connection,
            tenant_id="default",
            run_instance_id=run_id,
            status="succeeded",
            metrics=metrics,
        )


def test_runs_round_trip_and_diff(backend_engine: sa.Engine) -> None:
    _run(backend_engine, "0190aaaa-0000-7000-8000-000000000001", {"h": [1, 4], "fee": 5.0},
         {"ic.mean": 0.03, "sharpe": float("nan")})  # fmt: skip
    _run(backend_engine, "0190aaaa-0000-7000-8000-000000000002", {"h": [1, 4], "fee": 7.5},
         {"ic.mean": 0.02, "sharpe": 1.1})  # fmt: skip
    record = get_run(backend_engine, "default", "0190aaaa-0000-7000-8000-000000000001")
    assert record.status == "succeeded" and record.finished_at is not None
    assert record.tags == ["a", "b"]
    assert record.metrics == {"ic.mean": 0.03, "sharpe": None}
    assert [r.run_instance_id[-1] for r in list_runs(backend_engine, "default")] == ["2", "1"]
    difference = diff_runs(backend_engine, "default", "0190aaaa-0000-7000-8000-000000000001",
                           "0190aaaa-0000-7000-8000-000000000002")  # fmt: skip
    assert difference.config == {"fee": (5.0, 7.5)}
    assert difference.metrics == {"ic.mean": (0.03, 0.02), "sharpe": (None, 1.1)}
    assert "config_digest" in difference.identity
    with pytest.raises(ValidationError, match="ambiguous"):
        get_run(backend_engine, "default", "0190aaaa")
    with pytest.raises(NotFoundError, match="no run matches"):
        get_run(backend_engine, "other-tenant", "0190aaaa-0000-7000-8000-000000000001")


def test_identical_reruns_record_lineage_without_conflict(backend_engine: sa.Engine) -> None:
    records = [
        LineageRecord("bundle/momentum.json", "a" * 64, "file:///x/bundle.json", 10, "bundle", "1"),
        LineageRecord(
            "folds.json", "b" * 64, "file:///x/folds.json", 5, "split_plan", "1", {"plugins": []}
        ),
    ]
    edges = [
        LineageEdge("bundle/momentum.json", "uses_dataset", DATASET.value),
        LineageEdge("bundle/momentum.json", "uses_folds", "folds.json"),
    ]
    for run_id in ("0190bbbb-0000-7000-8000-000000000001", "0190bbbb-0000-7000-8000-000000000002"):
        _run(backend_engine, run_id, {"x": 1}, {})
        with backend_engine.begin() as connection:
            record_lineage(connection, tenant_id="default", run_instance_id=run_id,
                           records=records, edges=edges)  # fmt: skip
    stored, stored_edges = lineage_for_run(
        backend_engine, "default", "0190bbbb-0000-7000-8000-000000000002"
    )
    assert stored == sorted(records, key=lambda r: r.logical_name)
    assert set(stored_edges) == set(edges)
    event = to_openlineage("r", "report", stored, stored_edges, "2024-01-01T00:00:00Z")
    assert [item["name"] for item in event["inputs"]] == [DATASET.value]
    assert len(event["outputs"]) == 2


def test_lineage_refuses_bad_edges(sqlite_engine: sa.Engine) -> None:
    record = LineageRecord("a.json", "a" * 64, "file:///a", 1, "json")
    with (
        pytest.raises(ValidationError, match="edge type 'inspired_by'"),
        sqlite_engine.begin() as c,
    ):
        record_lineage(c, tenant_id="default", run_instance_id="r", records=[record],
                       edges=[LineageEdge("a.json", "inspired_by", "x")])  # fmt: skip
    with (
        pytest.raises(ValidationError, match="not an artifact of this run"),
        sqlite_engine.begin() as c,
    ):
        record_lineage(c, tenant_id="default", run_instance_id="r", records=[record],
                       edges=[LineageEdge("b.json", "derived_from", "a.json")])  # fmt: skip


def test_runs_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    engine = create_db_engine(url)
    upgrade(engine)
    _run(engine, "0190cccc-0000-7000-8000-000000000001", {"a": 1}, {"m": 1.0})
    _run(engine, "0190cccc-0000-7000-8000-000000000002", {"a": 2}, {"m": 2.0})
    engine.dispose()
    runner = CliRunner()
    listed = runner.invoke(app, ["--db", url, "runs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == 2
    shown = runner.invoke(
        app, ["--db", url, "runs", "show", "0190cccc-0000-7000-8000-000000000001"]
    )
    assert shown.exit_code == 0 and "metric m" in shown.stdout
    diff = runner.invoke(app, ["--db", url, "runs", "diff", "--json",
                               "0190cccc-0000-7000-8000-000000000001",
                               "0190cccc-0000-7000-8000-000000000002"])  # fmt: skip
    assert json.loads(diff.stdout)["config"] == {"a": [1, 2]}
    missing = runner.invoke(app, ["--db", url, "runs", "show", "ffffffff"])
    assert missing.exit_code == 1 and "no run matches" in missing.stderr
