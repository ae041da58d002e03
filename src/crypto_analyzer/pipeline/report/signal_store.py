"""Signal panels computed once, parked on local disk, read back one at a time.

A report evaluates every signal in several stages (preflight checks, walk-forward IC, portfolios,
tear sheets). Holding all of them in memory costs one full (time x asset) grid each, which at
500 assets x 4 years of hourly bars is 140 MB per signal, more than the panel itself. Recomputing
a signal on every use is not an option either: factor signals need the factor fit, the largest
object of a report, which is let go once the signals exist.

So each signal is written to a scratch file as soon as it is computed (``numpy.save`` keeps the
array's memory order) and every read builds a fresh frame over the loaded array without a copy.
Only the frame a stage is working on is resident; a read is a sequential read of a file the page
cache usually still holds. The values and their memory layout are exactly the computed frame's,
so every later reduction sums in the same order and the report's numbers do not change.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from crypto_analyzer.core.errors import CryptoAnalyzerError

__all__ = ["SignalStore", "single_float_block"]


class SignalStore(Mapping[str, pd.DataFrame]):
    """A read-only mapping name -> signal frame whose values live in scratch files.

    Use as a context manager (or call :meth:`close`): the scratch directory is removed on exit,
    on success and on error alike. A frame that is not one float64 block (nothing the signal
    registry returns today) is kept in memory rather than written, so no layout is ever changed.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="crypto-analyzer-signals-", dir=directory))
        self._shapes: dict[str, tuple[pd.Index, pd.Index, Path]] = {}
        self._resident: dict[str, pd.DataFrame] = {}
        self._order: list[str] = []

    def add(self, name: str, frame: pd.DataFrame) -> None:
        """Park ``frame`` under ``name`` (names are unique; the caller drops its reference)."""
        if name in self._order:
            raise ValueError(f"signal {name!r} is already stored")
        values = single_float_block(frame)
        if values is None:
            self._resident[name] = frame
        else:
            path = self._root / f"{len(self._order)}.npy"
            try:
                np.save(path, values, allow_pickle=False)
            except OSError as exc:
                raise CryptoAnalyzerError(
                    f"cannot write the signal scratch file {path}: {exc.strerror or exc}",
                    "free disk space in the temporary directory (TMPDIR) and run the report again",
                ) from exc
            self._shapes[name] = (frame.index, frame.columns, path)
        self._order.append(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self._resident:
            return self._resident[name]
        index, columns, path = self._shapes[name]
        values = np.load(path, allow_pickle=False)
        return pd.DataFrame(values, index=index, columns=columns, copy=False)

    def __contains__(self, name: object) -> bool:  # without reading the file (Mapping's would)
        return name in self._shapes or name in self._resident

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def close(self) -> None:
        """Remove the scratch files; the store is empty afterwards."""
        shutil.rmtree(self._root, ignore_errors=True)
        self._shapes.clear()
        self._resident.clear()
        self._order.clear()

    def __enter__(self) -> SignalStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def single_float_block(frame: pd.DataFrame) -> np.ndarray | None:
    """The frame's values as the (rows, columns) view of its one float64 block, else ``None``.

    Saving this view and wrapping the loaded array again gives a block with the same memory
    order as the original, which is what keeps row and column reductions bit-identical."""
    blocks = frame._mgr.blocks
    if len(blocks) != 1 or frame.shape[1] == 0:
        return None
    block = blocks[0].values
    if not isinstance(block, np.ndarray) or block.dtype != np.float64:
        return None
    locs = blocks[0].mgr_locs
    if not locs.is_slice_like or locs.as_slice != slice(0, frame.shape[1], 1):
        return None  # the block's rows are not the frame's columns in order
    values = block.T
    if not (values.flags.c_contiguous or values.flags.f_contiguous):
        return None
    return values
