"""Bring your own signal, for real: the example plugin package is installed with pip into a
temporary directory (never into the project's environment) and used by ``crypto-analyzer report``
in a subprocess with that directory on ``PYTHONPATH``, next to a plugin file named in the config.

* the plugins' signals are hypotheses of the run, their origins and code digests are in the
  resolved config and in lineage;
* a plugin that peeks at the future is refused (exit 2) naming the check, before any run row;
* the run key changes when the installed plugin's code changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from report_workspace import workspace

from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.lineage import lineage_for_run

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "signal_plugin"
FILE_PLUGIN = EXAMPLE / "lottery_skew_signal.py"

CONFIG = """
signals = [{signals}]
signal_plugin_files = ["plugins/{file}"]
horizons = [1, 4]
min_assets = 5
factor_window = 120
{params}
[splits]
test_size = 240
min_train_size = 480
embargo = 4
[procedures]
bootstrap_reps = 200
pbo_blocks = 8
"""

PEEKING = '''
from pydantic import BaseModel, Field
from crypto_analyzer.plugins.signals import SignalPlugin

class Params(BaseModel):
    lookback: int = Field(24, ge=1)

def tomorrow(panel, params):
    """Next bar's return: looks great, and is not knowable at t."""
    return panel.log_returns.shift(-1)

SIGNAL = SignalPlugin(name="tomorrow", version="0.0.1", params=Params, compute=tomorrow,
                      lookback=lambda p: p.lookback)
