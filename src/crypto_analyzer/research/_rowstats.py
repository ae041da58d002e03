"""Row-wise (cross-sectional) kernels on 2-D float arrays, NaN-aware and fully vectorised.

These are the hot loops of the research layer: ranking every timestamp's cross-section and
correlating two panels row by row. They work on whole ``(n_times, n_assets)`` arrays at once; NaN
marks a missing value and is excluded row by row.
"""

from __future__ import annotations

import numpy as np

from crypto_analyzer.core.row_blocks import is_column_major

__all__: list[str] = []

_MAGNITUDE = np.int64(0x7FFF_FFFF_FFFF_FFFF)
_MAX_INDEX_BITS = 16


def row_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) within each row, NaN kept as NaN.

    Ties get the mean of the ranks they span, as in ``scipy.stats.rankdata(method="average")``, so
    a Pearson correlation of these ranks is Spearman's rho with the usual tie correction.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"row_ranks expects a 2-D array, got ndim={arr.ndim}")
    return masked_ranks(arr, ~np.isnan(arr), fill=np.nan)


def masked_ranks(values: np.ndarray, valid: np.ndarray, *, fill: float) -> np.ndarray:
    """Average ranks within each row over the entries where ``valid``; ``fill`` elsewhere.

    ``values`` must be finite where ``valid``. The fast path needs no ``argsort`` (which has no
    SIMD kernel for 64-bit keys on most CPUs): each float is mapped to an order-preserving int64
    key, its lowest ``b`` bits are replaced by the column index (``2**b >= n_cols``), and one plain
    ``sort`` of those packed keys yields both the sorted order and, in the low bits, the column of
    each sorted entry. Neighbours whose truncated keys are equal are either real ties (equal
    values, e.g. at winsorisation bounds), which get the average of the ranks they span, or values
    within ``2**b`` units in the last place of each other, whose rows are recomputed exactly by
    :func:`_exact_ranks` (practically never).
    """
    n_rows, n_cols = values.shape
    if n_rows == 0 or n_cols == 0:
        return np.full(values.shape, fill, dtype=np.float64)
    bits = max(1, (n_cols - 1).bit_length())
    if bits > _MAX_INDEX_BITS:
        return _exact_ranks(values, valid, fill)
    key, cols, n = _sorted_keys(values, valid, bits)
    pos = np.arange(n_cols)
    inside = pos < n[:, None]
    ranks = np.where(inside, pos + 1.0, fill)
    merged = key[:, 1:] == key[:, :-1]
    merged &= inside[:, :-1]
    exact_rows = np.zeros(0, dtype=np.int64)
    redo = np.flatnonzero(merged.any(axis=1))
    if redo.size:
        ordered = np.take_along_axis(values[redo], cols[redo], axis=1)
        near = merged[redo] & ~(ordered[:, 1:] == ordered[:, :-1])
        is_near = near.any(axis=1)
        tied = redo[~is_near]
        if tied.size:
            tie = np.zeros((tied.size, n_cols), dtype=bool)
            tie[:, 1:] = merged[tied]
            ranks[tied] = _average_ties(tie, inside[tied], fill)
        exact_rows = redo[is_near]
    cols += (np.arange(n_rows, dtype=np.int64) * n_cols)[:, None]
    out = np.empty(values.shape, dtype=np.float64)
    out.ravel()[cols.ravel()] = ranks.ravel()
    if exact_rows.size:
        out[exact_rows] = _exact_ranks(values[exact_rows], valid[exact_rows], fill)
    return out


