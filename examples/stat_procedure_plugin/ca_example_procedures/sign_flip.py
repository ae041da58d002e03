"""A sign-flip randomisation test of each hypothesis' mean out-of-sample IC.

Under the null of an IC distribution symmetric around zero, flipping the sign of every IC value
at random leaves the distribution of the mean unchanged; the p-value is the share of flipped means
at least as large as the observed one. The only randomness comes from ``ctx.seed``, so the same
inputs and seed always give the same p-value (the runner checks this by running twice).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, Field

from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats.procedures import (
    ProcedureContext,
    ProcedureInputs,
    ProcedureParams,
    ProcedureResult,
    Scalar,
)

__all__ = ["SignFlipParams", "SignFlipTest"]


class SignFlipParams(ProcedureParams):
    draws: int = Field(999, ge=9, le=100_000, description="random sign flips")
    min_obs: int = Field(20, ge=2, description="OOS IC values a hypothesis needs")


class SignFlipTest:
    """One-sided (mean IC > 0) sign-flip test per hypothesis; fields ``p_value``, ``n_obs``."""

    name: ClassVar[str] = "ic_sign_flip"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[BaseModel]] = SignFlipParams

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult:
        params = ctx.params
        assert isinstance(params, SignFlipParams)
        rng = make_rng(ctx.seed)
        per: dict[str, dict[str, Scalar]] = {}
        missing: dict[str, str] = {}
        for index, hypothesis in enumerate(inputs.hypothesis_ids):
            column = inputs.oos_ic[:, index]
            values = column[~np.isnan(column)]
            if values.size < params.min_obs:
                per[hypothesis] = {"n_obs": int(values.size), "p_value": None}
                missing[hypothesis] = f"{values.size} OOS IC values, fewer than {params.min_obs}"
                continue
            signs = rng.choice(np.array([-1.0, 1.0]), size=(params.draws, values.size))
            flipped = (signs * values).mean(axis=1)
            exceed = int(np.count_nonzero(flipped >= values.mean()))
            per[hypothesis] = {
                "n_obs": int(values.size),
                "p_value": (1 + exceed) / (1 + params.draws),
            }
        return ProcedureResult(hypotheses=per, hypothesis_missing=missing)
