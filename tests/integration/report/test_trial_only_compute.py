"""A sweep trial computes only what it records, and what it records equals the full report's.

``compute_report(..., trial_only=True)`` leaves out the regime mixture fits, break diagnostics,
extra procedures and tear sheets. Everything a sweep trial stores (IC, HAC t, p-value, Sharpe
moments, net Sharpe, OOS IC and net returns) must be bit-for-bit the value a full report computes
for the same configuration and run key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, generate_market
from crypto_analyzer.pipeline.report.compute import TRIAL_ONLY_SKIP, compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig

CONFIG = ReportConfig.model_validate(
    {
        "signals": ["volume_shock"],
        "horizons": [4],
        "min_assets": 5,
        "factor_window": 120,
        "splits": {"test_size": 120, "min_train_size": 240, "embargo": 4},
        "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
        "portfolio": {"k": 2},
    }
)


def test_a_trial_records_the_reports_numbers_and_skips_the_rest() -> None:
    instruments, bars = generate_market(
        SyntheticMarketConfig(assets=10, days=40, seed=5, planted_ic=0.06)
    )
    args = {"run_key": "7" * 64, "dataset_id": "d" * 64}
    full = compute_report(bars, instruments, CONFIG, **args)
    trial = compute_report(bars, instruments, CONFIG, trial_only=True, **args)
    key = ("volume_shock", 4)
    ours, theirs = trial.hypotheses[key], full.hypotheses[key]
    assert ours.ic == theirs.ic
    assert ours.p_value == theirs.p_value and ours.net_sharpe == theirs.net_sharpe
    assert ours.return_moments == theirs.return_moments and ours.return_moments is not None
    pd.testing.assert_series_equal(ours.net_returns, theirs.net_returns, check_exact=True)
    pd.testing.assert_frame_equal(trial.oos_ic, full.oos_ic, check_exact=True)
    assert np.isfinite(ours.ic.mean)

    # the report's extras were computed in the full run and left out of the trial
    assert full.regimes is not None and full.regimes.states is not None and full.tearsheets
    assert full.breaks
    assert trial.regimes is not None and trial.regimes.skip_reason == TRIAL_ONLY_SKIP
    assert trial.regimes.states is None and ours.regime is None
    assert not trial.tearsheets and not trial.breaks and not trial.procedures
