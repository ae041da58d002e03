"""The parts of a factor fit the signals rarely read, moved out of memory into mapped scratch files.

A report holds its factor fit while the signals are computed: two betas, the intercept, the
in-window R² and the residuals, one (time x asset) grid each — 670 MB at 500 assets x 4 years of
hourly bars, more than the panel. The built-in signals read the residuals only; a signal plugin
may read any part. So the residuals stay in memory and every other grid is written to a scratch
file and replaced by a copy-on-write memory map of it: a signal that reads a beta gets exactly
the values (and memory order) it would have had, paged in from the file as it reads them; grids
nobody reads never come back into memory.

The files are unlinked as soon as they are mapped (a mapping keeps its file alive on POSIX), so
nothing is left behind when the report stops for any reason; the disk space returns when the fit
is let go.

A new fit is parked *as it is computed* (:class:`ScratchFitOutputs`: the fit writes its betas,
alpha and R² into preallocated shared maps of scratch files, and the pages of each block of
assets go back to the system once written), and a reused fit is decoded into the same kind of
maps. Writing or decoding a fit file reads every grid once for the values digest and once for
the record batches; :func:`release_parked_pages`, called between blocks, hands the pages just
read back, so storing or reusing a fit never brings the parked grids into memory together.
Grids under :data:`PARK_MIN_BYTES` stay in memory: parking them would cost more time than the
memory is worth.
"""

from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.pipeline.report.signal_store import single_float_block
from crypto_analyzer.research import FactorFit

__all__ = [
    "PARK_MIN_BYTES",
    "ScratchFitOutputs",
    "park_unread_fit_parts",
    "release_parked_pages",
    "select_and_park",
]

PARK_MIN_BYTES = 1 << 26
"""Grids smaller than this (64 MiB: 8 M cells, e.g. 250 assets x 1 year of hourly bars) stay in
memory: there parking buys little memory and costs time (reading a stored 200-asset fit back
took 1.12x a refit with parking, 0.94x without; ``benchmarks/bench_factors.py``)."""


def park_unread_fit_parts(
    fit: FactorFit, directory: Path | None = None, *, min_bytes: int = PARK_MIN_BYTES
) -> FactorFit:
    """``fit`` with its betas, alpha, R² and counts mapped from scratch files (residuals kept).

    ``directory``: where the scratch files go (default: the temporary directory, ``TMPDIR``).
    A grid that is not one float64 block, is parked already or is smaller than ``min_bytes``
    is kept as it is.
    """
    root = _scratch_directory(directory)
    try:
        park = _parker(root, min_bytes)
        return replace(
            fit,
            betas={factor: park(frame) for factor, frame in fit.betas.items()},
            alpha=park(fit.alpha),
            r2=None if fit.r2 is None else park(fit.r2),
            n_obs=None if fit.n_obs is None else park(fit.n_obs),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)  # mapped files live on until they are unmapped


