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
    logp = np.log(panel.close.to_numpy(dtype=np.float64, na_value=np.nan))
    out: dict[int, pd.DataFrame] = {}
    for h in horizons:
        fwd = np.full(logp.shape, np.nan)
        if h < logp.shape[0]:
            fwd[:-h] = logp[h:] - logp[:-h]
        if kind == "simple":
            fwd = np.expm1(fwd)
        out[h] = pd.DataFrame(fwd, index=panel.close.index, columns=panel.close.columns)
    return out
