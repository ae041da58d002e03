"""Market regimes from volatility and dispersion, and IC conditioned on regime.

A signal whose IC is positive on average can still be useless (or harmful) in the regime that
matters, e.g. a reversal signal that only works in calm markets. Regimes here are built from two
causal state variables: the market's volatility level and the cross-sectional dispersion of returns.
Thresholds that split them must come from training data, so :class:`QuantileRegimeRule` is a
transform fitted like any other; :mod:`crypto_analyzer.research.regime_model` adds a fitted
Gaussian mixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import check_choice, check_float, check_frame, check_int
from crypto_analyzer.research.ic import IC_METHODS, summarize_ic
from crypto_analyzer.research.panel import Panel

__all__ = [
    "QuantileRegimeRule",
    "market_state_features",
    "regime_conditioned_ic",
    "rule_regimes",
]

_FEATURES = ("log_volatility", "log_dispersion")


def _market_state_features_iv(panel: Any, window: Any) -> int:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    return check_int("window", window, minimum=2)


def market_state_features(panel: Panel, *, window: int = 24) -> pd.DataFrame:
    """Causal market state per bar: log volatility and log cross-sectional dispersion.

    ``log_volatility`` is the log of the cross-sectional median of each asset's realised volatility
    over the trailing ``window`` bars; ``log_dispersion`` is the log of the cross-sectional standard
    deviation of ``window``-bar returns. Logs make both closer to Gaussian (they are positive and
    right-skewed), which the mixture model assumes. Both use data at or before each bar only.

    Returns
    -------
    pandas.DataFrame
        Columns ``log_volatility, log_dispersion``; NaN during warm-up.
    """
    window = _market_state_features_iv(panel, window)
    rets = panel.log_returns
    vol = rets.rolling(window, min_periods=window).std().median(axis=1)
    disp = rets.rolling(window, min_periods=window).sum().std(axis=1)
    out = pd.DataFrame({"log_volatility": vol, "log_dispersion": disp}, index=panel.times)
    arr = out.to_numpy(dtype=np.float64, na_value=np.nan)
    logged = np.full(arr.shape, np.nan)
    np.log(arr, out=logged, where=arr > 0)
    return pd.DataFrame(logged, index=panel.times, columns=list(_FEATURES))


def _rule_regimes_iv(features: Any, vol_threshold: Any, dispersion_threshold: Any) -> tuple:
    check_frame("features", features)
    missing = [c for c in _FEATURES if c not in features.columns]
    if missing:
        raise ValueError(f"features is missing columns {missing}; use market_state_features")
    vt = check_float("vol_threshold", vol_threshold)
    return vt, check_float("dispersion_threshold", dispersion_threshold)


def rule_regimes(
    features: pd.DataFrame, *, vol_threshold: float, dispersion_threshold: float
) -> pd.Series:
    """Four rule-based regimes from thresholds on the two state variables.

    Labels are ``"{low|high}_vol/{low|high}_disp"`` (``high`` = strictly above the threshold);
    bars with a missing feature get no label (NaN). Pass thresholds fitted on training data (see
    :class:`QuantileRegimeRule`); thresholds chosen on the whole sample leak the future.
    """
    vt, dt = _rule_regimes_iv(features, vol_threshold, dispersion_threshold)
    vol = features["log_volatility"].to_numpy()
    disp = features["log_dispersion"].to_numpy()
    labels = np.where(vol > vt, "high_vol", "low_vol").astype(object)
    labels = labels + np.where(disp > dt, "/high_disp", "/low_disp").astype(object)
    labels[np.isnan(vol) | np.isnan(disp)] = None
    return pd.Series(labels, index=features.index, name="regime", dtype=object)


@dataclass(frozen=True, slots=True)
class _Thresholds:
    vol_threshold: float
    dispersion_threshold: float

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        labels = rule_regimes(
            x, vol_threshold=self.vol_threshold, dispersion_threshold=self.dispersion_threshold
        )
        return labels.to_frame()


@dataclass(frozen=True, slots=True)
class QuantileRegimeRule:
    """Rule-based regimes with thresholds at the training sample's ``quantile`` of each feature."""

    quantile: float = 0.5
    name: str = "quantile_regime_rule"
    needs_labels: bool = False

    def __post_init__(self) -> None:
        check_float("quantile", self.quantile, minimum=0.0, maximum=1.0)

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> _Thresholds:
        check_frame("x", x)
        clean = x[list(_FEATURES)].dropna()
        if clean.empty:
            raise ValueError("QuantileRegimeRule needs training rows with both features")
        vt, dt = clean.quantile(self.quantile).to_numpy()
        return _Thresholds(float(vt), float(dt))

    def params(self) -> dict[str, Any]:
        return {"quantile": self.quantile}


def _regime_conditioned_ic_iv(ic: Any, regimes: Any, horizon: Any, method: Any) -> None:
    if not isinstance(ic, pd.Series) or not isinstance(regimes, pd.Series):
        raise TypeError(
            f"ic and regimes must be pandas Series indexed by timestamp, got "
            f"{type(ic).__name__} and {type(regimes).__name__}"
        )
    check_int("horizon", horizon, minimum=1)
    check_choice("method", method, IC_METHODS)


def regime_conditioned_ic(
    ic: pd.Series, regimes: pd.Series, *, horizon: int, method: str = "rank"
) -> pd.DataFrame:
    """IC summary within each regime.

    Parameters
    ----------
    ic : pandas.Series
        IC per timestamp (e.g. an out-of-sample series from the walk-forward driver).
    regimes : pandas.Series
        Regime label per timestamp; aligned to ``ic`` by index (inner join), missing labels dropped.
    horizon : int
        Label horizon (sets the minimum HAC lag).
    method : {"rank", "pearson"}

    Returns
    -------
    pandas.DataFrame
        One row per regime (sorted by label) with the IcSummary fields and ``share`` (fraction of
        the labelled timestamps in that regime).
    """
    _regime_conditioned_ic_iv(ic, regimes, horizon, method)
    joined = pd.concat({"ic": ic, "regime": regimes}, axis=1, join="inner").dropna()
    total = len(joined)
    rows = []
    for label, group in joined.groupby("regime", sort=True):
        summary = summarize_ic(
            group["ic"].to_numpy(dtype=np.float64), horizon=horizon, method=method
        )
        rows.append({"regime": label, **summary.to_dict(), "share": len(group) / total})
    if not rows:
        return pd.DataFrame(columns=["regime", "share"]).set_index("regime")
    return pd.DataFrame(rows).set_index("regime")
