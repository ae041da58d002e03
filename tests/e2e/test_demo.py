"""The demo runs end to end — data, report, promotion, audit — and is deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig
from crypto_analyzer.pipeline.demo import DEMO_REPORT, run_demo

SMALL_MARKET = SyntheticMarketConfig(assets=16, days=150, seed=11, planted_ic=0.1)
SMALL_REPORT = {
    **DEMO_REPORT,
    "min_assets": 10,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 400, "pbo_blocks": 8},
    "portfolio": {**DEMO_REPORT["portfolio"], "k": 3},
}


def test_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path / "demo"), "--assets", "14", "--days", "150", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["doctor_ok"] is True and summary["audit_ok"] is True
    assert summary["ingest"]["n_accepted"] == 14 * 150 * 24
    assert summary["dataset"]["mode"] == "strict"
    assert Path(summary["report"]["html"].removeprefix("file://")).is_file()
    statuses = {c["signal"]: c["status"] for c in summary["candidates"]}
    assert set(statuses) == set(DEMO_REPORT["signals"])
    # the demo is a sandbox, and every event it writes says so
    assert summary["workspace_mode"] == "sandbox"
    if summary["trace"] is not None:
        events = summary["trace"]["events"]
        assert events and {e["payload"]["workspace_mode"] for e in events} == {"sandbox"}


def test_demo_accepts_the_planted_signal_and_stops_noise_with_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-01-01T00:00:00Z")
    reset_settings_cache()
    first = run_demo(tmp_path / "a", SMALL_MARKET, report=SMALL_REPORT)
    outcomes = {outcome.signal: outcome for outcome in first.candidates}
    assert outcomes["volume_shock"].status == "accepted", outcomes["volume_shock"].reasons
    for signal, outcome in outcomes.items():
        if signal != "volume_shock":
            assert outcome.status == "exploratory"
            assert outcome.reasons, signal
    assert first.trace is not None and first.audit_ok
    # a sandbox may use the pinned clock for its governance records: they are reproducible
    assert {event["created_at"] for event in first.trace["events"]} == {
        "2025-01-01T00:00:00.000000Z"
    }
    second = run_demo(tmp_path / "b", SMALL_MARKET, report=SMALL_REPORT)
    assert first.dataset.dataset_id == second.dataset.dataset_id
    assert first.report is not None and second.report is not None
    assert first.report.manifest == second.report.manifest
    assert [o.status for o in first.candidates] == [o.status for o in second.candidates]
