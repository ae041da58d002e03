"""Built-in null suite: random ranks, permuted signal and block-shuffled time, per hypothesis.

Unlike the family procedures it needs the signal and forward-return panels (``needs_panels``), so
the report builds them only when this procedure is selected (``procedures.extra.null_suite``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from crypto_analyzer.stats.null_suite import null_suite
from crypto_analyzer.stats.procedures.protocol import (
    ProcedureContext,
    ProcedureInputs,
    ProcedureParams,
    ProcedureResult,
    Scalar,
)

__all__ = ["NullSuiteParams", "NullSuiteProcedure"]

NullModel = Literal["block_shuffled_time", "permuted_signal", "random_ranks"]


class NullSuiteParams(ProcedureParams):
    draws: int = Field(100, ge=1, le=100_000, description="draws per null model")
    block_length: int | None = Field(None, ge=1, description="default: round(T ** (1/3))")
    min_assets: int = Field(3, ge=3)
    alternative: Literal["greater", "less", "two-sided"] = "greater"
    models: tuple[NullModel, ...] = Field(
        ("block_shuffled_time", "permuted_signal", "random_ranks"), min_length=1
    )


def _child_seeds(seed: int, n: int) -> list[int]:
    """One independent stream per hypothesis, spawned from the procedure's seed."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in children]


class NullSuiteProcedure:
    """Null distributions of each hypothesis' mean rank IC and long-short Sharpe.

    Fields per hypothesis: ``observed_mean_ic``, ``p_value_ic.<model>`` and
    ``p_value_sharpe.<model>`` for each model run, and ``p_value`` — the largest IC p-value over
    the models (a signal must beat every null).
    """

    name: ClassVar[str] = "null_suite"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = NullSuiteParams
    source_modules: ClassVar[tuple[str, ...]] = ("crypto_analyzer.stats.null_suite",)
    needs_panels: ClassVar[bool] = True

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = ctx.params
        assert isinstance(params, NullSuiteParams)
        if inputs.panels is None:
            return ProcedureResult(missing_reason="no signal panels were given")
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        details: dict[str, Any] = {}
        seeds = _child_seeds(ctx.seed, len(inputs.hypothesis_ids))
        for hid, seed in zip(inputs.hypothesis_ids, seeds, strict=True):
            panel = inputs.panels.get(hid)
            if panel is None:
                per[hid], missing[hid] = {"p_value": None}, "no signal panel for this hypothesis"
                continue
            result = null_suite(
                panel[0],
                panel[1],
                seed=seed,
                draws=params.draws,
                block_length=params.block_length,
                min_assets=params.min_assets,
                alternative=params.alternative,
                models=params.models,
            )
            fields: dict[str, Scalar] = {"observed_mean_ic": result.observed_mean_ic}
            for null in result.nulls:
                fields[f"p_value_ic.{null.name}"] = null.p_value_ic
                fields[f"p_value_sharpe.{null.name}"] = null.p_value_sharpe
            fields["p_value"] = max(null.p_value_ic for null in result.nulls)
            per[hid] = fields
            details[hid] = result.to_dict()
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing, detail=_Plain(details))


class _Plain(dict[str, Any]):
    def to_dict(self) -> dict[str, Any]:
        return dict(self)
