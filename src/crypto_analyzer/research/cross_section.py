"""Cross-sectional normalisation: winsorised z-scores, ranks and sequential orthogonalisation.

Signals are compared across assets at one timestamp, never across time, so every operation here
works row by row (one row = one timestamp's cross-section). Nothing here looks at another row, which
is why these steps need no fitting and cannot leak across folds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.row_blocks import row_blocks, rows_like
from crypto_analyzer.research._checks import as_float_array, check_float, check_frame, check_int
from crypto_analyzer.research._rowstats import row_quantiles, row_ranks

__all__ = ["cs_rank", "cs_zscore", "orthogonalize"]


def _cs_zscore_iv(frame: Any, winsor_quantile: Any, min_assets: Any) -> tuple[float, int]:
    check_frame("frame", frame)
    q = check_float("winsor_quantile", winsor_quantile, minimum=0.0, maximum=0.49)
    return q, check_int("min_assets", min_assets, minimum=2)


def cs_zscore(
    frame: pd.DataFrame, *, winsor_quantile: float = 0.01, min_assets: int = 3
) -> pd.DataFrame:
    """Winsorised cross-sectional z-score per timestamp.

    Each row is clipped to its own ``[q, 1 - q]`` quantiles (linear interpolation, NaN ignored),
    then centred by the row mean and scaled by the row standard deviation (``ddof=0``). Clipping
    first keeps one exploding coin from compressing everyone else's score toward zero.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw signal, time x asset; NaN = not available.
    winsor_quantile : float
        Tail quantile clipped on each side, in ``[0, 0.49]``; 0 disables clipping.
    min_assets : int
        Rows with fewer finite values (or zero dispersion) become all NaN.

    Returns
    -------
    pandas.DataFrame
        Same shape; each row has mean 0 and standard deviation 1 over its finite entries.
    """
    q, min_assets = _cs_zscore_iv(frame, winsor_quantile, min_assets)
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    # Column-major, the layout a pandas copy of it had, so the frame wraps it without that copy.
    out = np.full(values.shape, np.nan, order="F")
    # Row by row by construction, so a block of rows at a time: the sort, clip and centring
    # temporaries are a block's size, not several copies of the panel.
    for block in row_blocks(*values.shape):
        out[block] = _zscore_rows(rows_like(values, block), q, min_assets)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns, copy=False)


def _zscore_rows(arr: np.ndarray, q: float, min_assets: int) -> np.ndarray:
    """:func:`cs_zscore` of the rows of ``arr`` (NaN = missing; the input check refused inf)."""
    out = np.full(arr.shape, np.nan)
    n = np.sum(~np.isnan(arr), axis=1)
    rows = n >= min_assets
    if rows.any():
        sub = arr[rows]
        if q > 0:
            lo, hi = row_quantiles(sub, (q, 1.0 - q))
            sub = np.clip(sub, lo[:, None], hi[:, None])
        mean = np.nanmean(sub, axis=1, keepdims=True)
        std = np.nanstd(sub, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (sub - mean) / std
        z[(std[:, 0] <= 0) | ~np.isfinite(std[:, 0])] = np.nan
        out[rows] = z
    return out


def _cs_rank_iv(frame: Any) -> None:
    check_frame("frame", frame)


def cs_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Cross-sectional percentile rank per timestamp, centred to ``[-0.5, 0.5]``.

    Average ranks for ties; ``(rank - 1) / (n - 1) - 0.5``. A row with one finite value gets 0.
    """
    _cs_rank_iv(frame)
    arr = as_float_array(frame)
    ranks = row_ranks(arr)
    n = np.sum(~np.isnan(arr), axis=1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n > 1, (ranks - 1.0) / (n - 1.0) - 0.5, 0.0)
    pct[np.isnan(arr)] = np.nan
    return pd.DataFrame(pct, index=frame.index, columns=frame.columns)


def _orthogonalize_iv(signals: Any, min_assets: Any) -> tuple[list[str], int]:
    if not isinstance(signals, Mapping):
        raise TypeError(f"signals must be a mapping name -> DataFrame, got {type(signals)}")
    if len(signals) == 0:
        raise ValueError("signals must not be empty")
    names = list(signals)
    ref = None
    for name in names:
        frame = check_frame(f"signals[{name!r}]", signals[name])
        if ref is None:
            ref = frame
        elif not frame.index.equals(ref.index) or not frame.columns.equals(ref.columns):
            raise ValueError(f"signals[{name!r}] is not aligned with signals[{names[0]!r}]")
    return names, check_int("min_assets", min_assets, minimum=3)


def orthogonalize(
    signals: Mapping[str, pd.DataFrame], *, min_assets: int = 3
) -> dict[str, pd.DataFrame]:
    """Sequential (Gram-Schmidt) cross-sectional orthogonalisation, in the mapping's order.

    At every timestamp the first signal is z-scored; each later signal is z-scored, has its
    cross-sectional projection on every earlier (already orthogonalised) signal removed, and is
    z-scored again. The k-th output therefore carries only what the k-th signal adds beyond the
    ones before it, so order expresses priority (e.g. momentum before its residual-momentum
    refinement).

    Only assets finite in *every* signal at a timestamp take part; the rest are NaN in the output.
    No clipping is applied here; winsorise beforehand with :func:`cs_zscore`.

    Returns
    -------
    dict of str to pandas.DataFrame
        Same keys and order; each row has mean 0, std 1 and zero cross-sectional inner product with
        every earlier output row.
    """
    names, min_assets = _orthogonalize_iv(signals, min_assets)
    ref = signals[names[0]]
    stack = np.stack([as_float_array(signals[name]) for name in names])
    valid = ~np.isnan(stack).any(axis=0)
    valid &= valid.sum(axis=1, keepdims=True) >= min_assets
    n = valid.sum(axis=1).astype(float)
    basis: list[np.ndarray] = []
    result: dict[str, pd.DataFrame] = {}
    for name, raw in zip(names, stack, strict=True):
        vec = np.nan_to_num(_masked_z(raw, valid, n), nan=0.0)
        for b in basis:
            with np.errstate(invalid="ignore", divide="ignore"):
                coef = np.where(n > 0, np.sum(vec * b, axis=1) / n, 0.0)
            vec = vec - coef[:, None] * b
        vec = _masked_z(vec, valid, n)
        basis.append(np.where(np.isnan(vec), 0.0, vec))
        result[name] = pd.DataFrame(vec, index=ref.index, columns=ref.columns)
    return result


def _masked_z(arr: np.ndarray, valid: np.ndarray, n: np.ndarray) -> np.ndarray:
    x = np.where(valid, arr, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=1) / n
        dev = np.where(valid, x - mean[:, None], 0.0)
        std = np.sqrt((dev * dev).sum(axis=1) / n)
        z = dev / std[:, None]
    bad = ~(std > 1e-12 * (1.0 + np.abs(mean)))
    z[bad] = np.nan
    z[~valid] = np.nan
    return z
