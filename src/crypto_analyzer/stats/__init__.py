"""Statistical procedures: pure functions from numpy arrays to frozen, labelled results.

Nothing here touches a database, a file or the global ``np.random`` state. Every random procedure
takes a keyword-only ``seed`` (turned into a generator by ``core.seeding.make_rng``) and records it
in its result; every result has ``to_dict()`` returning canonical-JSON-compatible values.
"""

from __future__ import annotations

from crypto_analyzer.stats.block_length import BlockLengthResult, optimal_block_length
from crypto_analyzer.stats.bootstrap import BOOTSTRAP_METHODS, BootstrapIndices, bootstrap_indices
from crypto_analyzer.stats.calibration import (
    CalibrationResult,
    CalibrationRow,
    render_calibration_markdown,
    run_calibration,
)
from crypto_analyzer.stats.cusum import CusumResult, cusum_test
from crypto_analyzer.stats.dsr import (
    DsrResult,
    EffectiveTrialsResult,
    deflated_sharpe_ratio,
    deflated_sharpe_ratio_from_moments,
    effective_number_of_trials,
    expected_max_sharpe,
)
from crypto_analyzer.stats.family import FamilyTestsResult, family_tests, loss_differentials
from crypto_analyzer.stats.hac import HacResult, newey_west, newey_west_lag_rule, t_upper_p_value
from crypto_analyzer.stats.multitest import (
    AdjustedPValues,
    adjust_pvalues,
    benjamini_hochberg,
    benjamini_yekutieli,
    holm,
)
from crypto_analyzer.stats.null_suite import (
    NULL_MODELS,
    NullDistribution,
    NullSuiteResult,
    null_suite,
)
from crypto_analyzer.stats.online_fdr import (
    LORD_GAMMA_CONSTANT,
    OnlineFdrResult,
    lord_gamma_sequence,
    lord_plus_plus,
)
from crypto_analyzer.stats.pbo import PboResult, pbo_cscv
from crypto_analyzer.stats.psr import (
    MinTrackRecordResult,
    PsrResult,
    minimum_track_record_length,
    probabilistic_sharpe_ratio,
    sharpe_moments,
)
from crypto_analyzer.stats.reality_check import RealityCheckResult, reality_check
from crypto_analyzer.stats.spa import SpaResult, spa
from crypto_analyzer.stats.stepm import StepMResult, stepm
from crypto_analyzer.stats.summaries import (
    SCHEMA_VERSION,
    family_summary,
    pbo_summary,
    stats_overview,
)
from crypto_analyzer.stats.supf import SupFResult, sup_f_test

__all__ = [
    "BOOTSTRAP_METHODS",
    "LORD_GAMMA_CONSTANT",
    "NULL_MODELS",
    "SCHEMA_VERSION",
    "AdjustedPValues",
    "BlockLengthResult",
    "BootstrapIndices",
    "CalibrationResult",
    "CalibrationRow",
    "CusumResult",
    "DsrResult",
    "EffectiveTrialsResult",
    "FamilyTestsResult",
    "HacResult",
    "MinTrackRecordResult",
    "NullDistribution",
    "NullSuiteResult",
    "OnlineFdrResult",
    "PboResult",
    "PsrResult",
    "RealityCheckResult",
    "SpaResult",
    "StepMResult",
    "SupFResult",
    "adjust_pvalues",
    "benjamini_hochberg",
    "benjamini_yekutieli",
    "bootstrap_indices",
    "cusum_test",
    "deflated_sharpe_ratio",
    "deflated_sharpe_ratio_from_moments",
    "effective_number_of_trials",
    "expected_max_sharpe",
    "family_summary",
    "family_tests",
    "holm",
    "lord_gamma_sequence",
    "lord_plus_plus",
    "loss_differentials",
    "minimum_track_record_length",
    "newey_west",
    "newey_west_lag_rule",
    "null_suite",
    "optimal_block_length",
    "pbo_cscv",
    "pbo_summary",
    "probabilistic_sharpe_ratio",
    "reality_check",
    "render_calibration_markdown",
    "run_calibration",
    "sharpe_moments",
    "spa",
    "stats_overview",
    "stepm",
    "sup_f_test",
    "t_upper_p_value",
]
