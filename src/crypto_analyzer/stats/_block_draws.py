"""Block-bootstrap draws as (start, length) pairs, and the two ways to turn them into means.

A stationary or circular block-bootstrap resample is fully described by its blocks: where each one
starts and how long it is. Drawing those (about ``n / b`` numbers per resample) instead of deciding
at every one of the ``n`` positions whether a new block starts is what makes the draw cheap; the
resamples have the same distribution (Politis & Romano 1994: block lengths i.i.d. geometric with
mean ``b``, starts i.i.d. uniform, the concatenation truncated to ``n``).

The bootstrap means then come from either

* **prefix sums**: the sum over a block is a difference of two prefix sums of the (centred) data,
  so one resample's sum is a sparse combination of about ``2 n / b`` prefix-sum rows - far fewer
  operations than the count-matrix product when blocks are long; or
* **the count matrix** (how often each time point appears in each resample) times the data, one
  GEMM; the counts are built from block differences and a running sum, never from an expanded
  index matrix. This wins when blocks are short (many blocks per resample).

Both paths see the same draws; they differ only in floating-point rounding. Which one runs is a
function of ``(n, b)`` alone, so results are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from functools import partial

import numpy as np
from scipy import sparse

try:  # scipy's CSR x dense kernel (what ``csr @ dense`` runs), to write into a given output
    from scipy.sparse._sparsetools import csr_matvecs as _matvecs
except ImportError:  # pragma: no cover - private scipy module moved: fall back to ``@``
    _matvecs = None

from crypto_analyzer.stats._threads import run_all

__all__: list[str] = []

CHUNK = 500
"""Draws generated per chunk. Fixed (never data dependent) so streams are reproducible."""

PREFIX_MIN_BLOCK = 24.0
"""Mean block length from which the prefix-sum path is used. The sparse product costs about
``2 n / b`` row operations per draw against ``n`` for the count-matrix GEMM, but a sparse
multiply-add (a gathered row, one thread) is 10-20x slower than a BLAS one. Measured at N = 200,
T = 5,000 on a loaded 2-core machine: counts clearly faster at b = 5, the two about even near
b = 20, prefix sums 2-5x faster at b = 70."""


def block_chunks(
    n: int, method: str, block_length: float, reps: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(starts, lengths)`` per chunk of draws, each ``(chunk, m)``, one row per draw.

    Row ``r`` resamples the concatenation of the blocks ``starts[r, j], ..., starts[r, j] +
    lengths[r, j] - 1`` (modulo ``n``) in column order; a row's lengths sum to ``n`` (trailing
    blocks not needed have length 0).
    """
    done = 0
    while done < reps:
        size = min(CHUNK, reps - done)
        if method == "stationary":
            starts, lengths = _stationary_blocks(n, block_length, size, rng)
        else:
            length = int(block_length)
            n_blocks = math.ceil(n / length)
            starts = rng.integers(0, n, size=(size, n_blocks), dtype=np.int64)
            lengths = np.full((size, n_blocks), length, dtype=np.int64)
            lengths[:, -1] = n - length * (n_blocks - 1)
        done += size
        yield starts, lengths


