"""The numbers of a report: research (signals, walk-forward IC, portfolios) and statistics.

Pure with respect to storage: frames and a config in, a :class:`ReportComputation` out. Every
random procedure takes its seed from ``core.seeding`` under the run key, and the seeds used are
returned so the bundle can record them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from crypto_analyzer.core.seeding import derive_seed
from crypto_analyzer.core.versions import SEED_VERSION
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.limits import MAX_FOLDS
from crypto_analyzer.pipeline.report.preflight import (
    build_panel,
    check_history,
    check_signals,
    check_universe,
    choose_factors,
)
from crypto_analyzer.research import (
    CostModel,
    FactorFit,
    SplitPlan,
    backtest,
    compute_signal,
    cpcv_plan,
    evaluate_walk_forward,
    execution_evidence,
    filter_assets,
    fit_factor_model,
    get_signal,
    portfolio_weights,
    validate_attestation,
    walk_forward_plan,
)
from crypto_analyzer.stats import (
    FamilyTestsResult,
    PboResult,
    adjust_pvalues,
    cusum_test,
    deflated_sharpe_ratio,
    effective_number_of_trials,
    family_tests,
    pbo_cscv,
    probabilistic_sharpe_ratio,
    sharpe_moments,
    sup_f_test,
)

__all__ = [
    "FactorFitter",
    "HypothesisResult",
    "ReportComputation",
    "compute_report",
    "hypothesis_id",
]

_IC_METHOD = "rank"


class FactorFitter(Protocol):
    """Anything that fits (or fetches) a rolling factor model like :func:`fit_factor_model`."""

    def __call__(
        self, returns: pd.DataFrame, *, factor_ids: Sequence[Hashable], window: int, lag: int
    ) -> FactorFit: ...


def hypothesis_id(signal: str, horizon: int) -> str:
    """Stable id of one (signal, horizon) hypothesis in the family."""
    return f"{signal}@{horizon}"


@dataclass(frozen=True)
class HypothesisResult:
    """Everything measured for one (signal, horizon)."""

    signal: str
    horizon: int
    ic: dict[str, Any]
    n_assets: int
    p_value: float
    bh_p: float
    by_p: float
    rw_p: float | None
    sharpe_per_period: float | None
    net_sharpe: float | None
    dsr: float | None
    psr: float | None
    max_participation: float | None
    net_returns: pd.Series
    execution: dict[str, Any]
    return_moments: tuple[float, float, float, int] | None = None
    """(per-period Sharpe, skewness, non-excess kurtosis, n) of the OOS net returns the DSR used;
    ``None`` when they could not be computed. The trial ledger records them."""


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
    hypotheses: dict[tuple[str, int], HypothesisResult]
    family: FamilyTestsResult | None
    family_skip_reason: str | None
    pbo: PboResult | None
    effective_trials: float
    seeds: tuple[tuple[str, int | None, int], ...]
    breaks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per hypothesis: CUSUM (long-run variance) and sup-F tests for a break in the OOS IC."""
    signals: tuple[str, ...] = ()
    """The signals evaluated (factor-based ones are skipped when no factor instrument exists)."""
    notes: tuple[str, ...] = ()
    """Data notes the report states (calendar, gap rule, long gaps, skipped signals); empty on
    a 24/7 dataset without gaps, so such reports read as they always did."""


def _plan(config: ReportConfig, n_rows: int) -> SplitPlan:
    plan = _split_plan(config, n_rows)
    if len(plan.folds) > MAX_FOLDS:
        raise ValueError(
            f"the split plan has {len(plan.folds):,} folds over {n_rows:,} bars; the limit is "
            f"{MAX_FOLDS:,} (raise splits.test_size or lower splits.n_groups)"
        )
    return plan


def _split_plan(config: ReportConfig, n_rows: int) -> SplitPlan:
    horizon = max(config.horizons)
    splits = config.splits
    if splits.kind == "cpcv":
        return cpcv_plan(
            n_rows,
            n_groups=splits.n_groups,
            n_test_groups=splits.n_test_groups,
            horizon=horizon,
            purge=config.purge,
            embargo=splits.embargo,
        )
    return walk_forward_plan(
        n_rows,
        test_size=splits.test_size,
        min_train_size=splits.min_train_size,
        horizon=horizon,
        purge=config.purge,
        embargo=splits.embargo,
        mode=splits.mode,
    )


def _test_rows(plan: SplitPlan, n_rows: int) -> np.ndarray:
    mask = np.zeros(n_rows, dtype=bool)
    for fold in plan.folds:
        for start, stop in fold.test:
            mask[start:stop] = True
    return mask


