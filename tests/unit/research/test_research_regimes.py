"""Regimes: rule-based labels, train-only thresholds, Gaussian mixture, regime-conditioned IC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from research_helpers import bars_frame

from crypto_analyzer.research import (
    GaussianMixtureRegimes,
    Panel,
    QuantileRegimeRule,
    fit_gmm,
    guarded_fit,
    market_state_features,
    oos_regimes,
    panel_from_bars,
    regime_conditioned_ic,
    rule_regimes,
    walk_forward_plan,
)


def _two_regime_panel(seed: int = 0) -> tuple[Panel, np.ndarray]:
    """Alternating calm (1 % vol) and stormy (4 % vol) blocks of 150 bars."""
    rng = np.random.default_rng(seed)
    n_times, n_assets = 1200, 15
    stormy = (np.arange(n_times) // 150) % 2 == 1
    vol = np.where(stormy, 0.04, 0.01)[:, None]
    rets = rng.standard_normal((n_times, n_assets)) * vol
    close = 100.0 * np.exp(np.cumsum(rets, axis=0))
    return panel_from_bars(bars_frame(close)), stormy


def test_market_state_features_are_causal() -> None:
    panel, _ = _two_regime_panel()
    full = market_state_features(panel, window=24)
    head = market_state_features(panel.head_rows(500), window=24)
    pd.testing.assert_frame_equal(full.iloc[:500], head)
    assert full.iloc[:24].isna().all().all() and full.iloc[24:].notna().all().all()


def test_rule_regimes_and_train_only_thresholds() -> None:
    feats = pd.DataFrame(
        {"log_volatility": [0.0, 2.0, 0.0, 2.0, np.nan], "log_dispersion": [0.0, 0.0, 2.0, 2.0, 1]}
    )
    labels = rule_regimes(feats, vol_threshold=1.0, dispersion_threshold=1.0)
    assert labels.tolist()[:4] == [
        "low_vol/low_disp",
        "high_vol/low_disp",
        "low_vol/high_disp",
        "high_vol/high_disp",
    ]
    assert labels.iloc[4] is None
    panel, _ = _two_regime_panel()
    features = market_state_features(panel, window=24)
    plan = walk_forward_plan(len(features), test_size=300, min_train_size=300, horizon=1)
    fold = plan.folds[0]
    fitted, record = guarded_fit(
        QuantileRegimeRule(0.5),
        features.iloc[fold.train_rows()],
        fold=fold,
        time_index=features.index,
    )
    median = features.iloc[fold.train_rows()].dropna().median()
    assert fitted.vol_threshold == pytest.approx(median["log_volatility"])
    assert record.rows == ((0, 300),)


def test_gmm_recovers_two_clusters() -> None:
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal([0, 0], 0.3, (300, 2)), rng.normal([3, 1], 0.5, (200, 2))])
    fit = fit_gmm(x, n_states=2, rng=np.random.default_rng(2))
    assert fit.converged
    np.testing.assert_allclose(fit.weights, [0.6, 0.4], atol=0.02)
    means = fit.means * fit.scale + fit.center
    np.testing.assert_allclose(means, [[0, 0], [3, 1]], atol=0.1)
    probs = fit.transform(pd.DataFrame(x))
    assert (probs["state"].to_numpy()[:300] == 0).mean() > 0.98
    np.testing.assert_allclose(probs[["p0", "p1"]].sum(axis=1), 1.0)
    again = fit_gmm(x, n_states=2, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(again.means, fit.means)


def test_gmm_validation() -> None:
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        fit_gmm(np.zeros((20, 2)), n_states=2, rng=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN or inf"):
        fit_gmm(np.full((20, 2), np.nan), n_states=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs >= 10 rows"):
        fit_gmm(np.zeros((9, 2)), n_states=2, rng=np.random.default_rng(0))


def test_oos_regimes_fit_on_train_and_find_storms() -> None:
    panel, stormy = _two_regime_panel()
    features = market_state_features(panel, window=24)
    plan = walk_forward_plan(len(features), test_size=200, min_train_size=400, horizon=1)
    probs, records = oos_regimes(features, plan, n_states=2, rng=np.random.default_rng(3))
    assert len(records) == len(plan.folds)
    for record in records:
        fold = plan.folds[record.fold]
        seen = {r for s, e in record.rows for r in range(s, e)}
        assert seen <= set(fold.train_rows())
    tested = probs["state"].notna().to_numpy()
    assert tested.sum() == sum(len(f.test_rows()) for f in plan.folds)
    # the window lags the switch by up to 24 bars; away from switches the states match storms
    settled = tested & ((np.arange(len(stormy)) % 150) >= 30)
    agree = probs["state"].to_numpy()[settled] == stormy[settled]
    assert agree.mean() > 0.95
    again, _ = oos_regimes(features, plan, n_states=2, rng=np.random.default_rng(3))
    pd.testing.assert_frame_equal(probs, again)
    spec = GaussianMixtureRegimes(np.random.default_rng(0))
    assert spec.params() == {"n_states": 2, "max_iter": 200}


def test_regime_conditioned_ic() -> None:
    idx = pd.RangeIndex(200)
    ic = pd.Series(np.where(np.arange(200) % 2 == 0, 0.2, -0.05), index=idx)
    ic.iloc[5] = np.nan
    regimes = pd.Series(np.where(np.arange(200) % 2 == 0, "calm", "storm"), index=idx)
    out = regime_conditioned_ic(ic, regimes, horizon=1)
    assert list(out.index) == ["calm", "storm"]
    assert out.loc["calm", "mean"] == pytest.approx(0.2)
    assert out.loc["storm", "n_obs"] == 99
    assert out["share"].sum() == pytest.approx(1.0)
    with pytest.raises(TypeError, match="pandas Series"):
        regime_conditioned_ic(ic.to_numpy(), regimes, horizon=1)  # type: ignore[arg-type]
