"""Forward returns: the labels a signal at bar ``t`` is scored against.

The label for horizon ``h`` at bar ``t`` is ``log(close_{t+h} / close_t)``: it starts at the close
on which the signal was computed and spans the next ``h`` bars. Its window ``[t, t + h]`` is what
purge and embargo must keep out of any training set that precedes a test block (see
:mod:`crypto_analyzer.research.splits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

import crypto_analyzer.core.row_blocks as row_blocks_module
from crypto_analyzer.research._checks import check_choice, check_horizons
from crypto_analyzer.research.panel import Panel

__all__ = ["DEFAULT_HORIZONS", "forward_returns"]

DEFAULT_HORIZONS: tuple[int, ...] = (1, 4, 12, 24)
"""Default label horizons in bars."""


def _forward_returns_iv(panel: Any, horizons: Any, kind: Any) -> tuple[tuple[int, ...], str]:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    return check_horizons("horizons", horizons), check_choice("kind", kind, ("log", "simple"))


def forward_returns(
    panel: Panel, *, horizons: Sequence[int] = DEFAULT_HORIZONS, kind: str = "log"
) -> dict[int, pd.DataFrame]:
    """Forward returns over each horizon, aligned to the bar at which they start.

    Parameters
    ----------
    panel : Panel
        Source of close prices.
    horizons : sequence of int
        Horizons in bars (default ``(1, 4, 12, 24)``).
    kind : {"log", "simple"}
        ``log(P_{t+h}/P_t)`` or ``P_{t+h}/P_t - 1``.

    Returns
    -------
    dict of int to pandas.DataFrame
        Horizon -> frame aligned with ``panel.close``; the last ``h`` rows are NaN (no future yet),
        as is any bar where either close is missing.
    """
    horizons, kind = _forward_returns_iv(panel, horizons, kind)
    prices = panel.close.to_numpy(dtype=np.float64, na_value=np.nan)
    n_rows = prices.shape[0]
    # Written in place, column-major (the layout a pandas copy of them had), so no difference
    # temporary and no copy into the frame; NaN where there is no future yet.
    fwd = {h: np.empty(prices.shape, order="F") for h in horizons}
    for h, values in fwd.items():
        values[max(n_rows - h, 0) :] = np.nan
    if row_blocks_module.is_column_major(prices):
        for cols in _column_blocks(prices):
            logp = np.log(prices[:, cols])
            for h, values in fwd.items():
                if h < n_rows:
                    np.subtract(logp[h:], logp[:-h], out=values[:-h, cols])
    else:
        _fill_by_row_blocks(prices, fwd)
    out: dict[int, pd.DataFrame] = {}
    for h, values in fwd.items():
        if kind == "simple":
            np.expm1(values, out=values)
        out[h] = pd.DataFrame(
            values, index=panel.close.index, columns=panel.close.columns, copy=False
        )
    return out


def _fill_by_row_blocks(prices: np.ndarray, fwd: dict[int, np.ndarray]) -> None:
    """The log differences of a time-major price grid, a block of start rows at a time.

    Each block takes the log of its rows and of the ``max(h)`` rows after them (one contiguous
    run of the time-major array, so the log gives the whole-array bits) instead of a log of the
    whole panel beside the outputs."""
    n_rows, n_cols = prices.shape
    reach = max(fwd)
    for rows in row_blocks_module.row_blocks(n_rows, n_cols):
        stop = min(rows.stop + reach, n_rows)
        logp = np.log(prices[rows.start : stop])
        for h, values in fwd.items():
            last = min(rows.stop, n_rows - h)  # start rows with a price h bars ahead
            if last > rows.start:
                count = last - rows.start
                np.subtract(logp[h : h + count], logp[:count], out=values[rows.start : last])


def _column_blocks(prices: np.ndarray) -> list[slice]:
    """Column slices of a column-major array to take the log of: blocks of ~8 MB.

    A block of columns of a column-major array is contiguous, as the whole array is, so the log
    ufunc runs the same contiguous loop on it and gives the whole-array bits.
    """
    n_rows, n_cols = prices.shape
    step = max(1, row_blocks_module.ROW_BLOCK_CELLS // max(n_rows, 1))
    return [slice(start, min(start + step, n_cols)) for start in range(0, n_cols, step)]
