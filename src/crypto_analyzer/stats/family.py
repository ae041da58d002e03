"""Reality Check, SPA and StepM together from one shared bootstrap draw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.stats import _family_core as core
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import plain
from crypto_analyzer.stats.reality_check import (
    RealityCheckResult,
    reality_check_from_draw,
)
from crypto_analyzer.stats.reality_check import _skipped as _rc_skipped
from crypto_analyzer.stats.reality_check import null_key as reality_check_null_key
from crypto_analyzer.stats.spa import SpaResult, spa_from_draw
from crypto_analyzer.stats.spa import _skipped as _spa_skipped
from crypto_analyzer.stats.spa import null_keys as spa_null_keys
from crypto_analyzer.stats.stepm import StepMResult, step_down_query, stepm_from_draw
from crypto_analyzer.stats.stepm import _skipped as _stepm_skipped

__all__ = ["FamilyTestsResult", "family_tests", "loss_differentials"]


@dataclass(frozen=True)
class FamilyTestsResult:
    """Reality Check, SPA and StepM computed on the same bootstrap draw.

    Attributes
    ----------
    reality_check : RealityCheckResult
        White's test (never studentized).
    spa : SpaResult
        Hansen's test (studentized unless ``studentize=False``).
    stepm : StepMResult
        Romano-Wolf adjusted p-values (same studentization as ``spa``).
    """

    reality_check: RealityCheckResult
    spa: SpaResult
    stepm: StepMResult

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def loss_differentials(benchmark_losses: np.ndarray, model_losses: np.ndarray) -> np.ndarray:
    """``benchmark_loss - model_loss`` as a ``(T, N)`` array: positive means the model is better.

    Parameters
    ----------
    benchmark_losses : numpy.ndarray
        ``(T,)`` losses of the benchmark.
    model_losses : numpy.ndarray
        ``(T, N)`` (or ``(T,)``) losses of the candidate models. NaN propagates.
    """
    bench = v.float_array(benchmark_losses, "benchmark_losses", ndim=1, allow_nan=True, copy=False)
    models = v.float_array(model_losses, "model_losses", ndim=(1, 2), allow_nan=True, copy=False)
    if models.ndim == 1:
        models = models[:, None]
    if models.shape[0] != bench.shape[0]:
        raise ValueError(
            f"model_losses has {models.shape[0]} rows but benchmark_losses has {bench.shape[0]}"
        )
    return bench[:, None] - models


def _family_tests_iv(
    alpha: Any, recentring: Any, **kwargs: Any
) -> tuple[core.FamilySettings, float, str]:
    level = v.probability_level(alpha, "alpha")
    mode = v.choice(recentring, "recentring", core.RECENTRINGS)
    return core.family_iv(**kwargs), level, mode


def family_tests(
    d: np.ndarray,
    *,
    seed: int,
    reps: int = 1000,
    alpha: float = 0.05,
    block_length: float | None = None,
    bootstrap: str = "stationary",
    studentize: bool = True,
    recentring: str = "upper",
    hypothesis_ids: Sequence[str] | None = None,
    min_obs: int = core.DEFAULT_MIN_OBS,
) -> FamilyTestsResult:
    """Run :func:`reality_check`, :func:`spa` and :func:`stepm` on one shared bootstrap draw.

    Parameters are those of :func:`stepm`. The draw depends only on ``(n_obs, bootstrap,
    block_length, reps, seed)``, so each component equals the standalone call with the same seed
    (the Reality Check always uses ``studentize=False``, White's statistic).

    Returns
    -------
    FamilyTestsResult

    Notes
    -----
    Cost: one ``(B, T) @ (T, N)`` product for the bootstrap means, one FFT per column for the
    long-run variances, and a few ``(B, N)`` passes for the three procedures.

    References
    ----------
    .. [1] White, H. (2000). A reality check for data snooping. Econometrica, 68(5), 1097-1126.
    .. [2] Hansen, P. R. (2005). A test for superior predictive ability. Journal of Business &
       Economic Statistics, 23(4), 365-380.
    .. [3] Romano, J. P., & Wolf, M. (2005). Stepwise multiple testing as formalized data snooping.
       Econometrica, 73(4), 1237-1282.
    """
    settings, level, mode = _family_tests_iv(
        alpha,
        recentring,
        d=d,
        reps=reps,
        block_length=block_length,
        bootstrap=bootstrap,
        seed=seed,
        hypothesis_ids=hypothesis_ids,
        min_obs=min_obs,
        studentize=studentize,
    )
    rc_settings = _replace_studentize(settings, False)
    if settings.skip_reason is not None:
        reason = settings.skip_reason
        return FamilyTestsResult(
            reality_check=_rc_skipped(rc_settings, None, reason),
            spa=_spa_skipped(settings, None, reason),
            stepm=_stepm_skipped(settings, None, reason, level, mode),
        )
    draw = core.draw_null(settings)
    rc_draw = core.NullDraw(
        n=draw.n,
        mean=draw.mean,
        variance=draw.variance,
        scale=np.ones_like(draw.mean),
        centred=draw.centred,
        block_length=draw.block_length,
        block_length_rule=draw.block_length_rule,
    )
    # One pass over the draws serves all three tests; nulls they share (White's and SPA's upper
    # when unstudentized, StepM's recentring among SPA's) are computed once.
    rc_key = reality_check_null_key(rc_settings)
    maxima_keys = [rc_key]
    query = None
    if core.zero_scale_reason(settings, draw) is None:
        maxima_keys += spa_null_keys(settings)
        query = step_down_query(settings, draw, mode)
    maxima, counts = core.null_summaries(draw, maxima_keys, query, recorded=[rc_key])
    return FamilyTestsResult(
        reality_check=reality_check_from_draw(rc_settings, rc_draw, maxima),
        spa=spa_from_draw(settings, draw, maxima),
        stepm=stepm_from_draw(settings, draw, level, mode, counts),
    )


def _replace_studentize(settings: core.FamilySettings, studentize: bool) -> core.FamilySettings:
    fields = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    fields["studentize"] = studentize
    return core.FamilySettings(**fields)
