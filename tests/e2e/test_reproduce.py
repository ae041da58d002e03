"""``crypto-analyzer reproduce`` on the demo: byte-identical, stops on changed data, refuses a
changed engine, records an audit fact that ``audit verify`` accepts, and never writes the record."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core import versions
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig
from crypto_analyzer.pipeline.demo import DEMO_REPORT, DemoResult, run_demo

MARKET = SyntheticMarketConfig(assets=16, days=150, seed=11, planted_ic=0.1)
REPORT = {
    **DEMO_REPORT,
    "min_assets": 10,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 400, "pbo_blocks": 8},
    "portfolio": {**DEMO_REPORT["portfolio"], "k": 3},
}
RECORD_TABLES = ("runs", "run_artifacts", "artifact_lineage", "trial_ledger", "bars")
runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoResult:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-01-01T00:00:00Z")
    reset_settings_cache()
    result = run_demo(tmp_path / "demo", MARKET, report=REPORT)
    # the auditor reproduces later, on an unpinned clock
    monkeypatch.delenv("CRYPTO_ANALYZER_FIXED_TIME")
    reset_settings_cache()
    return result


def _accepted(demo: DemoResult) -> str:
    return next(c.candidate_id for c in demo.candidates if c.status == "accepted")


def _cli(demo: DemoResult, *args: str):
    return runner.invoke(app, ["--db", demo.settings.db_url, *args])


def _counts(demo: DemoResult) -> dict[str, int]:
    engine = create_db_engine(demo.settings.db_url)
    with engine.connect() as connection:
        counts = {
            name: int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one())
            for name in RECORD_TABLES
        }
    engine.dispose()
    return counts


def _env(demo: DemoResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", f"file://{demo.directory / 'artifacts'}")
    reset_settings_cache()


def test_the_accepted_candidate_reproduces_byte_for_byte_and_is_recorded(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(demo, monkeypatch)
    candidate = _accepted(demo)
    before = _counts(demo)
    result = _cli(demo, "reproduce", candidate, "--actor", "auditor", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "reproduced" and outcome["instance_reproducible"] is True
    assert len(outcome["artifacts"]) >= 20
    assert all(
        row["equal"] and row["recorded"] == row["reproduced"] for row in outcome["artifacts"]
    )
    assert {"manifest.json", "report.html", "bundle/volume_shock.json"} <= {
        row["name"] for row in outcome["artifacts"]
    }
    assert outcome["reproduced_run_key"] == outcome["run_key"]
    # nothing was written to the governed record but the event
    assert _counts(demo) == before
    trace = _cli(demo, "audit", "trace", candidate, "--json")
    assert trace.exit_code == 0, trace.output
    events = json.loads(trace.stdout)["events"]
    reproduced = [event for event in events if event["event_type"] == "reproduced"]
    assert len(reproduced) == 1 and reproduced[0]["actor"] == "auditor"
    assert reproduced[0]["payload"]["result"] == "reproduced"
    assert reproduced[0]["from_status"] is None and reproduced[0]["to_status"] is None
    verify = _cli(demo, "audit", "verify")
    assert verify.exit_code == 0, verify.output
    # the table, for people
    table = _cli(demo, "reproduce", candidate, "--actor", "auditor")
    assert table.exit_code == 0, table.output
    assert "manifest.json" in table.stdout and "byte-identical" in table.stdout


def test_a_restatement_after_the_run_is_reproduced_as_of_its_watermark(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(demo, monkeypatch)
    engine = create_db_engine(demo.settings.db_url)
    with engine.connect() as connection:
        bars = pd.read_sql(
            sa.text(
                "SELECT instrument_id, freq, bar_open_ms, open, high, low, close, volume FROM bars"
                " WHERE freq = '1h' ORDER BY instrument_id, bar_open_ms DESC LIMIT 5"
            ),
            connection,
        )
    bars["close"] = bars["high"]
    writer = ProvenanceWriter(engine)
    run = writer.start_run("import", "restatement", {"bars": len(bars)})
    writer.write_bars(run, bars, source="import")
    writer.finish_run(run, "succeeded")
    engine.dispose()
    result = _cli(demo, "reproduce", _accepted(demo), "--actor", "auditor", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["result"] == "reproduced"


def test_a_changed_bar_stops_before_running_and_names_the_table(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(demo, monkeypatch)
    # A hostile edit that bypasses the point-in-time triggers: the data as of the run's
    # watermark is no longer what the run read.
    engine = create_db_engine(demo.settings.db_url)
    with engine.begin() as connection:
        saved = [
            row[0]
            for row in connection.execute(
                sa.text(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bars'"
                )
            )
        ]
        for name in connection.execute(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bars'")
        ).scalars():
            connection.execute(sa.text(f"DROP TRIGGER {name}"))
        connection.execute(
            sa.text(
                "UPDATE bars SET close = high WHERE (instrument_id, bar_open_ms) = "
                "(SELECT instrument_id, MIN(bar_open_ms) FROM bars WHERE close <> high)"
            )
        )
        for statement in saved:
            connection.execute(sa.text(statement))
    engine.dispose()
    before = _counts(demo)
    result = _cli(demo, "reproduce", _accepted(demo), "--actor", "auditor", "--json")
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "refused" and outcome["artifacts"] == []
    assert "bars" in outcome["reason"] and "nothing was re-executed" in outcome["reason"]
    assert {row["table"]: row["equal"] for row in outcome["tables"]} == {
        "bars": False,
        "instruments": True,
    }
    assert _counts(demo) == before
    text = _cli(demo, "reproduce", _accepted(demo), "--actor", "auditor")
    assert text.exit_code == 1 and "bars" in text.output and "refused" in text.output


def _change_engine(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """Every loaded module's ENGINE_VERSION, wherever the report keeps its copy."""
    for name, module in list(sys.modules.items()):
        if name.startswith("crypto_analyzer") and isinstance(
            getattr(module, "ENGINE_VERSION", None), str
        ):
            monkeypatch.setattr(module, "ENGINE_VERSION", version)


