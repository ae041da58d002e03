"""Research stages of a report: universe and folds, signals, out-of-sample IC, portfolios.

Each stage is a function from the config and earlier stage results to a frozen result, so the
report is a readable chain (:func:`~crypto_analyzer.pipeline.report.compute.compute_report`) and a
caller that needs one piece — a parameter sweep evaluating one hypothesis at a time — calls the
same code (:func:`evaluate_hypothesis`). Every value that can change a number comes from the
config; nothing here has a default of its own.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.memory import release_free_memory
from crypto_analyzer.pipeline.fit_parking import select_and_park
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.limits import MAX_FOLDS
from crypto_analyzer.pipeline.report.preflight import (
    PanelOnCalendar,
    build_panel,
    check_history,
    check_universe,
    choose_factors,
)
from crypto_analyzer.research import (
    CostModel,
    FactorFit,
    FitRecord,
    Panel,
    SplitPlan,
    active_portfolio_weights,
    backtest,
    compute_signal,
    cpcv_plan,
    evaluate_walk_forward,
    execution_evidence,
    filter_assets,
    fit_factor_model,
    walk_forward_plan,
)
from crypto_analyzer.stats.procedures import ProcedureInputs, ProcedureRunner

__all__ = [
    "FactorFitter",
    "HypothesisEvaluation",
    "IcStage",
    "IcStats",
    "PortfolioStage",
    "PreparedData",
    "compute_signals",
    "evaluate_hypothesis",
    "evaluate_ic",
    "evaluate_portfolios",
    "hypothesis_id",
    "iter_signals",
    "prepare_data",
]

Key = tuple[str, int]


def hypothesis_id(signal: str, horizon: int) -> str:
    """Stable id of one (signal, horizon) hypothesis in the family."""
    return f"{signal}@{horizon}"


class FactorFitter(Protocol):
    """Anything that fits (or fetches) a rolling factor model like :func:`fit_factor_model`."""

    def __call__(
        self, returns: pd.DataFrame, *, factor_ids: Sequence[Hashable], window: int, lag: int
    ) -> FactorFit: ...


@dataclass(frozen=True)
class PreparedData:
    """The panel the hypotheses are tested on, its split plan and the factor fit."""

    panel: Panel
    plan: SplitPlan
    in_test: np.ndarray
    """Boolean mask of the panel rows that lie in some test block."""
    fit: FactorFit | None
    signals: tuple[str, ...] = ()
    """The signals that can run (factor-based ones are skipped when no factor instrument exists)."""
    notes: tuple[str, ...] = ()
    """Data notes the report states (calendar, gap rule, long gaps, skipped signals); empty on a
    24/7 dataset without gaps, so such reports read as they always did."""


@dataclass(frozen=True)
class IcStats:
    """Out-of-sample IC summary of one hypothesis (``None`` = could not be computed)."""

    method: str
    horizon: int
    mean: float | None
    std: float | None
    t_naive: float | None
    t_hac: float | None
    se_hac: float | None
    p_hac: float | None
    hac_lags: int | None
    hit_rate: float | None
    n_obs: int
    lookahead_suspect: bool

    @property
    def missing_reason(self) -> str | None:
        """Why ``mean``/``t_hac`` are missing, from the data that was there."""
        if self.mean is None:
            return f"{self.n_obs} OOS IC values (no cross-section had enough assets)"
        if self.t_hac is None:
            return f"{self.n_obs} OOS IC values, too few or constant for a HAC t-statistic"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class IcStage:
    """OOS IC of every hypothesis in the configured method, and the fold-causality attestation."""

    oos_ic: pd.DataFrame
    """One OOS IC series per ``(signal, horizon)`` column, indexed by ``bar_open_ms``."""
    stats: Mapping[Key, IcStats]
    decay: pd.DataFrame
    attestation: dict[str, Any]
    fit_records: tuple[FitRecord, ...] = ()


@dataclass(frozen=True)
class PortfolioStage:
    """Net returns on test rows and execution evidence per hypothesis."""

    net_returns: Mapping[Key, pd.Series]
    executions: Mapping[Key, dict[str, Any]]
    bars: Mapping[Key, pd.DataFrame] | None = None
    """The backtest's per-bar ``gross``/``cost``/``net``/``turnover`` on test rows (tear sheet)."""


