"""Romano-Wolf StepM: step-down adjusted p-values for a family of strategies vs a benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.stats import _family_core as core
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import plain

__all__ = ["StepMResult", "stepm"]


@dataclass(frozen=True)
class StepMResult:
    """Outcome of the Romano-Wolf step-down procedure.

    Attributes
    ----------
    adjusted_pvalues : tuple of float, or None
        FWER-adjusted p-value per hypothesis, in ``hypothesis_ids`` order (``None`` if skipped).
    statistics : tuple of float, or None
        ``sqrt(n) * mean(d_k) / scale_k`` per hypothesis.
    rejected : tuple of str
        Ids with adjusted p-value ``<= alpha``: strategies declared better than the benchmark.
    alpha : float
        Family-wise error rate used for ``rejected``.
    recentring : str
        Null recentring of the bootstrap statistics (``"upper"`` is Romano & Wolf's).
    hypothesis_ids, n_obs, n_obs_total, min_obs, reps_requested, reps_actual, bootstrap,
    block_length, block_length_rule, studentized, seed, skip_reason
        Settings and data facts, see :func:`stepm`.
    method : str
        Always ``"stepm"``.
    """

    adjusted_pvalues: tuple[float, ...] | None
    statistics: tuple[float, ...] | None
    rejected: tuple[str, ...]
    alpha: float
    recentring: str
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
    method: str = "stepm"

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def _stepm_iv(alpha: Any, recentring: Any, **kwargs: Any) -> tuple[core.FamilySettings, float, str]:
    level = v.probability_level(alpha, "alpha")
    mode = v.choice(recentring, "recentring", core.RECENTRINGS)
    return core.family_iv(**kwargs), level, mode


def stepm(
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
) -> StepMResult:
    r"""Romano-Wolf StepM adjusted p-values for H0_k: ``E[d_k] <= 0``, k = 1..N.

    Parameters
    ----------
    d : numpy.ndarray
        ``(T, N)`` performance differentials against the benchmark (higher is better). Rows with
        any NaN are dropped; inf is refused.
    seed : int, keyword-only
        Seed of the bootstrap generator (``core.seeding.make_rng``); recorded in the result.
    reps : int, keyword-only
        Bootstrap draws ``B >= 1``.
    alpha : float, keyword-only
        FWER level in (0, 1) used to list ``rejected``.
    block_length : float or None, keyword-only
        Mean (stationary) or fixed (circular, int) block length; ``None`` = Politis-White.
    bootstrap : {"stationary", "circular"}, keyword-only
    studentize : bool, keyword-only
        Divide by the bootstrap long-run standard deviation (default, as Romano & Wolf advise).
    recentring : {"upper", "consistent", "lower"}, keyword-only
        Null recentring of the bootstrap statistics: ``"upper"`` centres every model at its sample
        mean (Romano & Wolf 2005); ``"consistent"`` is Hansen's rule (what arch's StepM uses).
    hypothesis_ids : sequence of str or None, keyword-only
    min_obs : int, keyword-only
        Minimum common observations; below it the result carries ``skip_reason``.

    Returns
    -------
    StepMResult

    Notes
    -----
    Order the statistics :math:`t_{(1)}\ge\dots\ge t_{(N)}` and let :math:`Z^*_{b,k}` be the
    recentred bootstrap statistics of one shared draw. The adjusted p-value is

    .. math::

       p^{adj}_{(j)} = \max_{i\le j} B^{-1}\sum_b 1\Bigl\{\max_{k\in\{(i),\dots,(N)\}} Z^*_{b,k}
       > t_{(i)}\Bigr\}

    (Algorithm 4.1 of [1]_, in the p-value form of [2]_, section 3). Suffix maxima come from one
    reversed running maximum, so all N steps cost one ``(B, N)`` pass. Rejecting
    :math:`p^{adj}\le\alpha` reproduces the step-down critical-value algorithm of [1]_.

    ``arch.bootstrap.StepM`` 8.0 (the test oracle) returns only the rejected set, uses the
    consistent recentring and never studentizes (see :func:`spa`); it also fails when every model
    is rejected after more than one step. The tests compare against p-values rebuilt from arch's
    SPA on nested subsets.

    References
    ----------
    .. [1] Romano, J. P., & Wolf, M. (2005). Stepwise multiple testing as formalized data snooping.
       Econometrica, 73(4), 1237-1282.
    .. [2] Romano, J. P., & Wolf, M. (2016). Efficient computation of adjusted p-values for
       resampling-based stepdown multiple testing. Statistics & Probability Letters, 113, 38-40.
    """
    settings, level, mode = _stepm_iv(
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
    if settings.skip_reason is not None:
        return _skipped(settings, None, settings.skip_reason, level, mode)
    return stepm_from_draw(settings, core.draw_null(settings), level, mode)


def _skipped(
    settings: core.FamilySettings,
    draw: core.NullDraw | None,
    reason: str,
    alpha: float,
    recentring: str,
) -> StepMResult:
    return StepMResult(
        adjusted_pvalues=None,
        statistics=None,
        rejected=(),
        alpha=alpha,
        recentring=recentring,
        **core.common_fields(settings, draw, reason),
    )


def step_down_query(
    settings: core.FamilySettings, draw: core.NullDraw, recentring: str
) -> core.StepDownQuery:
    """What StepM asks of the shared null pass: the sorted order and its thresholds."""
    observed = core.observed_statistics(draw)
    order = np.argsort(-observed, kind="stable")
    return core.StepDownQuery(
        key=(recentring, settings.studentize), order=order, thresholds=observed[order]
    )


def stepm_from_draw(
    settings: core.FamilySettings,
    draw: core.NullDraw,
    alpha: float,
    recentring: str,
    counts: np.ndarray | None = None,
) -> StepMResult:
    """StepM on an existing shared draw (used by :func:`family_tests`).

    ``counts`` are the exceedance counts :func:`core.null_summaries` returned for
    :func:`step_down_query`'s query; without them they are computed here.
    """
    reason = core.zero_scale_reason(settings, draw)
    if reason is not None:
        return _skipped(settings, draw, reason, alpha, recentring)
    observed = core.observed_statistics(draw)
    query = step_down_query(settings, draw, recentring)
    order = query.order
    if counts is None:
        _, counts = core.null_summaries(draw, [], query)
    assert counts is not None
    # mean of a boolean column == its count / reps: the same float64 division np.mean performs
    raw = counts / settings.reps
    adjusted_sorted = np.maximum.accumulate(raw)
    adjusted = np.empty_like(adjusted_sorted)
    adjusted[order] = adjusted_sorted
    rejected = tuple(
        name for name, p in zip(settings.hypothesis_ids, adjusted, strict=True) if p <= alpha
    )
    return StepMResult(
        adjusted_pvalues=tuple(float(p) for p in adjusted),
        statistics=tuple(float(t) for t in observed),
        rejected=rejected,
        alpha=alpha,
        recentring=recentring,
        **core.common_fields(settings, draw, None),
    )
