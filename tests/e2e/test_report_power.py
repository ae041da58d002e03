"""Power analysis in the report: the reported minimum detectable IC agrees with simulation of the
same design, the planted signal is reported well powered, and a 30-day noise run is flagged
underpowered by the report and by the policy rule (a warning, never a denial)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import crypto_analyzer as ca
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.pipeline.demo import DEMO_REPORT
from crypto_analyzer.stats.power import simulated_mde

PLANTED = ca.SyntheticMarketConfig(assets=16, days=150, seed=11, planted_ic=0.1)
PLANTED_REPORT = {
    **DEMO_REPORT,
    "min_assets": 10,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 400, "pbo_blocks": 8},
    "portfolio": {**DEMO_REPORT["portfolio"], "k": 3},
}
NOISE = ca.SyntheticMarketConfig(assets=16, days=30, seed=3)
NOISE_REPORT = {
    "signals": ["momentum_24h", "short_reversal"],
    "horizons": [1],
    "min_assets": 10,
    "factor_window": 48,
    "splits": {"test_size": 120, "min_train_size": 240, "embargo": 2},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 4},
    "portfolio": {"k": 3},
}


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-05-01T00:00:00Z")
    reset_settings_cache()


def test_reported_mde_matches_simulation_and_the_planted_signal_is_well_powered(
    tmp_path: Path,
) -> None:
    workspace = ca.open_workspace(str(tmp_path / "ws"), create=True, sandbox=True)
    workspace.ingest_synthetic(PLANTED)
    result = workspace.run_report(PLANTED_REPORT, actor="researcher")
    power = json.loads(workspace.artifact(result.run_instance_id, "stats/power.json"))
    assert power["family_size"] == 10 and power["correction"] == "bh"
    ic = workspace.ic_series(result.run_instance_id)
    rows = {row["hypothesis"]: row for row in power["hypotheses"]}
    assert set(rows) == set(ic.columns)
    for name in ("volume_shock@1", "momentum_24h@1", "low_vol@4"):
        simulated = simulated_mde(ic[name].dropna(), seed=5, reps=400, alpha=power["alpha"],
                                  family_size=10, correction="bh")  # fmt: skip
        assert abs(rows[name]["mde_ic"] / simulated - 1) < 0.10, (name, rows[name], simulated)
    planted = rows["volume_shock@1"]
    assert planted["gate_power"]["0.1"] > 0.8 and planted["underpowered"] is False
    assert planted["mde_ic"] < PLANTED.planted_ic
    assert planted["mde_net_sharpe"] > 0
    overview = json.loads(workspace.artifact(result.run_instance_id, "stats/overview.json"))
    assert overview["power"] == power
    markdown = workspace.artifact(result.run_instance_id, "report.md").decode()
    assert "## Power (what this design could detect)" in markdown
    assert "figures/power_curve.png" in markdown


def test_a_30_day_noise_run_is_flagged_underpowered(tmp_path: Path) -> None:
    workspace = ca.open_workspace(str(tmp_path / "ws"), create=True, sandbox=True)
    workspace.ingest_synthetic(NOISE)
    result = workspace.run_report(NOISE_REPORT, actor="researcher")
    power = json.loads(workspace.artifact(result.run_instance_id, "stats/power.json"))
    assert all(row["underpowered"] for row in power["hypotheses"]), power["hypotheses"]
    candidate = workspace.create_candidate(result.run_instance_id, "momentum_24h", 1,
                                           actor="researcher")  # fmt: skip
    evaluation = workspace.evaluate(candidate.candidate_id, target="candidate", actor="researcher")
    warnings = [str(item) for item in evaluation.decision.warnings
                if item.rule == "power.underpowered"]  # fmt: skip
    assert len(warnings) == 1 and "underpowered at horizon 1" in warnings[0]
    assert all(reason.rule != "power.underpowered" for reason in evaluation.decision.reasons)
    assert "power.underpowered" in evaluation.decision.rules
    assert workspace.verify().ok


def test_the_demo_reports_its_planted_signal_well_powered(tmp_path: Path) -> None:
    from crypto_analyzer.pipeline.demo import DEMO_MARKET, run_demo

    demo = run_demo(tmp_path / "demo")
    assert demo.report is not None
    power = json.loads(
        ca.Workspace(demo.settings).artifact(demo.report.run_instance_id, "stats/power.json")
    )
    planted = next(row for row in power["hypotheses"] if row["hypothesis"] == "volume_shock@1")
    assert planted["gate_power"][f"{DEMO_MARKET.planted_ic:g}"] > 0.8
    assert planted["underpowered"] is False
