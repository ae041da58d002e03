"""The numbers of a report: a chain of stages from bars to every statistic a bundle carries.

Pure with respect to storage: frames and a config in, a :class:`ReportComputation` out. The
stages (:mod:`.stages`, :mod:`.stat_stages`, :mod:`.regime_stage`) each return a frozen result;
this module only chains them and assembles one typed :class:`HypothesisResult` per (signal,
horizon). Every random procedure takes its seed from ``core.seeding`` under the run key, and the
seeds used are returned so the bundle can record them. A statistic that could not be computed is
``None`` with the reason, never a substitute value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from crypto_analyzer.core.memory import release_free_memory
from crypto_analyzer.core.progress import StageHook
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.preflight import PanelOnCalendar, check_signals
from crypto_analyzer.pipeline.report.procedure_stage import ProcedureRun, extra_procedures_stage
from crypto_analyzer.pipeline.report.regime_stage import RegimeIc, RegimeStage, regime_stage
from crypto_analyzer.pipeline.report.signal_store import SignalStore
from crypto_analyzer.pipeline.report.stages import (
    FactorFitter,
    IcStage,
    IcStats,
    Key,
    PortfolioStage,
    PreparedData,
    evaluate_ic,
    evaluate_portfolios,
    hypothesis_id,
    iter_signals,
    prepare_data,
)
from crypto_analyzer.pipeline.report.stat_stages import (
    FamilyStage,
    MultipleTestingStage,
    SeedLog,
    SharpeStage,
    SharpeStats,
    break_diagnostics,
    family_inputs,
    family_stage,
    multiple_testing_stage,
    sharpe_stage,
)
from crypto_analyzer.pipeline.report.tearsheet import TearSheet, tearsheet_stage
from crypto_analyzer.research import (
    SplitPlan,
    build_attestation,
    fit_factor_model,
    forward_returns,
    validate_attestation,
)
from crypto_analyzer.stats import FamilyTestsResult, PboResult
from crypto_analyzer.stats.procedures import ProcedureRunner

__all__ = [
    "COMPUTE_STAGES",
    "TRIAL_ONLY_SKIP",
    "FactorFitter",
    "HypothesisResult",
    "ReportComputation",
    "compute_report",
    "hypothesis_id",
]


@dataclass(frozen=True)
class HypothesisResult:
    """Everything measured for one (signal, horizon); ``None`` fields come with a reason."""

    signal: str
    horizon: int
    ic: IcStats
    n_assets: int
    p_value: float | None
    """One-sided p-value of the HAC t of the mean IC (``None`` without a HAC t)."""
    bh_p: float | None
    by_p: float | None
    p_value_missing_reason: str | None
    rw_p: float | None
    sharpe: SharpeStats
    net_sharpe: float | None
    max_participation: float | None
    net_returns: pd.Series
    execution: dict[str, Any]
    regime: RegimeIc | None = None

    @property
    def return_moments(self) -> tuple[float, float, float, int] | None:
        """(per-period Sharpe, skewness, non-excess kurtosis, n) of the OOS net returns the DSR
        used; ``None`` when they could not be computed. The trial ledger records them."""
        return self.sharpe.moments


@dataclass(frozen=True)
class ReportComputation:
    """All results of a report run before anything is written."""

    n_assets: int
    assets: tuple[str, ...]
    """The universe the hypotheses were tested on (chosen before the first test block)."""
    period: tuple[int, int]
    plan: SplitPlan
    attestation: dict[str, Any]
    attestation_problems: tuple[str, ...]
    oos_ic: pd.DataFrame
    ic_decay: pd.DataFrame
    hypotheses: dict[Key, HypothesisResult]
    family: FamilyTestsResult | None
    family_skip_reason: str | None
    pbo: PboResult | None
    effective_trials: float
    seeds: tuple[tuple[str, int | None, int], ...]
    breaks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per hypothesis: CUSUM and sup-F, both with a long-run variance, on the OOS IC."""
    regimes: RegimeStage | None = None
    pbo_skip_reason: str | None = None
    signals: tuple[str, ...] = ()
    """The signals evaluated (factor-based ones are skipped when no factor instrument exists)."""
    notes: tuple[str, ...] = ()
    """Data notes the report states (calendar, gap rule, long gaps, skipped signals)."""
    procedures: dict[str, ProcedureRun] = field(default_factory=dict)
    """Results of the procedures selected by name in ``procedures.extra``."""
    tearsheets: dict[Key, TearSheet] = field(default_factory=dict)
    """Per hypothesis: the tear-sheet views (quantiles, spread, costs …); not evidence."""
    bar_ms: int = 0


