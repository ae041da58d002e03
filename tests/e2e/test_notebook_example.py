"""``examples/notebook_walkthrough.py`` runs end to end through the facade and gives the same
run key as the CLI on the same data and config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from crypto_analyzer.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "notebook_walkthrough.py"


def _load_example() -> Any:
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import notebook_walkthrough

        return notebook_walkthrough
    finally:
        sys.path.remove(str(EXAMPLE.parent))


def _toml(table: dict[str, Any], prefix: str = "") -> str:
    """Just enough TOML for the example's config: scalars, lists of scalars, nested tables."""
    scalars, tables = [], []
    for key, value in table.items():
        if isinstance(value, dict):
            tables.append(_toml(value, f"{prefix}{key}."))
        else:
            scalars.append(f"{key} = {json.dumps(value)}")
    header = f"[{prefix.rstrip('.')}]\n" if prefix else ""
    return header + "\n".join(scalars) + "\n\n" + "".join(tables)


def test_the_walkthrough_runs_and_matches_the_cli_run_key(tmp_path: Path) -> None:
    env = {**os.environ, "CRYPTO_ANALYZER_FIXED_TIME": "2025-04-01T00:00:00Z"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--dir", str(tmp_path / "nb"), "--json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "accepted" and summary["verify_ok"] is True
    assert summary["reproduced"] == "reproduced"  # a pinned run reproduces byte for byte
    assert "reproduced" in summary["trace_events"] and summary["trace_events"][0] == "created"
    assert summary["planted_power"] > 0.8 and 0 < summary["mde_ic"] < 0.1
    assert set(summary["adjusted_p"]) == set(summary["ic_columns"])  # labels kept
    assert summary["bundles"] == sorted(["volume_shock", "momentum_24h", "short_reversal"])

    example = _load_example()
    config = tmp_path / "report.toml"
    config.write_text(_toml(example.CONFIG))
    db = f"sqlite:///{tmp_path / 'cli' / 'w.sqlite'}"
    (tmp_path / "cli").mkdir()
    runner = CliRunner()
    env_cli = {"CRYPTO_ANALYZER_ARTIFACTS": f"file://{tmp_path / 'cli' / 'art'}"}
    market = example.MARKET
    for args in (
        ["init", "--sandbox"],
        ["ingest", "synthetic", "--assets", str(market["assets"]), "--days", str(market["days"]),
         "--seed", str(market["seed"]), "--planted-ic", str(market["planted_ic"])],
    ):  # fmt: skip
        result = runner.invoke(app, ["--db", db, *args], env=env_cli)
        assert result.exit_code == 0, result.output
    report = runner.invoke(app, ["--db", db, "report", "--config", str(config), "--json"],
                           env=env_cli)  # fmt: skip
    assert report.exit_code == 0, report.output
    cli = json.loads(report.stdout)
    assert cli["dataset_id"] == summary["dataset_id"]
    assert cli["run_key"] == summary["run_key"]