@dataclass(frozen=True)
class HypothesisEvaluation:
    """One hypothesis evaluated walk-forward: its OOS IC and its OOS portfolio."""

    signal: str
    horizon: int
    ic: IcStats
    oos_ic: pd.Series
    net_returns: pd.Series
    execution: dict[str, Any]
    attestation: dict[str, Any]


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _split_plan(config: ReportConfig, n_rows: int) -> SplitPlan:
    horizon = max(config.horizons)
    splits = config.splits
    if splits.kind == "cpcv":
        plan = cpcv_plan(
            n_rows,
            n_groups=splits.n_groups,
            n_test_groups=splits.n_test_groups,
            horizon=horizon,
            purge=config.purge,
            embargo=splits.embargo,
        )
    else:
        plan = walk_forward_plan(
            n_rows,
            test_size=splits.test_size,
            min_train_size=splits.min_train_size,
            horizon=horizon,
            purge=config.purge,
            embargo=splits.embargo,
            mode=splits.mode,
        )
    if len(plan.folds) > MAX_FOLDS:
        raise ValueError(
            f"the split plan has {len(plan.folds):,} folds over {n_rows:,} bars; the limit is "
            f"{MAX_FOLDS:,} (raise splits.test_size or lower splits.n_groups)"
        )
    return plan


def _test_rows(plan: SplitPlan, n_rows: int) -> np.ndarray:
    mask = np.zeros(n_rows, dtype=bool)
    for fold in plan.folds:
        for start, stop in fold.test:
            mask[start:stop] = True
    return mask


def prepare_data(
    bars: pd.DataFrame | PanelOnCalendar,
    instruments: pd.DataFrame,
    config: ReportConfig,
    *,
    fit_factors: FactorFitter = fit_factor_model,
) -> PreparedData:
    """Panel on its calendar, split plan, universe (from data before the first test block) and
    factor fit; refuses, with a message naming the setting, data the config cannot be run on.

    ``bars``: the long bars frame, or the panel already built from it (so the caller could drop
    the frame)."""
    if isinstance(bars, PanelOnCalendar):
        full, calendar = bars.panel, bars.calendar
    else:
        full, calendar = build_panel(bars, config)
    check_history(full.shape[0], config)
    try:
        plan = _split_plan(config, full.shape[0])
    except ValueError as exc:  # the config asks for more than the data has: a user error
        raise ValidationError(
            f"the report config does not fit this dataset: {exc}",
            "adjust --test-size/--min-train-size/--horizons or ingest more data",
        ) from exc
    first_test = min(start for fold in plan.folds for start, _ in fold.test)
    # The universe is chosen from data before the first test block only: choosing it from the
    # whole sample would let later survival decide which assets enter earlier tests.
    min_bars = max(1, int(first_test * config.universe.min_history_share))
    panel = filter_assets(
        full,
        min_bars=min_bars,
        min_median_dollar_volume=config.universe.min_median_dollar_volume,
        until_ms=int(full.times[first_test]),
    )
    check_universe(panel, config)
    factors = choose_factors(panel.assets, instruments, config)
    factor_ids, active = factors.ids, factors.signals
    notes = tuple(([] if calendar.trivial else calendar.notes()) + factors.notes)
    fit = None
    if factor_ids and any(config.signal_spec(name).needs_factor_fit for name in active):
        # Fitted on every asset of the frequency, then narrowed to the universe: per-asset
        # regressions make the two identical, and the whole-panel fit is reusable across reports.
        whole = fit_factors(
            full.log_returns,
            factor_ids=factor_ids,
            window=config.factor_window,
            lag=config.factor_lag,
        )
        # Held while the signals are computed; what the built-in ones never read waits on disk
        # (narrowed and parked a grid at a time).
        fit = select_and_park(whole, panel.assets.difference(pd.Index(factor_ids), sort=False))
        del whole
    return PreparedData(panel, plan, _test_rows(plan, panel.shape[0]), fit, active, notes)


