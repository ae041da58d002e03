"""The demo runs end to end and is deterministic under a pinned clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig
from crypto_analyzer.pipeline.demo import run_demo


def test_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path / "demo"), "--assets", "5", "--days", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["doctor_ok"] is True
    assert summary["ingest"]["n_accepted"] == 5 * 4 * 24
    assert summary["dataset"]["mode"] == "strict"
    assert (tmp_path / "demo" / "crypto_analyzer.sqlite").exists()


def test_demo_is_deterministic_under_a_pinned_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-01-01T00:00:00Z")
    reset_settings_cache()
    market = SyntheticMarketConfig(assets=4, days=2, seed=11)
    first = run_demo(tmp_path / "a", market)
    second = run_demo(tmp_path / "b", market)
    assert first.dataset.dataset_id == second.dataset.dataset_id
    assert first.ingest == second.ingest
    other = run_demo(tmp_path / "c", SyntheticMarketConfig(assets=4, days=2, seed=12))
    assert other.dataset.dataset_id != first.dataset.dataset_id
