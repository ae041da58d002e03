"""Issue 13 part 2 acceptance: an external statistical procedure, installed with pip.

The example distribution in ``examples/stat_procedure_plugin`` is installed (by pip, into a
temporary directory — never into the shared environment) and everything that needs it runs in a
fresh interpreter with that directory on the path:

* it is discovered through its ``crypto_analyzer.stat_procedures`` entry point, with its
  distribution, version and the SHA-256 of its source in the manifest;
* it runs in a report selected by name with parameters, shows up in the report, the bundle,
  ``stats/procedures.json`` and lineage, and its manifest enters the run key (changing the
  plugin's code changes the run key of the same config);
* a rule added in a policy file judges it — evaluated here, in a process that does not have the
  plugin installed, through the ordinary CLI;
* a duplicate name, a broken import and a non-deterministic procedure are each refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from plugin_install import REPO, build_wheel, pip_install, run_python, write_project
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.hashing import sha256_bytes, sha256_json
from crypto_analyzer.core.settings import reset_settings_cache

EXAMPLE = REPO / "examples" / "stat_procedure_plugin"
HERE = Path(__file__).resolve().parent
PLUGIN = "ic_sign_flip"
DIST = "crypto-analyzer-example-procedures"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin installed by pip into a throw-away target directory."""
    root = tmp_path_factory.mktemp("plugin")
    target = root / "site"
    pip_install(build_wheel(EXAMPLE, root / "dist"), target)
    assert (target / "crypto_analyzer_example_procedures-0.1.0.dist-info" / "RECORD").is_file()
    return target


def _source_digest(project: Path) -> str:
    """SHA-256 of the plugin package's sources, computed here independently of core.plugins."""
    files = sorted((project / "ca_example_procedures").glob("*.py"))
    rows = [{"path": f"ca_example_procedures/{f.name}", "sha256": sha256_bytes(f.read_bytes())}
            for f in files]  # fmt: skip
    return sha256_json(rows)


RESOLVE = """
import json
from crypto_analyzer.core.identities import run_key
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.stats.procedures import default_registry
config = ReportConfig.model_validate({"procedures": {"extra": {"ic_sign_flip": {"draws": 99}}}})
resolved = config.resolved()
print(json.dumps({"names": list(default_registry().names()), "resolved": resolved,
                  "run_key": run_key("strict:" + "d" * 64, resolved)}))
"""


def test_discovered_with_its_manifest_and_its_code_in_the_run_key(
    site: Path, tmp_path: Path
) -> None:
    found = run_python(RESOLVE, site)
    assert PLUGIN in found["names"] and "family_tests" in found["names"]
    entry = next(e for e in found["resolved"]["stat_procedures"] if e["name"] == PLUGIN)
    assert entry == {
        "code_digest": _source_digest(EXAMPLE),
        "distribution": DIST,
        "distribution_version": "0.1.0",
        "entry_point": f"crypto_analyzer.stat_procedures:{PLUGIN} = "
        "ca_example_procedures.sign_flip:SignFlipTest",
        "name": PLUGIN,
        "version": "1",
    }
    assert found["resolved"]["procedures"]["extra"] == {PLUGIN: {"draws": 99, "min_obs": 20}}
    # The same plugin with one changed line of code (same declared version): another run key.
    changed = tmp_path / "changed"
    shutil.copytree(EXAMPLE, changed)
    module = changed / "ca_example_procedures" / "sign_flip.py"
    module.write_text(module.read_text().replace("(1 + exceed)", "(exceed + 1)"))
    other_site = tmp_path / "other-site"
    pip_install(build_wheel(changed, tmp_path / "dist"), other_site)
    again = run_python(RESOLVE, other_site)
    other = next(e for e in again["resolved"]["stat_procedures"] if e["name"] == PLUGIN)
    assert other["code_digest"] == _source_digest(changed) != entry["code_digest"]
    assert again["run_key"] != found["run_key"]
    # Without the plugin installed the config is refused: the name is unknown.
    with pytest.raises(AssertionError, match="no statistical procedure is registered as"):
        run_python(RESOLVE)


REPORT = """
import json, sys
from pathlib import Path
sys.path.insert(0, {here!r})
from report_workspace import SMALL, workspace
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.lineage import lineage_for_run
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
settings = workspace(Path({root!r}))
procedures = {{**SMALL["procedures"], "extra": {{"ic_sign_flip": {{"draws": 199}}}}}}
config = ReportConfig.model_validate({{**SMALL, "procedures": procedures}})
result = run_report(settings, config, actor="alice")
engine = create_db_engine(settings.db_url)
records, _ = lineage_for_run(engine, "default", result.run_instance_id)
print(json.dumps({{
    "run_instance_id": result.run_instance_id,
    "run_key": result.run_key,
    "manifest": {{r.logical_name: r.plugin_manifest for r in records}},
    "bundle": result.bundles["low_vol"].to_canonical_dict(),
    "markdown": Path(result.markdown_uri.removeprefix("file://")).read_text(),
    "db_url": settings.db_url, "artifacts": settings.artifacts,
}}))
"""

POLICY_RULE = """
[[rules]]
kind = "procedure_field"
levels = ["candidate", "accepted"]
settings = {{ procedure = "ic_sign_flip", field = "p_value", max = {bound} }}
"""


def _policy(tmp_path: Path, bound: float) -> Path:
    default = REPO / "src/crypto_analyzer/governance/policy/default_policy.toml"
    path = tmp_path / f"policy-{bound}.toml"
    path.write_text(default.read_text() + POLICY_RULE.format(bound=bound))
    return path


