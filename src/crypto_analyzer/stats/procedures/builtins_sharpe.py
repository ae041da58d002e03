"""Built-in Sharpe procedures: deflated and probabilistic Sharpe ratio, CSCV PBO.

All three work on the rows where every hypothesis' portfolio has a net return, so every trial is
judged on the same periods (the DSR's trial variance and the PBO's rank comparisons need that).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from crypto_analyzer.stats.dsr import deflated_sharpe_ratio, effective_number_of_trials
from crypto_analyzer.stats.pbo import pbo_cscv
from crypto_analyzer.stats.procedures.protocol import (
    ProcedureContext,
    ProcedureInputs,
    ProcedureParams,
    ProcedureResult,
    Scalar,
)
from crypto_analyzer.stats.psr import probabilistic_sharpe_ratio, sharpe_moments

__all__ = [
    "DsrProcedure",
    "NoParams",
    "PboParams",
    "PboProcedure",
    "PsrParams",
    "PsrProcedure",
    "common_returns",
]


class NoParams(ProcedureParams):
    """A procedure without parameters."""


class PsrParams(ProcedureParams):
    benchmark_sharpe: float = Field(0.0, description="per-period Sharpe of the benchmark")


class PboParams(ProcedureParams):
    n_blocks: int = Field(16, ge=4, description="CSCV blocks, even")
    metric: Literal["sharpe", "mean"] = "sharpe"


def common_returns(inputs: ProcedureInputs) -> pd.DataFrame:
    """Net returns on the rows where every hypothesis has one, one column per hypothesis."""
    frame = pd.DataFrame(inputs.net_returns, columns=list(inputs.hypothesis_ids))
    return frame.dropna()


def _series_problem(series: np.ndarray) -> str | None:
    if series.size < 3:
        return f"{series.size} common OOS net returns; at least 3 are needed"
    if np.ptp(series) == 0:
        return f"the {series.size} OOS net returns are constant (no position was held)"
    return None


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else None


class DsrProcedure:
    """Deflated Sharpe ratio per hypothesis against the family's trials (Bailey & López de Prado).

    The number of trials is the effective number of the family's correlated trials (at least 1).
    Fields: ``sharpe`` (per period), ``dsr``, the moments ``skewness``/``kurtosis``/``n_obs`` and
    ``moment_sharpe``; family field ``effective_trials`` (the raw estimate).
    """

    name: ClassVar[str] = "dsr"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = NoParams
    source_modules: ClassVar[tuple[str, ...]] = (
        "crypto_analyzer.stats.dsr",
        "crypto_analyzer.stats.psr",
    )

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        matrix = common_returns(inputs)
        trial_sharpes = matrix.mean() / matrix.std(ddof=1)
        family = matrix.shape[1]
        effective = (
            float(effective_number_of_trials(matrix.to_numpy()).n_eff) if family >= 2 else 1.0
        )
        n_trials = max(effective, 1.0)
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        for name in inputs.hypothesis_ids:
            series = matrix[name].to_numpy(dtype=float)
            fields: dict[str, Scalar] = {"sharpe": _finite(trial_sharpes.get(name))}
            per[name] = fields
            problem = _series_problem(series)
            if problem is not None:
                missing[name] = problem
                continue
            sr, skew, kurt, n = sharpe_moments(series)
            fields.update(moment_sharpe=sr, skewness=skew, kurtosis=kurt, n_obs=n)
            if len(trial_sharpes) < 2:
                missing[name] = "the deflated Sharpe ratio needs a family of at least 2 trials"
                continue
            fields["dsr"] = float(
                deflated_sharpe_ratio(
                    series, trial_sharpes=trial_sharpes.to_numpy(), n_trials=n_trials
                ).dsr
            )
        return ProcedureResult(
            family={"effective_trials": effective}, hypotheses=per, hypothesis_missing=missing
        )


class PsrProcedure:
    """Probabilistic Sharpe ratio per hypothesis on the family's common rows."""

    name: ClassVar[str] = "psr"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = PsrParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.psr",)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        assert isinstance(ctx.params, PsrParams)
        matrix = common_returns(inputs)
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        for name in inputs.hypothesis_ids:
            series = matrix[name].to_numpy(dtype=float)
            problem = _series_problem(series)
            if problem is not None:
                per[name], missing[name] = {"psr": None}, problem
                continue
            psr = probabilistic_sharpe_ratio(series, benchmark_sharpe=ctx.params.benchmark_sharpe)
            per[name] = {"psr": float(psr.psr)}
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing)


class PboProcedure:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation."""

    name: ClassVar[str] = "pbo_cscv"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = PboParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.pbo",)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        assert isinstance(ctx.params, PboParams)
        matrix = common_returns(inputs)
        blocks = ctx.params.n_blocks
        if matrix.shape[1] < 2:
            return ProcedureResult(missing_reason="PBO needs a family of at least 2")
        if len(matrix) < 2 * blocks:
            return ProcedureResult(
                missing_reason=(
                    f"{len(matrix)} common return rows, fewer than 2 x pbo_blocks = {2 * blocks}"
                )
            )
        result = pbo_cscv(matrix.to_numpy(), n_blocks=blocks, metric=ctx.params.metric)
        return ProcedureResult(
            family={
                "pbo": float(result.pbo),
                "n_splits": int(result.n_splits),
                "probability_of_loss": float(result.probability_of_loss),
            },
            detail=result,
        )
