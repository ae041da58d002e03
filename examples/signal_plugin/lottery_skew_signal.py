"""A signal plugin in one file: name it in the report config, no install needed.

    signal_plugin_files = ["lottery_skew_signal.py"]   # relative to the config file's folder
    signals = ["lottery_skew", "momentum_24h"]

The report loads the file, checks the plugin (parameters, causality on a sample of the run's bars)
and records the SHA-256 of this file in the run's resolved config, so editing it changes the run
key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from crypto_analyzer.plugins.signals import SignalPlugin
from crypto_analyzer.research import Panel


class LotterySkewParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lookback: int = Field(168, ge=10, le=100_000, description="bars of returns in the window")


def lottery_skew(panel: Panel, params: LotterySkewParams) -> pd.DataFrame:
    """Lottery aversion: minus the skewness of log returns over the trailing window.

    Economic idea: investors overpay for lottery-like coins whose returns are right-skewed, so
    those coins earn less afterwards (Bali, Cakici & Whitelaw, 2011, for stocks). The window is
    trailing and includes the current bar.
    """
    min_periods = max(3, int(np.ceil(0.75 * params.lookback)))
    return -panel.log_returns.rolling(params.lookback, min_periods=min_periods).skew()


SIGNAL = SignalPlugin(
    name="lottery_skew",
    version="1.0",
    params=LotterySkewParams,
    compute=lottery_skew,
    lookback=lambda params: params.lookback,
)
