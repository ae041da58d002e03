"""Factor models: each asset's returns on market factor returns, with an as-of lag.

Crypto cross-sections are dominated by one or two common factors (BTC, and ETH for the alt complex).
A signal that merely loads on them is a disguised market bet, so residual ("clean") returns are what
most signals should be built from. :func:`fit_factor_model` regresses every asset on the returns of
the factor instruments over a trailing window and, crucially, applies an **as-of lag**: the betas
used at bar ``t`` come from data at or before ``t - lag``, so a residual at ``t`` is an
out-of-sample residual and carries no information from the bar it describes.

The fit's canonical config (:func:`factor_fit_config`) plus the dataset id give the
``factor_run_id`` under which a materialiser stores the outputs (:func:`factor_run_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.research._checks import check_aligned, check_frame, check_int
from crypto_analyzer.research.rolling_ols import asset_blocks, rolling_ols_blocks

__all__ = [
    "FACTOR_FIT_SCHEMA",
    "FACTOR_FIT_SCHEMA_VERSION",
    "FactorFit",
    "FitOutputs",
    "factor_fit_config",
    "factor_run_id",
    "fit_factor_model",
    "residualize",
    "rolling_factor_config",
]

FACTOR_FIT_SCHEMA = "crypto_analyzer.research.factor_fit"
FACTOR_FIT_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class FactorFit:
    """Outputs of a factor model fit, all aligned (time x asset) and already as-of lagged.

    Attributes
    ----------
    betas : Mapping
        Factor instrument id -> DataFrame of slopes usable at each bar.
    alpha : pandas.DataFrame
        Intercept usable at each bar (per-bar drift not explained by the factors).
    r2 : pandas.DataFrame or None
        In-window R^2 of the estimate usable at each bar (None for models without a window).
    residuals : pandas.DataFrame
        ``r_t - alpha - sum_f beta_f * f_t`` with the lagged estimates: out of sample when lag >= 1.
    n_obs : pandas.DataFrame or None
        Observations behind each estimate (None for recursive models).
    config : dict
        Canonical config (see :func:`factor_fit_config`); JSON-able and hashable.
    """

    betas: Mapping[Hashable, pd.DataFrame]
    alpha: pd.DataFrame
    r2: pd.DataFrame | None
    residuals: pd.DataFrame
    n_obs: pd.DataFrame | None
    config: dict[str, Any]

    def factor_run_id(self, dataset_id: str) -> str:
        """``sha256_json({config, dataset_id})`` for this fit."""
        return factor_run_id(self.config, dataset_id)

    def select_assets(
        self,
        assets: Sequence[Hashable] | pd.Index,
        *,
        then: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None,
    ) -> FactorFit:
        """The same fit restricted to ``assets`` (each asset's estimates are its own regression).

        A fit over a whole dataset can therefore serve any universe chosen from it; assets the fit
        does not cover raise ``ValueError`` instead of turning into silent NaN columns.
        ``then(selected, source)``, when given, is applied to each selected frame but the
        residuals as soon as it exists, before the next is selected (e.g. to move it out of
        memory, so the copies of a narrower universe are never all held at once).
        """
        wanted = pd.Index(assets)
        missing = wanted.difference(self.residuals.columns)
        if len(missing):
            raise ValueError(f"the factor fit does not cover assets {list(missing[:5])}")

        def pick(frame: pd.DataFrame, residuals: bool = False) -> pd.DataFrame:
            # ``.loc`` would copy even when nothing is dropped; the report narrows a whole-panel
            # fit to a universe that is usually all of it, so equal labels are served as they are
            # (same values, dtype and name as ``.loc`` would give, without a second fit in memory)
            same = frame.columns.dtype == wanted.dtype and frame.columns.equals(wanted)
            picked = frame if same else frame.loc[:, wanted]
            return picked if then is None or residuals else then(picked, frame)

        return FactorFit(
            {f: pick(frame) for f, frame in self.betas.items()},
            pick(self.alpha),
            None if self.r2 is None else pick(self.r2),
            pick(self.residuals, residuals=True),
            None if self.n_obs is None else pick(self.n_obs),
            self.config,
        )


def _json_id(value: Any) -> int | str:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"factor id must be an int or str instrument id, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"factor id must be an int or str instrument id, got {type(value).__name__}")


def factor_fit_config(
    *,
    method: str,
    factor_ids: Sequence[Any],
    lag: int,
    exclude_factors: bool,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Canonical, JSON-able description of a factor fit: every setting that changes its outputs.

    The returned dict is what :func:`factor_run_id` hashes, so two fits with equal configs on the
    same dataset are the same factor run.
    """
    return {
        "schema": FACTOR_FIT_SCHEMA,
        "schema_version": FACTOR_FIT_SCHEMA_VERSION,
        "method": method,
        "factor_ids": [_json_id(f) for f in factor_ids],
        "lag": int(lag),
        "exclude_factors": bool(exclude_factors),
        "params": dict(params),
        "returns": "log",
    }


def rolling_factor_config(
    *,
    factor_ids: Sequence[Any],
    window: int,
    lag: int,
    min_obs: int | None = None,
    exclude_factors: bool = True,
) -> dict[str, Any]:
    """The config :func:`fit_factor_model` records for these settings, without fitting.

    A materialiser needs the factor run id *before* it fits, to find a stored run and skip the fit.
    """
    window = check_int("window", window, minimum=3)
    return factor_fit_config(
        method="rolling_ols",
        factor_ids=factor_ids,
        lag=check_int("lag", lag, minimum=0),
        exclude_factors=exclude_factors,
        params={
            "window": window,
            "min_obs": window if min_obs is None else check_int("min_obs", min_obs, minimum=3),
            "intercept": True,
        },
    )


def _factor_run_id_iv(config: Any, dataset_id: Any) -> None:
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    if not isinstance(dataset_id, str):
        raise TypeError(f"dataset_id must be a str, got {type(dataset_id).__name__}")
    if not dataset_id:
        raise ValueError("dataset_id must be a non-empty str, got ''")


def factor_run_id(config: Mapping[str, Any], dataset_id: str) -> str:
    """``factor_run_id = sha256_json({"config": config, "dataset_id": dataset_id})``."""
    _factor_run_id_iv(config, dataset_id)
    return sha256_json({"config": dict(config), "dataset_id": dataset_id})


def _factor_inputs_iv(returns: Any, factor_ids: Any, lag: Any) -> tuple[list[Any], int]:
    check_frame("returns", returns)
    if isinstance(factor_ids, (str, bytes)) or not isinstance(factor_ids, Sequence):
        raise TypeError(f"factor_ids must be a sequence of instrument ids, got {factor_ids!r}")
    ids = list(factor_ids)
    if not ids:
        raise ValueError("factor_ids must name at least one factor instrument")
    if len(set(ids)) != len(ids):
        raise ValueError(f"factor_ids must be distinct, got {ids}")
    missing = [f for f in ids if f not in returns.columns]
    if missing:
        raise ValueError(
            f"factor_ids {missing} are not columns of returns; available e.g. "
            f"{list(returns.columns[:5])}"
        )
    for f in ids:
        _json_id(f)
    return ids, check_int("lag", lag, minimum=0)


def _fit_factor_model_iv(
    returns: Any, factor_ids: Any, window: Any, lag: Any, min_obs: Any
) -> tuple[list[Any], int, int, int | None]:
    ids, lag = _factor_inputs_iv(returns, factor_ids, lag)
    window = check_int("window", window, minimum=len(ids) + 2)
    if min_obs is not None:
        min_obs = check_int("min_obs", min_obs, minimum=len(ids) + 2)
        if min_obs > window:
            raise ValueError(f"min_obs must be <= window ({window}), got {min_obs}")
    return ids, window, lag, min_obs


def fit_factor_model(
    returns: pd.DataFrame,
    *,
    factor_ids: Sequence[Any],
    window: int,
    lag: int = 1,
    min_obs: int | None = None,
    exclude_factors: bool = True,
    with_counts: bool = True,
    outputs: FitOutputs | None = None,
) -> FactorFit:
    """Rolling-window OLS factor model with an as-of lag.

    For each asset ``j`` and bar ``s``, OLS of ``r_j`` on the factor returns ``f`` (plus an
    intercept) over bars ``s - window + 1 .. s`` gives ``(alpha_j, beta_j)(s)``. The estimate used
    at bar ``t`` is the one with ``s = t - lag``:

    .. math:: e_{j,t} = r_{j,t} - \\alpha_j(t - L) - \\beta_j(t - L)^\\top f_t

    Parameters
    ----------
    returns : pandas.DataFrame
        Log returns, time x asset (``Panel.log_returns``); the factor instruments are columns.
    factor_ids : sequence
        Instrument ids of the factors, e.g. ``[btc_id, eth_id]``.
    window : int
        Estimation window in bars.
    lag : int
        As-of lag ``L`` in bars (default 1: betas from data up to the previous bar). ``lag=0`` gives
        in-sample residuals and must not feed a signal evaluated at the same bar.
    min_obs : int, optional
        Minimum valid bars per window (default ``window``).
    exclude_factors : bool
        Drop the factor instruments from the outputs (their residual on themselves is zero).
    with_counts : bool
        Keep the observation counts (``n_obs``); ``False`` leaves ``n_obs=None`` and saves one
        panel-sized grid for callers that never read it (a stored factor run does not hold it).
    outputs : FitOutputs, optional
        Where the output grids live (default: in memory), e.g. memory-mapped scratch files that
        hand each block's pages back once it is written (see :class:`FitOutputs`).

    Returns
    -------
    FactorFit

    Notes
    -----
    Assets are fitted in the column blocks of :func:`~crypto_analyzer.research.rolling_ols.
    asset_blocks`, each written straight into its lagged place in the output grids and
    residualised there, so memory beyond the outputs is one block's worth: no copy of the
    returns, no unlagged grids. The bits are those of :func:`rolling_ols` on the whole panel
    followed by :func:`residualize` (same blocks, same element-wise operations in the same order).

    See Also
    --------
    crypto_analyzer.research.rolling_ols.rolling_ols : the vectorised estimator.
    crypto_analyzer.research.dynamic_beta.fit_kalman_factor_model : time-varying betas.
    """
    ids, window, lag, min_obs = _fit_factor_model_iv(returns, factor_ids, window, lag, min_obs)
    assets = returns.columns.difference(pd.Index(ids), sort=False) if exclude_factors else None
    assets = returns.columns if assets is None else assets
    positions = returns.columns.get_indexer(assets)
    x = returns[ids].to_numpy(dtype=np.float64, na_value=np.nan)
    n_times, n_assets = len(returns.index), len(assets)
    blocks = asset_blocks(n_times, n_assets)
    # Each block is read like ``returns[assets]`` would be (``iloc`` takes the same path), so it
    # has the memory order the whole copy had, and the block fit its bits.
    y_blocks = (
        returns.iloc[:, positions[cols]].to_numpy(dtype=np.float64, na_value=np.nan)
        for cols in blocks
    )
    fitted = rolling_ols_blocks(y_blocks, x, window=window, min_obs=min_obs)
    names = [*range(len(ids)), "alpha", "r2", *(["n_obs"] if with_counts else []), "residual"]
    grids = {name: _lagged_grid(n_times, n_assets, lag, name, outputs) for name in names}
    shift = max(0, n_times - lag)
    for cols, est in zip(blocks, fitted, strict=True):
        for a in range(len(ids)):
            grids[a][lag:, cols] = est.beta[a][:shift]
        grids["alpha"][lag:, cols] = est.alpha[:shift]
        grids["r2"][lag:, cols] = est.r2[:shift]
        if with_counts:
            grids["n_obs"][lag:, cols] = est.n_obs[:shift]
        del est
        # the block's returns are read again (a block's worth, cheap) rather than kept aside
        _residualize_block(grids, cols, returns, positions, x, len(ids))
        if outputs is not None:
            outputs.block_done()
    config = rolling_factor_config(
        factor_ids=ids,
        window=window,
        lag=lag,
        min_obs=window if min_obs is None else min_obs,
        exclude_factors=exclude_factors,
    )

    def frame(name: Hashable, columns: pd.Index = assets) -> pd.DataFrame:
        return pd.DataFrame(grids.pop(name), index=returns.index, columns=columns, copy=False)

    betas = {f: frame(a) for a, f in enumerate(ids)}
    alpha, r2 = frame("alpha"), frame("r2")
    n_obs = frame("n_obs") if with_counts else None
    # as ``residualize(returns[assets], ...)`` labels them: the panel's columns, with its name
    residuals = frame("residual", returns.columns[positions])
    return FactorFit(betas, alpha, r2, residuals, n_obs, config)


class FitOutputs(Protocol):
    """Where :func:`fit_factor_model` puts its output grids.

    ``grid`` returns an uninitialised, writable, asset-major (Fortran-order) float64 array of
    ``shape`` for the output ``name`` (``0, 1, ...`` for the betas in factor order, ``"alpha"``,
    ``"r2"``, ``"n_obs"``, ``"residual"``); the fit writes every cell. ``block_done`` is called
    after each block of assets is written (and residualised): the place to let go of pages.
    """

    def grid(self, name: Hashable, shape: tuple[int, int]) -> np.ndarray: ...

    def block_done(self) -> None: ...


def _lagged_grid(
    n_times: int, n_assets: int, lag: int, name: Hashable, outputs: FitOutputs | None
) -> np.ndarray:
    """An output grid whose first ``lag`` rows (no estimate usable yet) are NaN.

    Asset-major (Fortran order), the layout the frames always had: one run of bars per asset.
    """
    shape = (n_times, n_assets)
    out = np.empty(shape, order="F") if outputs is None else outputs.grid(name, shape)
    if out.shape != shape or out.dtype != np.float64 or not out.flags.f_contiguous:
        raise ValueError(f"FitOutputs.grid gave a {out.dtype} {out.shape} array for {name!r}; "
                         f"expected float64 {shape} in Fortran order")  # fmt: skip
    out[:lag] = np.nan
    return out


def _residualize_block(
    grids: dict[Hashable, np.ndarray],
    cols: slice,
    returns: pd.DataFrame,
    positions: np.ndarray,
    x: np.ndarray,
    k: int,
) -> None:
    """:func:`residualize` of one block of columns, in place in the residual grid.

    The same element-wise steps in the same order (returns, minus alpha, minus each factor's
    beta times its return), so each residual has the bits of the whole-grid computation.
    """
    out = grids["residual"][:, cols]
    out[...] = returns.iloc[:, positions[cols]].to_numpy(dtype=np.float64, na_value=np.nan)
    out -= grids["alpha"][:, cols]
    for a in range(k):
        out -= grids[a][:, cols] * x[:, a][:, None]


def _lag_frame(values: np.ndarray, lag: int, index: pd.Index, cols: pd.Index) -> pd.DataFrame:
    # Allocated asset-major (Fortran order) and handed over without a copy: the frame's memory
    # is what the constructor's own copy made before (one run of times per asset), without
    # holding the grid twice. (The rolling fit writes its lagged grids block by block instead.)
    out = np.full(values.shape, np.nan, order="F")
    if lag < values.shape[0]:
        out[lag:] = values[: values.shape[0] - lag]
    return pd.DataFrame(out, index=index, columns=cols, copy=False)


def _residualize_iv(returns: Any, factor_returns: Any, betas: Any, alpha: Any) -> None:
    check_frame("returns", returns)
    check_frame("factor_returns", factor_returns)
    if not factor_returns.index.equals(returns.index):
        raise ValueError("factor_returns must share the time index of returns")
    if not isinstance(betas, Mapping):
        raise TypeError(f"betas must be a mapping factor id -> DataFrame, got {type(betas)}")
    if set(betas) != set(factor_returns.columns):
        raise ValueError(
            f"betas keys {list(betas)} must equal factor_returns columns "
            f"{list(factor_returns.columns)}"
        )
    for f, beta in betas.items():
        check_frame(f"betas[{f!r}]", beta)
        check_aligned(f"betas[{f!r}]", beta, "returns", returns)
    if alpha is not None:
        check_frame("alpha", alpha)
        check_aligned("alpha", alpha, "returns", returns)


def residualize(
    returns: pd.DataFrame,
    factor_returns: pd.DataFrame,
    *,
    betas: Mapping[Hashable, pd.DataFrame],
    alpha: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Residual returns ``r - alpha - sum_f beta_f * f`` with given (already lagged) estimates.

    ``factor_returns`` has one column per factor id, aligned in time with ``returns``; each
    ``betas[f]`` is aligned with ``returns``. NaN anywhere in a term gives a NaN residual.
    """
    _residualize_iv(returns, factor_returns, betas, alpha)
    # One private asset-major copy, updated in place and handed to the frame without another
    # copy (the constructor's copy had this layout; element-wise updates do not depend on it).
    out = np.array(returns.to_numpy(dtype=np.float64, na_value=np.nan), order="F", copy=True)
    if alpha is not None:
        out -= alpha.to_numpy(dtype=np.float64, na_value=np.nan)
    for f, beta in betas.items():
        fac = factor_returns[f].to_numpy(dtype=np.float64, na_value=np.nan)
        out -= beta.to_numpy(dtype=np.float64, na_value=np.nan) * fac[:, None]
    return pd.DataFrame(out, index=returns.index, columns=returns.columns, copy=False)
