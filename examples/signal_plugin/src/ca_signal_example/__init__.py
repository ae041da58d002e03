"""Example signal plugin: how far each coin trades below its own trailing high.

Installed, this package registers the signal ``near_high`` through the ``crypto_analyzer.signals``
entry point (see ``pyproject.toml``); a report config then uses it like a built-in:
``signals = ["near_high", "momentum_24h"]`` and ``[signal_params.near_high] lookback = 336``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from crypto_analyzer.plugins.signals import SignalPlugin
from crypto_analyzer.research import Panel

__all__ = ["SIGNAL", "NearHighParams", "near_high"]


class NearHighParams(BaseModel):
    """Parameters of ``near_high``; the bounds are the validation the report config applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lookback: int = Field(168, ge=2, le=100_000, description="bars of the trailing high")
    min_share: float = Field(
        0.75, gt=0, le=1, description="share of the window that must have bars"
    )


def near_high(panel: Panel, params: NearHighParams) -> pd.DataFrame:
    """Closeness to the trailing high: log of close over the highest close of the last bars.

    Economic idea: traders anchor on recent highs and under-react to news that pushes a price
    towards them, so coins trading close to their trailing high keep outperforming those far below
    theirs (George & Hwang, 2004, for the 52-week high). The window is trailing and includes the
    current bar, so the value at bar t uses closes up to t only.
    """
    min_periods = max(1, int(np.ceil(params.min_share * params.lookback)))
    high = panel.close.rolling(params.lookback, min_periods=min_periods).max()
    return np.log(panel.close / high)


SIGNAL = SignalPlugin(
    name="near_high",
    version="0.1.0",
    params=NearHighParams,
    compute=near_high,
    lookback=lambda params: params.lookback,
)
