"""The CLI end to end: commands, global and per-command --db, errors, read-only safety."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    result = runner.invoke(app, list(args), env=env)
    return result


@pytest.fixture
def seeded_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'seeded.sqlite'}"
    result = invoke("--db", url, "init")
    assert result.exit_code == 0, result.output
    engine = create_db_engine(url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=4, days=3, seed=1))
    engine.dispose()
    return url


def test_version_and_help() -> None:
    assert invoke("--version").stdout.strip() == f"crypto-analyzer {ENGINE_VERSION}"
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("init", "doctor", "check-dataset", "db", "demo"):
        assert command in result.stdout


def test_python_dash_m_runs_the_same_entry_point() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "crypto_analyzer", "--version"], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"crypto-analyzer {ENGINE_VERSION}"


def test_init_doctor_and_db_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert invoke("--db", url, "init").exit_code == 0
    assert invoke("init", "--db", url).exit_code == 0  # idempotent, per-command form
    doctor = invoke("doctor", "--db", url, "--json")
    assert doctor.exit_code == 0, doctor.output
    report = json.loads(doctor.stdout)
    assert report["ok"] is True
    assert {check["name"] for check in report["checks"]} >= {
        "database reachable",
        "schema at head",
        "storage integrity",
        "governance triggers",
        "artifact store",
        "plugins",
    }
    status = json.loads(invoke("--db", url, "db", "status", "--json").stdout)
    assert status["at_head"] is True and status["pending"] == []
    check = invoke("db", "check", "--db", url)
    assert check.exit_code == 0, check.output
    assert invoke("db", "upgrade", "--db", url).exit_code == 0


def test_environment_url_and_command_override(tmp_path: Path) -> None:
    env_url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    flag_url = f"sqlite:///{tmp_path / 'flag.sqlite'}"
    assert invoke("init", env={"CRYPTO_ANALYZER_DB_URL": env_url}).exit_code == 0
    assert (tmp_path / "env.sqlite").exists()
    assert invoke("--db", "sqlite:///ignored.sqlite", "init", "--db", flag_url).exit_code == 0
    assert (tmp_path / "flag.sqlite").exists()
    assert not Path("ignored.sqlite").exists()


def test_check_dataset_prints_id_mode_scope_counts(seeded_db: str) -> None:
    result = invoke("--db", seeded_db, "check-dataset", "--json")
    assert result.exit_code == 0, result.output
    identity = json.loads(result.stdout)
    assert identity["mode"] == "strict"
    assert identity["dataset_id_short"] == "ds_" + identity["dataset_id"][:16]
    counts = {table["table"]: table["row_count"] for table in identity["tables"]}
    assert counts == {"bars": 4 * 3 * 24, "instruments": 4}
    human = invoke("--db", seeded_db, "check-dataset")
    assert identity["dataset_id"] in human.stdout and "bars" in human.stdout
    fast = json.loads(
        invoke("--db", seeded_db, "check-dataset", "--mode", "fast-dev", "--json").stdout
    )
    assert (
        fast["dataset_id"].startswith("fastdev-") and fast["dataset_id"] != identity["dataset_id"]
    )
    scoped = json.loads(
        invoke("--db", seeded_db, "check-dataset", "--scope", "instruments", "--json").stdout
    )
    assert [table["table"] for table in scoped["tables"]] == ["instruments"]


def _snapshot(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


def test_reads_on_a_read_only_database_work_and_write_nothing(seeded_db: str) -> None:
    path = Path(seeded_db.removeprefix("sqlite:///"))
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = _snapshot(path.parent)
    mtime = os.stat(path).st_mtime_ns
    for args in (["check-dataset"], ["doctor"], ["db", "status"], ["db", "check"]):
        result = invoke("--db", seeded_db, *args)
        assert result.exit_code == 0, (args, result.output)
    assert _snapshot(path.parent) == before
    assert os.stat(path).st_mtime_ns == mtime


@pytest.mark.parametrize(
    ("args", "env", "code", "fragment"),
    [
        (["doctor"], {"CRYPTO_ANALYZER_DB_URL": "postgres-ish:/nope"}, 2, "CRYPTO_ANALYZER_DB_URL"),
        (["check-dataset", "--db", "sqlite:///missing.sqlite"], {}, 1, "does not exist"),
        (
            ["check-dataset"],
            {"CRYPTO_ANALYZER_FIXED_TIME": "noon"},
            2,
            "CRYPTO_ANALYZER_FIXED_TIME",
        ),
        (
            ["check-dataset"],
            {"CRYPTO_ANALYZER_FIXED_TIME": "0001-01-01T00:00:00+01:00"},
            2,
            "CRYPTO_ANALYZER_FIXED_TIME",
        ),
        (
            ["check-dataset"],
            {"CRYPTO_ANALYZER_FIXED_TIME": "9999-12-31T23:59:59Z"},
            2,
            "CRYPTO_ANALYZER_FIXED_TIME",
        ),
        (["check-dataset", "--mode", "fastest"], {}, 2, "--mode 'fastest'"),
        (["db", "upgrade", "--db", "sqlite:///missing.sqlite"], {}, 1, "crypto-analyzer init"),
        (["--tenant", "NOT OK", "doctor"], {}, 2, "CRYPTO_ANALYZER_TENANT"),
    ],
)
def test_bad_input_is_one_clear_line(
    args: list[str], env: dict[str, str], code: int, fragment: str
) -> None:
    result = invoke(*args, env=env)
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and fragment in lines[0]
    assert "Traceback" not in result.output
    assert not Path("missing.sqlite").exists()


def test_check_dataset_on_an_uninitialised_database_says_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    result = invoke("check-dataset", "--db", f"sqlite:///{empty}")
    assert result.exit_code == 1
    assert "crypto-analyzer init" in result.stderr


def test_verbose_shows_the_trace() -> None:
    result = invoke("--verbose", "check-dataset", "--db", "sqlite:///missing.sqlite")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr


def test_init_sandbox_is_one_way(tmp_path: Path) -> None:
    sandbox = f"sqlite:///{tmp_path / 'sandbox.sqlite'}"
    governed = f"sqlite:///{tmp_path / 'governed.sqlite'}"
    made = invoke("init", "--sandbox", "--db", sandbox, "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["workspace_mode"] == "sandbox"
    assert invoke("init", "--sandbox", "--db", sandbox).exit_code == 0  # idempotent
    back = invoke("init", "--db", sandbox)
    assert back.exit_code == 2 and "never becomes governed" in back.stderr, back.output
    assert json.loads(invoke("init", "--db", governed, "--json").stdout)["workspace_mode"] == (
        "governed"
    )
    turned = invoke("init", "--sandbox", "--db", governed)
    assert turned.exit_code == 2 and "never becomes a sandbox" in turned.stderr, turned.output
