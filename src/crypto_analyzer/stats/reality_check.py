"""White's (2000) Reality Check for data snooping over a family of strategies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.stats import _family_core as core
from crypto_analyzer.stats._serialize import plain

__all__ = ["RealityCheckResult", "reality_check"]


@dataclass(frozen=True)
class RealityCheckResult:
    """Outcome of White's Reality Check.

    Attributes
    ----------
    p_value : float or None
        Bootstrap p-value of H0: ``max_k E[d_k] <= 0``; ``None`` when skipped.
    statistic : float or None
        ``max_k sqrt(n) * mean(d_k) / scale_k`` (scale 1 unless studentized).
    best_hypothesis : str or None
        Id of the hypothesis attaining the maximum.
    hypothesis_ids, n_obs, n_obs_total, min_obs, reps_requested, reps_actual, bootstrap,
    block_length, block_length_rule, studentized, seed, skip_reason
        Settings and data facts, see :func:`reality_check`.
    method : str
        Always ``"reality_check"``.
    """

    p_value: float | None
    statistic: float | None
    best_hypothesis: str | None
    hypothesis_ids: tuple[str, ...]
    n_obs: int
    n_obs_total: int
    min_obs: int
    reps_requested: int
    reps_actual: int
    bootstrap: str
    block_length: float | None
    block_length_rule: str | None
    studentized: bool
    seed: int
    skip_reason: str | None
    method: str = "reality_check"
    null_distribution: tuple[float, ...] | None = None
    """Bootstrap draws of the max statistic under the recentred null (for plots and audits);
    ``None`` when the test was skipped."""

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def _reality_check_iv(**kwargs: Any) -> core.FamilySettings:
    return core.family_iv(**kwargs)


def reality_check(
    d: np.ndarray,
    *,
    seed: int,
    reps: int = 1000,
    block_length: float | None = None,
    bootstrap: str = "stationary",
    studentize: bool = False,
    hypothesis_ids: Sequence[str] | None = None,
    min_obs: int = core.DEFAULT_MIN_OBS,
) -> RealityCheckResult:
    r"""White's Reality Check: is the best of N strategies better than the benchmark?

    Parameters
    ----------
    d : numpy.ndarray
        ``(T, N)`` performance differentials against the benchmark (higher is better); for losses
        pass ``benchmark_loss - model_loss``. NaN marks a missing value: rows with any NaN are
        dropped and the test runs on the common observations. inf is refused.
    seed : int, keyword-only
        Seed of the bootstrap generator (``core.seeding.make_rng``); recorded in the result.
    reps : int, keyword-only
        Bootstrap draws ``B >= 1``.
    block_length : float or None, keyword-only
        Mean (stationary) or fixed (circular, int) block length; ``None`` = Politis-White
        automatic length averaged over columns.
    bootstrap : {"stationary", "circular"}, keyword-only
    studentize : bool, keyword-only
        ``False`` (default) is White's statistic; ``True`` divides each column by its bootstrap
        long-run standard deviation (as in Hansen's SPA).
    hypothesis_ids : sequence of str or None, keyword-only
        Names of the N hypotheses (default ``h0 .. h{N-1}``).
    min_obs : int, keyword-only
        Minimum common observations; below it the result carries ``skip_reason``, not a p-value.

    Returns
    -------
    RealityCheckResult

    Notes
    -----
    :math:`V = \max_k \sqrt n\,\bar d_k` and, for each draw ``b``,
    :math:`V^*_b = \max_k \sqrt n(\bar d^*_{b,k} - \bar d_k)` (eq. 2.4-2.5 of [1]_: the bootstrap
    null is recentred at the sample mean of every model, the least favourable configuration);
    :math:`p = B^{-1}\sum_b 1\{V^*_b > V\}`. This is the "upper" SPA p-value of [2]_ without
    studentization, i.e. ``arch.bootstrap.SPA(...).pvalues["upper"]`` (the test oracle), which
    agrees up to Monte-Carlo error because the two resample with different random streams.

    References
    ----------
    .. [1] White, H. (2000). A reality check for data snooping. Econometrica, 68(5), 1097-1126.
    .. [2] Hansen, P. R. (2005). A test for superior predictive ability. Journal of Business &
       Economic Statistics, 23(4), 365-380.
    """
    settings = _reality_check_iv(
        d=d,
        reps=reps,
        block_length=block_length,
        bootstrap=bootstrap,
        seed=seed,
        hypothesis_ids=hypothesis_ids,
        min_obs=min_obs,
        studentize=studentize,
    )
    if settings.skip_reason is not None:
        return _skipped(settings, None, settings.skip_reason)
    return reality_check_from_draw(settings, core.draw_null(settings))


def _skipped(
    settings: core.FamilySettings, draw: core.NullDraw | None, reason: str
) -> RealityCheckResult:
    return RealityCheckResult(
        p_value=None,
        statistic=None,
        best_hypothesis=None,
        **core.common_fields(settings, draw, reason),
    )


def null_key(settings: core.FamilySettings) -> core.NullKey:
    """The one bootstrap null the Reality Check takes row maxima of (White's: upper)."""
    return ("upper", settings.studentize)


def reality_check_from_draw(
    settings: core.FamilySettings,
    draw: core.NullDraw,
    maxima: dict[core.NullKey, np.ndarray] | None = None,
) -> RealityCheckResult:
    """Reality Check on an existing shared draw (used by :func:`family_tests`).

    ``maxima`` holds row maxima already computed by :func:`core.null_summaries` (with this
    test's key among the ``recorded`` ones); without it they are computed here.
    """
    reason = core.zero_scale_reason(settings, draw)
    if reason is not None:
        return _skipped(settings, draw, reason)
    observed = core.observed_statistics(draw)
    best = int(np.argmax(observed))
    key = null_key(settings)
    if maxima is None:
        maxima, _ = core.null_summaries(draw, [key], recorded=[key])
    null_max = maxima[key]
    return RealityCheckResult(
        p_value=core.exceedance(null_max, float(observed[best])),
        statistic=float(observed[best]),
        best_hypothesis=settings.hypothesis_ids[best],
        **core.common_fields(settings, draw, None),
        null_distribution=tuple(float(value) for value in null_max),
    )