def test_runs_in_a_report_is_recorded_and_judged_by_a_policy_rule(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    out = run_python(REPORT.format(here=str(HERE), root=str(tmp_path / "ws")), site)
    # In the bundle, per horizon, with the plugin's own field names.
    horizons = {item["horizon"]: item for item in out["bundle"]["horizons"]}
    evidence = horizons[1]["procedures"][PLUGIN]
    assert evidence["version"] == "1" and evidence["missing_reason"] is None
    p_value = evidence["fields"]["p_value"]
    assert 0 < p_value <= 1 and evidence["fields"]["n_obs"] > 20
    assert ("procedure:ic_sign_flip", None) in {
        (s["component"], s["fold"]) for s in out["bundle"]["seeds"]
    }
    assert "stats/procedures.json" in {a["name"] for a in out["bundle"]["artifacts"]}
    # In the report and in lineage (config, the procedures artifact and every bundle).
    assert "## Selected procedures" in out["markdown"] and "ic_sign_flip v1" in out["markdown"]
    manifest = out["manifest"]
    for name in ("config.json", "stats/procedures.json", "bundle/low_vol.json"):
        entries = {e["name"]: e for e in manifest[name]["stat_procedures"]}
        assert entries[PLUGIN]["distribution"] == DIST, name
        assert entries[PLUGIN]["code_digest"] == _source_digest(EXAMPLE), name
    assert manifest["ic/oos_ic.csv"] is None

    # Judged by a rule added in a policy file, in this process (no plugin installed here).
    monkeypatch.setenv("CRYPTO_ANALYZER_DB_URL", out["db_url"])
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", out["artifacts"])
    reset_settings_cache()
    cli = CliRunner()
    created = cli.invoke(app, ["promotion", "create", "--run", out["run_instance_id"],
                               "--signal", "low_vol", "--horizon", "1",
                               "--json"])  # fmt: skip
    assert created.exit_code == 0, created.output
    candidate = json.loads(created.stdout)["candidate_id"]
    rule = f"procedure.{PLUGIN}.p_value"
    for bound, denied in ((0.0, True), (1.0, False)):
        judged = cli.invoke(app, ["promotion", "evaluate", candidate, "--json",
                                  "--policy", str(_policy(tmp_path, bound))])  # fmt: skip
        assert judged.exit_code in (0, 1), judged.output
        decision = json.loads(judged.stdout)["decision"]
        assert rule in decision["rules"], decision["rules"]
        mine = [r["message"] for r in decision["reasons"] if r["rule"] == rule]
        if denied:
            assert mine == [
                f"p_value of procedure 'ic_sign_flip' at horizon 1 is {p_value:.6g}, "
                "above the maximum 0"
            ]
        else:
            assert mine == []
    reset_settings_cache()


def _refused(tmp_path: Path, name: str, module: str, entry: str, code: str) -> str:
    project = write_project(
        tmp_path / name, name, {f"{module}/__init__.py": code},
        {"crypto_analyzer.stat_procedures": {entry: f"{module}:Proc"}},
    )  # fmt: skip
    target = tmp_path / f"{name}-site"
    pip_install(build_wheel(project, tmp_path / "dist"), target)
    with pytest.raises(AssertionError) as failure:
        run_python(
            "from crypto_analyzer.stats.procedures import default_registry, ProcedureRunner\n"
            "from crypto_analyzer.stats.procedures import ProcedureInputs\n"
            "import numpy as np, json\n"
            "runner = ProcedureRunner(default_registry())\n"
            f"runner.run({entry!r}, ProcedureInputs(('a@1', 'b@1'), (1, 1),\n"
            "    np.ones((5, 2)), np.ones((5, 2)), (0.1, 0.2)), seed=7)\n"
            "print(json.dumps({'ran': True}))\n",
            target,
        )
    return str(failure.value)


PROCEDURE = """
from typing import ClassVar
import numpy as np
from crypto_analyzer.stats.procedures import ProcedureParams, ProcedureResult
class Params(ProcedureParams):
    pass
class Proc:
    name: ClassVar[str] = {name!r}
    version: ClassVar[str] = "1"
    params_model = Params
    def run(self, inputs, ctx):
        return ProcedureResult(family={{"value": {value}}})
"""


def test_a_duplicate_name_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, "dup-bh", "dup_bh", "bh",
                       PROCEDURE.format(name="bh", value="0.5"))  # fmt: skip
    assert "PluginError" in message and "statistical procedure 'bh' from entry point" in message
    assert "dup-bh 1.0" in message and "already registered by module" in message


def test_a_non_deterministic_procedure_is_refused(tmp_path: Path) -> None:
    # Fresh entropy instead of ctx.seed: two runs on the same inputs and seed differ.
    code = PROCEDURE.format(name="flaky", value="float(np.random.default_rng().random())")
    message = _refused(tmp_path, "flaky-proc", "flaky_proc", "flaky", code)
    assert "NonDeterministicProcedureError" in message
    assert "statistical procedure 'flaky'" in message and "is not deterministic" in message
    assert "flaky-proc 1.0" in message and "seed 7" in message


def test_a_plugin_that_fails_to_import_is_an_error(tmp_path: Path) -> None:
    message = _refused(tmp_path, "broken-proc", "broken_proc", "broken",
                       "import a_module_that_does_not_exist\n")  # fmt: skip
    assert "PluginError" in message and "failed to import" in message
    assert "crypto_analyzer.stat_procedures:broken = broken_proc:Proc" in message
    assert "broken-proc 1.0" in message and "ModuleNotFoundError" in message
