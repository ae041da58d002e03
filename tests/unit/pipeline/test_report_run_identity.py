"""Run identity (DESIGN invariant 7): everything that can change a result is in the resolved
config, so it is in the run key.

* Every leaf of ``ReportConfig().resolved()`` is perturbed through the model; the run key changes.
* Signal parameters resolve to their one home (the signal functions' keyword defaults).
* The report's computation modules hold no result-changing module-level constant.
* A few leaves are checked to reach the computation (not only the key).
"""

from __future__ import annotations

import ast
import copy
import inspect
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from crypto_analyzer.core.identities import run_key
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, generate_market
from crypto_analyzer.pipeline.report import compute as compute_module
from crypto_analyzer.pipeline.report.compute import ReportComputation, compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.research import signals as signal_functions
from crypto_analyzer.research.signal_registry import SIGNALS

DATASET = "strict:" + "d" * 64
REPORT_DIR = Path(compute_module.__file__).parent
COMPUTATION_MODULES = ("compute.py", "stages.py", "stat_stages.py", "regime_stage.py", "bundle.py")
# Module-level constants of the computation modules that cannot change a number, and why.
EXAMPLE_PLUGIN_FILE = (
    Path(__file__).resolve().parents[3] / "examples" / "signal_plugin" / "lottery_skew_signal.py"
)
# Leaves of the resolved config that are derived, not chosen: a given value is a pin the model
# checks against what it loads (changing the plugin code changes it: test_signal_plugins.py).
DERIVED = {
    "signal_plugins": "origin and code digest of the plugins the signals use",
    "stat_procedures": "manifest of the installed statistical procedure code",
}
NOT_RESULTS = {
    "ATTESTATION_NAME": "logical name of an artifact (where it is stored, not what it says)",
    "SPLIT_PLAN_NAME": "logical name of an artifact",
    "PROCEDURES_NAME": "logical name of an artifact",
    "COMPUTE_STAGES": "names of the stages shown in the progress display",
    "TRIAL_ONLY_SKIP": "skip reason of the stages a sweep trial leaves out (never a report's)",
}


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, node


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _candidates(path: tuple[str, ...], value: Any) -> list[Any]:
    """Perturbed values to try for one leaf, most natural first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 2, value + 1, value - 1, value - 2]
    if isinstance(value, float):
        return [value * 1.5 if value else 0.5, value * 0.5 if value else 1.0, value + 0.01]
    if value is None:
        return [0.5, 2, 1e5, 0.02, 12.0]
    if isinstance(value, str):
        literals = {
            "freq": ["15min"],
            "kind": ["cpcv", "weekdays"],
            "gap_rule": ["carry"],
            "mode": ["rolling"],
            "method": ["signal"],
            "bootstrap": ["circular"],
            "stepm_recentring": ["consistent"],
            "ic_method": ["pearson"],
        }
        return literals.get(path[-1], [])
    if isinstance(value, dict) and path[-1] == "extra":
        return [{"holm": {"alpha": 0.1}}]
    if isinstance(value, list):
        if path[-1] == "signals":
            return [[*value, "volume_shock"]]
        if path[-1] == "horizons":
            return [[*value, max(value) + 1]]
        if path[-1] == "capital_grid":
            return [[*value, max(value) * 10]]
        if path[-1] == "factors":
            return [[*value, "SOL"]]
        if path[-1] == "signal_plugin_files":
            return [[*value, str(EXAMPLE_PLUGIN_FILE)]]
    return []


JOINT_LEAVES = {("calendar", "file"): {("calendar", "kind"): "file", ("calendar", "file"): "x.txt"}}
"""Leaves a validator ties to another: perturbed together (a calendar file needs kind = file)."""


def _perturbed(resolved: dict[str, Any], path: tuple[str, ...], value: Any) -> list[Any]:
    if path in JOINT_LEAVES:
        document = resolved
        for where, new in JOINT_LEAVES[path].items():
            document = _set(document, where, new)
        return [document]
    return [_set(resolved, path, candidate) for candidate in _candidates(path, value)]


def test_every_leaf_of_the_resolved_config_changes_the_run_key() -> None:
    resolved = ReportConfig().resolved()
    base_key = run_key(DATASET, resolved)
    leaves = list(_leaves(resolved))
    assert len(leaves) > 40, len(leaves)
    for path, value in leaves:
        if path[0] in DERIVED:
            continue
        for document in _perturbed(resolved, path, value):
            document = dict(document)
            # derived from the code for the new settings (tests/integration/report/
            # test_stat_procedure_plugin covers code changes)
            document.pop("stat_procedures")
            try:
                config = ReportConfig.model_validate(document)
            except ValueError:
                continue
            perturbed = config.resolved()
            assert perturbed != resolved, path
            assert run_key(DATASET, perturbed) != base_key, path
            break
        else:
            pytest.fail(f"no valid perturbation for {'.'.join(path)} = {value!r}")


def test_resolved_config_is_a_fixed_point_with_every_default_explicit() -> None:
    resolved = ReportConfig().resolved()
    again = ReportConfig.model_validate(resolved).resolved()
    assert again == resolved
    assert resolved["splits"]["purge"] == max(resolved["horizons"])
    for name in resolved["signals"]:
        assert resolved["signal_params"][name] == dict(SIGNALS[name].defaults), name
    for leaf in ("ic_method", "winsor_quantile", "max_plausible_ic"):
        assert leaf in resolved["evaluation"]
    for leaf in ("break_reps", "family_min_obs", "stepm_recentring", "studentize"):
        assert leaf in resolved["procedures"]
    assert "min_history_share" in resolved["universe"]
    assert {"n_states", "feature_window", "max_iter", "enabled"} <= set(resolved["regimes"])


def test_signal_parameter_defaults_have_one_home() -> None:
    # The registry reads them from the function signatures; nothing else declares them.
    for name, spec in SIGNALS.items():
        params = inspect.signature(getattr(signal_functions, spec.func.__name__)).parameters
        declared = {
            key: p.default
            for key, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and key != "factor_fit"
        }
        assert dict(spec.defaults) == declared, name
    source = (Path(signal_functions.__file__).parent / "signal_registry.py").read_text("utf-8")
    assert '{"lookback": ' not in source  # no second copy of the defaults


def _module_constants(path: Path) -> dict[str, str]:
    """Module-level names bound to literals (numbers, strings, tuples of them)."""
    tree = ast.parse(path.read_text("utf-8"))
    out = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, ast.Name) or target.id == "__all__":
                continue
            try:
                literal = ast.literal_eval(value)  # type: ignore[arg-type]
            except ValueError:
                continue
            out[target.id] = repr(literal)
    return out


def test_computation_modules_hold_no_result_changing_constant() -> None:
    found = {}
    for name in COMPUTATION_MODULES:
        for constant, literal in _module_constants(REPORT_DIR / name).items():
            found[f"{name}:{constant}"] = literal
    unexplained = {
        where: literal for where, literal in found.items() if where.split(":")[1] not in NOT_RESULTS
    }
    assert not unexplained, (
        f"module-level constants used by the computation but not in ReportConfig: {unexplained}; "
        "move them into the config (so they are in the run key) or document why they cannot "
        "change a result"
    )


BASE = {
    "signals": ["volume_shock", "momentum_24h"],
    "horizons": [1],
    "min_assets": 8,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
    "portfolio": {"k": 3, "target_capital": 10_000.0, "capital_grid": [1e4, 1e5]},
}


@cache
def _market() -> tuple[Any, Any]:
    instruments, bars = generate_market(
        SyntheticMarketConfig(assets=16, days=100, seed=5, planted_ic=0.05)
    )
    return instruments, bars


def _run(**changes: Any) -> ReportComputation:
    document = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    instruments, bars = _market()
    return compute_report(
        bars,
        instruments,
        ReportConfig.model_validate(document),
        run_key="b" * 64,
        dataset_id="d" * 64,
    )


def test_config_leaves_reach_the_computation() -> None:
    base = _run()
    key = ("volume_shock", 1)
    assert base.family is not None and base.family_skip_reason is None
    assert _run(procedures__family_min_obs=10**5).family_skip_reason is not None
    pearson = _run(evaluation__ic_method="pearson").hypotheses[key].ic
    assert pearson.method == "pearson" and pearson.mean != base.hypotheses[key].ic.mean
    assert base.regimes is not None and base.regimes.skip_reason is None
    off = _run(regimes__enabled=False)
    assert off.regimes is not None and off.regimes.skip_reason is not None
    assert off.hypotheses[key].regime is None
    name = "volume_shock@1"
    reps = _run(procedures__break_reps=99).breaks[name]["sup_f"]["reps"]
    assert reps == 99 and base.breaks[name]["sup_f"]["reps"] == 499
    params = _run(signal_params={"momentum_24h": {"lookback": 48}}).hypotheses
    assert params[("momentum_24h", 1)].ic.mean != base.hypotheses[("momentum_24h", 1)].ic.mean


def test_per_hypothesis_evaluation_equals_the_report() -> None:
    # The importable per-hypothesis evaluation (used by a parameter sweep) is the report's code.
    from crypto_analyzer.pipeline.report.stages import evaluate_hypothesis, prepare_data

    instruments, bars = _market()
    config = ReportConfig.model_validate(BASE)
    report = _run().hypotheses[("volume_shock", 1)]
    prepared = prepare_data(bars, instruments, config)
    one = evaluate_hypothesis(
        prepared, config, signal="volume_shock", horizon=1, run_key="b" * 64, dataset_id="d" * 64
    )
    assert one.ic == report.ic
    assert one.net_returns.equals(report.net_returns)
    assert one.execution == report.execution
