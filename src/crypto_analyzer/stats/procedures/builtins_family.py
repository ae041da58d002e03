"""Built-in family procedures: White's Reality Check, Hansen's SPA, Romano–Wolf StepM.

Each wraps the pure function of the same name over the rows where every hypothesis has an OOS IC
(the loss differentials against a zero benchmark). ``family_tests`` runs all three on one shared
bootstrap draw — what the report uses — and the three single procedures equal its components for
the same seed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from crypto_analyzer.stats.family import family_tests
from crypto_analyzer.stats.procedures.protocol import (
    ProcedureContext,
    ProcedureInputs,
    ProcedureParams,
    ProcedureResult,
)
from crypto_analyzer.stats.reality_check import reality_check
from crypto_analyzer.stats.spa import spa
from crypto_analyzer.stats.stepm import stepm

__all__ = [
    "FamilyParams",
    "FamilyTestsProcedure",
    "RealityCheckProcedure",
    "SpaProcedure",
    "StepMProcedure",
]

_BOOTSTRAP_MODULES = (
    "crypto_analyzer.stats._family_core",
    "crypto_analyzer.stats.bootstrap",
    "crypto_analyzer.stats.block_length",
)
_SINGLE = "the family has a single hypothesis"


class FamilyParams(ProcedureParams):
    """Bootstrap settings shared by RC, SPA and StepM."""

    reps: int = Field(1000, ge=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    block_length: float | None = Field(None, gt=0)
    bootstrap: Literal["stationary", "circular"] = "stationary"
    studentize: bool = True
    recentring: Literal["upper", "consistent", "lower"] = "upper"
    min_obs: int = Field(30, ge=3)


def complete_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows without NaN: the timestamps where every hypothesis has a value."""
    return matrix[~np.isnan(matrix).any(axis=1)]


def _bootstrap_kwargs(params: FamilyParams, inputs: ProcedureInputs) -> dict[str, Any]:
    return {
        "reps": params.reps,
        "block_length": params.block_length,
        "bootstrap": params.bootstrap,
        "hypothesis_ids": list(inputs.hypothesis_ids),
        "min_obs": params.min_obs,
    }


def _params(ctx: ProcedureContext) -> FamilyParams:
    assert isinstance(ctx.params, FamilyParams)
    return ctx.params


class FamilyTestsProcedure:
    """RC, SPA (consistent p-value) and StepM adjusted p-values from one bootstrap draw."""

    name: ClassVar[str] = "family_tests"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = FamilyParams
    source_modules: ClassVar[tuple[str, ...]] = (
        "crypto_analyzer.stats.family",
        "crypto_analyzer.stats.reality_check",
        "crypto_analyzer.stats.spa",
        "crypto_analyzer.stats.stepm",
        *_BOOTSTRAP_MODULES,
    )

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = _params(ctx)
        if len(inputs.hypothesis_ids) < 2:
            return ProcedureResult(missing_reason=_SINGLE)
        result = family_tests(
            complete_rows(inputs.oos_ic),
            seed=ctx.seed,
            alpha=params.alpha,
            studentize=params.studentize,
            recentring=params.recentring,
            **_bootstrap_kwargs(params, inputs),
        )
        stepm_p = result.stepm.adjusted_pvalues
        per = (
            {}
            if stepm_p is None
            else {
                hid: {"rw_p": float(p)}
                for hid, p in zip(result.stepm.hypothesis_ids, stepm_p, strict=True)
            }
        )
        return ProcedureResult(
            family={
                "rc_p": result.reality_check.p_value,
                "spa_p": result.spa.pvalue_consistent,
                "draws": result.stepm.reps_actual,
            },
            hypotheses=per,
            missing_reason=result.reality_check.skip_reason,
            detail=result,
        )


class RealityCheckProcedure:
    """White's Reality Check p-value of the best hypothesis (never studentized)."""

    name: ClassVar[str] = "reality_check"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = FamilyParams
    source_modules: ClassVar[tuple[str, ...]] = (
        "crypto_analyzer.stats.reality_check",
        *_BOOTSTRAP_MODULES,
    )

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = _params(ctx)
        if len(inputs.hypothesis_ids) < 2:
            return ProcedureResult(missing_reason=_SINGLE)
        result = reality_check(
            complete_rows(inputs.oos_ic), seed=ctx.seed, **_bootstrap_kwargs(params, inputs)
        )
        return ProcedureResult(
            family={"p_value": result.p_value, "statistic": result.statistic},
            missing_reason=result.skip_reason,
            detail=result,
        )


class SpaProcedure:
    """Hansen's SPA p-values (lower, consistent, upper recentring)."""

    name: ClassVar[str] = "spa"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = FamilyParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.spa", *_BOOTSTRAP_MODULES)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = _params(ctx)
        if len(inputs.hypothesis_ids) < 2:
            return ProcedureResult(missing_reason=_SINGLE)
        result = spa(
            complete_rows(inputs.oos_ic),
            seed=ctx.seed,
            studentize=params.studentize,
            **_bootstrap_kwargs(params, inputs),
        )
        return ProcedureResult(
            family={
                "p_value": result.pvalue_consistent,
                "p_value_lower": result.pvalue_lower,
                "p_value_upper": result.pvalue_upper,
            },
            missing_reason=result.skip_reason,
            detail=result,
        )


class StepMProcedure:
    """Romano–Wolf step-down adjusted p-value per hypothesis."""

    name: ClassVar[str] = "stepm"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = FamilyParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.stepm", *_BOOTSTRAP_MODULES)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = _params(ctx)
        if len(inputs.hypothesis_ids) < 2:
            return ProcedureResult(missing_reason=_SINGLE)
        result = stepm(
            complete_rows(inputs.oos_ic),
            seed=ctx.seed,
            alpha=params.alpha,
            studentize=params.studentize,
            recentring=params.recentring,
            **_bootstrap_kwargs(params, inputs),
        )
        adjusted = result.adjusted_pvalues
        per = (
            {}
            if adjusted is None
            else {
                hid: {"rw_p": float(p)}
                for hid, p in zip(result.hypothesis_ids, adjusted, strict=True)
            }
        )
        return ProcedureResult(hypotheses=per, missing_reason=result.skip_reason, detail=result)
