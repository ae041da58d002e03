"""Fixtures for the research tests (data helpers live in ``research_helpers``)."""

from __future__ import annotations

import numpy as np
import pytest
from research_helpers import bars_frame

from crypto_analyzer.research import Panel, panel_from_bars


@pytest.fixture
def market_panel() -> Panel:
    """A small factor-driven market: 2 factor coins (ids 1, 2) and 10 alts, 600 hourly bars."""
    rng = np.random.default_rng(20240601)
    n_times, n_alts = 600, 10
    btc = rng.normal(0.0, 0.01, n_times)
    eth = 0.8 * btc + rng.normal(0.0, 0.006, n_times)
    betas = rng.uniform(0.5, 1.5, size=(n_alts, 2))
    alts = btc[:, None] * betas[:, 0] + eth[:, None] * betas[:, 1] * 0.3
    alts = alts + rng.normal(0.0, 0.008, size=(n_times, n_alts))
    rets = np.column_stack([btc, eth, alts])
    close = 50.0 * np.exp(np.cumsum(rets, axis=0))
    volume = np.exp(rng.normal(10.0, 0.7, size=close.shape))
    return panel_from_bars(bars_frame(close, volume))