TRIAL_ONLY_SKIP = "a sweep trial records IC, p-value, Sharpe moments and net returns only"

COMPUTE_STAGES = (
    "universe and factors",
    "signals",
    "walk-forward IC",
    "portfolios",
    "family statistics",
    "regimes",
)
"""The stages :func:`compute_report` announces, in order."""


def _no_stage(_name: str) -> None:
    """No progress display."""


def compute_report(
    bars: pd.DataFrame | PanelOnCalendar,
    instruments: pd.DataFrame,
    config: ReportConfig,
    *,
    run_key: str,
    dataset_id: str,
    fit_factors: FactorFitter = fit_factor_model,
    runner: ProcedureRunner | None = None,
    stage: StageHook | None = None,
    trial_only: bool = False,
) -> ReportComputation:
    """Run universe → signals → walk-forward IC → portfolios → regimes → statistics.

    ``fit_factors`` has :func:`fit_factor_model`'s signature; the report run passes one that
    reads and stores factor runs in the database. Every statistic is computed by a registry
    procedure through ``runner`` (default: the default registry, determinism re-checked).
    ``stage`` is told each of :data:`COMPUTE_STAGES` as it begins (progress display).
    ``bars`` may be the panel already built from the long frame (:class:`PanelOnCalendar`).

    ``trial_only`` is for a sweep trial, which records a hypothesis' IC, p-value, Sharpe moments
    and net returns and nothing else: the regime mixture fits (most of a trial's cost), the break
    diagnostics, extra procedures and tear sheets are left out. Everything a trial records is
    computed exactly as in a report; the result is not a report and is never written as one.
    """
    runner = runner or ProcedureRunner()
    announce = stage or _no_stage

    def begin(name: str) -> None:
        release_free_memory()  # what the last stage freed, before this one allocates
        announce(name)

    begin(COMPUTE_STAGES[0])
    prepared = prepare_data(bars, instruments, config, fit_factors=fit_factors)
    with SignalStore() as signals:
        begin(COMPUTE_STAGES[1])
        for name, frame in iter_signals(prepared, config):
            check_signals({name: frame}, prepared.panel, prepared.in_test, config)
            signals.add(name, frame)
            del frame  # only the store holds it now: one signal grid resident at a time
            release_free_memory()
        # The factor fit (one grid per beta, alpha, R², residual and count) feeds the signals
        # only: it is let go here rather than held through every later stage.
        prepared = replace(prepared, fit=None)
        done = _evaluate(prepared, signals, config, run_key, dataset_id, runner, begin, trial_only)
    ic, portfolios, family, testing, sharpe, seeds, breaks, regimes, extra, tearsheets = done
    horizons = config.horizons
    keys: list[Key] = [(s, h) for s in prepared.signals for h in horizons]
    panel = prepared.panel
    times = panel.times
    attestation = build_attestation(
        run_key=run_key,
        dataset_id=dataset_id,
        plan=prepared.plan,
        fit_records=(*ic.fit_records, *regimes.fit_records),
        horizons=horizons,
        time_axis={
            "first_bar_open_ms": int(times[0]),
            "bar_ms": panel.bar_ms,
            "n_rows": len(times),
        },
    )
    results: dict[Key, HypothesisResult] = {}
    target_capital = config.portfolio.target_capital
    for key in keys:
        execution = portfolios.executions[key]
        target = next((p for p in execution["curve"] if p["aum"] == target_capital), None)
        results[key] = HypothesisResult(
            signal=key[0],
            horizon=key[1],
            ic=ic.stats[key],
            n_assets=int(panel.shape[1]),
            p_value=testing.p_values[key],
            bh_p=testing.bh[key],
            by_p=testing.by[key],
            p_value_missing_reason=testing.missing_reason.get(key),
            rw_p=family.rw_p(key),
            sharpe=sharpe.stats[key],
            net_sharpe=None if target is None else target["net_sharpe"],
            max_participation=None if target is None else target["max_participation"],
            net_returns=portfolios.net_returns[key],
            execution=execution,
            regime=regimes.per_hypothesis.get(key),
        )
    return ReportComputation(
        n_assets=int(panel.shape[1]),
        assets=tuple(str(asset) for asset in panel.assets),
        period=(int(times[0]), int(times[-1])),
        plan=prepared.plan,
        attestation=attestation,
        attestation_problems=tuple(validate_attestation(attestation)),
        oos_ic=ic.oos_ic,
        ic_decay=ic.decay,
        hypotheses=results,
        family=family.result,
        family_skip_reason=family.skip_reason,
        pbo=sharpe.pbo,
        effective_trials=sharpe.effective_trials,
        seeds=tuple(seeds),
        breaks=breaks,
        regimes=regimes,
        pbo_skip_reason=sharpe.pbo_skip_reason,
        signals=prepared.signals,
        notes=prepared.notes,
        procedures=extra,
        tearsheets=tearsheets,
        bar_ms=int(panel.bar_ms),
    )


