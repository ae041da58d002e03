"""Signal plugins: the contract, loading from a file or an entry point, clashes, digests, and the
report config that resolves them (parameters, run key, pins)."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel, Field

from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.identities import DatasetId, DatasetMode, run_key
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.pipeline.report.config import ReportConfig, load_report_config
from crypto_analyzer.pipeline.workspace import doctor, init_workspace
from crypto_analyzer.plugins.signal_discovery import (
    ENTRY_POINT_GROUP,
    build_catalog,
    check_installed_signals,
    load_signal_file,
    signal_entry_points,
)
from crypto_analyzer.plugins.signals import SignalPlugin, SignalPluginError, plugin_spec
from crypto_analyzer.research import Panel, compute_signal, cs_zscore
from crypto_analyzer.research.causality_check import PREFIX_RECOMPUTE, check_causality

GROUP = ENTRY_POINT_GROUP
DATASET = DatasetId(DatasetMode.STRICT, "d" * 64)

PLUGIN = '''
from pydantic import BaseModel, Field
from crypto_analyzer.plugins.signals import SignalPlugin

class Params(BaseModel):
    lookback: int = Field(12, ge=2, le=500)
    scale: float = Field(1.0, gt=0)

def compute(panel, params):
    """Trailing mean return, scaled."""
    return params.scale * panel.log_returns.rolling(params.lookback, min_periods=2).mean(){peek}

SIGNAL = SignalPlugin(name="{name}", version="1.0", params=Params, compute=compute,
                      lookback=lambda p: p.lookback)
'''


def _plugin_file(path: Path, name: str = "trail_mean", peek: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLUGIN.format(name=name, peek=peek), encoding="utf-8")
    return path


class _Params(BaseModel):
    lookback: int = Field(5, ge=1)


def _compute(panel: Panel, params: _Params) -> pd.DataFrame:
    return panel.log_returns.rolling(params.lookback, min_periods=1).sum()


def test_the_contract_is_checked_when_a_plugin_is_built() -> None:
    ok = SignalPlugin("my_sig", "1", _Params, _compute, lambda p: p.lookback)
    assert ok.defaults() == {"lookback": 5}

    class NoDefault(BaseModel):
        lookback: int

    class Reserved(BaseModel):
        panel: int = 3

    class NotScalar(BaseModel):
        window: list[int] = [1, 2]

    cases = [
        (("My-Sig", "1", _Params, _compute, lambda p: 1), "not a lowercase identifier"),
        (("my_sig", "", _Params, _compute, lambda p: 1), "version must be a non-empty str"),
        (("my_sig", "1", dict, _compute, lambda p: 1), "pydantic BaseModel subclass"),
        (("my_sig", "1", NoDefault, _compute, lambda p: 1), "lookback have no default"),
        (("my_sig", "1", Reserved, _compute, lambda p: 1), "panel are reserved"),
        (("my_sig", "1", NotScalar, _compute, lambda p: 1), "window are not int, float"),
        (("my_sig", "1", _Params, _compute, lambda p: 0), "lookback(default params) must be"),
    ]
    for args, message in cases:
        with pytest.raises(SignalPluginError, match=re.escape(message)):
            SignalPlugin(*args)


def test_a_plugin_computes_on_the_builtins_path(market_panel: Panel, tmp_path: Path) -> None:
    (loaded,) = load_signal_file(_plugin_file(tmp_path / "p.py"))
    registry = {"trail_mean": loaded.spec}
    raw = compute_signal(
        "trail_mean", market_panel, registry=registry, winsor_quantile=None, lookback=4, scale=2.0
    )
    expect = 2.0 * market_panel.log_returns.rolling(4, min_periods=2).mean()
    pd.testing.assert_frame_equal(raw, expect)
    z = compute_signal("trail_mean", market_panel, registry=registry, lookback=4)
    pd.testing.assert_frame_equal(z, cs_zscore(raw, winsor_quantile=0.01))
    with pytest.raises(SignalPluginError, match="lookback = 1: Input should be greater"):
        compute_signal("trail_mean", market_panel, registry=registry, lookback=1)
    with pytest.raises(ValueError, match=r"unknown signal 'trail_mean'"):
        compute_signal("trail_mean", market_panel)  # not a built-in
    misaligned = SignalPlugin(
        "shifty", "1", _Params, lambda panel, p: panel.close.iloc[1:], lambda p: 1
    )
    with pytest.raises(SignalPluginError, match="not indexed like the panel's bars"):
        compute_signal("shifty", market_panel, registry={"shifty": plugin_spec(misaligned)})


def test_the_causality_check_passes_the_plugin_and_refuses_a_peek(
    market_panel: Panel, tmp_path: Path
) -> None:
    (good,) = load_signal_file(_plugin_file(tmp_path / "good.py"))
    (bad,) = load_signal_file(_plugin_file(tmp_path / "bad.py", "peeks", ".shift(-2)"))
    for item, passes in ((good, True), (bad, False)):
        registry = {item.plugin.name: item.spec}
        findings = check_causality(
            lambda p, n=item.plugin.name, r=registry: compute_signal(n, p, registry=r),
            market_panel,
        )
        assert all(f.passed for f in findings) is passes
    assert findings[0].check == PREFIX_RECOMPUTE and "row 298" in findings[0].detail


def test_a_plugin_file_that_is_missing_or_defines_nothing_is_named(tmp_path: Path) -> None:
    with pytest.raises(SignalPluginError, match=r"'nope\.py' does not exist"):
        load_signal_file(tmp_path / "nope.py", written="nope.py")
    (tmp_path / "x.txt").write_text("SIGNAL = 1")
    with pytest.raises(SignalPluginError, match="not a Python file"):
        load_signal_file(tmp_path / "x.txt")
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(
        SignalPluginError, match="defines no signal: expected a module-level SIGNAL"
    ):
        load_signal_file(tmp_path / "empty.py")
    (tmp_path / "wrong.py").write_text("SIGNAL = 42\n")
    with pytest.raises(SignalPluginError, match="expected SignalPlugin objects, got int"):
        load_signal_file(tmp_path / "wrong.py")
    (tmp_path / "boom.py").write_text("1 / 0\n")
    with pytest.raises(SignalPluginError, match="failed to import: ZeroDivisionError"):
        load_signal_file(tmp_path / "boom.py")
    bad_name = _plugin_file(tmp_path / "bad_name.py", "Bad Name")
    with pytest.raises(SignalPluginError, match=r"bad_name\.py.*not a lowercase identifier"):
        load_signal_file(bad_name)


def test_a_duplicate_signal_name_is_refused(tmp_path: Path) -> None:
    builtin = _plugin_file(tmp_path / "a.py", "low_vol")
    with pytest.raises(SignalPluginError, match="defines 'low_vol', already defined by a built-in"):
        build_catalog(["low_vol"], [("a.py", builtin)])
    one = _plugin_file(tmp_path / "one.py", "twin")
    two = _plugin_file(tmp_path / "two.py", "twin", " * 1.0")
    with pytest.raises(SignalPluginError, match=r"'two\.py' defines 'twin', already defined by"):
        build_catalog(["twin"], [("one.py", one), ("two.py", two)])


def _dist(root: Path, dist: str, points: dict[str, str], module: str, source: str) -> None:
    """A distribution installed the way pip installs one: package + dist-info with a RECORD."""
    package = root / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source, encoding="utf-8")
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{k} = {v}" for k, v in points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (info / "RECORD").write_text(f"{module}/__init__.py,,\n{info.name}/RECORD,,\n")


def test_entry_points_load_lazily_and_clashes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = PLUGIN.format(name="ep_mean", peek="")
    _dist(tmp_path / "a", "ep-dist", {"ep_mean": "ep_mod:SIGNAL"}, "ep_mod", source)
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    assert list(signal_entry_points()) == ["ep_mean"]
    catalog = build_catalog(["low_vol"])
    assert "ep_mean" not in catalog.plugins and "ep_mod" not in sys.modules  # not imported
    catalog = build_catalog(["ep_mean"])
    origin = catalog.plugins["ep_mean"].origin
    assert (origin.source, origin.locator, origin.distribution) == (
        "entry_point",
        "ep_mod:SIGNAL",
        "ep-dist",
    )
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert origin.code_sha256 == _pairs_digest([("ep_mod/__init__.py", digest)])
    file_twin = _plugin_file(tmp_path / "f.py", "ep_mean")
    with pytest.raises(SignalPluginError, match="already defined by entry point 'ep_mod:SIGNAL'"):
        build_catalog(["ep_mean"], [("f.py", file_twin)])
    _dist(tmp_path / "b", "other-dist", {"ep_mean": "ep_two:SIGNAL"}, "ep_two", source)
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    with pytest.raises(
        SignalPluginError, match=r"declared by 2 entry points \(ep-dist, other-dist"
    ):
        build_catalog(["low_vol"])


def test_an_entry_point_reusing_a_builtin_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = PLUGIN.format(name="low_vol", peek="")
    _dist(tmp_path, "shadow-dist", {"low_vol": "shadow_mod:SIGNAL"}, "shadow_mod", source)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="entry point 'low_vol' of shadow-dist reuses the name"):
        load_report_config(None, {})


def _pairs_digest(pairs: list[tuple[str, str]]) -> str:
    return sha256_json([list(pair) for pair in sorted(pairs)])


def _config_file(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.toml"
    path.write_text(body, encoding="utf-8")
    return path


BODY = (
    'signals = ["trail_mean", "momentum_24h"]\n'
    'signal_plugin_files = ["plugins/trail.py"]\n'
    "[signal_params.trail_mean]\nlookback = 24\n"
)


def test_the_config_resolves_a_file_plugin_next_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = _plugin_file(tmp_path / "cfg" / "plugins" / "trail.py")
    config_path = _config_file(tmp_path / "cfg", BODY)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # relative to the config's folder, not the cwd
    config = load_report_config(config_path)
    resolved = config.resolved()
    assert resolved["signal_params"]["trail_mean"] == {"lookback": 24, "scale": 1.0}
    assert resolved["signal_plugin_files"] == ["plugins/trail.py"]
    assert resolved["signal_plugins"] == {
        "trail_mean": {
            "code_sha256": hashlib.sha256(plugin.read_bytes()).hexdigest(),
            "distribution": None,
            "distribution_version": None,
            "locator": "plugins/trail.py",
            "source": "file",
            "version": "1.0",
        }
    }
    assert config.signal_spec("trail_mean").lookback(config.signal_parameters("trail_mean")) == 24
    again = ReportConfig.model_validate(resolved, context={"config_dir": tmp_path / "cfg"})
    assert again.resolved() == resolved  # a fixed point, pins included


def test_plugin_parameters_and_files_are_validated_with_clear_errors(tmp_path: Path) -> None:
    _plugin_file(tmp_path / "cfg" / "plugins" / "trail.py")
    cases = {
        "signal_params.trail_mean.lookback": (
            BODY.replace("lookback = 24", "lookback = 9999"),
            "less than or equal to 500",
        ),
        "scale": (BODY + "scale = 'big'\n", "scale = 'big'"),
        "unknown": (BODY + "window = 3\n", "unknown parameter(s) 'window'"),
        "missing file": (BODY.replace("plugins/trail.py", "plugins/gone.py"), "does not exist"),
        "not used": (BODY.replace('"trail_mean", ', ""), "signal_params names signals not in"),
    }
    for what, (body, fragment) in cases.items():
        with pytest.raises(ConfigError) as caught:
            load_report_config(_config_file(tmp_path / "cfg", body))
        message = str(caught.value)
        assert message.startswith("report config: ") and fragment in message, (what, message)


def test_the_run_key_changes_when_the_plugin_code_changes(tmp_path: Path) -> None:
    plugin = _plugin_file(tmp_path / "cfg" / "plugins" / "trail.py")
    config_path = _config_file(tmp_path / "cfg", BODY)
    before = load_report_config(config_path).resolved()
    plugin.write_text(plugin.read_text() + "# same behaviour, different code\n")
    after = load_report_config(config_path).resolved()
    assert (
        before["signal_plugins"]["trail_mean"]["version"]
        == "1.0"
        == (after["signal_plugins"]["trail_mean"]["version"])
    )
    assert run_key(DATASET, before) != run_key(DATASET, after)
    # a stored resolved config (pinned) does not silently run the changed code
    with pytest.raises(ValueError, match=r"signal_plugins\.trail_mean\.code_sha256 is pinned"):
        ReportConfig.model_validate(before, context={"config_dir": tmp_path / "cfg"})
    unchanged = load_report_config(config_path).resolved()
    assert run_key(DATASET, unchanged) == run_key(DATASET, after)


def test_doctor_lists_installed_plugins_and_reports_a_broken_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_installed_signals() == (True, f"none installed (entry point group {GROUP})")
    source = PLUGIN.format(name="doc_mean", peek="")
    _dist(tmp_path / "a", "doc-dist", {"doc_mean": "doc_mod:SIGNAL"}, "doc_mod", source)
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    settings = load_settings(
        db_url=f"sqlite:///{tmp_path / 'w.sqlite'}", artifacts=f"file://{tmp_path / 'store'}"
    )
    init_workspace(settings)
    check = next(c for c in doctor(settings).checks if c.name == "signal plugins")
    assert check.ok and check.detail.startswith("1 installed: doc_mean (doc-dist 0.1, code ")
    _dist(tmp_path / "b", "broken-dist", {"broken": "broken_mod:SIGNAL"}, "broken_mod", "1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    ok, detail = check_installed_signals()
    assert not ok
    assert "entry point 'broken' (broken_mod:SIGNAL) of broken-dist failed to import" in detail
    assert "ZeroDivisionError" in detail
