"""Statistics for notebooks: the procedures of :mod:`crypto_analyzer.stats`, taking pandas objects.

A thin layer, no statistics of its own. :mod:`crypto_analyzer.stats` is pure numpy-in,
dataclass-out; here a ``Series`` or ``DataFrame`` is accepted as well and its labels are kept:

* a DataFrame's column names become the ``hypothesis_ids`` of family procedures (Reality Check,
  SPA, StepM), so results name the columns rather than positions;
* per-series procedures (HAC mean, PSR) applied to a DataFrame return one row per column, indexed
  by the column names;
* adjusted p-values of a Series come back as a DataFrame indexed like the Series.

Numpy arrays pass straight through to the underlying function, which returns its usual result.
Missing values are refused by the procedures; drop them first (``dropna()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer import stats as _stats
from crypto_analyzer.stats import power as _power

__all__ = [
    "adjust_pvalues",
    "deflated_sharpe_ratio",
    "effective_number_of_trials",
    "ic_power",
    "minimum_detectable_ic",
    "newey_west",
    "pbo_cscv",
    "probabilistic_sharpe_ratio",
    "reality_check",
    "spa",
    "stepm",
]


def _values(data: Any) -> np.ndarray:
    if isinstance(data, pd.Series | pd.DataFrame):
        return data.to_numpy(dtype=float)
    return np.asarray(data, dtype=float)


def _per_column(frame: pd.DataFrame, function: Callable[[np.ndarray], Any]) -> pd.DataFrame:
    rows = {str(name): function(frame[name].to_numpy(dtype=float)).to_dict() for name in frame}
    return pd.DataFrame.from_dict(rows, orient="index")


def newey_west(data: Any, *, lags: int | None = None) -> Any:
    """HAC mean of a series (:func:`crypto_analyzer.stats.newey_west`); a DataFrame gives one
    row per column (mean, se, t, p_value, lags, …) indexed by column name."""
    if isinstance(data, pd.DataFrame):
        return _per_column(data, lambda column: _stats.newey_west(column, lags=lags))
    return _stats.newey_west(_values(data), lags=lags)


def probabilistic_sharpe_ratio(data: Any, *, benchmark_sharpe: float = 0.0) -> Any:
    """PSR of a return series; a DataFrame gives one row per column."""
    if isinstance(data, pd.DataFrame):
        return _per_column(
            data,
            lambda column: _stats.probabilistic_sharpe_ratio(
                column, benchmark_sharpe=benchmark_sharpe
            ),
        )
    return _stats.probabilistic_sharpe_ratio(_values(data), benchmark_sharpe=benchmark_sharpe)


def deflated_sharpe_ratio(
    returns: Any, *, trial_sharpes: Any, n_trials: float | None = None
) -> _stats.DsrResult:
    """Deflated Sharpe ratio of ``returns`` against the Sharpe ratios of every trial."""
    return _stats.deflated_sharpe_ratio(
        _values(returns), trial_sharpes=_values(trial_sharpes), n_trials=n_trials
    )


def adjust_pvalues(pvalues: Any, *, method: str = "bh", alpha: float = 0.05) -> Any:
    """BH / BY / Holm adjustment; a Series gives a DataFrame (pvalue, adjusted, rejected) with
    the Series' index, anything else the :class:`~crypto_analyzer.stats.AdjustedPValues`."""
    if isinstance(pvalues, pd.Series):
        result = _stats.adjust_pvalues(
            pvalues.to_numpy(dtype=float),
            method=method,
            alpha=alpha,
            hypothesis_ids=[str(label) for label in pvalues.index],
        )
        return pd.DataFrame(
            {
                "pvalue": result.pvalues,
                "adjusted": result.adjusted,
                "rejected": result.rejected,
            },
            index=pvalues.index,
        )
    return _stats.adjust_pvalues(_values(pvalues), method=method, alpha=alpha)


def _family(function: Callable[..., Any], d: Any, kwargs: dict[str, Any]) -> Any:
    if isinstance(d, pd.DataFrame) and "hypothesis_ids" not in kwargs:
        kwargs["hypothesis_ids"] = [str(name) for name in d.columns]
    return function(_values(d), **kwargs)


def reality_check(d: Any, *, seed: int, **kwargs: Any) -> _stats.RealityCheckResult:
    """White's Reality Check over loss differentials ``d`` (columns: strategies)."""
    return _family(_stats.reality_check, d, {"seed": seed, **kwargs})


def spa(d: Any, *, seed: int, **kwargs: Any) -> _stats.SpaResult:
    """Hansen's SPA test over ``d`` (columns: strategies)."""
    return _family(_stats.spa, d, {"seed": seed, **kwargs})


def stepm(d: Any, *, seed: int, **kwargs: Any) -> _stats.StepMResult:
    """Romano–Wolf StepM over ``d``; ``rejected`` names the DataFrame's columns."""
    return _family(_stats.stepm, d, {"seed": seed, **kwargs})


def pbo_cscv(returns: Any, **kwargs: Any) -> _stats.PboResult:
    """Probability of backtest overfitting (CSCV) over a returns matrix (columns: configs)."""
    return _stats.pbo_cscv(_values(returns), **kwargs)


def effective_number_of_trials(returns: Any) -> _stats.EffectiveTrialsResult:
    """Effective number of independent trials among the columns of ``returns``."""
    return _stats.effective_number_of_trials(_values(returns))


def minimum_detectable_ic(ic: Any, **kwargs: Any) -> _power.MdeResult:
    """Minimum detectable mean IC of an IC series' design (:mod:`crypto_analyzer.stats.power`)."""
    return _power.minimum_detectable_ic_from_series(_values(ic), **kwargs)


def ic_power(ic: Any, *, true_ic: float, **kwargs: Any) -> float:
    """Power of the IC gate against ``true_ic`` for an IC series' design."""
    return _power.power_from_series(_values(ic), true_ic=true_ic, **kwargs)
