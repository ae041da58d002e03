"""Built-in per-hypothesis procedures: multiplicity adjustments, HAC t, CUSUM and sup-F.

Multiplicity (BH, BY, Holm) adjusts the family's one-sided HAC p-values; a hypothesis without a
p-value counts as p = 1 in the others' adjustment (conservative) and keeps ``None`` as its own.
HAC, CUSUM and sup-F read each hypothesis' OOS IC series with its missing timestamps dropped.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, Field

from crypto_analyzer.stats.cusum import cusum_test
from crypto_analyzer.stats.hac import newey_west
from crypto_analyzer.stats.multitest import adjust_pvalues
from crypto_analyzer.stats.procedures.protocol import (
    ProcedureContext,
    ProcedureInputs,
    ProcedureParams,
    ProcedureResult,
    Scalar,
)
from crypto_analyzer.stats.supf import sup_f_test

__all__ = [
    "AdjustmentParams",
    "BenjaminiHochbergProcedure",
    "BenjaminiYekutieliProcedure",
    "BreakParams",
    "CusumProcedure",
    "HacParams",
    "HacProcedure",
    "HolmProcedure",
    "SupFParams",
    "SupFProcedure",
    "oos_series",
]

_BREAK_MIN_OBS = 10


def oos_series(inputs: ProcedureInputs, index: int) -> np.ndarray:
    """Hypothesis ``index``'s OOS IC values in time order, missing timestamps dropped."""
    column = np.asarray(inputs.oos_ic[:, index], dtype=float)
    return column[~np.isnan(column)]


class AdjustmentParams(ProcedureParams):
    alpha: float = Field(0.05, gt=0, lt=1, description="level of the `rejected` flags")


class _Adjustment:
    method: ClassVar[str]
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = AdjustmentParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.multitest",)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        assert isinstance(ctx.params, AdjustmentParams)
        raw = inputs.p_values
        filled = np.asarray([1.0 if p is None else p for p in raw], dtype=float)
        adjusted = adjust_pvalues(filled, method=self.method, alpha=ctx.params.alpha).adjusted
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        for index, hid in enumerate(inputs.hypothesis_ids):
            if raw[index] is None:
                per[hid] = {"adjusted_p": None}
                missing[hid] = "no p-value"
            else:
                per[hid] = {"adjusted_p": float(adjusted[index])}
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing)


class BenjaminiHochbergProcedure(_Adjustment):
    """Benjamini–Hochberg step-up FDR adjustment."""

    name: ClassVar[str] = "bh"
    method: ClassVar[str] = "bh"


class BenjaminiYekutieliProcedure(_Adjustment):
    """Benjamini–Yekutieli adjustment (FDR under arbitrary dependence)."""

    name: ClassVar[str] = "by"
    method: ClassVar[str] = "by"


class HolmProcedure(_Adjustment):
    """Holm's step-down family-wise error rate adjustment."""

    name: ClassVar[str] = "holm"
    method: ClassVar[str] = "holm"


class HacParams(ProcedureParams):
    lags: int | None = Field(
        None, ge=0, description="Bartlett lag; default: Newey-West rule, at least horizon - 1"
    )


class HacProcedure:
    """Newey–West t of the mean OOS IC, with at least ``horizon - 1`` lags (overlapping labels)."""

    name: ClassVar[str] = "hac"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = HacParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.hac",)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        assert isinstance(ctx.params, HacParams)
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        for index, hid in enumerate(inputs.hypothesis_ids):
            values = oos_series(inputs, index)
            n, horizon = int(values.size), inputs.horizons[index]
            if n < 2:
                per[hid] = {"t_hac": None, "se_hac": None, "p_hac": None, "hac_lags": None}
                missing[hid] = f"{n} OOS IC values; a HAC t-statistic needs at least 2"
                continue
            if ctx.params.lags is not None:
                hac = newey_west(values, lags=min(ctx.params.lags, n - 1))
            else:
                hac = newey_west(values)
                if hac.lags < horizon - 1:
                    hac = newey_west(values, lags=min(horizon - 1, n - 1))
            per[hid] = {
                "t_hac": hac.t,
                "se_hac": hac.se,
                "p_hac": hac.p_value,
                "hac_lags": hac.lags,
            }
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing)


class BreakParams(ProcedureParams):
    long_run_variance: bool = Field(True, description="scale by the long-run (HAC) variance")


class SupFParams(BreakParams):
    reps: int = Field(499, ge=1, description="bootstrap draws of the null distribution")
    trim: float = Field(0.15, gt=0, lt=0.5)


def _break_problem(series: np.ndarray) -> str | None:
    if series.size < _BREAK_MIN_OBS or np.ptp(series) == 0:
        return f"{series.size} OOS IC values, too few or constant"
    return None


class CusumProcedure:
    """CUSUM test of a constant mean OOS IC (Brown, Durbin & Evans), per hypothesis."""

    name: ClassVar[str] = "cusum"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = BreakParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.cusum",)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        assert isinstance(ctx.params, BreakParams)
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        details = {}
        for index, hid in enumerate(inputs.hypothesis_ids):
            series = oos_series(inputs, index)
            problem = _break_problem(series)
            if problem is not None:
                per[hid], missing[hid] = {"p_value": None}, problem
                continue
            result = cusum_test(series, long_run_variance=ctx.params.long_run_variance)
            details[hid] = result
            per[hid] = {"p_value": result.p_value, "statistic": result.statistic}
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing, detail=_Details(details))


class SupFProcedure:
    """Andrews' sup-F (sup-Wald) test of one break in the mean OOS IC, bootstrap p-value.

    One seed per run: give a one-hypothesis family per call for a per-hypothesis seed.
    """

    name: ClassVar[str] = "sup_f"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = SupFParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.supf",)

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = ctx.params
        assert isinstance(params, SupFParams)
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        details = {}
        for index, hid in enumerate(inputs.hypothesis_ids):
            series = oos_series(inputs, index)
            problem = _break_problem(series)
            if problem is not None:
                per[hid], missing[hid] = {"p_value": None}, problem
                continue
            result = sup_f_test(
                series,
                seed=ctx.seed,
                reps=params.reps,
                trim=params.trim,
                long_run_variance=params.long_run_variance,
            )
            details[hid] = result
            per[hid] = {"p_value": result.p_value, "statistic": result.statistic}
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing, detail=_Details(details))


class _Details(dict[str, Any]):
    """Typed results per hypothesis id, with the ``to_dict`` every detail has."""

    def to_dict(self) -> dict[str, object]:
        return {key: value.to_dict() for key, value in self.items()}
