"""Hansen's (2005) test of Superior Predictive Ability with lower/consistent/upper p-values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.stats import _family_core as core
from crypto_analyzer.stats._serialize import plain

__all__ = ["SpaResult", "spa"]


@dataclass(frozen=True)
class SpaResult:
    """Outcome of Hansen's SPA test.

    Attributes
    ----------
    pvalue_lower, pvalue_consistent, pvalue_upper : float or None
        p-values under the three recentrings of the bootstrap null (``None`` when skipped). With
        ``studentized=False`` the upper p-value is White's Reality Check.
    statistic : float or None
        :math:`T = \\max(\\max_k \\sqrt n\\,\\bar d_k/\\hat\\omega_k, 0)`.
    best_hypothesis : str or None
        Id of the hypothesis with the largest standardised mean.
    hypothesis_ids, n_obs, n_obs_total, min_obs, reps_requested, reps_actual, bootstrap,
    block_length, block_length_rule, studentized, seed, skip_reason
        Settings and data facts, see :func:`spa`.
    method : str
        Always ``"spa"``.
    """

    pvalue_lower: float | None
    pvalue_consistent: float | None
    pvalue_upper: float | None
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
    method: str = "spa"

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def _spa_iv(**kwargs: Any) -> core.FamilySettings:
    return core.family_iv(**kwargs)


def spa(
    d: np.ndarray,
    *,
    seed: int,
    reps: int = 1000,
    block_length: float | None = None,
    bootstrap: str = "stationary",
    studentize: bool = True,
    hypothesis_ids: Sequence[str] | None = None,
    min_obs: int = core.DEFAULT_MIN_OBS,
) -> SpaResult:
    r"""Hansen's SPA test of H0: no strategy beats the benchmark (``max_k E[d_k] <= 0``).

    Parameters
    ----------
    d : numpy.ndarray
        ``(T, N)`` performance differentials against the benchmark (higher is better); for losses
        pass ``benchmark_loss - model_loss``. Rows with any NaN are dropped; inf is refused.
    seed : int, keyword-only
        Seed of the bootstrap generator (``core.seeding.make_rng``); recorded in the result.
    reps : int, keyword-only
        Bootstrap draws ``B >= 1``.
    block_length : float or None, keyword-only
        Mean (stationary) or fixed (circular, int) block length; ``None`` = Politis-White.
    bootstrap : {"stationary", "circular"}, keyword-only
    studentize : bool, keyword-only
        ``True`` (default, Hansen's statistic) divides by :math:`\hat\omega_k`, the long-run
        standard deviation implied by the bootstrap.
    hypothesis_ids : sequence of str or None, keyword-only
    min_obs : int, keyword-only
        Minimum common observations; below it the result carries ``skip_reason``.

    Returns
    -------
    SpaResult

    Notes
    -----
    :math:`T^{SPA} = \max(\max_k \sqrt n\,\bar d_k/\hat\omega_k, 0)` (eq. 5 of [1]_). Draw b gives
    :math:`Z^*_{b,k} = \sqrt n(\bar d^*_{b,k} - g(\bar d_k))/\hat\omega_k` with
    :math:`g_l(x)=\max(x,0)`, :math:`g_c(x)=x\,1\{x\ge -\sqrt{2\hat\omega_k^2\log\log n/n}\}`,
    :math:`g_u(x)=x` (section 2.3 of [1]_), and :math:`p = B^{-1}\sum_b 1\{\max(\max_k Z^*_{b,k},0)
    \ge T\}`. :math:`\hat\omega^2_k` is the stationary-bootstrap variance of :math:`\sqrt n\bar d_k`
    (section 2.2 of [1]_, Politis & Romano 1994 kappa weights) or, for the circular bootstrap, the
    Bartlett-weighted circular autocovariance sum.

    Boundary behaviour. H0 is composite: every configuration with all :math:`E[d_k] \le 0` is
    null, and the least favourable one is all means zero. When no sample mean is positive the
    statistic is exactly 0, which every floored draw equals or exceeds, so all three p-values are
    1: a family in which nothing beats the benchmark in sample is never declared superior. Above
    the boundary (``T > 0``) a tie has probability zero and the weak count equals Hansen's strict
    one (eq. 9 of [1]_). Counting strictly at the boundary, as eq. 9 read literally does, gives
    :math:`p = B^{-1}\sum_b 1\{\max_k Z^*_{b,k} > 0\}`; under the lower and consistent
    recentrings the draws of clearly negative hypotheses are shifted below 0, so that share goes to
    0 and the test rejects most often exactly when every hypothesis underperforms (about 30 % of
    the time at :math:`\alpha = 0.05` with ten means at -0.2 sd and T = 250). The ``stats
    calibrate`` size table carries a negative-mean null column that checks this.

    Differences from ``arch.bootstrap.SPA`` 8.0 (the test oracle): arch never divides by
    :math:`\hat\omega_k` (its ``studentize`` flag only labels the output, so the oracle for the
    studentized statistic is arch run on :math:`d_k/\hat\omega_k`) and omits the floor at 0, so
    its statistic is :math:`\max_k \sqrt n\bar d_k` even when that is negative. With at least one
    positive sample mean the two statistics coincide and the p-values agree up to Monte-Carlo
    error (different random streams). When every sample mean is negative ours is exactly 1, while
    arch's is :math:`P^*(\max_k Z^*_k > \max_k \sqrt n \bar d_k)`: large but below 1 (under the
    lower recentring it compares each negative mean with its own bootstrap distribution, about
    0.7 for ten clearly negative hypotheses). Both are far from rejection; ours is never below
    arch's in that case.

    References
    ----------
    .. [1] Hansen, P. R. (2005). A test for superior predictive ability. Journal of Business &
       Economic Statistics, 23(4), 365-380.
    .. [2] White, H. (2000). A reality check for data snooping. Econometrica, 68(5), 1097-1126.
    """
    settings = _spa_iv(
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
    return spa_from_draw(settings, core.draw_null(settings))


def _skipped(settings: core.FamilySettings, draw: core.NullDraw | None, reason: str) -> SpaResult:
    return SpaResult(
        pvalue_lower=None,
        pvalue_consistent=None,
        pvalue_upper=None,
        statistic=None,
        best_hypothesis=None,
        **core.common_fields(settings, draw, reason),
    )


def null_keys(settings: core.FamilySettings) -> list[core.NullKey]:
    """The bootstrap nulls SPA takes row maxima of: one per recentring."""
    return [(recentring, settings.studentize) for recentring in core.RECENTRINGS]


def spa_from_draw(
    settings: core.FamilySettings,
    draw: core.NullDraw,
    maxima: dict[core.NullKey, np.ndarray] | None = None,
) -> SpaResult:
    """SPA on an existing shared draw (used by :func:`family_tests`).

    ``maxima`` holds row maxima already computed by :func:`core.null_summaries`; without it they
    are computed here.
    """
    reason = core.zero_scale_reason(settings, draw)
    if reason is not None:
        return _skipped(settings, draw, reason)
    observed = core.observed_statistics(draw)
    best = int(np.argmax(observed))
    statistic = max(float(observed[best]), 0.0)
    keys = null_keys(settings)
    if maxima is None:
        maxima, _ = core.null_summaries(draw, keys)
    pvalues = {}
    for recentring, key in zip(core.RECENTRINGS, keys, strict=True):
        pvalues[recentring] = core.floored_exceedance(maxima[key], statistic)
    return SpaResult(
        pvalue_lower=pvalues["lower"],
        pvalue_consistent=pvalues["consistent"],
        pvalue_upper=pvalues["upper"],
        statistic=statistic,
        best_hypothesis=settings.hypothesis_ids[best],
        **core.common_fields(settings, draw, None),
    )