def compute_report(
    bars: pd.DataFrame,
    instruments: pd.DataFrame,
    config: ReportConfig,
    *,
    run_key: str,
    dataset_id: str,
    fit_factors: FactorFitter = fit_factor_model,
) -> ReportComputation:
    """Run signals → walk-forward IC → portfolios → family statistics.

    ``fit_factors`` has :func:`fit_factor_model`'s signature; the report run passes one that
    reads and stores factor runs in the database.
    """
    full, calendar = build_panel(bars, config)
    check_history(full.shape[0], config)
    plan = _plan(config, full.shape[0])
    first_test = min(start for fold in plan.folds for start, _ in fold.test)
    # The universe is chosen from data before the first test block only: choosing it from the
    # whole sample would let later survival decide which assets enter earlier tests.
    panel = filter_assets(
        full, min_bars=max(1, first_test // 2), until_ms=int(full.times[first_test])
    )
    check_universe(panel, config)
    factors = choose_factors(panel.assets, instruments, config)
    factor_ids, active = factors.ids, factors.signals
    notes = tuple(([] if calendar.trivial else calendar.notes()) + factors.notes)
    needs_fit = any(get_signal(name).needs_factor_fit for name in active)
    fit = None
    if needs_fit and factor_ids:
        # Fitted on every asset of the frequency, then narrowed to the universe: per-asset
        # regressions make the two identical, and the whole-panel fit is reusable across reports.
        whole = fit_factors(
            full.log_returns,
            factor_ids=factor_ids,
            window=config.factor_window,
            lag=config.factor_lag,
        )
        fit = whole.select_assets(panel.assets.difference(pd.Index(factor_ids), sort=False))
    signals = {
        name: compute_signal(
            name,
            panel,
            factor_fit=fit if get_signal(name).needs_factor_fit else None,
            **config.signal_params.get(name, {}),
        )
        for name in active
    }
    in_test = _test_rows(plan, panel.shape[0])
    check_signals(signals, panel, in_test, config)
    evaluation = evaluate_walk_forward(
        panel,
        signals,
        plan=plan,
        run_key=run_key,
        dataset_id=dataset_id,
        horizons=config.horizons,
        min_assets=config.min_assets,
    )
    oos = evaluation.oos_ic.xs(_IC_METHOD, axis=1, level=2)
    summary = evaluation.summary.xs(_IC_METHOD, level=2)
    decay = pd.DataFrame(
        {h: [summary.loc[(s, h), "mean"] for s in active] for h in config.horizons},
        index=list(active),
        dtype=float,
    )

    ids = [hypothesis_id(s, h) for s in active for h in config.horizons]
    columns = [(s, h) for s in active for h in config.horizons]
    ic_matrix = oos[columns].to_numpy(dtype=float)
    ic_matrix = ic_matrix[~np.isnan(ic_matrix).any(axis=1)]
    seeds: list[tuple[str, int | None, int]] = []

    family: FamilyTestsResult | None = None
    skip: str | None = None
    if len(ids) < 2:
        skip = "the family has a single hypothesis"
    else:
        seed = derive_seed(run_key, "bootstrap", version=SEED_VERSION)
        seeds.append(("bootstrap", None, seed))
        family = family_tests(
            ic_matrix,
            seed=seed,
            reps=config.procedures.bootstrap_reps,
            alpha=config.procedures.alpha,
            block_length=config.procedures.block_length,
            bootstrap=config.procedures.bootstrap,
            hypothesis_ids=ids,
        )
        skip = family.reality_check.skip_reason

    p_values = []
    for signal, horizon in columns:
        t_hac = summary.loc[(signal, horizon), "t_hac"]
        p_values.append(
            1.0 if t_hac is None or not np.isfinite(t_hac) else float(scipy_stats.norm.sf(t_hac))
        )
    bh = adjust_pvalues(np.asarray(p_values), method="bh").adjusted
    by = adjust_pvalues(np.asarray(p_values), method="by").adjusted

    cost = CostModel(**config.costs.model_dump())
    net: dict[tuple[str, int], pd.Series] = {}
    executions: dict[tuple[str, int], dict[str, Any]] = {}
    for signal, horizon in columns:
        weights = portfolio_weights(
            signals[signal].where(pd.Series(in_test, index=panel.times), np.nan),
            method=config.portfolio.method,
            k=config.portfolio.k if config.portfolio.method == "top_bottom_k" else None,
            rebalance_every=config.portfolio.rebalance_every or horizon,
            ema_halflife=config.portfolio.ema_halflife,
        )
        result = backtest(weights, panel, cost_model=cost, aum=config.portfolio.target_capital)
        net[(signal, horizon)] = result.bars["net"][in_test]
        executions[(signal, horizon)] = execution_evidence(
            weights,
            panel,
            cost_model=cost,
            aum_grid=sorted({*config.portfolio.capital_grid, config.portfolio.target_capital}),
            max_participation=config.portfolio.max_participation,
        )

    returns_matrix = pd.DataFrame({hypothesis_id(*key): series for key, series in net.items()})
    returns_matrix = returns_matrix.dropna()
    trial_sharpes = returns_matrix.mean() / returns_matrix.std(ddof=1)
    effective = (
        float(effective_number_of_trials(returns_matrix.to_numpy()).n_eff)
        if returns_matrix.shape[1] >= 2
        else 1.0
    )
    pbo: PboResult | None = None
    if returns_matrix.shape[1] >= 2 and len(returns_matrix) >= 2 * config.procedures.pbo_blocks:
        pbo = pbo_cscv(
            returns_matrix.to_numpy(), n_blocks=config.procedures.pbo_blocks, metric="sharpe"
        )

    results: dict[tuple[str, int], HypothesisResult] = {}
    rw = (
        dict(zip(ids, family.stepm.adjusted_pvalues, strict=True))
        if family is not None and family.stepm.adjusted_pvalues is not None
        else {}
    )
    for index, (signal, horizon) in enumerate(columns):
        key = hypothesis_id(signal, horizon)
        series = returns_matrix[key].to_numpy() if key in returns_matrix else np.array([])
        dsr = psr = None
        usable = series.size >= 3 and np.ptp(series) > 0
        moments = sharpe_moments(series.astype(float)) if usable else None
        if usable and len(trial_sharpes) >= 2:
            dsr = float(
                deflated_sharpe_ratio(
                    series, trial_sharpes=trial_sharpes.to_numpy(), n_trials=max(effective, 1.0)
                ).dsr
            )
            psr = float(probabilistic_sharpe_ratio(series).psr)
        execution = executions[(signal, horizon)]
        target = next(
            (p for p in execution["curve"] if p["aum"] == config.portfolio.target_capital), None
        )
        row = summary.loc[(signal, horizon)]
        results[(signal, horizon)] = HypothesisResult(
            signal=signal,
            horizon=horizon,
            ic={name: _plain(row[name]) for name in row.index},
            n_assets=int(panel.shape[1]),
            p_value=p_values[index],
            bh_p=float(bh[index]),
            by_p=float(by[index]),
            rw_p=rw.get(key),
            sharpe_per_period=_plain(trial_sharpes.get(key)),
            net_sharpe=target["net_sharpe"] if target else None,
            dsr=dsr,
            psr=psr,
            max_participation=target["max_participation"] if target else None,
            net_returns=net[(signal, horizon)],
            execution=execution,
            return_moments=moments,
        )
    breaks = _break_diagnostics(oos, columns, run_key, seeds)
    times = panel.times
    return ReportComputation(
        n_assets=int(panel.shape[1]),
        assets=tuple(str(asset) for asset in panel.assets),
        period=(int(times[0]), int(times[-1])),
        plan=plan,
        attestation=evaluation.attestation,
        attestation_problems=tuple(validate_attestation(evaluation.attestation)),
        oos_ic=oos,
        ic_decay=decay,
        hypotheses=results,
        family=family,
        family_skip_reason=skip,
        pbo=pbo,
        effective_trials=effective,
        seeds=tuple(seeds),
        breaks=breaks,
        signals=active,
        notes=notes,
    )


_BREAK_REPS = 499


def _break_diagnostics(
    oos: pd.DataFrame,
    columns: list[tuple[str, int]],
    run_key: str,
    seeds: list[tuple[str, int | None, int]],
) -> dict[str, dict[str, Any]]:
    """Did the OOS IC of a hypothesis change during the sample? CUSUM with a long-run variance
    (the IC series is autocorrelated) and Andrews' sup-F with a fixed-regressor bootstrap."""
    out: dict[str, dict[str, Any]] = {}
    for index, (signal, horizon) in enumerate(columns):
        series = oos[(signal, horizon)].dropna().to_numpy(dtype=float)
        key = hypothesis_id(signal, horizon)
        if series.size < 20 or np.ptp(series) == 0:
            out[key] = {"skip_reason": f"{series.size} OOS IC values, too few or constant"}
            continue
        seed = derive_seed(run_key, "breaks", index, version=SEED_VERSION)
        seeds.append(("breaks", index, seed))
        cusum = cusum_test(series, long_run_variance=True)
        supf = sup_f_test(series, seed=seed, reps=_BREAK_REPS, heteroskedastic=True)
        out[key] = {"cusum": cusum.to_dict(), "skip_reason": None, "sup_f": supf.to_dict()}
    return out


def _plain(value: Any) -> Any:
    """numpy scalars → Python, NaN → None (canonical JSON cannot carry NaN)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    return value
