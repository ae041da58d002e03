"""One registry per extension point, fed by installed entry points (pip into a temp directory).

* The project's own entry points (``[project.entry-points]`` of pyproject.toml, as an installed
  distribution would publish them) name the same objects the registries register in code: no
  clash, nothing new, however the package is installed.
* An artifact store plugin adds a scheme that the whole project then accepts (settings, the
  store, ``doctor``); a plugin reusing a taken scheme is refused.
* A policy rule plugin adds a rule kind; one reusing a taken kind is refused.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from plugin_install import REPO, build_wheel, pip_install, run_python, write_project

STORES = "crypto_analyzer.artifact_stores"
RULES = "crypto_analyzer.policy_rules"


def _install(tmp_path: Path, name: str, code: str, entry_points: dict[str, dict[str, str]]) -> Path:
    module = name.replace("-", "_")
    project = write_project(tmp_path / name, name, {f"{module}/__init__.py": code}, entry_points)
    target = tmp_path / f"{name}-site"
    pip_install(build_wheel(project, tmp_path / "dist"), target)
    return target


PROBE = """
import json
from crypto_analyzer.artifacts import registered_schemes
from crypto_analyzer.governance.policy.rule_registry import default_rule_registry
from crypto_analyzer.stats.procedures import default_registry
from crypto_analyzer.stats.procedures.builtins import BUILTIN_PROCEDURES
registry = default_registry()
print(json.dumps({
    "procedures": list(registry.names()),
    "builtin": sorted(cls.name for cls in BUILTIN_PROCEDURES),
    "sources": sorted({registry.entry(n).source.entry_point or "code" for n in registry.names()}),
    "rules": list(default_rule_registry().kinds()),
    "schemes": list(registered_schemes()),
}))
"""


def test_the_projects_own_entry_points_are_the_code_registrations(tmp_path: Path) -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    groups = {group: declared[group] for group in (
        "crypto_analyzer.stat_procedures", "crypto_analyzer.policy_rules",
        "crypto_analyzer.artifact_stores")}  # fmt: skip
    site = _install(tmp_path, "ca-own-entry-points", "", groups)
    found = run_python(PROBE, site)
    assert (
        found["procedures"] == found["builtin"] == sorted(groups["crypto_analyzer.stat_procedures"])
    )
    assert found["sources"] == ["code"]  # each entry point was recognised as the built-in
    assert found["rules"] == ["procedure_field"]
    assert found["schemes"] == ["file", "s3", "gs"]


MEMSTORE = """
from crypto_analyzer.artifacts.store import ArtifactStore
_BLOBS = {}
class MemoryStore(ArtifactStore):
    max_key_bytes = 1024
    def _create(self, key, data):
        if key in _BLOBS:
            return False
        _BLOBS[key] = data
        return True
    def _read(self, key):
        return _BLOBS.get(key)
    def _exists(self, key):
        return key in _BLOBS
    def _list(self, prefix):
        return sorted(k for k in _BLOBS if k.startswith(prefix))
    def uri_for(self, key):
        return f"{self.url}/{key}"
def factory(url, **options):
    return MemoryStore(url)
"""

USE_MEMSTORE = """
import json
from crypto_analyzer.artifacts import check_store_url, open_settings_store, registered_schemes
from crypto_analyzer.core.settings import load_settings
settings = load_settings(artifacts="mem://bucket")
store = open_settings_store(settings)
ref = store.put("a/b.json", b"{}")
print(json.dumps({"schemes": list(registered_schemes()), "uri": ref.uri,
                  "read": store.get("a/b.json").decode(), "check": check_store_url("mem://x")}))
"""


def test_an_artifact_store_plugin_adds_a_scheme_and_cannot_take_one(tmp_path: Path) -> None:
    site = _install(tmp_path, "ca-memstore", MEMSTORE, {STORES: {"mem": "ca_memstore:factory"}})
    found = run_python(USE_MEMSTORE, site)
    assert found["schemes"] == ["file", "s3", "gs", "mem"]
    assert found["uri"] == "mem://bucket/a/b.json" and found["read"] == "{}"
    assert found["check"][0] is True and "mem:// backend from entry point" in found["check"][1]
    with pytest.raises(AssertionError, match="scheme 'ftp' in 'ftp://x' is unknown"):
        run_python("from crypto_analyzer.artifacts import open_store\nopen_store('ftp://x')", site)
    clash = _install(tmp_path, "ca-filestore", MEMSTORE, {STORES: {"file": "ca_filestore:factory"}})
    with pytest.raises(AssertionError) as failure:
        run_python(
            "from crypto_analyzer.artifacts import open_store\nopen_store('file:///t')", clash
        )
    message = str(failure.value)
    assert "PluginError: artifact store scheme 'file' from entry point" in message
    assert "ca-filestore 1.0" in message and "already registered by crypto-analyzer" in message


RULE_PLUGIN = """
class AlwaysDeny:
    def __init__(self, settings):
        self.why = settings.get("why", "no")
    def check(self, inputs, horizon, out):
        out.deny("always_deny", self.why)
"""


def test_a_policy_rule_plugin_adds_a_kind_and_cannot_take_one(tmp_path: Path) -> None:
    site = _install(
        tmp_path, "ca-rules", RULE_PLUGIN, {RULES: {"always_deny": "ca_rules:AlwaysDeny"}}
    )
    found = run_python(
        "import json\nfrom crypto_analyzer.governance.policy.rule_registry import "
        "default_rule_registry as d\nr = d()\nrule = r.create('always_deny', {'why': 'x'})\n"
        "print(json.dumps({'kinds': list(r.kinds()), 'why': rule.why}))",
        site,
    )
    assert found == {"kinds": ["always_deny", "procedure_field"], "why": "x"}
    taken = {RULES: {"procedure_field": "ca_rules_clash:AlwaysDeny"}}
    clash = _install(tmp_path, "ca-rules-clash", RULE_PLUGIN, taken)
    with pytest.raises(AssertionError) as failure:
        run_python(
            "from crypto_analyzer.governance.policy.rule_registry import default_rule_registry\n"
            "default_rule_registry()",
            clash,
        )
    message = str(failure.value)
    assert "policy rule kind 'procedure_field' from entry point" in message
    assert "ca-rules-clash 1.0" in message and "is already registered by" in message