def select_and_park(
    fit: FactorFit,
    assets: Sequence[Hashable] | pd.Index,
    directory: Path | None = None,
    *,
    min_bytes: int = PARK_MIN_BYTES,
) -> FactorFit:
    """``park_unread_fit_parts(fit.select_assets(assets))``, one grid at a time.

    Narrowing a parked fit to a smaller universe copies every grid; each copy is parked and the
    pages its source's map read are handed back before the next grid is copied, so the copies
    are never in memory together (nor the parked grids they were read from)."""
    root = _scratch_directory(directory)
    try:
        park = _parker(root, min_bytes)

        def then(selected: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
            parked = park(selected)
            values = single_float_block(source)
            if values is not None and source is not selected:
                _drop_pages(values)
            return parked

        return fit.select_assets(assets, then=then)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # mapped files live on until they are unmapped


def _parker(root: Path, min_bytes: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    counter = iter(range(1 << 30))

    def park(frame: pd.DataFrame) -> pd.DataFrame:
        values = single_float_block(frame)
        if values is None or values.nbytes < min_bytes or _mapping_of(values) is not None:
            return frame
        path = root / f"{next(counter)}.npy"
        try:
            np.save(path, values, allow_pickle=False)
        except OSError as exc:
            raise _scratch_error(path, exc) from exc
        # copy-on-write: readable and writable like the in-memory grid, never written back
        mapped = np.asarray(np.load(path, mmap_mode="c", allow_pickle=False))
        return pd.DataFrame(mapped, index=frame.index, columns=frame.columns, copy=False)

    return park


def _scratch_error(path: Path, exc: OSError) -> CryptoAnalyzerError:
    return CryptoAnalyzerError(
        f"cannot write the factor fit scratch file {path}: {exc.strerror or exc}",
        "free disk space in the temporary directory (TMPDIR), or point TMPDIR at a writable "
        "directory, and run the report again",
    )


class ScratchFitOutputs:
    """:class:`~crypto_analyzer.research.FitOutputs` that park a fit while it is computed.

    Every grid but the residuals is a shared map of a scratch file, preallocated (a full disk
    is an error here, not a crash when a page is first written) and unlinked at once; after each
    block of assets the written pages go back to the system, so a fit never holds its betas,
    alpha and R² in memory — the page cache and the file hold them. The frames of the fit are
    already parked: :func:`park_unread_fit_parts` leaves them as they are.
    """

    def __init__(self, directory: Path | None = None, *, min_bytes: int = PARK_MIN_BYTES) -> None:
        self._directory = directory
        self._min_cells = -(-min_bytes // np.dtype(np.float64).itemsize)
        self._maps: list[np.memmap] = []

    def grid(self, name: Hashable, shape: tuple[int, int]) -> np.ndarray:
        """An asset-major grid for the fit (:class:`~crypto_analyzer.research.FitOutputs`)."""
        # the residuals (what the signals read) and small grids stay in memory
        if name == "residual" or shape[0] * shape[1] < self._min_cells:
            return np.empty(shape, order="F")
        return self._mapped(shape, "F")

    def flat(self, column: str, cells: int) -> np.ndarray:
        """A column of a fit file to decode into (``decode_factor_fit``'s ``allocate``)."""
        if column == "residual" or cells < self._min_cells:
            return np.empty(cells, dtype=np.float64)
        return self._mapped((cells,), "C")

    def _mapped(self, shape: tuple[int, ...], order: Literal["C", "F"]) -> np.memmap:
        size = int(np.prod(shape)) * np.dtype(np.float64).itemsize
        root = _scratch_directory(self._directory)
        path = root / "grid.f8"
        try:
            with open(path, "wb") as handle:
                if size and hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(handle.fileno(), 0, size)
                else:
                    handle.truncate(size)
            mapped = np.memmap(path, dtype=np.float64, mode="r+", shape=shape, order=order)
        except OSError as exc:
            raise _scratch_error(path, exc) from exc
        finally:
            shutil.rmtree(root, ignore_errors=True)  # the map keeps the file until it goes
        self._maps.append(mapped)
        return mapped

    def block_done(self) -> None:
        for mapped in self._maps:
            _drop_pages(mapped)


def release_parked_pages(fit: FactorFit) -> None:
    """Hand the pages of the parked grids that were read back to the system.

    A shared map's pages stay in its file; a copy-on-write map's pages are clean copies of its
    file as long as nobody wrote to them: either way dropping them loses nothing and the next
    read faults them in again. So only for a fit no one else has held yet —
    :class:`~crypto_analyzer.pipeline.factor_runs.MaterializedFactorFits` calls it while it
    stores its own fresh fit."""
    frames = [*fit.betas.values(), fit.alpha, fit.r2, fit.n_obs]
    for frame in frames:
        values = None if frame is None else single_float_block(frame)
        if values is not None:
            _drop_pages(values)


def _drop_pages(values: np.ndarray) -> None:
    """Unmap the resident pages of the file map under ``values`` (they stay in the file and
    the page cache; the next read faults them in again)."""
    mapping = _mapping_of(values)
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)


def _mapping_of(values: np.ndarray) -> mmap.mmap | None:
    """The memory map under ``values`` (a view of a :class:`numpy.memmap`), if there is one."""
    base: object = values
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            found = getattr(base, "_mmap", None)
            return found if isinstance(found, mmap.mmap) else None
        base = base.base
    return None


def _scratch_directory(directory: Path | None) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix="crypto-analyzer-fit-", dir=directory))
    except OSError as exc:
        raise _scratch_error(directory or Path(tempfile.gettempdir()), exc) from exc
