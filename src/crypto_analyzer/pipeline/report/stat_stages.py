"""Statistics stages of a report: multiplicity, data snooping, Sharpe deflation, PBO, breaks.

Each stage takes earlier stage results and the config and returns a frozen result. Every
statistic is computed by a procedure of the one registry (:mod:`crypto_analyzer.stats.procedures`)
through a :class:`ProcedureRunner`, selected by name with its parameters from the config, so the
report computes nothing the registry does not know (and the runner re-checks determinism). A
statistic that cannot be computed stays ``None`` together with the reason, all the way into the
bundle: the policy then denies *because it is missing*, never because of a made-up value.
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
from crypto_analyzer.stats import FamilyTestsResult, PboResult, t_upper_p_value
from crypto_analyzer.stats.procedures import ProcedureInputs, ProcedureRunner

__all__ = [
    "FamilyStage",
    "MultipleTestingStage",
    "SeedLog",
    "SharpeStage",
    "SharpeStats",
    "break_diagnostics",
    "family_inputs",
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


def family_inputs(
    oos_ic: pd.DataFrame,
    ic: Mapping[Key, IcStats],
    net_returns: Mapping[Key, pd.Series],
    keys: Sequence[Key],
) -> ProcedureInputs:
    """The family as every procedure sees it: OOS IC and net returns, one column per hypothesis.

    Net returns are aligned on the union of their test rows (NaN where one has none); the
    procedures pick the common rows. p-values are one-sided from the HAC t of the mean IC.
    """
    ids = tuple(hypothesis_id(*key) for key in keys)
    returns = pd.DataFrame({hypothesis_id(*key): net_returns[key] for key in keys})
    return ProcedureInputs(
        hypothesis_ids=ids,
        horizons=tuple(int(key[1]) for key in keys),
        oos_ic=oos_ic[list(keys)].to_numpy(dtype=float),
        net_returns=returns[list(ids)].to_numpy(dtype=float),
        p_values=tuple(t_upper_p_value(ic[key].t_hac) for key in keys),
    )


def multiple_testing_stage(
    inputs: ProcedureInputs, ic: Mapping[Key, IcStats], keys: Sequence[Key], runner: ProcedureRunner
) -> MultipleTestingStage:
    """BH and BY over the family's p-values; members without one count as p = 1 in the others'
    adjustment (conservative) and keep ``None`` as their own p-value, with the reason."""
    alpha = {"alpha": 0.05}
    bh = runner.run("bh", inputs, seed=0, params=alpha)
    by = runner.run("by", inputs, seed=0, params=alpha)
    raw = dict(zip(keys, inputs.p_values, strict=True))
    missing = {
        key: f"no HAC t-statistic: {ic[key].missing_reason}" for key in keys if raw[key] is None
    }
    return MultipleTestingStage(
        p_values=raw,
        bh={k: _field(bh.hypotheses, k, "adjusted_p") for k in keys},
        by={k: _field(by.hypotheses, k, "adjusted_p") for k in keys},
        missing_reason=missing,
    )


def _field(per: Mapping[str, Mapping[str, Any]], key: Key, name: str) -> Any:
    return per.get(hypothesis_id(*key), {}).get(name)


def family_params(config: ReportConfig) -> dict[str, Any]:
    """Parameters of the ``family_tests`` procedure from the report config."""
    procedures = config.procedures
    return {
        "reps": procedures.bootstrap_reps,
        "alpha": procedures.alpha,
        "block_length": procedures.block_length,
        "bootstrap": procedures.bootstrap,
        "studentize": procedures.studentize,
        "recentring": procedures.stepm_recentring,
        "min_obs": procedures.family_min_obs,
    }


def family_stage(
    inputs: ProcedureInputs,
    config: ReportConfig,
    run_key: str,
    seeds: SeedLog,
    runner: ProcedureRunner,
) -> FamilyStage:
    """RC/SPA/StepM (``family_tests``) on the rows where every hypothesis has an OOS IC."""
    if len(inputs.hypothesis_ids) < 2:
        return FamilyStage(None, "the family has a single hypothesis")
    seed = derive_seed(run_key, "bootstrap", version=SEED_VERSION)
    seeds.append(("bootstrap", None, seed))
    result = runner.run("family_tests", inputs, seed=seed, params=family_params(config))
    family = result.detail
    assert isinstance(family, FamilyTestsResult)
    return FamilyStage(family, family.reality_check.skip_reason)


def sharpe_stage(
    inputs: ProcedureInputs, keys: Sequence[Key], config: ReportConfig, runner: ProcedureRunner
) -> SharpeStage:
    """DSR/PSR per hypothesis over the rows where every portfolio has a return, and PBO."""
    dsr = runner.run("dsr", inputs, seed=0)
    psr = runner.run("psr", inputs, seed=0, params={"benchmark_sharpe": 0.0})
    pbo = runner.run("pbo_cscv", inputs, seed=0, params={"n_blocks": config.procedures.pbo_blocks})
    stats = {}
    for key in keys:
        name = hypothesis_id(*key)
        fields = dsr.hypotheses[name]
        value = fields.get("dsr")
        moments = None
        if "n_obs" in fields:
            moments = (fields["moment_sharpe"], fields["skewness"], fields["kurtosis"],
                       fields["n_obs"])  # fmt: skip
        stats[key] = SharpeStats(
            sharpe_per_period=fields["sharpe"],  # type: ignore[arg-type]
            dsr=value,  # type: ignore[arg-type]
            # PSR is reported with the DSR it accompanies: both or neither.
            psr=None if value is None else psr.hypotheses[name]["psr"],  # type: ignore[arg-type]
            moments=moments,  # type: ignore[arg-type]
            missing_reason=dsr.hypothesis_missing.get(name),
        )
    detail = pbo.detail
    assert detail is None or isinstance(detail, PboResult)
    effective = dsr.family["effective_trials"]
    assert isinstance(effective, float)
    return SharpeStage(stats, effective, detail, pbo.missing_reason)


def break_diagnostics(
    inputs: ProcedureInputs,
    config: ReportConfig,
    run_key: str,
    seeds: SeedLog,
    runner: ProcedureRunner,
) -> dict[str, dict[str, Any]]:
    """Did the OOS IC of a hypothesis change during the sample? CUSUM with a long-run variance
    and Andrews' sup-F as a HAC sup-Wald (long-run variance): both keep their size under the
    autocorrelation that overlapping labels create, so only these robust versions are reported."""
    out: dict[str, dict[str, Any]] = {}
    procedures = config.procedures
    for index, name in enumerate(inputs.hypothesis_ids):
        column = inputs.oos_ic[:, index]
        series = column[~np.isnan(column)]
        if series.size < procedures.break_min_obs or np.ptp(series) == 0:
            out[name] = {"skip_reason": f"{series.size} OOS IC values, too few or constant"}
            continue
        seed = derive_seed(run_key, "breaks", index, version=SEED_VERSION)
        seeds.append(("breaks", index, seed))
        one = inputs.select(index)
        cusum = runner.run("cusum", one, seed=seed, params={"long_run_variance": True})
        supf = runner.run(
            "sup_f",
            one,
            seed=seed,
            params={"reps": procedures.break_reps, "long_run_variance": True},
        )
        out[name] = {
            "cusum": cusum.detail[name].to_dict(),
            "skip_reason": None,
            "sup_f": supf.detail[name].to_dict(),
        }
    return out
