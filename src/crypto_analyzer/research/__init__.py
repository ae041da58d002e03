"""Research engine: panels, factor models, signals, IC, splits, fold-safe evaluation, costs.

Pure numpy/pandas: frames in, frozen results and canonical-JSON-able dicts out. Nothing here reads
the database (a loader hands :func:`panel_from_bars` a long bars frame) and nothing draws randomness
except through an injected ``numpy.random.Generator``.

Typical flow::

    panel = panel_from_bars(bars)
    fit = fit_factor_model(panel.log_returns, factor_ids=[btc, eth], window=720, lag=1)
    sig = {"clean_momentum": compute_signal("clean_momentum", panel, factor_fit=fit)}
    plan = walk_forward_plan(panel.shape[0], test_size=720, min_train_size=2160, horizon=24)
    result = evaluate_walk_forward(panel, sig, plan=plan, run_key=rk, dataset_id=ds)
    assert validate_attestation(result.attestation) == []
"""

from __future__ import annotations

from crypto_analyzer.research.attestation import (
    ATTESTATION_CHECKS,
    ATTESTATION_SCHEMA,
    ATTESTATION_SCHEMA_VERSION,
    build_attestation,
    validate_attestation,
)
from crypto_analyzer.research.bar_columns import (
    BAR_COLUMNS,
    BLOCK_ROWS,
    BarBlock,
    BarColumns,
    as_bar_columns,
    bar_layout,
)
from crypto_analyzer.research.calendars import (
    CALENDAR_KINDS,
    GAP_RULES,
    CalendarReport,
    CalendarSpec,
    calendar_panel,
    read_calendar_file,
    resolve_calendar,
)
from crypto_analyzer.research.capacity import (
    EXECUTION_EVIDENCE_SCHEMA,
    EXECUTION_EVIDENCE_SCHEMA_VERSION,
    capacity_curve,
    execution_evidence,
)
from crypto_analyzer.research.causality_check import (
    CAUSALITY_CHECKS,
    FUTURE_SHOCK,
    PREFIX_RECOMPUTE,
    CausalityFinding,
    check_causality,
    shocked_panel,
)
from crypto_analyzer.research.cpcv import (
    cpcv_plan,
)
from crypto_analyzer.research.cross_section import (
    cs_rank,
    cs_zscore,
    orthogonalize,
)
from crypto_analyzer.research.dynamic_beta import (
    fit_kalman_factor_model,
)
from crypto_analyzer.research.errors import (
    LeakageError,
)
from crypto_analyzer.research.factors import (
    FACTOR_FIT_SCHEMA,
    FACTOR_FIT_SCHEMA_VERSION,
    FactorFit,
    FitOutputs,
    factor_fit_config,
    factor_run_id,
    fit_factor_model,
    residualize,
    rolling_factor_config,
)
from crypto_analyzer.research.forward_returns import (
    DEFAULT_HORIZONS,
    forward_returns,
)
from crypto_analyzer.research.guard import (
    FitRecord,
    guarded_fit,
    label_windows_touch_test,
    rows_of,
)
from crypto_analyzer.research.ic import (
    IC_METHODS,
    IcSummary,
    ic_decay,
    ic_series,
    summarize_ic,
)
from crypto_analyzer.research.panel import (
    Panel,
    eligibility_mask,
    filter_assets,
    panel_from_bars,
)
from crypto_analyzer.research.portfolio import (
    BacktestResult,
    CostModel,
    active_portfolio_weights,
    annualised_sharpe,
    backtest,
    bars_per_year,
    portfolio_weights,
)
from crypto_analyzer.research.regime_model import (
    GaussianMixtureRegimes,
    GmmFit,
    fit_gmm,
    oos_regimes,
)
from crypto_analyzer.research.regimes import (
    QuantileRegimeRule,
    market_state_features,
    regime_conditioned_ic,
    rule_regimes,
)
from crypto_analyzer.research.rolling_ols import (
    RollingOls,
    asset_blocks,
    rolling_ols,
    rolling_ols_blocks,
)
from crypto_analyzer.research.signal_registry import (
    SIGNALS,
    SignalSpec,
    compute_signal,
    get_signal,
    signal_names,
    signature_defaults,
)
from crypto_analyzer.research.signals import (
    clean_momentum,
    liquidity_shock_reversion,
    low_vol,
    low_vol_dispersion,
    momentum_24h,
    short_reversal,
    value_vs_beta,
    volume_shock,
    volume_surprise,
)
from crypto_analyzer.research.splits import (
    SPLIT_PLAN_SCHEMA,
    SPLIT_PLAN_SCHEMA_VERSION,
    Fold,
    SplitPlan,
    ranges_to_rows,
    rows_to_ranges,
    walk_forward_plan,
)
from crypto_analyzer.research.transforms import (
    CrossSectionalZScore,
    FactorResidualizer,
    Fitted,
    SignCalibrator,
    Standardizer,
    Transform,
    Winsorizer,
    transform_params,
)
from crypto_analyzer.research.walk_forward import (
    WalkForwardResult,
    evaluate_walk_forward,
)

