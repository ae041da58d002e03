"""Rolling OLS against per-window lstsq, as-of lag causality, factor run ids, Kalman betas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.research import (
    Panel,
    factor_run_id,
    fit_factor_model,
    fit_kalman_factor_model,
    rolling_factor_config,
    rolling_ols,
)


def _random_panel(seed: int, n_times: int, n_assets: int, k: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0005, 0.02, size=(n_times, k))
    beta = rng.normal(1.0, 0.5, size=(k, n_assets))
    y = 0.0003 + x @ beta + rng.normal(0.0, 0.01, size=(n_times, n_assets))
    y[rng.random(y.shape) < 0.08] = np.nan
    x[rng.random(n_times) < 0.02, 0] = np.nan
    return y, x


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rolling_betas_equal_lstsq_per_window(k: int) -> None:
    y, x = _random_panel(11 + k, n_times=260, n_assets=6, k=k)
    window, min_obs = 40, 25
    est = rolling_ols(y, x, window=window, min_obs=min_obs)
    checked = 0
    for t in range(y.shape[0]):
        lo = max(0, t - window + 1)
        for j in range(y.shape[1]):
            yy, xx = y[lo : t + 1, j], x[lo : t + 1]
            ok = np.isfinite(yy) & np.isfinite(xx).all(axis=1)
            assert est.n_obs[t, j] == ok.sum()
            if ok.sum() < min_obs:
                assert np.isnan(est.beta[:, t, j]).all() and np.isnan(est.alpha[t, j])
                continue
            design = np.column_stack([np.ones(ok.sum()), xx[ok]])
            coef = np.linalg.lstsq(design, yy[ok], rcond=None)[0]
            np.testing.assert_allclose(est.beta[:, t, j], coef[1:], rtol=0, atol=1e-9)
            assert est.alpha[t, j] == pytest.approx(coef[0], abs=1e-9)
            resid = yy[ok] - design @ coef
            r2 = 1.0 - resid @ resid / np.sum((yy[ok] - yy[ok].mean()) ** 2)
            assert est.r2[t, j] == pytest.approx(r2, abs=1e-9)
            checked += 1
    assert checked > 1000


def test_collinear_or_constant_regressors_give_nan() -> None:
    rng = np.random.default_rng(5)
    f = rng.normal(size=(50, 1))
    x = np.column_stack([f, 2.0 * f])
    y = rng.normal(size=(50, 2))
    est = rolling_ols(y, x, window=20)
    assert np.isnan(est.beta[:, 19:]).all()
    const = rolling_ols(y, np.ones((50, 1)), window=20)
    assert np.isnan(const.beta).all()


def test_rolling_ols_validation() -> None:
    y = np.zeros((10, 2))
    with pytest.raises(TypeError, match="numpy arrays"):
        rolling_ols(y.tolist(), np.zeros((10, 1)), window=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x must be 2-D"):
        rolling_ols(y, np.zeros((9, 1)), window=5)
    with pytest.raises(ValueError, match="min_obs must be <= window"):
        rolling_ols(y, np.zeros((10, 1)), window=5, min_obs=6)
    with pytest.raises(ValueError, match="window must be an int >= 2"):
        rolling_ols(y, np.zeros((10, 1)), window=1)


def test_factor_fit_applies_the_as_of_lag(market_panel: Panel) -> None:
    rets = market_panel.log_returns
    fit = fit_factor_model(rets, factor_ids=[1, 2], window=100, lag=2)
    assert list(fit.alpha.columns) == list(range(3, 13))
    raw = rolling_ols(
        rets[fit.alpha.columns].to_numpy(), rets[[1, 2]].to_numpy(), window=100, min_obs=100
    )
    t = 350
    np.testing.assert_allclose(fit.betas[1].iloc[t].to_numpy(), raw.beta[0, t - 2], atol=1e-12)
    expected = (
        rets[fit.alpha.columns].iloc[t].to_numpy()
        - raw.alpha[t - 2]
        - raw.beta[0, t - 2] * rets[1].iloc[t]
        - raw.beta[1, t - 2] * rets[2].iloc[t]
    )
    np.testing.assert_allclose(fit.residuals.iloc[t].to_numpy(), expected, atol=1e-12)
    # true betas in the fixture are in [0.5, 1.5] on BTC
    assert fit.betas[1].iloc[-1].between(0.2, 1.8).all()


def test_factor_residuals_are_causal(market_panel: Panel) -> None:
    full = fit_factor_model(market_panel.log_returns, factor_ids=[1, 2], window=120)
    cut = 400
    head = fit_factor_model(market_panel.head_rows(cut).log_returns, factor_ids=[1, 2], window=120)
    pd.testing.assert_frame_equal(full.residuals.iloc[:cut], head.residuals)
    pd.testing.assert_frame_equal(full.betas[2].iloc[:cut], head.betas[2])


def test_factor_run_id_is_config_plus_dataset(market_panel: Panel) -> None:
    fit = fit_factor_model(market_panel.log_returns, factor_ids=[1, 2], window=100)
    assert fit.config["params"] == {"window": 100, "min_obs": 100, "intercept": True}
    run_id = fit.factor_run_id("ds1")
    assert run_id == sha256_json({"config": fit.config, "dataset_id": "ds1"})
    assert run_id == factor_run_id(dict(fit.config), "ds1")
    other = fit_factor_model(market_panel.log_returns, factor_ids=[1, 2], window=101)
    assert other.factor_run_id("ds1") != run_id
    assert fit.factor_run_id("ds2") != run_id


def test_config_is_known_before_fitting(market_panel: Panel) -> None:
    fit = fit_factor_model(market_panel.log_returns, factor_ids=[1, 2], window=100, lag=2)
    assert rolling_factor_config(factor_ids=[1, 2], window=100, lag=2) == fit.config
    assert rolling_factor_config(factor_ids=[1, 2], window=100, lag=2, min_obs=80) != fit.config


def test_whole_panel_fit_narrowed_equals_fit_on_the_narrow_panel(market_panel: Panel) -> None:
    rets = market_panel.log_returns
    whole = fit_factor_model(rets, factor_ids=[1, 2], window=100)
    keep = [c for c in rets.columns if c not in (1, 2)][::2]
    narrow = fit_factor_model(rets[[1, 2, *keep]], factor_ids=[1, 2], window=100)
    picked = whole.select_assets(keep)
    pd.testing.assert_frame_equal(picked.residuals, narrow.residuals, check_exact=True)
    for factor in (1, 2):
        pd.testing.assert_frame_equal(picked.betas[factor], narrow.betas[factor], check_exact=True)
    with pytest.raises(ValueError, match="does not cover"):
        whole.select_assets([1])  # a factor is not among the fitted assets


def test_factor_fit_validation(market_panel: Panel) -> None:
    rets = market_panel.log_returns
    with pytest.raises(ValueError, match="not columns of returns"):
        fit_factor_model(rets, factor_ids=[99], window=50)
    with pytest.raises(ValueError, match="lag must be an int >= 0"):
        fit_factor_model(rets, factor_ids=[1], window=50, lag=-1)
    with pytest.raises(TypeError, match="factor_ids must be a sequence"):
        fit_factor_model(rets, factor_ids=1, window=50)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distinct"):
        fit_factor_model(rets, factor_ids=[1, 1], window=50)


def test_kalman_without_state_noise_is_the_ridge_posterior() -> None:
    rng = np.random.default_rng(9)
    n = 300
    f = rng.normal(0, 0.02, n)
    y = 0.001 + 1.3 * f + rng.normal(0, 0.01, n)
    y[rng.random(n) < 0.1] = np.nan
    idx = pd.RangeIndex(n)
    rets = pd.DataFrame({"btc": f, "alt": y}, index=idx)
    s, p0 = 1e-4, 1.0
    fit = fit_kalman_factor_model(
        rets, factor_ids=["btc"], state_var=0.0, obs_var=s, prior_var=p0, lag=0
    )
    ok = np.isfinite(y)
    design = np.column_stack([np.ones(ok.sum()), f[ok]])
    post = np.linalg.solve(design.T @ design / s + np.eye(2) / p0, design.T @ y[ok] / s)
    assert fit.alpha["alt"].iloc[-1] == pytest.approx(post[0], abs=1e-8)
    assert fit.betas["btc"]["alt"].iloc[-1] == pytest.approx(post[1], abs=1e-8)
    assert fit.r2 is None and fit.config["method"] == "kalman"


def test_kalman_tracks_a_beta_shift() -> None:
    rng = np.random.default_rng(10)
    n = 3000
    f = rng.normal(0, 0.02, n)
    beta = np.where(np.arange(n) < n // 2, 0.5, 1.5)
    y = beta * f + rng.normal(0, 0.005, n)
    rets = pd.DataFrame({"btc": f, "alt": y})
    fit = fit_kalman_factor_model(rets, factor_ids=["btc"], state_var=1e-5, obs_var=2.5e-5)
    b = fit.betas["btc"]["alt"]
    assert abs(b.iloc[n // 2 - 1] - 0.5) < 0.15
    assert abs(b.iloc[-1] - 1.5) < 0.15
    # causal: the estimate at t never moves when later data change
    rets2 = rets.copy()
    rets2.iloc[2000:, 1] = 0.0
    b2 = fit_kalman_factor_model(rets2, factor_ids=["btc"], state_var=1e-5, obs_var=2.5e-5).betas[
        "btc"
    ]["alt"]
    np.testing.assert_array_equal(b.iloc[:2001].to_numpy(), b2.iloc[:2001].to_numpy())
