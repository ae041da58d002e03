"""Statistics stages of a report: multiplicity, data snooping, Sharpe deflation, PBO, breaks.

Each stage takes earlier stage results and the config and returns a frozen result. A statistic
that cannot be computed stays ``None`` together with the reason, all the way into the bundle: the
policy then denies *because it is missing*, never because of a made-up value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.seeding import derive_seed
from crypto_analyzer.core.versions import SEED_VERSION
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.stages import IcStats, Key, hypothesis_id
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
    t_upper_p_value,
)

__all__ = [
    "FamilyStage",
    "MultipleTestingStage",
    "SeedLog",
    "SharpeStage",
    "SharpeStats",
    "break_diagnostics",
    "family_stage",
    "multiple_testing_stage",
    "sharpe_stage",
]

SeedLog = list[tuple[str, int | None, int]]


@dataclass(frozen=True)
class MultipleTestingStage:
    """One-sided p-value of each hypothesis' HAC t and its BH/BY adjustment over the family."""

    p_values: Mapping[Key, float | None]
    bh: Mapping[Key, float | None]
    by: Mapping[Key, float | None]
    missing_reason: Mapping[Key, str]


@dataclass(frozen=True)
class FamilyStage:
    """Reality Check, SPA and Romano–Wolf over the family's OOS IC series."""

    result: FamilyTestsResult | None
    skip_reason: str | None

    @property
    def rc_p(self) -> float | None:
        return None if self.result is None else self.result.reality_check.p_value

    @property
    def spa_p(self) -> float | None:
        """SPA p-value under the consistent recentring (Hansen's recommended one)."""
        return None if self.result is None else self.result.spa.pvalue_consistent

    def rw_p(self, key: Key) -> float | None:
        result = self.result
        if result is None or result.stepm.adjusted_pvalues is None:
            return None
        ids = result.stepm.hypothesis_ids
        return dict(zip(ids, result.stepm.adjusted_pvalues, strict=True)).get(hypothesis_id(*key))


@dataclass(frozen=True)
class SharpeStats:
    """Sharpe ratio, its deflation and the moments the trial ledger records."""

    sharpe_per_period: float | None
    dsr: float | None
    psr: float | None
    moments: tuple[float, float, float, int] | None
    missing_reason: str | None


@dataclass(frozen=True)
class SharpeStage:
    """Per-hypothesis Sharpe evidence, effective number of trials and PBO of the family."""

    stats: Mapping[Key, SharpeStats]
    effective_trials: float
    pbo: PboResult | None
    pbo_skip_reason: str | None


def multiple_testing_stage(ic: Mapping[Key, IcStats], keys: Sequence[Key]) -> MultipleTestingStage:
    """p-values from the HAC t; members without one count as p = 1 in the others' adjustment
    (conservative) and keep ``None`` as their own p-value, with the reason."""
    raw = {key: t_upper_p_value(ic[key].t_hac) for key in keys}
    filled = np.asarray([1.0 if raw[key] is None else raw[key] for key in keys], dtype=float)
    bh = adjust_pvalues(filled, method="bh").adjusted
    by = adjust_pvalues(filled, method="by").adjusted
    missing = {
        key: f"no HAC t-statistic: {ic[key].missing_reason}" for key in keys if raw[key] is None
    }
    return MultipleTestingStage(
        p_values=raw,
        bh={k: None if raw[k] is None else float(bh[i]) for i, k in enumerate(keys)},
        by={k: None if raw[k] is None else float(by[i]) for i, k in enumerate(keys)},
        missing_reason=missing,
    )


def family_stage(
    oos_ic: pd.DataFrame, keys: Sequence[Key], config: ReportConfig, run_key: str, seeds: SeedLog
) -> FamilyStage:
    """RC/SPA/StepM on the rows where every hypothesis has an OOS IC."""
    if len(keys) < 2:
        return FamilyStage(None, "the family has a single hypothesis")
    matrix = oos_ic[list(keys)].to_numpy(dtype=float)
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    seed = derive_seed(run_key, "bootstrap", version=SEED_VERSION)
    seeds.append(("bootstrap", None, seed))
    procedures = config.procedures
    result = family_tests(
        matrix,
        seed=seed,
        reps=procedures.bootstrap_reps,
        alpha=procedures.alpha,
        block_length=procedures.block_length,
        bootstrap=procedures.bootstrap,
        studentize=procedures.studentize,
        recentring=procedures.stepm_recentring,
        hypothesis_ids=[hypothesis_id(*key) for key in keys],
        min_obs=procedures.family_min_obs,
    )
    return FamilyStage(result, result.reality_check.skip_reason)