def _stationary_blocks(
    n: int, block_length: float, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Geometric lengths (mean ``block_length``) and uniform starts, truncated to ``n``.

    A batch of ``width`` blocks per draw (mean plus six standard deviations of the number needed)
    covers ``n`` with overwhelming probability; if some draw is not covered, another batch is drawn
    for every row of the chunk, so the stream never depends on which rows fell short.
    """
    p = 1.0 / block_length
    expected = n * p
    width = math.ceil(expected + 6.0 * math.sqrt(expected) + 2.0)
    length_parts: list[np.ndarray] = []
    start_parts: list[np.ndarray] = []
    covered = np.zeros(size, dtype=np.int64)
    while True:
        length_parts.append(rng.geometric(p, size=(size, width)).astype(np.int64))
        start_parts.append(rng.integers(0, n, size=(size, width), dtype=np.int64))
        covered += length_parts[-1].sum(axis=1)
        if covered.min() >= n:
            break
    raw = length_parts[0] if len(length_parts) == 1 else np.concatenate(length_parts, axis=1)
    starts = start_parts[0] if len(start_parts) == 1 else np.concatenate(start_parts, axis=1)
    offsets = np.cumsum(raw, axis=1) - raw
    return starts, np.clip(n - offsets, 0, raw)


def block_indices(starts: np.ndarray, lengths: np.ndarray, n: int) -> np.ndarray:
    """The ``(rows, n)`` time indices a block draw resamples."""
    offsets = np.cumsum(lengths, axis=1) - lengths
    shift = np.repeat((starts - offsets).ravel(), lengths.ravel())
    out = shift.reshape(starts.shape[0], n) + np.arange(n, dtype=np.int64)
    out %= n
    return out


def block_counts(starts: np.ndarray, lengths: np.ndarray, n: int) -> np.ndarray:
    """``(rows, n)`` float64 count matrix of a block draw, without expanding the indices.

    Each block adds +1 at its start and -1 one past its end to a difference row (a block that
    wraps is split at ``n``); a running sum along the row turns differences into counts.
    """
    rows = starts.shape[0]
    size = rows * (n + 1)
    base = (np.arange(rows, dtype=np.int64) * (n + 1))[:, None]
    ends = starts + lengths
    # Unused blocks (length 0) add +1 and -1 at the same place: they cancel, no masking needed.
    diff = np.bincount((base + starts).ravel(), minlength=size)
    diff -= np.bincount((base + np.minimum(ends, n)).ravel(), minlength=size)
    wrap = ends > n
    if wrap.any():
        wrap_base = np.broadcast_to(base, starts.shape)[wrap]
        np.add.at(diff, wrap_base, 1)
        np.add.at(diff, wrap_base + ends[wrap] - n, -1)
    return np.cumsum(diff.reshape(rows, n + 1)[:, :n], axis=1, dtype=np.float64)


def prefix_sums(data: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """``(n + 1, N)`` running sums of the column-centred data, starting with a row of zeros.

    ``mean`` is ``data.mean(axis=0)`` when the caller already has it.
    """
    n = data.shape[0]
    centre = data.mean(axis=0) if mean is None else mean
    out = np.empty((n + 1, data.shape[1]), dtype=np.float64)
    out[0] = 0.0
    rows = list(out)  # row views made once, not one slice per add
    add = np.add
    # Row by row: numpy's cumsum down axis 0 of a C-ordered array walks it column-wise, ~5x
    # slower at 5,000 x 1,000 than these contiguous row adds (same additions, same order). The
    # centring runs a few rows ahead of the adds, so each row is still in cache when it is added.
    for first in range(1, n + 1, _PREFIX_ROWS):
        last = min(first + _PREFIX_ROWS, n + 1)
        np.subtract(data[first - 1 : last - 1], centre, out=out[first:last])
        for row in range(first, last):
            add(rows[row - 1], rows[row], out=rows[row])
    return out


_PREFIX_ROWS = 64
"""Rows centred per step of :func:`prefix_sums` (a 64 x 1,000 block is 0.5 MB: stays in L2)."""


def prefix_block_sums(
    starts: np.ndarray,
    lengths: np.ndarray,
    prefix: np.ndarray,
    n: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``(rows, N)`` resample sums of the centred data from its prefix sums (sparse product).

    A block ``[s, s + l)`` that does not wrap sums to ``P[s + l] - P[s]``; one that wraps sums to
    ``P[n] - P[s] + P[s + l - n]``. Each resample is a row of a sparse matrix over the ``n + 1``
    prefix rows with two or three entries per block, added in block order into a zeroed row.
    The sums are written into ``out`` (C-contiguous rows of the caller's array) when given.
    """
    rows = starts.shape[0]
    if out is None:
        out = np.empty((rows, prefix.shape[1]), dtype=np.float64)
    # Row blocks of the product are independent (the sparse kernel releases the GIL).
    run_all(_product_pieces(starts, lengths, prefix, n, out))
    return out


def all_prefix_block_sums(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], prefix: np.ndarray, n: int, out: np.ndarray
) -> None:
    """:func:`prefix_block_sums` of every chunk of draws into consecutive rows of ``out``.

    The pieces of all chunks go to the pool as the chunks are drawn, with no wait between
    chunks (each piece writes its own rows; the draws keep their stream order).
    """

    def pieces() -> Iterator[Callable[[], None]]:
        row = 0
        for starts, lengths in chunks:
            size = starts.shape[0]
            yield from _product_pieces(starts, lengths, prefix, n, out[row : row + size])
            row += size

    run_all(pieces())


def _product_pieces(
    starts: np.ndarray, lengths: np.ndarray, prefix: np.ndarray, n: int, out: np.ndarray
) -> list[Callable[[], None]]:
    step = -(-starts.shape[0] // PIECES)
    return [
        partial(
            _product_piece,
            starts[first : first + step],
            lengths[first : first + step],
            prefix,
            n,
            out[first : first + step],
        )
        for first in range(0, starts.shape[0], step)
    ]


def _product_piece(
    starts: np.ndarray, lengths: np.ndarray, prefix: np.ndarray, n: int, out: np.ndarray
) -> None:
    indptr, indices, values = _block_rows(starts, lengths, n)
    _csr_times_dense(indptr, indices, values, prefix, out)


PIECES = 4
"""Row pieces per chunk of the sparse product, run on the kernel pool (each builds its own rows)."""


def _block_rows(
    starts: np.ndarray, lengths: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR ``(indptr, indices, values)`` of the prefix-row combination of each resample.

    Per block three slots (start ``-1``, end ``+1``, wrap tail ``+1``); unused slots are dropped
    row-major, so each row lists its entries in block order.
    """
    used = lengths > 0
    first = np.where(used, starts, 0)
    ends = first + lengths
    wrap = used & (ends > n)
    columns = np.stack([first, np.minimum(ends, n), np.where(wrap, ends - n, 0)], axis=2)
    keep = np.stack([used, used, wrap], axis=2)
    signs = np.broadcast_to(np.array([-1.0, 1.0, 1.0]), keep.shape)
    indptr = np.zeros(starts.shape[0] + 1, dtype=np.int64)
    np.cumsum(keep.reshape(starts.shape[0], -1).sum(axis=1), out=indptr[1:])
    return indptr, columns[keep], signs[keep]


def _csr_times_dense(
    indptr: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    dense: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out = csr @ dense`` with scipy's CSR kernel: each row starts at 0.0 and adds its entries'
    ``value * dense[index]`` in CSR order.

    Calling the kernel on the caller's rows (a zeroed slice of the final array) skips the product
    scipy's ``@`` allocates and the copy into place - two passes over the output; without the
    kernel (an older or newer scipy) it falls back to ``@``, the same arithmetic.
    """
    rows = indptr.shape[0] - 1
    if _matvecs is None or not out.flags.c_contiguous:
        matrix = sparse.csr_matrix((values, indices, indptr), shape=(rows, dense.shape[0]))
        out[...] = matrix @ dense
        return
    out.fill(0.0)
    _matvecs(
        rows, dense.shape[0], dense.shape[1], indptr, indices, values, dense.ravel(), out.ravel()
    )