'''


def _pip_install(source: Path, target: Path) -> Path:
    """``pip install --no-deps --no-build-isolation --target`` (a temp dir, not the venv)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert (target / "ca_signal_example" / "__init__.py").is_file()
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _pip_install(EXAMPLE, tmp_path_factory.mktemp("plugins") / "site")


def _env(settings: Settings | None, site: Path) -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(site), *filter(None, [env.get("PYTHONPATH")])]
    )
    if settings is not None:
        env["CRYPTO_ANALYZER_DB_URL"] = settings.db_url
        env["CRYPTO_ANALYZER_ARTIFACTS"] = settings.artifacts
    return env


def _config(directory: Path, signals: list[str], plugin_source: bytes, file: str) -> Path:
    (directory / "plugins").mkdir(parents=True, exist_ok=True)
    (directory / "plugins" / file).write_bytes(plugin_source)
    path = directory / "report.toml"
    names = ", ".join(f'"{name}"' for name in signals)
    params = "[signal_params.near_high]\nlookback = 48" if "near_high" in signals else ""
    path.write_text(CONFIG.format(signals=names, file=file, params=params), encoding="utf-8")
    return path


def _report(settings: Settings, site: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crypto_analyzer", "report", "--config", str(config), "--json"],
        capture_output=True, text=True, env=_env(settings, site), cwd=config.parent.parent,
        timeout=900,
    )  # fmt: skip


def _runs(settings: Settings) -> int:
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM runs")).scalar_one())
    finally:
        engine.dispose()


def test_the_example_plugins_run_in_a_report(tmp_path: Path, installed: Path) -> None:
    settings = workspace(tmp_path / "ws")
    signals = ["near_high", "lottery_skew", "momentum_24h"]
    config = _config(tmp_path / "cfg", signals, FILE_PLUGIN.read_bytes(), FILE_PLUGIN.name)
    completed = _report(settings, installed, config)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    tested = {(row["signal"], row["horizon"]) for row in result["summary"]["hypotheses"]}
    assert tested == {(signal, h) for signal in signals for h in (1, 4)}
    near_high = [r for r in result["summary"]["hypotheses"] if r["signal"] == "near_high"]
    assert all(row["n_obs"] > 0 and row["mean_ic"] is not None for row in near_high)

    engine = create_db_engine(settings.db_url)
    records, edges = lineage_for_run(engine, settings.tenant, result["run_instance_id"])
    engine.dispose()
    by_name = {record.logical_name: record for record in records}
    plugins = by_name["signal_plugins.json"].plugin_manifest["signal_plugins"]
    assert plugins["near_high"]["distribution"] == "ca-signal-example"
    assert plugins["near_high"]["locator"] == "ca_signal_example:SIGNAL"
    assert plugins["lottery_skew"]["source"] == "file"
    assert (
        plugins["lottery_skew"]["code_sha256"]
        == hashlib.sha256(FILE_PLUGIN.read_bytes()).hexdigest()
    )
    bundle = by_name["bundle/near_high.json"].plugin_manifest
    assert bundle["signal_plugin"] == plugins["near_high"]
    assert "signal_plugin" not in by_name["bundle/momentum_24h.json"].plugin_manifest
    assert ("bundle/near_high.json", "derived_from", "signal_plugins.json") in {
        (edge.src_name, edge.edge_type, edge.dst_ref) for edge in edges
    }
    stored = (Path(settings.artifacts.removeprefix("file://"))).rglob("config.json")
    resolved = json.loads(next(iter(stored)).read_bytes())
    assert resolved["signal_plugins"] == plugins
    assert resolved["signal_params"]["near_high"] == {"lookback": 48, "min_share": 0.75}
    record = json.loads(next(Path(settings.artifacts[7:]).rglob("signal_plugins.json")).read_text())
    checks = record["plugins"]["near_high"]["causality"]
    assert [c["check"] for c in checks] == ["prefix_recompute", "future_shock"]
    assert all(c["passed"] for c in checks)


def test_a_peeking_plugin_is_refused_naming_the_check(tmp_path: Path, installed: Path) -> None:
    settings = workspace(tmp_path / "ws")
    config = _config(tmp_path / "cfg", ["tomorrow", "momentum_24h"], PEEKING.encode(), "peek.py")
    completed = _report(settings, installed, config)
    assert completed.returncode == 2, (completed.stdout, completed.stderr)
    message = " ".join(completed.stderr.split())
    assert "signal plugin 'tomorrow' (plugins/peek.py) failed the causality check" in message
    assert "'prefix_recompute'" in message and "first difference at bar" in message
    assert "docs/plugins-signals.md" in message
    assert _runs(settings) == 0  # refused before the run row: nothing half-written
    assert not list(Path(settings.artifacts[7:]).rglob("*.json"))


RUN_KEY = """
import json, sys
from pathlib import Path
from crypto_analyzer.core.identities import DatasetId, DatasetMode, run_key
from crypto_analyzer.pipeline.report.config import load_report_config
from crypto_analyzer.plugins.signal_discovery import signal_entry_points
resolved = load_report_config(Path(sys.argv[1])).resolved()
points = {name: [p.value for p in found] for name, found in signal_entry_points().items()}
key = run_key(DatasetId(DatasetMode.STRICT, "d" * 64), resolved)
print(json.dumps({"key": key, "plugins": resolved["signal_plugins"], "points": points}))
"""


def _resolve(site: Path, config: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", RUN_KEY, str(config)],
        capture_output=True, text=True, env=_env(None, site), timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_the_run_key_changes_when_plugin_code_changes(tmp_path: Path, installed: Path) -> None:
    config = _config(tmp_path / "cfg", ["near_high"], FILE_PLUGIN.read_bytes(), FILE_PLUGIN.name)
    first = _resolve(installed, config)
    assert first["points"] == {"near_high": ["ca_signal_example:SIGNAL"]}
    assert _resolve(installed, config)["key"] == first["key"]  # deterministic

    copy = tmp_path / "edited"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", "build"))
    module = copy / "src" / "ca_signal_example" / "__init__.py"
    module.write_text(
        module.read_text().replace("np.log(panel.close / high)", "panel.close / high")
    )
    edited_site = _pip_install(copy, tmp_path / "edited-site")
    edited = _resolve(edited_site, config)
    assert edited["plugins"]["near_high"]["version"] == first["plugins"]["near_high"]["version"]
    assert (
        edited["plugins"]["near_high"]["code_sha256"]
        != (first["plugins"]["near_high"]["code_sha256"])
    )
    assert edited["key"] != first["key"]