class _Evaluated(NamedTuple):
    """The stage results :func:`compute_report` assembles into hypotheses."""

    ic: IcStage
    portfolios: PortfolioStage
    family: FamilyStage
    testing: MultipleTestingStage
    sharpe: SharpeStage
    seeds: SeedLog
    breaks: dict[str, dict[str, Any]]
    regimes: RegimeStage
    extra: dict[str, ProcedureRun]
    tearsheets: dict[Key, TearSheet]


def _evaluate(
    prepared: PreparedData,
    signals: Mapping[str, pd.DataFrame],
    config: ReportConfig,
    run_key: str,
    dataset_id: str,
    runner: ProcedureRunner,
    begin: StageHook,
    trial_only: bool,
) -> _Evaluated:
    """Every stage after the signals, in order; the signals are read from ``signals``."""
    horizons = config.horizons
    keys: list[Key] = [(s, h) for s in prepared.signals for h in horizons]
    begin(COMPUTE_STAGES[2])
    ic = evaluate_ic(
        prepared,
        signals,
        config,
        horizons=horizons,
        run_key=run_key,
        dataset_id=dataset_id,
        runner=runner,
    )
    begin(COMPUTE_STAGES[3])
    portfolios = evaluate_portfolios(prepared, signals, config, horizons=horizons)
    begin(COMPUTE_STAGES[4])
    inputs = family_inputs(ic.oos_ic, ic.stats, portfolios.net_returns, keys)
    seeds: SeedLog = []
    family = family_stage(inputs, config, run_key, seeds, runner)
    testing = multiple_testing_stage(inputs, ic.stats, keys, runner)
    sharpe = sharpe_stage(inputs, keys, config, runner)
    begin(COMPUTE_STAGES[5])
    if trial_only:
        breaks: dict[str, dict[str, Any]] = {}
        regimes = RegimeStage("not computed", None, {}, TRIAL_ONLY_SKIP)
        extra: dict[str, ProcedureRun] = {}
        tearsheets: dict[Key, TearSheet] = {}
    else:
        breaks = break_diagnostics(inputs, config, run_key, seeds, runner)
        regimes = regime_stage(prepared, ic.oos_ic, keys, config, run_key, seeds)
        extra = extra_procedures_stage(
            inputs, config, run_key, seeds, runner, lambda: _panels(prepared, signals, keys)
        )
        tearsheets = tearsheet_stage(prepared, signals, portfolios, config, keys)
    return _Evaluated(
        ic, portfolios, family, testing, sharpe, seeds, breaks, regimes, extra, tearsheets
    )


def _panels(
    prepared: PreparedData, signals: Mapping[str, pd.DataFrame], keys: Sequence[Key]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each hypothesis' signal and forward-return panels on the test rows (for procedures that
    need the cross-sections, e.g. the null suite)."""
    forward = forward_returns(prepared.panel, horizons=sorted({h for _, h in keys}))
    rows = prepared.in_test
    out = {}
    for signal, horizon in keys:
        frame = signals[signal]
        label = forward[horizon].reindex(index=frame.index, columns=frame.columns)
        out[hypothesis_id(signal, horizon)] = (
            frame.to_numpy(dtype=float)[rows],
            label.to_numpy(dtype=float)[rows],
        )
    return out
