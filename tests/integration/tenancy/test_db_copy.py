"""``db copy`` SQLite → PostgreSQL → SQLite of a small demo workspace, through the CLI.

Every hop must keep the dataset id, pass ``audit verify`` on the target (chains, MACs with the same
service key, triggers, replayed state machine, artifacts, checkpoints) and give the accepted
candidate the identical ``audit trace``. The target must be empty; every trigger stays on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.demo import DEMO_REPORT, run_demo

MARKET = SyntheticMarketConfig(assets=50, days=130, seed=7, planted_ic=0.1)
"""The demo's market, smaller: a planted signal strong enough to be accepted in ~10 s."""
REPORT = {**DEMO_REPORT, "signals": ["volume_shock"], "procedures": {"bootstrap_reps": 200}}

runner = CliRunner()


def _json(*args: str) -> tuple[int, object]:
    outcome = runner.invoke(app, [*args, "--json"])
    try:
        return outcome.exit_code, json.loads(outcome.stdout)
    except json.JSONDecodeError:
        return outcome.exit_code, outcome.output


@pytest.mark.postgres
def test_sqlite_to_postgres_to_sqlite_round_trip(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = run_demo(tmp_path / "demo", MARKET, report=REPORT)
    assert demo.audit_ok and demo.trace is not None
    accepted = demo.trace["candidate"]["candidate_id"]
    # a second tenant whose market data was restated: revision 2 superseded every bar of 1
    engine = create_db_engine(demo.settings.db_url, tenant="desk-r")
    for seed in (1, 2):
        ingest_synthetic(
            engine, SyntheticMarketConfig(assets=4, days=2, seed=seed), tenant_id="desk-r"
        )
    engine.dispose()
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", demo.settings.artifacts)
    reset_settings_cache()
    laptop = demo.settings.db_url
    back = f"sqlite:///{tmp_path / 'back.sqlite'}"

    traces = {}
    for source, target in ((laptop, postgres_url), (postgres_url, back)):
        code, result = _json("db", "copy", "--from", source, "--to", target, "--batch-size", "2000")
        assert code == 0, result
        assert isinstance(result, dict) and result["ok"]
        checks = {check["tenant_id"]: check for check in result["tenants"]}
        assert sorted(checks) == ["default", "desk-r"]
        assert all(c["source_dataset_id"] == c["target_dataset_id"] for c in checks.values())
        assert checks["default"]["target_dataset_id"] == demo.dataset.dataset_id.value
        assert result["rows"]["bars"] > 1_000 and result["rows"]["governance_events"] >= 3
        assert result["rows"]["bars_history"] == 4 * 2 * 24  # written by the target's trigger
    # the restated tenant's data as of its first revision is the same everywhere
    as_of = set()
    for url in (laptop, postgres_url, back):
        engine = create_db_engine(url, tenant="desk-r")
        as_of.add(compute_dataset_id(engine, tenant_id="desk-r", as_of=1).dataset_id.value)
        engine.dispose()
    assert len(as_of) == 1
    for url in (laptop, postgres_url, back):
        code, report = _json("audit", "verify", "--all-tenants", "--db", url)
        assert code == 0, report
        code, trace = _json("audit", "trace", accepted, "--db", url)
        assert code == 0, trace
        traces[url] = trace
    assert traces[laptop] == traces[postgres_url] == traces[back]

    # the target must be empty: a second copy into it is refused before anything is written
    code, refused = _json("db", "copy", "--from", laptop, "--to", back)
    assert code == 2, refused
