"""Fitted transforms with a ``fit(train) -> fitted; fitted.transform(x)`` protocol.

A transform is an immutable spec (its settings). ``fit`` learns from training rows and returns a new
immutable *fitted* object holding what was learned; nothing is mutated, so a fitted object can be
reused on any later rows and two folds can never share state by accident. Every fit in a
walk-forward evaluation goes through :func:`crypto_analyzer.research.guard.guarded_fit`, which
records the rows it saw and refuses rows outside the fold's training set.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import check_float, check_frame
from crypto_analyzer.research.cross_section import cs_zscore
from crypto_analyzer.research.ic import ic_series
from crypto_analyzer.research.rolling_ols import rolling_ols

__all__ = [
    "CrossSectionalZScore",
    "FactorResidualizer",
    "Fitted",
    "SignCalibrator",
    "Standardizer",
    "Transform",
    "Winsorizer",
    "transform_params",
]


@runtime_checkable
class Fitted(Protocol):
    """What ``Transform.fit`` returns: applies learned state to new rows."""

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        """Apply to ``x`` (time x asset); must not look at any other data."""
        ...


@runtime_checkable
class Transform(Protocol):
    """An immutable transform spec."""

    # Read-only members: the specs are frozen dataclasses, whose fields cannot be assigned.
    @property
    def name(self) -> str: ...

    @property
    def needs_labels(self) -> bool: ...

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> Fitted:
        """Learn from training rows ``x`` (and labels ``y`` when ``needs_labels``)."""
        ...

    def params(self) -> dict[str, Any]:
        """JSON-able settings recorded in attestations."""
        ...


def _finite_values(x: pd.DataFrame) -> np.ndarray:
    arr = x.to_numpy(dtype=np.float64, na_value=np.nan).ravel()
    return arr[np.isfinite(arr)]


@dataclass(frozen=True, slots=True)
class _Affine:
    shift: float
    scale: float

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        return (x - self.shift) / self.scale


@dataclass(frozen=True, slots=True)
class Standardizer:
    """Pooled standardisation with the training mean and standard deviation.

    Puts a signal on a fixed scale (e.g. for signal-weighted portfolios) using only training
    statistics; the test rows are scaled by numbers that existed before the test period.
    """

    name: str = "standardizer"
    needs_labels: bool = False

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> _Affine:
        check_frame("x", x)
        vals = _finite_values(x)
        if vals.size < 2:
            raise ValueError(f"Standardizer needs >= 2 finite training values, got {vals.size}")
        std = float(vals.std())
        return _Affine(float(vals.mean()), std if std > 0 else 1.0)

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class _Clip:
    low: float
    high: float

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        return x.clip(lower=self.low, upper=self.high)


@dataclass(frozen=True, slots=True)
class Winsorizer:
    """Clip to the training set's pooled ``[q, 1 - q]`` quantiles.

    Outlier thresholds learned from the whole sample would encode how extreme the future got; these
    come from training rows only.
    """

    quantile: float = 0.01
    name: str = "winsorizer"
    needs_labels: bool = False

    def __post_init__(self) -> None:
        check_float("quantile", self.quantile, minimum=0.0, maximum=0.49)

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> _Clip:
        check_frame("x", x)
        vals = _finite_values(x)
        if vals.size == 0:
            raise ValueError("Winsorizer needs at least one finite training value")
        low, high = np.quantile(vals, [self.quantile, 1.0 - self.quantile])
        return _Clip(float(low), float(high))

    def params(self) -> dict[str, Any]:
        return {"quantile": self.quantile}


@dataclass(frozen=True, slots=True)
class _Sign:
    sign: float
    train_mean_ic: float | None

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        return x * self.sign


@dataclass(frozen=True, slots=True)
class SignCalibrator:
    """Flip a signal whose training rank IC is negative.

    Many signals have an economically ambiguous sign (does volume surprise continue or revert?).
    Choosing the sign on the full sample is look-ahead; here it is chosen from training labels, and
    because the fit uses labels it is exactly the kind of fit purge exists for. A training mean IC
    with ``|IC| < min_abs_ic`` keeps the sign (+1).
    """

    min_abs_ic: float = 0.0
    min_assets: int = 3
    name: str = "sign_calibrator"
    needs_labels: bool = True

    def __post_init__(self) -> None:
        check_float("min_abs_ic", self.min_abs_ic, minimum=0.0, maximum=1.0)

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> _Sign:
        if y is None:
            raise ValueError("SignCalibrator.fit needs labels y (forward returns of the rows)")
        ic = ic_series(x, y, method="rank", min_assets=self.min_assets).dropna()
        if ic.empty:
            return _Sign(1.0, None)
        mean = float(ic.mean())
        return _Sign(-1.0 if mean < -self.min_abs_ic else 1.0, mean)

    def params(self) -> dict[str, Any]:
        return {"min_abs_ic": self.min_abs_ic, "min_assets": self.min_assets}


@dataclass(frozen=True, slots=True)
class _Residualizer:
    factor_ids: tuple[Hashable, ...]
    alpha: pd.Series
    betas: pd.DataFrame

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        fac = x[list(self.factor_ids)].to_numpy(dtype=np.float64, na_value=np.nan)
        assets = self.alpha.index
        out = x[assets].to_numpy(dtype=np.float64, na_value=np.nan) - self.alpha.to_numpy()
        out -= fac @ self.betas.loc[list(self.factor_ids), assets].to_numpy()
        return pd.DataFrame(out, index=x.index, columns=assets)


@dataclass(frozen=True, slots=True)
class FactorResidualizer:
    """Static factor model fitted on training returns: residualise any rows with train betas.

    ``x`` is a returns frame whose columns include the factor instruments. ``fit`` runs one OLS per
    asset on the training rows (any order; rows need not be contiguous); ``transform`` returns
    ``r - alpha - f @ beta`` for the non-factor columns.
    """

    factor_ids: Sequence[Hashable] = ()
    min_obs: int = 10
    name: str = "factor_residualizer"
    needs_labels: bool = False

    def __post_init__(self) -> None:
        if not self.factor_ids:
            raise ValueError("FactorResidualizer needs at least one factor id")

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> _Residualizer:
        check_frame("x", x)
        ids = list(self.factor_ids)
        missing = [f for f in ids if f not in x.columns]
        if missing:
            raise ValueError(f"factor ids {missing} are not columns of x")
        assets = x.columns.difference(pd.Index(ids), sort=False)
        n = len(x)
        if n < max(self.min_obs, len(ids) + 2):
            raise ValueError(f"FactorResidualizer needs >= {self.min_obs} rows, got {n}")
        est = rolling_ols(
            x[assets].to_numpy(dtype=np.float64, na_value=np.nan),
            x[ids].to_numpy(dtype=np.float64, na_value=np.nan),
            window=n,
            min_obs=max(self.min_obs, len(ids) + 2),
        )
        betas = pd.DataFrame(est.beta[:, -1, :], index=pd.Index(ids), columns=assets)
        return _Residualizer(tuple(ids), pd.Series(est.alpha[-1], index=assets), betas)

    def params(self) -> dict[str, Any]:
        ids = [int(f) if isinstance(f, (int, np.integer)) else str(f) for f in self.factor_ids]
        return {"factor_ids": ids, "min_obs": self.min_obs}


@dataclass(frozen=True, slots=True)
class _Stateless:
    winsor_quantile: float

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        return cs_zscore(x, winsor_quantile=self.winsor_quantile)


@dataclass(frozen=True, slots=True)
class CrossSectionalZScore:
    """Winsorised cross-sectional z-score (stateless: each row uses only itself)."""

    winsor_quantile: float = 0.01
    name: str = "cs_zscore"
    needs_labels: bool = False

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> _Stateless:
        return _Stateless(self.winsor_quantile)

    def params(self) -> dict[str, Any]:
        return {"winsor_quantile": self.winsor_quantile}


def transform_params(transform: Transform) -> dict[str, Any]:
    """``{"name": ..., "params": ...}`` of a transform, for configs and attestations."""
    if not isinstance(transform, Transform):
        raise TypeError(f"transform must implement Transform, got {type(transform).__name__}")
    return {"name": transform.name, "params": transform.params()}
