"""Everyday CLI paths: where a run's report is, why a run failed, full run ids, any directory.

The workspace is named by an absolute ``--db`` and keeps the default (relative) artifact store
setting; the commands run from two other directories, as a user's shell would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import load_settings, reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.workspace import init_workspace

runner = CliRunner()
REPORT_TOML = (
    'signals = ["momentum_24h", "low_vol"]\nhorizons = [1, 4]\nmin_assets = 5\n'
    "factor_window = 120\n[splits]\ntest_size = 240\nmin_train_size = 480\n"
    "[procedures]\nbootstrap_reps = 200\npbo_blocks = 8\n"
)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A sandbox workspace (pinned clock allowed) with 60 days of bars for 12 assets."""
    folder = tmp_path / "ws"
    folder.mkdir()
    url = f"sqlite:///{folder / 'w.sqlite'}"
    init_workspace(load_settings(db_url=url), WorkspaceMode.SANDBOX)
    engine = create_db_engine(url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=12, days=60, seed=5))
    engine.dispose()
    # Every run starts in the same millisecond: their UUIDv7 ids share the 13-character prefix.
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    reset_settings_cache()
    return url, folder


def _cd(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)


def test_runs_show_list_and_doctor_work_from_any_directory(
    workspace: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, folder = workspace
    config = tmp_path / "report.toml"
    config.write_text(REPORT_TOML)
    _cd(monkeypatch, tmp_path / "elsewhere-a")
    ok = runner.invoke(app, ["--db", url, "report", "--config", str(config), "--json"])
    assert ok.exit_code == 0, ok.output
    ok_id = json.loads(ok.stdout)["run_instance_id"]
    failed = runner.invoke(app, ["--db", url, "report", "--config", str(config),
                                 "--test-size", "100000"])  # fmt: skip
    assert failed.exit_code == 2, failed.output
    assert (folder / "artifacts").is_dir()  # beside the database, not in the working directory
    assert not (tmp_path / "elsewhere-a" / "artifacts").exists()

    _cd(monkeypatch, tmp_path / "elsewhere-b")
    listed = runner.invoke(app, ["--db", url, "runs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    runs = {row["status"]: row["run_instance_id"] for row in json.loads(listed.stdout)}
    assert runs["succeeded"] == ok_id
    failed_id = runs["failed"]
    assert failed_id[:13] == ok_id[:13]  # the case a 13-character prefix would get wrong

    # The table keeps every id whole, even on a narrow terminal.
    narrow = runner.invoke(app, ["--db", url, "runs", "list"], env={"COLUMNS": "60"})
    assert narrow.exit_code == 0, narrow.output
    assert ok_id in narrow.stdout and failed_id in narrow.stdout
    diff = runner.invoke(app, ["--db", url, "runs", "diff", ok_id, failed_id],
                         env={"COLUMNS": "200"})  # fmt: skip
    assert diff.exit_code == 0, diff.output
    assert f"{ok_id} vs {failed_id}" in diff.stdout

    shown = json.loads(runner.invoke(app, ["--db", url, "runs", "show", ok_id, "--json"]).stdout)
    html = Path(shown["reports"]["report.html"].removeprefix("file://"))
    assert html.is_file() and html.is_relative_to(folder / "artifacts")
    assert shown["failure"] is None
    text = runner.invoke(app, ["--db", url, "runs", "show", ok_id], env={"COLUMNS": "400"})
    assert text.exit_code == 0, text.output
    assert re.search(r"report \(html\)\s*│ " + re.escape(str(html)), text.stdout)

    reason = json.loads(
        runner.invoke(app, ["--db", url, "runs", "show", failed_id, "--json"]).stdout
    )
    assert reason["status"] == "failed" and reason["reports"] == {}
    assert reason["failure"].startswith("ValidationError: history shorter than the split plan")
    text = runner.invoke(app, ["--db", url, "runs", "show", failed_id], env={"COLUMNS": "400"})
    assert text.exit_code == 0, text.output
    assert "failure" in text.stdout and "history shorter than the split plan" in text.stdout
    assert re.search(r"report \(html\)\s*│ —", text.stdout)

    doctor = runner.invoke(app, ["--db", url, "doctor", "--json"])
    report = json.loads(doctor.stdout)
    assert report["settings"]["artifacts"] == f"file://{folder / 'artifacts'}"
    check = next(item for item in report["checks"] if item["name"] == "artifact store")
    assert check["ok"] is True and str(folder / "artifacts") in check["detail"]


def test_an_explicit_absolute_or_remote_store_is_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ws' / 'w.sqlite'}"
    assert load_settings(db_url=url).artifacts_url == f"file://{tmp_path / 'ws' / 'artifacts'}"
    relative = load_settings(db_url=url, artifacts="file://store/x")
    assert relative.artifacts_url == f"file://{tmp_path / 'ws' / 'store' / 'x'}"
    absolute = load_settings(db_url=url, artifacts=f"file://{tmp_path / 'a'}")
    assert absolute.artifacts_url == f"file://{tmp_path / 'a'}"
    remote = load_settings(db_url=url, artifacts="s3://bucket/prefix")
    assert remote.artifacts_url == "s3://bucket/prefix"
    server = load_settings(db_url="postgresql://u@localhost/db")
    assert server.workspace_dir is None
    assert server.artifacts_url == f"file://{Path.cwd() / 'artifacts'}"
