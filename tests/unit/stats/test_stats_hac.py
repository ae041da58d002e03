"""Newey-West HAC: statsmodels oracle, time sorting, lag rule, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from stats_helpers import ar1

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import HacResult, newey_west, newey_west_lag_rule


def _oracle_t(x: np.ndarray, lags: int) -> tuple[float, float]:
    fit = sm.OLS(x, np.ones_like(x)).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    return float(fit.tvalues[0]), float(fit.bse[0])


@pytest.mark.parametrize("n", [20, 97, 500])
@pytest.mark.parametrize("lags", [0, 1, 4, 12])
def test_t_and_se_equal_statsmodels_hac(n: int, lags: int) -> None:
    rng = np.random.default_rng(n * 100 + lags)
    x = ar1(n, 0.4, rng)[:, 0] + 0.1
    res = newey_west(x, lags=lags)
    t, se = _oracle_t(x, lags)
    assert res.t == pytest.approx(t, rel=1e-8, abs=1e-10)
    assert res.se == pytest.approx(se, rel=1e-8)
    assert res.lags == lags
    assert res.lag_rule == "user"


def test_automatic_lag_is_the_documented_rule_and_matches_oracle_at_that_lag() -> None:
    x = ar1(300, 0.3, np.random.default_rng(3))[:, 0]
    res = newey_west(x)
    expected = math.floor(4 * (300 / 100) ** (2 / 9))
    assert res.lags == expected == newey_west_lag_rule(300)
    assert res.lag_rule == "newey-west-1994"
    assert res.t == pytest.approx(_oracle_t(x, expected)[0], rel=1e-8)


def test_lag_rule_hand_values() -> None:
    # floor(4 * (n/100)^(2/9)): n=100 -> 4; n=1000 -> floor(6.65) = 6; n=2 -> capped at n-1 = 1.
    assert newey_west_lag_rule(100) == 4
    assert newey_west_lag_rule(1000) == 6
    assert newey_west_lag_rule(2) == 1


def test_hand_worked_case() -> None:
    # x = [1, 2, 3, 4], mean 2.5, e = [-1.5, -.5, .5, 1.5]; gamma0 = 5/4,
    # gamma1 = (0.75 - 0.25 + 0.75) / 4 = 0.3125; L = 1 -> omega = 1.25 + 2 * 0.5 * 0.3125
    # = 1.5625; se = sqrt(1.5625 / 4) = 0.625.
    res = newey_west(np.array([1.0, 2.0, 3.0, 4.0]), lags=1)
    assert res.mean == 2.5
    assert res.long_run_variance == pytest.approx(1.5625)
    assert res.se == pytest.approx(0.625)
    assert res.t == pytest.approx(4.0)


def test_series_is_sorted_by_time_before_computing() -> None:
    rng = np.random.default_rng(11)
    x = ar1(120, 0.6, rng)[:, 0]
    times = np.arange(120) * 3600
    perm = rng.permutation(120)
    shuffled = newey_west(x[perm], lags=5, times=times[perm])
    ordered = newey_west(x, lags=5)
    assert shuffled.t == pytest.approx(ordered.t, rel=1e-12)
    assert shuffled.sorted_by_time
    unsorted = newey_west(x[perm], lags=5)
    assert unsorted.t != pytest.approx(ordered.t, rel=1e-6)


def test_datetime_times_are_accepted() -> None:
    x = np.array([0.1, -0.2, 0.4, 0.3, 0.0])
    times = np.array(
        ["2024-01-05", "2024-01-01", "2024-01-03", "2024-01-02", "2024-01-04"],
        dtype="datetime64[D]",
    )
    res = newey_west(x, lags=1, times=times)
    ordered = newey_west(x[np.argsort(times)], lags=1)
    assert res.t == pytest.approx(ordered.t)


def test_constant_series_has_undefined_t_and_clean_dict() -> None:
    res = newey_west(np.full(10, 0.5), lags=2)
    assert res.se == 0.0
    assert res.t is None and res.p_value is None
    canonical_dumps(res.to_dict())


def test_result_is_frozen_and_serialisable() -> None:
    res = newey_west(np.array([0.1, -0.2, 0.3, 0.05, 0.0, 0.2]))
    assert isinstance(res, HacResult)
    with pytest.raises(AttributeError):
        res.mean = 1.0  # type: ignore[misc]
    data = res.to_dict()
    assert set(data) >= {"mean", "se", "t", "lags", "n_obs"}
    canonical_dumps(data)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": [1.0, 2.0, 3.0]}, TypeError, "x must be a numpy.ndarray"),
        ({"x": np.array(["a", "b"])}, TypeError, "real numbers"),
        ({"x": np.ones((3, 2))}, ValueError, "1-D"),
        ({"x": np.array([1.0, np.nan, 2.0])}, ValueError, "NaN"),
        ({"x": np.array([1.0, np.inf, 2.0])}, ValueError, "inf"),
        ({"x": np.array([1.0])}, ValueError, "at least 2"),
        ({"x": np.arange(5.0), "lags": 5}, ValueError, "lags must be <= 4"),
        ({"x": np.arange(5.0), "lags": -1}, ValueError, "lags must be >= 0"),
        ({"x": np.arange(5.0), "lags": 1.5}, TypeError, "lags must be an int"),
        ({"x": np.arange(5.0), "times": np.arange(4)}, ValueError, "same length"),
        ({"x": np.arange(3.0), "times": np.array([1, 1, 2])}, ValueError, "duplicates"),
        ({"x": np.arange(3.0), "times": np.array([1.0, np.nan, 2.0])}, ValueError, "NaN"),
        ({"x": np.arange(3.0), "times": [1, 2, 3]}, TypeError, "times must be"),
    ],
)
def test_validation_names_the_parameter(kwargs: dict, error: type, match: str) -> None:
    x = kwargs.pop("x")
    with pytest.raises(error, match=match):
        newey_west(x, **kwargs)
