"""p-value adjustment for multiple testing: Benjamini-Hochberg, Benjamini-Yekutieli and Holm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import plain

__all__ = [
    "ADJUSTMENT_METHODS",
    "AdjustedPValues",
    "adjust_pvalues",
    "benjamini_hochberg",
    "benjamini_yekutieli",
    "holm",
]

ADJUSTMENT_METHODS = ("bh", "by", "holm")


@dataclass(frozen=True)
class AdjustedPValues:
    """Raw and adjusted p-values of a family, in input order.

    Attributes
    ----------
    method : str
        ``"bh"`` (FDR, independence/PRDS), ``"by"`` (FDR, any dependence) or ``"holm"`` (FWER).
    pvalues : tuple of float
        Raw p-values.
    adjusted : tuple of float
        Adjusted p-values, each in [0, 1].
    rejected : tuple of bool
        ``adjusted <= alpha``.
    alpha : float
        Level used for ``rejected``.
    hypothesis_ids : tuple of str
    """

    method: str
    pvalues: tuple[float, ...]
    adjusted: tuple[float, ...]
    rejected: tuple[bool, ...]
    alpha: float
    hypothesis_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def _adjust_pvalues_iv(
    pvalues: Any, method: Any, alpha: Any, hypothesis_ids: Any
) -> tuple[np.ndarray, str, float, tuple[str, ...]]:
    p = v.float_array(pvalues, "pvalues", ndim=1)
    if p.shape[0] < 1:
        raise ValueError("pvalues must contain at least one p-value")
    if (p < 0.0).any() or (p > 1.0).any():
        bad = p[(p < 0.0) | (p > 1.0)][0]
        raise ValueError(f"pvalues must lie in [0, 1], got {bad!r}")
    kind = v.choice(method, "method", ADJUSTMENT_METHODS)
    level = v.probability_level(alpha, "alpha")
    return p, kind, level, v.hypothesis_ids(hypothesis_ids, p.shape[0])


def adjust_pvalues(
    pvalues: np.ndarray,
    *,
    method: str,
    alpha: float = 0.05,
    hypothesis_ids: Sequence[str] | None = None,
) -> AdjustedPValues:
    r"""Adjust a family of p-values.

    Parameters
    ----------
    pvalues : numpy.ndarray
        1-D raw p-values in [0, 1] (NaN refused).
    method : {"bh", "by", "holm"}, keyword-only
    alpha : float, keyword-only
        Level in (0, 1) for the ``rejected`` flags.
    hypothesis_ids : sequence of str or None, keyword-only

    Returns
    -------
    AdjustedPValues

    Notes
    -----
    With sorted :math:`p_{(1)}\le\dots\le p_{(m)}`:

    - BH step-up [1]_ (section 3): :math:`\tilde p_{(i)} = \min_{j\ge i}\min(1, m p_{(j)}/j)`.
    - BY step-up [2]_ (theorem 1.3): BH with :math:`m` replaced by :math:`m\sum_{k=1}^m 1/k`.
    - Holm step-down [3]_: :math:`\tilde p_{(i)} = \max_{j\le i}\min(1, (m-j+1)p_{(j)})`.

    These equal ``statsmodels.stats.multitest.multipletests`` with ``fdr_bh``, ``fdr_by`` and
    ``holm`` (the test oracle) up to floating-point rounding; ties keep input order.

    References
    ----------
    .. [1] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. Journal of
       the Royal Statistical Society B, 57(1), 289-300.
    .. [2] Benjamini, Y., & Yekutieli, D. (2001). The control of the false discovery rate in
       multiple testing under dependency. Annals of Statistics, 29(4), 1165-1188.
    .. [3] Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
       Journal of Statistics, 6(2), 65-70.
    """
    p, kind, level, ids = _adjust_pvalues_iv(pvalues, method, alpha, hypothesis_ids)
    m = p.shape[0]
    order = np.argsort(p, kind="stable")
    sorted_p = p[order]
    rank = np.arange(1, m + 1, dtype=np.float64)
    if kind == "holm":
        stepped = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1.0) * sorted_p))
    else:
        factor = float(np.sum(1.0 / rank)) if kind == "by" else 1.0
        raw = np.minimum(1.0, sorted_p * (m * factor) / rank)
        stepped = np.minimum.accumulate(raw[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return AdjustedPValues(
        method=kind,
        pvalues=tuple(float(x) for x in p),
        adjusted=tuple(float(x) for x in adjusted),
        rejected=tuple(bool(x <= level) for x in adjusted),
        alpha=level,
        hypothesis_ids=ids,
    )


def benjamini_hochberg(
    pvalues: np.ndarray, *, alpha: float = 0.05, hypothesis_ids: Sequence[str] | None = None
) -> AdjustedPValues:
    """Benjamini-Hochberg step-up adjusted p-values; see :func:`adjust_pvalues`."""
    return adjust_pvalues(pvalues, method="bh", alpha=alpha, hypothesis_ids=hypothesis_ids)


def benjamini_yekutieli(
    pvalues: np.ndarray, *, alpha: float = 0.05, hypothesis_ids: Sequence[str] | None = None
) -> AdjustedPValues:
    """Benjamini-Yekutieli step-up adjusted p-values; see :func:`adjust_pvalues`."""
    return adjust_pvalues(pvalues, method="by", alpha=alpha, hypothesis_ids=hypothesis_ids)


def holm(
    pvalues: np.ndarray, *, alpha: float = 0.05, hypothesis_ids: Sequence[str] | None = None
) -> AdjustedPValues:
    """Holm step-down adjusted p-values; see :func:`adjust_pvalues`."""
    return adjust_pvalues(pvalues, method="holm", alpha=alpha, hypothesis_ids=hypothesis_ids)
