"""The report's statistics find the planted signal and stay quiet on noise."""

from __future__ import annotations

import pytest

from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, generate_market
from crypto_analyzer.pipeline.report.compute import compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig

BASE = {
    "min_assets": 8,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 300, "pbo_blocks": 8},
    "portfolio": {"k": 3, "target_capital": 10_000.0, "capital_grid": [1e4, 1e5]},
}


def _compute(market: SyntheticMarketConfig, config: dict, *, trial_only: bool = False) -> object:
    instruments, bars = generate_market(market)
    return compute_report(
        bars, instruments, ReportConfig.model_validate({**BASE, **config}),
        run_key=f"{market.seed:064x}", dataset_id="d" * 64, trial_only=trial_only,
    )  # fmt: skip


def test_planted_signal_is_recovered_out_of_sample() -> None:
    planted = 0.06
    result = _compute(
        SyntheticMarketConfig(assets=30, days=150, seed=21, planted_ic=planted),
        {"signals": ["volume_shock", "momentum_24h", "low_vol"], "horizons": [1]},
    )
    mean_ic = result.hypotheses[("volume_shock", 1)].ic.mean
    assert abs(mean_ic - planted) <= 0.01
    assert result.family.reality_check.p_value < 0.01
    assert result.family.spa.pvalue_consistent < 0.01
    assert result.hypotheses[("volume_shock", 1)].bh_p < 0.01


@pytest.mark.slow
def test_noise_families_are_not_called_significant() -> None:
    quiet_rc, quiet_bh = 0, 0
    seeds = range(40)
    for seed in seeds:
        # the family and BH p-values are computed exactly as in a full report (regime fits, break
        # diagnostics and tear sheets, which this test does not look at, are left out)
        result = _compute(
            SyntheticMarketConfig(assets=12, days=150, seed=seed),
            {"signals": ["momentum_24h", "short_reversal", "low_vol"], "horizons": [1, 4]},
            trial_only=True,
        )
        quiet_rc += result.family.reality_check.p_value > 0.01
        quiet_bh += min(h.bh_p for h in result.hypotheses.values()) > 0.05
        assert all(0.0 <= h.bh_p <= 1.0 for h in result.hypotheses.values())
    assert quiet_rc >= 0.95 * len(seeds), quiet_rc
    assert quiet_bh >= 0.95 * len(seeds), quiet_bh