def _sorted_keys(
    values: np.ndarray, valid: np.ndarray, bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort each row by value via packed int64 keys (see :func:`masked_ranks`).

    Returns the sorted keys with the index bits shifted out (equal neighbours = equal or
    nearly equal values), the column of each sorted entry, and the valid count per row. Invalid
    entries sort last.
    """
    low = (1 << bits) - 1
    # One row-major working copy (inputs are often column-major views of a DataFrame); adding
    # +0.0 turns -0.0 into +0.0 so the two tie, as they compare equal.
    work = np.empty(values.shape, dtype=np.float64)
    np.add(values, 0.0, out=work)
    np.copyto(work, np.inf, where=~valid)
    n = np.count_nonzero(work < np.inf, axis=1)  # row-major pass; ``valid`` may be column-major
    key = work.view(np.int64)
    key ^= (key >> 63) & _MAGNITUDE  # negative floats: flip magnitude bits -> monotone int64
    key &= ~low
    key |= np.arange(values.shape[1], dtype=np.int64)
    key.sort(axis=1)
    cols = key & low
    key >>= bits
    return key, cols, n


def _exact_ranks(values: np.ndarray, valid: np.ndarray, fill: float) -> np.ndarray:
    """Reference ranking: ``argsort`` plus tie averaging on neighbours in sorted order."""
    n_cols = values.shape[1]
    filled = np.where(valid, values, np.inf)
    order = np.argsort(filled, axis=1)
    ordered = np.take_along_axis(filled, order, axis=1)
    n = valid.sum(axis=1)
    inside = np.arange(n_cols) < n[:, None]
    tie = np.zeros(values.shape, dtype=bool)
    tie[:, 1:] = (ordered[:, 1:] == ordered[:, :-1]) & inside[:, 1:]
    out = np.empty(values.shape, dtype=np.float64)
    np.put_along_axis(out, order, _average_ties(tie, inside, fill), axis=1)
    return out


def _average_ties(tie: np.ndarray, inside: np.ndarray, fill: float) -> np.ndarray:
    """Average ranks in sorted order; ``tie[:, j]`` means position ``j`` equals position ``j-1``."""
    n_cols = tie.shape[1]
    pos = np.broadcast_to(np.arange(n_cols), tie.shape)
    ends = np.ones(tie.shape, dtype=bool)
    ends[:, :-1] = ~tie[:, 1:]
    first = np.maximum.accumulate(np.where(tie, 0, pos), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, n_cols - 1)[:, ::-1], axis=1)[:, ::-1]
    return np.where(inside, 0.5 * (first + last) + 1.0, fill)


def row_quantiles(values: np.ndarray, quantiles: tuple[float, ...]) -> list[np.ndarray]:
    """Per-row quantiles ignoring NaN, with linear interpolation (numpy's default method).

    ``numpy.nanquantile(axis=1)`` loops over rows in Python; here one sort of the whole array
    (NaN sorts last) and a gather at the interpolation points serve every row at once. Between the
    two neighbouring order statistics ``a <= b`` at fraction ``t`` the value is ``a + (b - a) t``
    for ``t < 1/2`` and ``b - (b - a)(1 - t)`` otherwise, which keeps the result inside ``[a, b]``
    and equal to numpy's. Rows without a finite value give NaN.
    """
    ordered = np.sort(values, axis=1)
    n = np.sum(~np.isnan(values), axis=1)
    rows = np.arange(values.shape[0])
    last = np.maximum(n - 1, 0)
    out = []
    for q in quantiles:
        h = last * q
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, last)
        t = h - lo
        a, b = ordered[rows, lo], ordered[rows, hi]
        diff = b - a
        val = np.where(t < 0.5, a + diff * t, b - diff * (1.0 - t))
        val[n == 0] = np.nan
        out.append(val)
    return out


def rank_corr(x: np.ndarray, y: np.ndarray, *, min_obs: int) -> tuple[np.ndarray, np.ndarray]:
    """Spearman correlation within each row over entries finite in both ``x`` and ``y``.

    Both sides are ranked over the jointly valid entries only. Fast path (rows without ties):
    sort each row of ``x`` (:func:`_sorted_keys`), read ``y`` in that order, and sort those values
    with their ``x`` position packed into the key; the ``k``-th smallest ``y`` then carries its
    ``x`` rank ``j``, so ``sum(rx * ry) = sum_k (k + 1)(j_k + 1)`` without materialising either rank
    array. Without ties ``sum(r**2)`` is ``n(n + 1)(2n + 1) / 6``. Rows with ties on either side
    go through :func:`_rank_corr_by_ranks` (average ranks). All sums are exact in floating point
    (ranks are multiples of 1/2), so the result carries only the final division's rounding.
    """
    n_rows, n_cols = x.shape
    valid = ~(np.isnan(x) | np.isnan(y))
    bits = max(1, (n_cols - 1).bit_length())
    if n_rows == 0 or n_cols == 0 or bits > _MAX_INDEX_BITS:
        return _rank_corr_by_ranks(x, y, valid, min_obs)
    key_x, cols_x, n = _sorted_keys(x, valid, bits)
    pos = np.arange(n_cols)
    inside = pos < n[:, None]
    tied = key_x[:, 1:] == key_x[:, :-1]
    y_in_x_order = _gather_rows(y, cols_x)
    key_y, x_pos, _ = _sorted_keys(y_in_x_order, inside, bits)
    tied |= key_y[:, 1:] == key_y[:, :-1]
    tied &= inside[:, :-1]
    x_pos += 1
    x_pos[~inside] = 0
    sxy_raw = x_pos @ (pos + 1).astype(np.int64)  # exact integer arithmetic
    nf = n.astype(np.float64)
    centre = nf * ((nf + 1.0) / 2.0) ** 2
    sxx = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 6.0 - centre
    sxy = sxy_raw.astype(np.float64) - centre
    bad = (n < min_obs) | ~(sxx > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(bad, np.nan, sxy / sxx)
    redo = np.flatnonzero(tied.any(axis=1))
    if redo.size:
        corr[redo], _ = _rank_corr_by_ranks(x[redo], y[redo], valid[redo], min_obs)
    return np.clip(corr, -1.0, 1.0), n


def _gather_rows(values: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``values[i, cols[i, j]]`` for every ``(i, j)``, without copying a column-major input."""
    n_rows, n_cols = values.shape
    rows = np.arange(n_rows, dtype=np.int64)[:, None]
    if is_column_major(values):
        return np.take(values.ravel(order="F"), cols * n_rows + rows)
    return np.take(np.ascontiguousarray(values).ravel(), cols + rows * n_cols)


def _rank_corr_by_ranks(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray, min_obs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Spearman via explicit average ranks of both sides (handles ties)."""
    rx = masked_ranks(x, valid, fill=0.0)
    ry = masked_ranks(y, valid, fill=0.0)
    n = valid.sum(axis=1)
    nf = n.astype(np.float64)
    centre = nf * ((nf + 1.0) / 2.0) ** 2
    sxy = np.einsum("ij,ij->i", rx, ry) - centre
    sxx = np.einsum("ij,ij->i", rx, rx) - centre
    syy = np.einsum("ij,ij->i", ry, ry) - centre
    bad = (n < min_obs) | ~(sxx > 0) | ~(syy > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(bad, np.nan, sxy / np.sqrt(sxx * syy))
    return np.clip(corr, -1.0, 1.0), n


def row_corr(x: np.ndarray, y: np.ndarray, *, min_obs: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of ``x`` and ``y`` within each row, over entries finite in both.

    Returns
    -------
    corr : numpy.ndarray
        One value per row; NaN when fewer than ``min_obs`` joint observations or when either side is
        constant in the row.
    n : numpy.ndarray
        Joint observations per row.
    """
    mask = ~(np.isnan(x) | np.isnan(y))
    n = mask.sum(axis=1)
    xm = np.where(mask, x, 0.0)
    ym = np.where(mask, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = xm.sum(axis=1) / n
        my = ym.sum(axis=1) / n
        dx = np.where(mask, x - mx[:, None], 0.0)
        dy = np.where(mask, y - my[:, None], 0.0)
        sxy = (dx * dy).sum(axis=1)
        sxx = (dx * dx).sum(axis=1)
        syy = (dy * dy).sum(axis=1)
        corr = sxy / np.sqrt(sxx * syy)
    bad = (n < min_obs) | ~(sxx > 0) | ~(syy > 0)
    corr[bad] = np.nan
    return np.clip(corr, -1.0, 1.0, out=corr, where=~bad), n


def joint_mask(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``x`` and ``y`` with NaN wherever either is NaN."""
    bad = np.isnan(x) | np.isnan(y)
    return np.where(bad, np.nan, x), np.where(bad, np.nan, y)