def sharpe_stage(
    net_returns: Mapping[Key, pd.Series], keys: Sequence[Key], config: ReportConfig
) -> SharpeStage:
    """DSR/PSR per hypothesis over the rows where every portfolio has a return, and PBO."""
    matrix = pd.DataFrame({hypothesis_id(*key): net_returns[key] for key in keys}).dropna()
    trial_sharpes = matrix.mean() / matrix.std(ddof=1)
    family = matrix.shape[1]
    effective = float(effective_number_of_trials(matrix.to_numpy()).n_eff) if family >= 2 else 1.0
    stats = {}
    for key in keys:
        name = hypothesis_id(*key)
        series = matrix[name].to_numpy(dtype=float)
        sharpe = _finite(trial_sharpes.get(name))
        stats[key] = _sharpe_stats(series, sharpe, trial_sharpes, max(effective, 1.0))
    blocks = config.procedures.pbo_blocks
    pbo: PboResult | None = None
    pbo_skip = None
    if family < 2:
        pbo_skip = "PBO needs a family of at least 2"
    elif len(matrix) < 2 * blocks:
        pbo_skip = f"{len(matrix)} common return rows, fewer than 2 x pbo_blocks = {2 * blocks}"
    else:
        pbo = pbo_cscv(matrix.to_numpy(), n_blocks=blocks, metric="sharpe")
    return SharpeStage(stats, effective, pbo, pbo_skip)


def _sharpe_stats(
    series: np.ndarray, sharpe: float | None, trial_sharpes: pd.Series, n_trials: float
) -> SharpeStats:
    if series.size < 3:
        why = f"{series.size} common OOS net returns; at least 3 are needed"
        return SharpeStats(sharpe, None, None, None, why)
    if np.ptp(series) == 0:
        why = f"the {series.size} OOS net returns are constant (no position was held)"
        return SharpeStats(sharpe, None, None, None, why)
    moments = sharpe_moments(series)
    if len(trial_sharpes) < 2:
        why = "the deflated Sharpe ratio needs a family of at least 2 trials"
        return SharpeStats(sharpe, None, None, moments, why)
    dsr = float(
        deflated_sharpe_ratio(series, trial_sharpes=trial_sharpes.to_numpy(), n_trials=n_trials).dsr
    )
    psr = float(probabilistic_sharpe_ratio(series).psr)
    return SharpeStats(sharpe, dsr, psr, moments, None)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def break_diagnostics(
    oos_ic: pd.DataFrame, keys: Sequence[Key], config: ReportConfig, run_key: str, seeds: SeedLog
) -> dict[str, dict[str, Any]]:
    """Did the OOS IC of a hypothesis change during the sample? CUSUM with a long-run variance
    and Andrews' sup-F as a HAC sup-Wald (long-run variance): both keep their size under the
    autocorrelation that overlapping labels create, so only these robust versions are reported."""
    out: dict[str, dict[str, Any]] = {}
    procedures = config.procedures
    for index, key in enumerate(keys):
        series = oos_ic[key].dropna().to_numpy(dtype=float)
        name = hypothesis_id(*key)
        if series.size < procedures.break_min_obs or np.ptp(series) == 0:
            out[name] = {"skip_reason": f"{series.size} OOS IC values, too few or constant"}
            continue
        seed = derive_seed(run_key, "breaks", index, version=SEED_VERSION)
        seeds.append(("breaks", index, seed))
        cusum = cusum_test(series, long_run_variance=True)
        supf = sup_f_test(series, seed=seed, reps=procedures.break_reps, long_run_variance=True)
        out[name] = {"cusum": cusum.to_dict(), "skip_reason": None, "sup_f": supf.to_dict()}
    return out
