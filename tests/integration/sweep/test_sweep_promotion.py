"""After a sweep that included the planted signal, promoting it from a normal report is judged
against the sweep's trials too — and the planted signal still passes on the demo market.

The sweep is a search over many specifications of the noise signals with the planted signal among
them (its registered window, two horizons, two cost scenarios). A sweep over many *variants of
the true signal itself* is a different matter: their high Sharpe ratios inflate the cross-trial
variance the deflated Sharpe ratio uses, and DSR may then deny even the true signal (see
docs/sweeps.md).
"""

from __future__ import annotations

from pathlib import Path

from crypto_analyzer.governance import open_service
from crypto_analyzer.pipeline.demo import DEMO_REPORT, run_demo
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.sweep import parse_sweep_config, run_sweep

SWEEP = {
    "name": "around the planted signal",
    "horizons": [1, 4],
    "signals": [
        {"name": "volume_shock", "params": {"window": [24]}},
        {"name": "momentum_24h", "params": {"lookback": [6, 12, 24, 48, 72, 96]}},
        {"name": "short_reversal", "params": {"lookback": [1, 2, 3, 6]}},
        {"name": "low_vol", "params": {"lookback": [24, 72, 168]}},
    ],
    "costs": {"demo": DEMO_REPORT["costs"], "stressed": {**DEMO_REPORT["costs"], "fee_bps": 4.0}},
    "report": {"portfolio": DEMO_REPORT["portfolio"], "procedures": {"bootstrap_reps": 200}},
    "chunk_size": 8,
}


def test_promotion_after_a_sweep_counts_the_sweep_and_the_planted_signal_passes(
    tmp_path: Path,
) -> None:
    demo = run_demo(tmp_path / "demo", with_report=False)
    settings = demo.settings
    sweep = run_sweep(settings, parse_sweep_config(SWEEP), actor="demo-researcher")
    assert sweep.n_trials == 56
    assert sweep.best(1)[0]["signal"] == "volume_shock"

    config = ReportConfig.model_validate({**DEMO_REPORT, "portfolio": {**DEMO_REPORT["portfolio"]}})
    report = run_report(settings, config, actor="demo-researcher")
    in_report = len(config.signals) * len(config.horizons)
    outcomes = {}
    with open_service(settings, read_only=False) as service:
        for signal in ("volume_shock", "momentum_24h"):
            candidate = service.create(run_instance_id=report.run_instance_id, signal=signal,
                                       horizon=1, actor="demo-researcher")  # fmt: skip
            evaluation = service.evaluate(candidate.candidate_id, target="candidate",
                                          actor="demo-researcher")  # fmt: skip
            if evaluation.passed:
                evaluation = service.evaluate(candidate.candidate_id, target="accepted",
                                              actor="demo-reviewer")  # fmt: skip
            outcomes[signal] = evaluation

    planted = outcomes["volume_shock"]
    assert planted.passed and planted.candidate.status == "accepted", planted.decision.reasons
    history = planted.report.history
    assert history is not None
    # The eligibility report records the sweep's trials in the candidate's scope.
    assert history["scope"]["unique_trials"] == sweep.n_trials + in_report
    assert history["scope"]["this_run"] == in_report
    assert history["scope"]["effective_trials"] >= sweep.n_trials
    assert history["dsr"] is not None and history["dsr"] >= 0.95
    # A noise signal is denied, and its reasons quote the count that includes the sweep.
    noise = outcomes["momentum_24h"]
    assert not noise.passed
    headline = f"trials in scope: {sweep.n_trials + in_report} (this run: {in_report})"
    assert any(headline in str(reason.message) for reason in noise.decision.reasons), [
        str(reason.message) for reason in noise.decision.reasons
    ]