__all__ = [
    "ATTESTATION_CHECKS",
    "ATTESTATION_SCHEMA",
    "ATTESTATION_SCHEMA_VERSION",
    "BAR_COLUMNS",
    "BLOCK_ROWS",
    "CALENDAR_KINDS",
    "CAUSALITY_CHECKS",
    "DEFAULT_HORIZONS",
    "EXECUTION_EVIDENCE_SCHEMA",
    "EXECUTION_EVIDENCE_SCHEMA_VERSION",
    "FACTOR_FIT_SCHEMA",
    "FACTOR_FIT_SCHEMA_VERSION",
    "FUTURE_SHOCK",
    "GAP_RULES",
    "IC_METHODS",
    "PREFIX_RECOMPUTE",
    "SIGNALS",
    "SPLIT_PLAN_SCHEMA",
    "SPLIT_PLAN_SCHEMA_VERSION",
    "BacktestResult",
    "BarBlock",
    "BarColumns",
    "CalendarReport",
    "CalendarSpec",
    "CausalityFinding",
    "CostModel",
    "CrossSectionalZScore",
    "FactorFit",
    "FactorResidualizer",
    "FitOutputs",
    "FitRecord",
    "Fitted",
    "Fold",
    "GaussianMixtureRegimes",
    "GmmFit",
    "IcSummary",
    "LeakageError",
    "Panel",
    "QuantileRegimeRule",
    "RollingOls",
    "SignCalibrator",
    "SignalSpec",
    "SplitPlan",
    "Standardizer",
    "Transform",
    "WalkForwardResult",
    "Winsorizer",
    "active_portfolio_weights",
    "annualised_sharpe",
    "as_bar_columns",
    "asset_blocks",
    "backtest",
    "bar_layout",
    "bars_per_year",
    "build_attestation",
    "calendar_panel",
    "capacity_curve",
    "check_causality",
    "clean_momentum",
    "compute_signal",
    "cpcv_plan",
    "cs_rank",
    "cs_zscore",
    "eligibility_mask",
    "evaluate_walk_forward",
    "execution_evidence",
    "factor_fit_config",
    "factor_run_id",
    "filter_assets",
    "fit_factor_model",
    "fit_gmm",
    "fit_kalman_factor_model",
    "forward_returns",
    "get_signal",
    "guarded_fit",
    "ic_decay",
    "ic_series",
    "label_windows_touch_test",
    "liquidity_shock_reversion",
    "low_vol",
    "low_vol_dispersion",
    "market_state_features",
    "momentum_24h",
    "oos_regimes",
    "orthogonalize",
    "panel_from_bars",
    "portfolio_weights",
    "ranges_to_rows",
    "read_calendar_file",
    "regime_conditioned_ic",
    "residualize",
    "resolve_calendar",
    "rolling_factor_config",
    "rolling_ols",
    "rolling_ols_blocks",
    "rows_of",
    "rows_to_ranges",
    "rule_regimes",
    "shocked_panel",
    "short_reversal",
    "signal_names",
    "signature_defaults",
    "summarize_ic",
    "transform_params",
    "validate_attestation",
    "value_vs_beta",
    "volume_shock",
    "volume_surprise",
    "walk_forward_plan",
]
