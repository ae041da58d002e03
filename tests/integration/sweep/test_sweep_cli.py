"""The sweep command: a table and the dashboard link for people, canonical JSON for programs."""

from __future__ import annotations

import json
from pathlib import Path

from sweep_workspace import workspace
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.canonical_json import canonical_dumps

SMALL_TOML = """name = "cli"
horizons = [1]
chunk_size = 2
[[signals]]
name = "volume_shock"
params = { window = [12, 24, 36] }
[report]
min_assets = 5
factor_window = 120
splits = { test_size = 120, min_train_size = 240, embargo = 4 }
procedures = { bootstrap_reps = 200, pbo_blocks = 8 }
portfolio = { k = 2 }
"""


def test_sweep_on_a_local_cluster_prints_the_dashboard_and_the_best_trials(
    tmp_path: Path,
) -> None:
    settings = workspace(tmp_path / "w")
    config = tmp_path / "sweep.toml"
    config.write_text(SMALL_TOML)
    env = {"CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts}
    runner = CliRunner()
    result = runner.invoke(
        app, ["--db", settings.db_url, "sweep", "--config", str(config), "--workers", "1"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "Dask dashboard: http" in result.stderr
    assert "3 trials on LocalCluster of 1 worker(s)" in result.stderr
    assert "best trials by HAC t" in result.stdout and "window" in result.stdout
    assert "3 trials (2 chunk(s) evaluated, 0 from checkpoints)" in result.stdout

    as_json = runner.invoke(
        app, ["--db", settings.db_url, "sweep", "--config", str(config), "--json"], env=env
    )
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert as_json.stdout.strip() == canonical_dumps(document)
    assert document["n_trials"] == 3 and document["executor"] == "in-process"
    assert "Dask dashboard" not in as_json.stderr and "sweep:" not in as_json.stderr
    assert document["family"]["dsr"]["n_trials"] == 3


def test_a_bad_sweep_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    settings = workspace(tmp_path / "w")
    config = tmp_path / "sweep.toml"
    config.write_text(SMALL_TOML.replace("window = [12, 24, 36]", "size = [1]"))
    result = CliRunner().invoke(app, ["--db", settings.db_url, "sweep", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown parameter(s) 'size'" in result.output
