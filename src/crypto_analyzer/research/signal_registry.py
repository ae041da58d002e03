"""Registry of signals by name, with declared parameters and lookbacks.

The report pipeline names signals in its config (``"clean_momentum"``, ...); the registry turns a
name plus parameter overrides into a validated call and tells the caller how many bars of history
the signal needs (its lookback), which is the warm-up a fold must provide before the signal exists.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from crypto_analyzer.research._checks import check_float, check_int
from crypto_analyzer.research.cross_section import cs_zscore
from crypto_analyzer.research.factors import FactorFit
from crypto_analyzer.research.panel import Panel
from crypto_analyzer.research.signals import (
    clean_momentum,
    liquidity_shock_reversion,
    low_vol,
    low_vol_dispersion,
    momentum_24h,
    short_reversal,
    value_vs_beta,
    volume_shock,
    volume_surprise,
)

__all__ = [
    "SIGNALS",
    "SignalSpec",
    "compute_signal",
    "get_signal",
    "signal_names",
    "signature_defaults",
]


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """A registered signal.

    Attributes
    ----------
    name : str
        Registry key.
    func : callable
        ``func(panel, **params)`` (plus ``factor_fit=`` when ``needs_factor_fit``).
    defaults : Mapping[str, int]
        Parameter names and default values (all integer bar counts).
    lookback : callable
        ``lookback(params) -> int``: bars of history used at each bar, excluding any factor fit
        window (add ``factor_fit.config["params"]["window"]`` for residual signals).
    needs_factor_fit : bool
        Whether a lagged :class:`FactorFit` must be supplied.
    """

    name: str
    func: Callable[..., pd.DataFrame]
    defaults: Mapping[str, int]
    lookback: Callable[[Mapping[str, int]], int]
    needs_factor_fit: bool = False

    @property
    def description(self) -> str:
        """First paragraph of the signal function's docstring (its economic idea)."""
        doc = self.func.__doc__ or ""
        return " ".join(doc.strip().split("\n\n")[0].split())


def signature_defaults(func: Callable[..., pd.DataFrame]) -> dict[str, int]:
    """The integer keyword defaults of a signal function: the one home of its parameters.

    The report resolves every signal's parameters from here into its config (and so into the run
    key); a default changed in the function therefore changes the run key, never silently the
    numbers behind an unchanged key.
    """
    out = {}
    for param in inspect.signature(func).parameters.values():
        if param.kind is not inspect.Parameter.KEYWORD_ONLY or param.name == "factor_fit":
            continue
        if not isinstance(param.default, int) or isinstance(param.default, bool):
            raise TypeError(f"signal {func.__name__}: parameter {param.name} needs an int default")
        out[param.name] = param.default
    return out


def _spec(
    name: str,
    func: Callable[..., pd.DataFrame],
    lookback: Callable[[Mapping[str, int]], int],
    needs_factor_fit: bool = False,
) -> SignalSpec:
    defaults = MappingProxyType(signature_defaults(func))
    return SignalSpec(name, func, defaults, lookback, needs_factor_fit)


SIGNALS: Mapping[str, SignalSpec] = MappingProxyType(
    {
        "clean_momentum": _spec(
            "clean_momentum",
            clean_momentum,
            lambda p: p["lookback"] + p["skip"],
            needs_factor_fit=True,
        ),
        "value_vs_beta": _spec(
            "value_vs_beta",
            value_vs_beta,
            lambda p: p["lookback"],
            needs_factor_fit=True,
        ),
        "momentum_24h": _spec("momentum_24h", momentum_24h, lambda p: p["lookback"]),
        "short_reversal": _spec("short_reversal", short_reversal, lambda p: p["lookback"]),
        "low_vol": _spec("low_vol", low_vol, lambda p: p["lookback"]),
        "low_vol_dispersion": _spec(
            "low_vol_dispersion",
            low_vol_dispersion,
            lambda p: max(p["lookback"], p["dispersion_window"] + p["regime_window"]),
        ),
        "volume_surprise": _spec(
            "volume_surprise",
            volume_surprise,
            lambda p: max(p["short"], p["lookback"]),
        ),
        "volume_shock": _spec("volume_shock", volume_shock, lambda p: p["window"] + 1),
        "liquidity_shock_reversion": _spec(
            "liquidity_shock_reversion",
            liquidity_shock_reversion,
            lambda p: max(p["short"], p["lookback"]) + 1,
        ),
    }
)
"""Every registered signal, by name."""


def signal_names() -> tuple[str, ...]:
    """Registered signal names, sorted."""
    return tuple(sorted(SIGNALS))


def _get_signal_iv(name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in SIGNALS:
        raise ValueError(f"unknown signal {name!r}; registered: {', '.join(signal_names())}")


def get_signal(name: str) -> SignalSpec:
    """The spec registered under ``name``."""
    _get_signal_iv(name)
    return SIGNALS[name]


def _compute_signal_iv(
    name: Any, panel: Any, factor_fit: Any, params: Mapping[str, Any], winsor_quantile: Any
) -> tuple[SignalSpec, dict[str, int], float | None]:
    spec = get_signal(name)
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    if spec.needs_factor_fit:
        if not isinstance(factor_fit, FactorFit):
            raise TypeError(f"signal {name!r} needs factor_fit=FactorFit, got {factor_fit!r}")
        if int(factor_fit.config.get("lag", 0)) < 1:
            raise ValueError(
                f"signal {name!r} needs a factor fit with lag >= 1 (out-of-sample residuals), "
                f"got lag={factor_fit.config.get('lag')}"
            )
    elif factor_fit is not None:
        raise ValueError(f"signal {name!r} does not use a factor fit; got factor_fit")
    unknown = set(params) - set(spec.defaults)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)} for signal {name!r}; allowed: "
            f"{sorted(spec.defaults)}"
        )
    merged = {**spec.defaults, **params}
    skip_min = {"skip": 0}
    resolved = {k: check_int(k, v, minimum=skip_min.get(k, 1)) for k, v in merged.items()}
    if winsor_quantile is not None:
        winsor_quantile = check_float("winsor_quantile", winsor_quantile, minimum=0, maximum=0.49)
    return spec, resolved, winsor_quantile


def compute_signal(
    name: str,
    panel: Panel,
    *,
    factor_fit: FactorFit | None = None,
    winsor_quantile: float | None = 0.01,
    **params: int,
) -> pd.DataFrame:
    """Compute a registered signal, optionally as a winsorised cross-sectional z-score.

    Parameters
    ----------
    name : str
        Registered signal name (see :func:`signal_names`).
    panel : Panel
        Input data.
    factor_fit : FactorFit, optional
        Required (with ``lag >= 1``) for residual-based signals.
    winsor_quantile : float or None
        Passed to :func:`~crypto_analyzer.research.cross_section.cs_zscore`; None returns the raw
        score.
    **params : int
        Overrides of the signal's defaults.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``panel.close`` (factor coins are NaN for residual signals); at bar ``t`` it
        depends only on data at or before ``t``.
    """
    spec, resolved, winsor_quantile = _compute_signal_iv(
        name, panel, factor_fit, params, winsor_quantile
    )
    extra = {"factor_fit": factor_fit} if spec.needs_factor_fit else {}
    # residual signals cover non-factor coins only; keep every signal aligned with the panel
    raw = spec.func(panel, **extra, **resolved).reindex(columns=panel.assets)
    if winsor_quantile is None:
        return raw
    return cs_zscore(raw, winsor_quantile=winsor_quantile)
