"""Report figures as PNG bytes, rendered deterministically (same inputs → same bytes).

matplotlib's Agg backend is used headless; PNG metadata that would vary (the software string) is
dropped so a pinned-clock rerun produces byte-identical figures, which the manifest relies on.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "capacity_figure",
    "cumulative_returns_figure",
    "ic_decay_figure",
    "null_distribution_figure",
    "pbo_logit_figure",
    "regime_ic_figure",
]

_DPI = 96
_SIZE = (7.0, 3.6)


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def ic_decay_figure(decay: pd.DataFrame) -> bytes:
    """Mean OOS rank IC by horizon (columns) for each signal (rows)."""
    figure, axis = plt.subplots(figsize=_SIZE)
    for signal, row in decay.iterrows():
        axis.plot([str(h) for h in decay.columns], row.to_numpy(dtype=float), marker="o",
                  label=str(signal))  # fmt: skip
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_xlabel("horizon (bars)")
    axis.set_ylabel("mean OOS rank IC")
    axis.set_title("IC decay")
    axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)


def cumulative_returns_figure(returns: pd.DataFrame) -> bytes:
    """Cumulative out-of-sample net log returns per signal portfolio."""
    figure, axis = plt.subplots(figsize=_SIZE)
    times = pd.to_datetime(returns.index, unit="ms", utc=True)
    for column in returns.columns:
        axis.plot(times, np.nancumsum(returns[column].to_numpy(dtype=float)), label=str(column),
                  linewidth=1.0)  # fmt: skip
    axis.set_ylabel("cumulative net return")
    axis.set_title("Out-of-sample portfolio returns, net of costs")
    axis.legend(fontsize=7, loc="best")
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)


def pbo_logit_figure(logits: Sequence[float] | np.ndarray, pbo: float | None) -> bytes:
    """Histogram of CSCV logits; mass at or below zero is the probability of overfitting."""
    figure, axis = plt.subplots(figsize=_SIZE)
    values = np.asarray(logits, dtype=float)
    values = values[np.isfinite(values)]
    if values.size:
        axis.hist(values, bins=40, color="#4c72b0")
    axis.axvline(0.0, color="crimson", linewidth=1.0)
    title = "CSCV logit distribution" + (f" (PBO = {pbo:.3f})" if pbo is not None else "")
    axis.set_title(title)
    axis.set_xlabel("logit of OOS rank of the IS-best configuration")
    figure.tight_layout()
    return _png(figure)


def null_distribution_figure(null: Sequence[float], observed: float | None, label: str) -> bytes:
    """Bootstrap null distribution of a family statistic with the observed value marked."""
    figure, axis = plt.subplots(figsize=_SIZE)
    values = np.asarray(null, dtype=float)
    values = values[np.isfinite(values)]
    if values.size:
        axis.hist(values, bins=50, color="#55a868")
    if observed is not None and np.isfinite(observed):
        axis.axvline(observed, color="crimson", linewidth=1.2, label="observed")
        axis.legend(fontsize=7)
    axis.set_title(f"{label}: bootstrap null distribution")
    figure.tight_layout()
    return _png(figure)


def capacity_figure(curves: Mapping[str, pd.DataFrame]) -> bytes:
    """Net Sharpe against capital for each signal (columns ``capital``, ``net_sharpe``)."""
    figure, axis = plt.subplots(figsize=_SIZE)
    for signal, curve in curves.items():
        axis.plot(curve["capital"].to_numpy(dtype=float), curve["net_sharpe"].to_numpy(dtype=float),
                  marker="o", label=signal)  # fmt: skip
    axis.set_xscale("log")
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_xlabel("capital (USD)")
    axis.set_ylabel("net Sharpe (annualised)")
    axis.set_title("Capacity")
    axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)


def regime_ic_figure(table: pd.DataFrame) -> bytes:
    """Mean OOS IC per regime (grouped bars) for each hypothesis (rows of ``table``)."""
    figure, axis = plt.subplots(figsize=(_SIZE[0], max(_SIZE[1], 0.22 * len(table) + 1.0)))
    positions = np.arange(len(table), dtype=float)
    width = 0.8 / max(len(table.columns), 1)
    for index, regime in enumerate(table.columns):
        axis.barh(positions + index * width, table[regime].to_numpy(dtype=float), height=width,
                  label=str(regime))  # fmt: skip
    axis.set_yticks(positions + width * (len(table.columns) - 1) / 2.0)
    axis.set_yticklabels([str(name) for name in table.index], fontsize=7)
    axis.axvline(0.0, color="grey", linewidth=0.8)
    axis.set_xlabel("mean OOS IC within the regime")
    axis.set_title("Regime-conditioned OOS IC (regimes fitted on train rows only)")
    axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)
