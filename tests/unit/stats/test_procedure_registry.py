"""The statistical procedure registry and runner, in process (installed plugins: see
``tests/integration/report/test_stat_procedure_plugin.py``).

Built-ins are all registered and agree with the pure functions they wrap; names are unique;
parameters are validated by each procedure's model; results carry only finite labelled scalars;
the runner refuses a procedure whose two runs with one seed differ; code digests follow the source.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import BaseModel

from crypto_analyzer.core.errors import ConfigError, PluginError
from crypto_analyzer.core.plugins import code_digest
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.pipeline.report.config import REPORT_PROCEDURES, load_report_config
from crypto_analyzer.stats import family_tests, reality_check, spa, stepm
from crypto_analyzer.stats.procedures import (
    NonDeterministicProcedureError,
    ProcedureInputs,
    ProcedureParams,
    ProcedureRegistry,
    ProcedureResult,
    ProcedureRunner,
    default_registry,
)
from crypto_analyzer.stats.procedures.builtins import BUILTIN_PROCEDURES, register_builtins

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _inputs(n: int = 120, k: int = 3, seed: int = 4) -> ProcedureInputs:
    rng = np.random.default_rng(seed)
    ic = rng.normal(0.01, 0.1, size=(n, k))
    ic[:5, 0] = np.nan
    returns = rng.normal(0.0005, 0.01, size=(n, k))
    return ProcedureInputs(
        hypothesis_ids=tuple(f"s{i}@1" for i in range(k)),
        horizons=(1,) * k,
        oos_ic=ic,
        net_returns=returns,
        p_values=(0.01, None, 0.2)[:k],
    )


class _Params(ProcedureParams):
    scale: float = 1.0


class _Counter:
    """Keeps state between calls: the second run differs from the first."""

    name: ClassVar[str] = "counter"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = _Params

    def __init__(self) -> None:
        self.calls = 0

    def run(self, inputs: ProcedureInputs, ctx: Any) -> ProcedureResult:
        self.calls += 1
        return ProcedureResult(family={"value": self.calls * ctx.params.scale})


class _Seeded(_Counter):
    name: ClassVar[str] = "seeded"

    def run(self, inputs: ProcedureInputs, ctx: Any) -> ProcedureResult:
        draw = np.random.default_rng(ctx.seed).random()
        return ProcedureResult(family={"value": float(draw) * ctx.params.scale})


def test_every_builtin_is_registered_and_declared_as_an_entry_point() -> None:
    registry = default_registry()
    names = {cls.name for cls in BUILTIN_PROCEDURES}
    assert set(REPORT_PROCEDURES) <= names <= set(registry.names())
    assert {"reality_check", "spa", "stepm", "holm"} <= names
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]
    procedures = declared["crypto_analyzer.stat_procedures"]
    assert set(procedures) == names
    for name, target in procedures.items():
        module, _, attribute = target.partition(":")
        cls = getattr(sys.modules[module], attribute)
        assert cls.name == name and cls in BUILTIN_PROCEDURES
    for entry in registry.manifest(names):
        assert entry["distribution"] == "crypto-analyzer"
        assert entry["distribution_version"] == ENGINE_VERSION and entry["entry_point"] is None
        assert len(entry["code_digest"]) == 64


def test_single_procedures_equal_the_shared_draw_components() -> None:
    runner = ProcedureRunner(builtin_check_share=1.0)
    inputs = _inputs()
    params = {"reps": 199, "min_obs": 20}
    family = runner.run("family_tests", inputs, seed=9, params=params)
    rows = inputs.oos_ic[~np.isnan(inputs.oos_ic).any(axis=1)]
    ids = list(inputs.hypothesis_ids)
    direct = family_tests(rows, seed=9, reps=199, min_obs=20, hypothesis_ids=ids)
    assert family.detail.to_dict() == direct.to_dict()
    rc = runner.run("reality_check", inputs, seed=9, params=params)
    assert rc.family["p_value"] == reality_check(rows, seed=9, reps=199, min_obs=20).p_value
    assert rc.family["p_value"] == family.family["rc_p"]
    sp = runner.run("spa", inputs, seed=9, params=params)
    assert sp.family["p_value"] == spa(rows, seed=9, reps=199, min_obs=20).pvalue_consistent
    assert sp.family["p_value"] == family.family["spa_p"]
    sm = runner.run("stepm", inputs, seed=9, params=params)
    expected = stepm(rows, seed=9, reps=199, min_obs=20).adjusted_pvalues
    assert [sm.hypotheses[i]["rw_p"] for i in ids] == list(expected)
    assert sm.hypotheses == family.hypotheses
    assert {name for name, _ in runner.checked} >= {"family_tests", "spa", "stepm"}


def test_adjustments_keep_a_missing_p_value_missing() -> None:
    runner = ProcedureRunner()
    result = runner.run("holm", _inputs(), seed=0)
    assert result.hypotheses["s1@1"] == {"adjusted_p": None}
    assert result.hypothesis_missing == {"s1@1": "no p-value"}
    # p = 1 for the missing member: Holm over (0.01, 1, 0.2) -> 0.03 and 0.4
    assert result.hypotheses["s0@1"]["adjusted_p"] == pytest.approx(0.03)
    assert result.hypotheses["s2@1"]["adjusted_p"] == pytest.approx(0.4)


def test_names_are_unique_and_shapes_are_checked() -> None:
    registry = register_builtins(ProcedureRegistry())
    register_builtins(registry)  # the same built-ins again: the same registration
    assert len(registry.names()) == len(BUILTIN_PROCEDURES)

    class Impostor(_Counter):
        name: ClassVar[str] = "bh"

    with pytest.raises(PluginError, match=r"'bh' from .* is already registered by module"):
        registry.register(Impostor())

    class NoVersion:
        name = "nameless"
        params_model = _Params

        def run(self, inputs: Any, ctx: Any) -> ProcedureResult:
            return ProcedureResult()

    with pytest.raises(PluginError, match="`version` must be a non-empty string"):
        registry.register(NoVersion())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no statistical procedure is registered as 'nope'"):
        registry.get("nope")
    with pytest.raises(ConfigError, match="parameters of statistical procedure 'bh' are invalid"):
        registry.params("bh", {"alpha": 2})


def test_the_runner_refuses_a_procedure_whose_reruns_differ() -> None:
    registry = ProcedureRegistry()
    registry.register(_Counter())
    registry.register(_Seeded())
    runner = ProcedureRunner(registry)
    with pytest.raises(NonDeterministicProcedureError, match=r"'counter' .* is not deterministic"):
        runner.run("counter", _inputs(), seed=3, params={"scale": 2.0})
    first = runner.run("seeded", _inputs(), seed=3)
    assert runner.checked == [("counter", 3), ("seeded", 3)]  # not built-in: always re-run
    assert runner.run("seeded", _inputs(), seed=3).to_dict() == first.to_dict()
    assert runner.run("seeded", _inputs(), seed=4).family != first.family

    class Wrong(_Counter):
        name: ClassVar[str] = "wrong"

        def run(self, inputs: Any, ctx: Any) -> Any:
            return {"value": 1.0}

    registry.register(Wrong())
    with pytest.raises(PluginError, match="returned dict, not a ProcedureResult"):
        runner.run("wrong", _inputs(), seed=1)


def test_builtin_runs_are_sampled_for_the_check() -> None:
    never, always = (
        ProcedureRunner(builtin_check_share=0.0),
        ProcedureRunner(builtin_check_share=1.0),
    )
    for runner in (never, always):
        runner.run("psr", _inputs(), seed=5)
    assert never.checked == [] and always.checked == [("psr", 5)]
    sampled = ProcedureRunner()
    for seed in range(200):
        sampled.run("bh", _inputs(), seed=seed)
    assert 5 <= len(sampled.checked) <= 60  # about 1 in 8, and the same ones every time
    again = ProcedureRunner()
    for seed in range(200):
        again.run("bh", _inputs(), seed=seed)
    assert again.checked == sampled.checked


def test_results_carry_finite_labelled_scalars_only() -> None:
    with pytest.raises(ValueError, match="family field 'p' is nan"):
        ProcedureResult(family={"p": float("nan")})
    with pytest.raises(TypeError, match="field 'x' of 'a@1' must be a number"):
        ProcedureResult(hypotheses={"a@1": {"x": [1, 2]}})
    with pytest.raises(ValueError, match="both a family field and a field of 'a@1'"):
        ProcedureResult(family={"p": 0.1}, hypotheses={"a@1": {"p": 0.2}})
    result = ProcedureResult(family={"n": np.int64(3)}, hypotheses={"a@1": {"p": np.float64(0.5)}})
    assert result.fields_for("a@1") == {"n": 3, "p": 0.5}
    assert result.fields_for("b@1") == {"n": 3}


def test_report_config_selects_procedures_by_name_with_validated_params() -> None:
    config = load_report_config(overrides={"procedures.extra": {"holm": {"alpha": 0.1}}})
    resolved = config.resolved()
    assert resolved["procedures"]["extra"] == {"holm": {"alpha": 0.1}}
    names = [entry["name"] for entry in resolved["stat_procedures"]]
    assert names == sorted({*REPORT_PROCEDURES, "holm"})
    with pytest.raises(ConfigError, match=r"procedures\.extra.*no statistical procedure .* 'nope'"):
        load_report_config(overrides={"procedures.extra": {"nope": {}}})
    with pytest.raises(ConfigError, match=r"parameters of statistical procedure 'holm' are inval"):
        load_report_config(overrides={"procedures.extra": {"holm": {"alpha": 3}}})
    stale = {**resolved, "stat_procedures": [{**resolved["stat_procedures"][0], "version": "0"}]}
    with pytest.raises(ConfigError, match="resolved with other statistical procedure code"):
        load_report_config(overrides={"stat_procedures": stale["stat_procedures"]})


def test_code_digest_follows_the_source_not_the_location(tmp_path: Path) -> None:
    package = tmp_path / "a" / "digest_probe_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    (package / "mod.py").write_text("X = 2\n")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    digests = []
    for root in ("a", "b", "a"):
        sys.path.insert(0, str(tmp_path / root))
        try:
            for name in [m for m in sys.modules if m.startswith("digest_probe_pkg")]:
                del sys.modules[name]
            digests.append(code_digest(["digest_probe_pkg"]))
        finally:
            sys.path.remove(str(tmp_path / root))
        if root == "b":
            (package / "mod.py").write_text("X = 3\n")
    assert digests[0] == digests[1] != digests[2]
    for name in [m for m in sys.modules if m.startswith("digest_probe_pkg")]:
        del sys.modules[name]


def test_the_null_suite_runs_on_panels_per_hypothesis() -> None:
    runner = ProcedureRunner(builtin_check_share=1.0)
    rng = np.random.default_rng(2)
    base = _inputs(k=2)
    signal = rng.normal(size=(80, 6))
    panels = {
        "s0@1": (signal, 0.3 * signal + rng.normal(size=(80, 6))),
        "s1@1": (rng.normal(size=(80, 6)), rng.normal(size=(80, 6))),
    }
    assert runner.run("null_suite", base, seed=1).missing_reason == "no signal panels were given"
    inputs = ProcedureInputs(
        base.hypothesis_ids, base.horizons, base.oos_ic, base.net_returns, base.p_values, panels
    )
    result = runner.run("null_suite", inputs, seed=1, params={"draws": 49})
    strong, noise = result.hypotheses["s0@1"], result.hypotheses["s1@1"]
    assert strong["p_value"] == pytest.approx(1 / 50) and noise["p_value"] > 0.05
    assert set(strong) == {
        "observed_mean_ic", "p_value",
        *(f"p_value_{kind}.{model}" for kind in ("ic", "sharpe")
          for model in ("block_shuffled_time", "permuted_signal", "random_ranks")),
    }  # fmt: skip
    assert ("null_suite", 1) in runner.checked
    one = inputs.select(1)
    assert one.panels is not None and set(one.panels) == {"s1@1"}
