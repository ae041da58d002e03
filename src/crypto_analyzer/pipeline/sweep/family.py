"""Statistics over the whole sweep: the search itself is the family.

A report judges its hypotheses against the report's family; a sweep's best trial must be judged
against everything the sweep tried. The same procedures the report runs, over every trial:

* Reality Check, SPA and StepM (one shared bootstrap draw) on the trials' OOS IC series, with the
  seed derived from the *sweep's* run key — the report's choice of series, so a sweep of one
  trial's family reads like a report.
* PBO (CSCV) across the grid on the trials' OOS net returns: how often the in-sample best point
  of the grid falls below the median out of sample.
* The deflated Sharpe ratio of every trial with N = the sweep's trial count (not a discounted
  effective count: the issue asks for the search's size) and the cross-trial Sharpe variance.

The inputs are rebuilt from the decoded chunks in trial order, so the result does not depend on
which worker finished first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.seeding import derive_seed
from crypto_analyzer.core.versions import SEED_VERSION
from crypto_analyzer.pipeline.sweep.evaluate import TrialOutcome
from crypto_analyzer.pipeline.sweep.spec import SweepConfig
from crypto_analyzer.stats import (
    FamilyTestsResult,
    PboResult,
    adjust_pvalues,
    deflated_sharpe_ratio,
    effective_number_of_trials,
    family_summary,
    family_tests,
    pbo_cscv,
    pbo_summary,
)

__all__ = ["FAMILY_SCHEMA_VERSION", "SweepFamily", "sweep_family"]

FAMILY_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SweepFamily:
    """Family statistics of a sweep and the per-trial adjusted numbers (in trial order)."""

    n_trials: int
    family: FamilyTestsResult | None
    family_skip_reason: str | None
    pbo: PboResult | None
    pbo_skip_reason: str | None
    effective_trials: float | None
    n_ranked: int
    """Trials with varying OOS net returns: the ones PBO and the effective count can rank."""
    sharpe_variance: float | None
    dsr: tuple[float | None, ...]
    bh_p: tuple[float, ...]
    rw_p: tuple[float | None, ...]
    seeds: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        rc = self.family.reality_check if self.family else None
        spa = self.family.spa if self.family else None
        return {
            "dsr": {"n_trials": self.n_trials, "sharpe_variance": self.sharpe_variance},
            "effective_trials": self.effective_trials,
            "family": None if self.family is None else family_summary(family=self.family),
            "family_skip_reason": self.family_skip_reason,
            "n_ranked": self.n_ranked,
            "n_trials": self.n_trials,
            "pbo": None if self.pbo is None else pbo_summary(self.pbo),
            "pbo_skip_reason": self.pbo_skip_reason,
            "rc_p": None if rc is None else rc.p_value,
            "schema_version": FAMILY_SCHEMA_VERSION,
            "seeds": [{"component": name, "seed": seed} for name, seed in self.seeds],
            "spa_p": None if spa is None else spa.pvalue_consistent,
        }


def _matrix(series: Sequence[pd.Series], ids: Sequence[str]) -> pd.DataFrame:
    frame = pd.concat(list(series), axis=1, keys=list(ids), sort=True)
    return frame.dropna()


def sweep_family(
    config: SweepConfig, outcomes: Sequence[TrialOutcome], *, sweep_run_key: str
) -> SweepFamily:
    """RC/SPA/StepM, PBO and DSR over ``outcomes`` (every trial of the sweep, in trial order)."""
    ordered = sorted(outcomes, key=lambda item: item.spec.index)
    ids = [item.spec.hypothesis_id for item in ordered]
    n = len(ordered)
    procedures = config.report.procedures
    seeds: list[tuple[str, int]] = []

    family: FamilyTestsResult | None = None
    skip: str | None = "the sweep has a single trial"
    if n >= 2:
        ic = _matrix([item.oos_ic for item in ordered], ids)
        seed = derive_seed(sweep_run_key, "bootstrap", version=SEED_VERSION)
        seeds.append(("bootstrap", seed))
        family = family_tests(
            ic.to_numpy(dtype=float),
            seed=seed,
            reps=procedures.bootstrap_reps,
            alpha=procedures.alpha,
            block_length=procedures.block_length,
            bootstrap=procedures.bootstrap,
            hypothesis_ids=ids,
        )
        skip = family.reality_check.skip_reason

    returns = _matrix([item.net_returns for item in ordered], ids)
    values = returns.to_numpy(dtype=float)
    sharpes = returns.mean() / returns.std(ddof=1)
    finite = sharpes[np.isfinite(sharpes.to_numpy(dtype=float))]
    variance = float(np.var(finite.to_numpy(), ddof=1)) if finite.size >= 2 else None
    # A trial that never traded (e.g. a universe too small for its book) has constant returns:
    # no Sharpe, so it cannot be ranked; the grid statistics use the trials that can.
    varying = values[:, np.ptp(values, axis=0) > 0] if len(values) else values
    effective = (
        float(effective_number_of_trials(varying).n_eff)
        if varying.shape[1] >= 2 and varying.shape[0] >= 3
        else None
    )
    pbo: PboResult | None = None
    pbo_skip: str | None = None
    if varying.shape[1] < 2:
        pbo_skip = f"{varying.shape[1]} trial(s) with varying OOS returns; PBO needs 2"
    elif len(returns) < 2 * procedures.pbo_blocks:
        pbo_skip = f"{len(returns)} common OOS returns, fewer than 2 × {procedures.pbo_blocks}"
    else:
        pbo = pbo_cscv(varying, n_blocks=procedures.pbo_blocks, metric="sharpe")

    dsr: list[float | None] = []
    for key in ids:
        series = returns[key].to_numpy(dtype=float)
        usable = series.size >= 3 and np.ptp(series) > 0 and finite.size >= 2
        dsr.append(
            float(
                deflated_sharpe_ratio(
                    series, trial_sharpes=finite.to_numpy(dtype=float), n_trials=float(n)
                ).dsr
            )
            if usable
            else None
        )
    pvalues = np.array([1.0 if item.p_value is None else item.p_value for item in ordered])
    bh = adjust_pvalues(pvalues, method="bh").adjusted if n else np.array([])
    rw: list[float | None] = [None] * n
    if family is not None and family.stepm.adjusted_pvalues is not None:
        rw = [float(value) for value in family.stepm.adjusted_pvalues]
    return SweepFamily(
        n_trials=n,
        family=family,
        family_skip_reason=skip,
        pbo=pbo,
        pbo_skip_reason=pbo_skip,
        effective_trials=effective,
        n_ranked=int(varying.shape[1]),
        sharpe_variance=variance,
        dsr=tuple(dsr),
        bh_p=tuple(float(value) for value in bh),
        rw_p=tuple(rw),
        seeds=tuple(seeds),
    )