def iter_signals(
    prepared: PreparedData, config: ReportConfig, names: Sequence[str] | None = None
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each signal that can run, with its resolved parameters, one at a time (``names``
    restricts the set): a caller that parks each frame elsewhere holds only one of them."""
    for name in prepared.signals if names is None else names:
        yield (
            name,
            compute_signal(
                name,
                prepared.panel,
                factor_fit=prepared.fit if config.signal_spec(name).needs_factor_fit else None,
                winsor_quantile=config.evaluation.winsor_quantile,
                registry=config.signal_registry,
                **config.signal_parameters(name),
            ),
        )


def compute_signals(
    prepared: PreparedData, config: ReportConfig, names: Sequence[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Each signal that can run, with its resolved parameters (``names`` restricts the set)."""
    return dict(iter_signals(prepared, config, names))


def evaluate_ic(
    prepared: PreparedData,
    signals: Mapping[str, pd.DataFrame],
    config: ReportConfig,
    *,
    horizons: Sequence[int],
    run_key: str,
    dataset_id: str,
    runner: ProcedureRunner | None = None,
) -> IcStage:
    """Walk-forward OOS IC of ``signals`` at ``horizons`` in the configured IC method."""
    method = config.evaluation.ic_method
    evaluation = evaluate_walk_forward(
        prepared.panel,
        signals,
        plan=prepared.plan,
        run_key=run_key,
        dataset_id=dataset_id,
        horizons=horizons,
        min_assets=config.min_assets,
        max_plausible_ic=config.evaluation.max_plausible_ic,
    )
    oos = evaluation.oos_ic.xs(method, axis=1, level=2)
    summary = evaluation.summary.xs(method, level=2)
    keys = [(name, int(horizon)) for name in signals for horizon in horizons]
    # The HAC t of the mean IC comes from the registry's ``hac`` procedure (lags >= h - 1).
    hac = (runner or ProcedureRunner()).run(
        "hac",
        ProcedureInputs(
            hypothesis_ids=tuple(hypothesis_id(*key) for key in keys),
            horizons=tuple(key[1] for key in keys),
            oos_ic=oos[keys].to_numpy(dtype=float),
            net_returns=np.empty((0, len(keys))),
            p_values=(None,) * len(keys),
        ),
        seed=0,
    )
    stats: dict[Key, IcStats] = {}
    for name, horizon in keys:
        row = summary.loc[(name, horizon)]
        fields = hac.hypotheses[hypothesis_id(name, horizon)]
        lags = fields["hac_lags"]
        stats[(name, horizon)] = IcStats(
            method=method,
            horizon=int(horizon),
            mean=_finite(row["mean"]),
            std=_finite(row["std"]),
            t_naive=_finite(row["t_naive"]),
            t_hac=_finite(fields["t_hac"]),
            se_hac=_finite(fields["se_hac"]),
            p_hac=_finite(fields["p_hac"]),
            hac_lags=None if lags is None else int(lags),
            hit_rate=_finite(row["hit_rate"]),
            n_obs=int(row["n_obs"]),
            lookahead_suspect=bool(row["lookahead_suspect"]),
        )
    decay = pd.DataFrame(
        {h: [stats[(s, h)].mean for s in signals] for h in horizons},
        index=list(signals),
        dtype=float,
    )
    return IcStage(oos, stats, decay, evaluation.attestation, evaluation.fit_records)


def _portfolio(
    prepared: PreparedData, signal: pd.DataFrame, horizon: int, config: ReportConfig
) -> tuple[pd.DataFrame, dict[str, Any]]:
    panel, in_test = prepared.panel, prepared.in_test
    cost = CostModel(**config.costs.model_dump())
    portfolio = config.portfolio
    # test rows only, masked block by block (no masked copy of the signal)
    weights = active_portfolio_weights(
        signal,
        in_test,
        method=portfolio.method,
        k=portfolio.k if portfolio.method == "top_bottom_k" else None,
        rebalance_every=portfolio.rebalance_every or horizon,
        ema_halflife=portfolio.ema_halflife,
    )
    result = backtest(weights, panel, cost_model=cost, aum=portfolio.target_capital)
    execution = execution_evidence(
        weights,
        panel,
        cost_model=cost,
        aum_grid=sorted({*portfolio.capital_grid, portfolio.target_capital}),
        max_participation=portfolio.max_participation,
    )
    return result.bars[in_test], execution


def evaluate_portfolios(
    prepared: PreparedData,
    signals: Mapping[str, pd.DataFrame],
    config: ReportConfig,
    *,
    horizons: Sequence[int],
) -> PortfolioStage:
    """Long-short portfolio of each (signal, horizon) on test rows, net of costs."""
    bars: dict[Key, pd.DataFrame] = {}
    executions: dict[Key, dict[str, Any]] = {}
    for name, frame in signals.items():
        for horizon in horizons:
            release_free_memory()  # the last backtest's blocks
            bars[(name, horizon)], executions[(name, horizon)] = _portfolio(
                prepared, frame, horizon, config
            )
    net = {key: frame["net"] for key, frame in bars.items()}
    return PortfolioStage(net, executions, bars)


def evaluate_hypothesis(
    prepared: PreparedData,
    config: ReportConfig,
    *,
    signal: str,
    horizon: int,
    run_key: str,
    dataset_id: str,
    signal_frame: pd.DataFrame | None = None,
) -> HypothesisEvaluation:
    """One (signal, horizon) evaluated walk-forward exactly as the report evaluates it.

    ``signal_frame`` lets a caller (e.g. a parameter sweep) pass a signal it computed itself with
    other parameters; by default the signal is computed from ``config``.
    """
    frame = (
        compute_signals(prepared, config, (signal,))[signal]
        if signal_frame is None
        else signal_frame
    )
    ic = evaluate_ic(
        prepared,
        {signal: frame},
        config,
        horizons=(horizon,),
        run_key=run_key,
        dataset_id=dataset_id,
    )
    bars, execution = _portfolio(prepared, frame, horizon, config)
    return HypothesisEvaluation(
        signal=signal,
        horizon=horizon,
        ic=ic.stats[(signal, horizon)],
        oos_ic=ic.oos_ic[(signal, horizon)],
        net_returns=bars["net"],
        execution=execution,
        attestation=ic.attestation,
    )