def test_a_changed_engine_is_refused_and_with_the_flag_every_difference_is_listed(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(demo, monkeypatch)
    _change_engine(monkeypatch, "99.0.0")
    refused = _cli(demo, "reproduce", _accepted(demo), "--actor", "auditor", "--json")
    assert refused.exit_code == 1, refused.output
    outcome = json.loads(refused.stdout)
    assert outcome["result"] == "refused" and "--allow-engine-change" in outcome["reason"]
    assert outcome["engine"] == {"recorded": "0.1.0", "running": "99.0.0"}
    listed = _cli(
        demo, "reproduce", _accepted(demo), "--allow-engine-change", "--actor", "auditor", "--json"
    )
    assert listed.exit_code == 1, listed.output
    outcome = json.loads(listed.stdout)
    assert outcome["result"] == "differs"
    differing = {row["name"] for row in outcome["artifacts"] if not row["equal"]}
    assert {"stats/overview.json", "bundle/volume_shock.json", "manifest.json"} <= differing
    assert "config.json" not in differing  # what the engine version does not touch still matches
    assert all(name in outcome["reason"] for name in differing)
    verify = _cli(demo, "audit", "verify")
    assert verify.exit_code == 0, verify.output


def test_a_run_of_another_seed_scheme_is_refused(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run records the seed scheme its draws came from; a reproduction under another scheme
    # would differ for that reason alone, so it is refused with the reason named.
    _env(demo, monkeypatch)
    monkeypatch.setattr(versions, "SEED_VERSION", versions.SEED_VERSION + 1)
    refused = _cli(demo, "reproduce", _accepted(demo), "--actor", "auditor", "--json")
    assert refused.exit_code == 1, refused.output
    outcome = json.loads(refused.stdout)
    assert outcome["result"] == "refused"
    assert f"seed scheme {versions.SEED_VERSION - 1}" in outcome["reason"]
    assert "--allow-engine-change" in outcome["reason"]
