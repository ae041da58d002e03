"""Hostile config values through the CLI: exit 2 with one clear line, and nothing written.

The report config, the settings file (``crypto-analyzer.toml``), the environment and the flags that
size a synthetic market or a calibration are all bounded before any work starts: no run row, no
artifact, no database file, no ingested row.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import reset_settings_cache

runner = CliRunner()
DEEP = 10_000


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[str, Path]:
    """A migrated, empty workspace and its artifact folder (which must stay absent)."""
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    return url, tmp_path / "artifacts"


def _rows(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())
    finally:
        engine.dispose()


def _one_error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output and "Recursion" not in result.output
    return lines[0]


CONFIGS = {
    "bootstrap-reps": ("[procedures]\nbootstrap_reps = 1000000000\n", "bootstrap_reps"),
    "deep-arrays": ("horizons = " + "[" * DEEP + "]" * DEEP + "\n", "deeper than"),
    "deep-dotted": ("[signal_params.x" + ".a" * DEEP + "]\nb = 1\n", "nests deeper than"),
    "huge-file": ("hypothesis = '" + "x" * (2 << 20) + "'\n", "the limit is 1,048,576 bytes"),
    "hypothesis": ("hypothesis = '" + "x" * 20_000 + "'\n", "20,000 characters"),
    "unknown-signal": ('signals = ["momentum_24h", "nope"]\n', "nope"),
    "pbo-odd": ("[procedures]\npbo_blocks = 17\n", "pbo_blocks"),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_hostile_report_config_exits_2_and_writes_nothing(
    workspace: tuple[str, Path], tmp_path: Path, name: str
) -> None:
    url, artifacts = workspace
    text, fragment = CONFIGS[name]
    config = tmp_path / f"{name}.toml"
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(
        app,
        ["--db", url, "report", "--config", str(config)],
        env={"CRYPTO_ANALYZER_ARTIFACTS": f"file://{artifacts}"},
    )
    assert result.exit_code == 2, result.output
    assert fragment in _one_error_line(result)
    assert _rows(url, "runs") == 0
    assert not artifacts.exists()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--bootstrap-reps", "1000000000"], "50000"),
        (["--hypothesis", "h" * 20_000], "10000 characters"),
        (["--horizons", ",".join(str(h) for h in range(1, 200))], "199 items"),
        (["--test-size", str(10**12)], "1000000"),
        (["--actor", "a" * 5000], "is 5000 characters long (use ≤ 64)"),
    ],
    ids=["bootstrap-reps", "hypothesis", "horizons", "test-size", "actor"],
)
def test_hostile_report_flags_exit_2_and_write_nothing(
    workspace: tuple[str, Path], flags: list[str], fragment: str
) -> None:
    url, artifacts = workspace
    result = runner.invoke(
        app,
        ["--db", url, "report", *flags],
        env={"CRYPTO_ANALYZER_ARTIFACTS": f"file://{artifacts}"},
    )
    assert result.exit_code == 2, result.output
    assert fragment in _one_error_line(result)
    assert _rows(url, "runs") == 0 and not artifacts.exists()


def test_a_real_process_refuses_a_deep_config_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("a = " + "{b = " * DEEP + "1" + "}" * DEEP + "\n", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "crypto_analyzer", "report", "--config", str(config),
         "--db", f"sqlite:///{tmp_path / 'never.sqlite'}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    assert "deeper than" in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "never.sqlite").exists()


SETTINGS_FILES = {
    "deep": ("tenant = " + "[" * DEEP + "]" * DEEP + "\n", "deeper than"),
    "deep-dotted": ("[x" + ".a" * DEEP + "]\nb = 1\n", "nests deeper than"),
    "huge": ("# " + "x" * (2 << 20) + "\n", "the limit is 1,048,576 bytes"),
}


@pytest.mark.parametrize("name", sorted(SETTINGS_FILES))
def test_a_hostile_settings_file_exits_2_before_creating_anything(
    tmp_path: Path, name: str
) -> None:
    text, fragment = SETTINGS_FILES[name]
    Path("crypto-analyzer.toml").write_text(text, encoding="utf-8")  # the test's working dir
    reset_settings_cache()
    database = tmp_path / "never.sqlite"
    result = runner.invoke(app, ["init", "--db", f"sqlite:///{database}"])
    assert result.exit_code == 2, result.output
    line = _one_error_line(result)
    assert "crypto-analyzer.toml" in line and fragment in line
    assert not database.exists()


def test_an_overlong_environment_value_exits_2_without_echoing_it(tmp_path: Path) -> None:
    database = tmp_path / "never.sqlite"
    secret = "sqlite:///" + "p" * 10_000
    result = runner.invoke(app, ["init"], env={"CRYPTO_ANALYZER_DB_URL": secret})
    assert result.exit_code == 2, result.output
    line = _one_error_line(result)
    assert "CRYPTO_ANALYZER_DB_URL" in line and "4096" in line and "10,010 characters" in line
    assert "p" * 100 not in line
    assert not database.exists()


def test_oversized_synthetic_markets_exit_2_before_any_work(
    workspace: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = workspace
    result = runner.invoke(
        app, ["ingest", "synthetic", "--assets", "1000", "--days", "3650", "--db", url]
    )
    assert result.exit_code == 2, result.output
    assert "assets" in _one_error_line(result)
    assert _rows(url, "bars") == 0
    demo_dir = tmp_path / "demo"
    demo = runner.invoke(app, ["demo", "--dir", str(demo_dir), "--assets", "100000"])
    assert demo.exit_code == 2, demo.output
    assert "100000" in _one_error_line(demo)
    assert not demo_dir.exists()


def test_calibration_sizes_are_bounded() -> None:
    result = runner.invoke(app, ["stats", "calibrate", "--reps", "1000000000"])
    assert result.exit_code == 2, result.output
    assert "--reps" in result.output


def test_too_many_folds_for_the_data_is_refused_before_any_signal_is_computed(
    workspace: tuple[str, Path],
) -> None:
    url, artifacts = workspace
    ingest = runner.invoke(
        app, ["ingest", "synthetic", "--assets", "12", "--days", "60", "--seed", "3", "--db", url]
    )
    assert ingest.exit_code == 0, ingest.output
    result = runner.invoke(
        app,
        ["--db", url, "report", "--test-size", "1", "--min-train-size", "24", "--horizons", "1",
         "--signals", "momentum_24h,low_vol"],
        env={"CRYPTO_ANALYZER_ARTIFACTS": f"file://{artifacts}"},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    line = _one_error_line(result)
    assert "folds" in line and "the limit is 1,000" in line
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        status, error = connection.exec_driver_sql("SELECT status, error FROM runs").one()
    engine.dispose()
    assert status == "failed" and "folds" in error
    assert not artifacts.exists()
