"""Calibration harness: CI-sized size/power study, power vs arch, CLI and rendering."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from arch.bootstrap import SPA
from typer.testing import CliRunner

from crypto_analyzer.cli.stats import app
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.stats import family_tests, render_calibration_markdown, run_calibration
from crypto_analyzer.stats.calibration import (
    CALIBRATION_TESTS,
    CONSERVATIVE_BY_DESIGN,
    binomial_interval,
)

CI_REPS = 300


@pytest.mark.slow
def test_iid_null_size_inside_binomial_band_and_power_reported() -> None:
    result = run_calibration(reps=CI_REPS, n_obs=250, alpha=0.05, seed=20240605, dgps=("iid",))
    low, high = binomial_interval(CI_REPS, 0.05)
    nulls = {r.test: r for r in result.rows if r.scenario == "null"}
    power = {r.test: r for r in result.rows if r.scenario == "power"}
    assert set(nulls) == set(power) == set(CALIBRATION_TESTS)
    for name, row in nulls.items():
        if name in CONSERVATIVE_BY_DESIGN:
            # BY and DSR are conservative by construction: only the upper end applies.
            assert row.rate <= high, (name, row.rate)
        else:
            assert low <= row.rate <= high, (name, row.rate, low, high)
    for name, row in power.items():
        assert row.rate > nulls[name].rate, (name, row.rate)


def _superior_panel(rng: np.random.Generator, n: int = 250, k: int = 10) -> np.ndarray:
    # Heterogeneous scales: the superior model is also the noisiest-but-one, where studentizing
    # (which arch 8.0 does not do) matters.
    scale = np.r_[0.5, np.linspace(1.0, 3.0, k - 1)]
    d = rng.standard_normal((n, k)) * scale
    d[:, 0] += 0.11
    return d


@pytest.mark.slow
def test_rc_and_spa_power_at_least_arch() -> None:
    reps, hits = 120, {"rc": 0, "spa": 0, "arch_rc": 0, "arch_spa": 0}
    for rep in range(reps):
        rng = np.random.default_rng([7, rep])
        d = _superior_panel(rng)
        ours = family_tests(d, seed=rep, reps=299, block_length=5.0)
        arch = SPA(np.zeros(d.shape[0]), -d, block_size=5, reps=299, seed=10_000 + rep)
        arch.compute()
        hits["rc"] += ours.reality_check.p_value <= 0.05
        hits["spa"] += ours.spa.pvalue_consistent <= 0.05
        hits["arch_rc"] += arch.pvalues["upper"] <= 0.05
        hits["arch_spa"] += arch.pvalues["consistent"] <= 0.05
    rate = {key: value / reps for key, value in hits.items()}
    # RC is the same statistic as arch's upper p-value: equal power up to Monte-Carlo error.
    se = math.sqrt(2 * 0.25 / reps)
    assert rate["rc"] >= rate["arch_rc"] - 2 * se, rate
    # Studentized SPA beats arch's unstudentized one here.
    assert rate["spa"] >= rate["arch_spa"], rate
    assert rate["spa"] > 0.5, rate


def test_small_run_structure_and_markdown() -> None:
    result = run_calibration(reps=10, n_obs=60, tests=("hac_t", "bh"), dgps=("iid", "ar1"))
    assert len(result.rows) == 2 * 2 * 2
    text = render_calibration_markdown(result, "crypto-analyzer stats calibrate --reps 10")
    assert "crypto-analyzer stats calibrate --reps 10" in text
    assert "| hac_t |" in text and "## Power" in text
    json.dumps(result.to_dict())


def test_binomial_band_contains_alpha() -> None:
    low, high = binomial_interval(300, 0.05)
    assert low < 0.05 < high


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"reps": 5}, "reps"), ({"dgps": ("iid", "walk")}, "dgps"), ({"alpha": 2.0}, "alpha")],
)
def test_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        run_calibration(**kwargs)


def test_cli_writes_markdown_and_json(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    result = CliRunner().invoke(
        app, ["calibrate", "--reps", "10", "--n-obs", "60", "--seed", "3", "--output-dir", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{out.as_posix()}/calibration.md",
        f"{out.as_posix()}/calibration.json",
    ]
    payload = canonical_loads((out / "calibration.json").read_text("utf-8"))
    assert payload["schema_version"] == 1 and payload["seed"] == 3
    assert payload["command"].startswith("crypto-analyzer stats calibrate --reps 10")
    assert payload["command"] in (out / "calibration.md").read_text("utf-8")


def test_cli_json_is_canonical_and_stdout_only_data() -> None:
    result = CliRunner().invoke(app, ["calibrate", "--reps", "10", "--n-obs", "60", "--json"])
    assert result.exit_code == 0, result.output
    payload = canonical_loads(result.stdout)
    assert payload["reps"] == 10 and "Calibration" in result.stderr


def test_cli_user_error_exits_2_without_traceback() -> None:
    result = CliRunner().invoke(app, ["calibrate", "--reps", "1"])
    assert result.exit_code == 2
    assert "reps must be >= 10" in result.stderr and "Traceback" not in result.output


def test_exact_sizes_are_printed_beside_the_simulated_ones() -> None:
    from crypto_analyzer.stats.calibration import exact_size

    assert exact_size("by", 0.05) == pytest.approx(0.05 / sum(1 / k for k in range(1, 11)))
    assert exact_size("by", 0.05) == pytest.approx(0.01707, abs=1e-5)
    assert exact_size("bh", 0.05) == 0.05
    assert exact_size("holm", 0.05) == pytest.approx(1 - (1 - 0.005) ** 10)
    assert exact_size("spa", 0.05) is None
    result = run_calibration(reps=10, n_obs=60, tests=("by", "spa"), dgps=("iid",), power=False)
    rows = {row.test: row for row in result.rows}
    assert rows["by"].exact_rate == pytest.approx(0.01707, abs=1e-5)
    assert rows["spa"].exact_rate is None
    text = render_calibration_markdown(result, "cmd")
    assert "| test | iid | exact | 99% band | note |" in text
    by_line = next(line for line in text.splitlines() if line.startswith("| by |"))
    assert "| 0.017 |" in by_line


@pytest.mark.slow
def test_robust_break_tests_keep_their_size_under_dependence() -> None:
    reps = 300
    result = run_calibration(
        reps=reps, n_obs=250, tests=("cusum_lrv", "sup_f"), dgps=("iid", "ar1", "garch"),
        power=False,
    )  # fmt: skip
    _, high = binomial_interval(reps, 0.05)
    for row in result.rows:
        assert row.rate <= high, (row.test, row.dgp, row.rate, high)
        assert row.within_band, (row.test, row.dgp, row.rate)
