"""LORD++ online FDR: hand-worked case, onlineFDR oracle, properties, null size, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from stats_helpers import oracle_vectors

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import (
    LORD_GAMMA_CONSTANT,
    OnlineFdrResult,
    lord_gamma_sequence,
    lord_plus_plus,
)
from crypto_analyzer.stats.calibration import binomial_interval

FEW = settings(max_examples=40, deadline=None)

# p-values that mix strong signals (so rejections happen) with ordinary ones.
streams = hnp.arrays(
    np.float64,
    st.integers(1, 60),
    elements=st.one_of(st.floats(0.0, 1e-4), st.floats(0.0, 1.0)),
)


def _direct_lord_plus_plus(
    p: np.ndarray, alpha: float, w0: float, gamma: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The defining formula evaluated term by term at every t (the slow, obvious twin)."""
    levels = np.empty(p.shape[0])
    taus: list[int] = []  # 1-based rejection times
    for t in range(1, p.shape[0] + 1):
        level = gamma[t - 1] * w0
        if taus:
            level += (alpha - w0) * gamma[t - taus[0] - 1]
            level += alpha * sum(gamma[t - tau - 1] for tau in taus[1:])
        levels[t - 1] = level
        if p[t - 1] <= level:
            taus.append(t)
    rejected = np.zeros(p.shape[0], dtype=bool)
    rejected[np.array(taus, dtype=int) - 1] = True
    return levels, rejected


def test_hand_worked_five_trials() -> None:
    """alpha = 0.2, W0 = 0.1, gamma = (1/2, 1/4, 1/8, 1/16, 1/32) (sum 31/32, non-increasing).

    t=1: alpha_1 = gamma_1 W0 = 0.5 * 0.1 = 0.05; p_1 = 0.01 <= 0.05, rejected (tau_1 = 1).
    t=2: alpha_2 = gamma_2 W0 + (alpha - W0) gamma_{2-1} = 0.025 + 0.1 * 0.5 = 0.075;
         p_2 = 0.5, kept.
    t=3: alpha_3 = gamma_3 W0 + (alpha - W0) gamma_{3-1} = 0.0125 + 0.1 * 0.25 = 0.0375;
         p_3 = 0.03 <= 0.0375, rejected (tau_2 = 3).
    t=4: alpha_4 = gamma_4 W0 + (alpha - W0) gamma_{4-1} + alpha gamma_{4-3}
               = 0.00625 + 0.1 * 0.125 + 0.2 * 0.5 = 0.00625 + 0.0125 + 0.1 = 0.11875;
         p_4 = 0.2, kept.
    t=5: alpha_5 = gamma_5 W0 + (alpha - W0) gamma_{5-1} + alpha gamma_{5-3}
               = 0.003125 + 0.1 * 0.0625 + 0.2 * 0.25 = 0.003125 + 0.00625 + 0.05 = 0.059375;
         p_5 = 0.06 > 0.059375, kept (just above its level).
    """
    gamma = np.array([0.5, 0.25, 0.125, 0.0625, 0.03125])
    p = np.array([0.01, 0.5, 0.03, 0.2, 0.06])
    res = lord_plus_plus(p, alpha=0.2, w0=0.1, gamma=gamma)
    np.testing.assert_allclose(
        res.alpha_levels, [0.05, 0.075, 0.0375, 0.11875, 0.059375], rtol=0, atol=1e-15
    )
    assert res.rejected == (True, False, True, False, False)
    assert res.n_rejections == 2
    assert (res.method, res.alpha, res.w0, res.gamma_rule) == ("lord++", 0.2, 0.1, "user-supplied")
    assert res.pvalues == tuple(p.tolist())


@pytest.mark.parametrize("vector", oracle_vectors("lord++"), ids=lambda v: v["id"])
def test_matches_onlinefdr_printed_examples(vector: dict) -> None:
    inputs = vector["inputs"]
    p = np.array(inputs["pvalues"])
    j = np.arange(1, p.shape[0] + 1, dtype=np.float64)
    gamma = inputs["gamma_constant"] * np.log(np.maximum(j, 2)) / (j * np.exp(np.sqrt(np.log(j))))
    res = lord_plus_plus(p, alpha=inputs["alpha"], w0=inputs["w0"], gamma=gamma)
    tol = vector["tolerance"]["alpha_levels_abs"]
    np.testing.assert_allclose(
        res.alpha_levels, vector["expected"]["alpha_levels"], atol=tol, rtol=0
    )
    assert list(res.rejected) == vector["expected"]["rejected"]


def test_onlinefdr_gamma_is_a_rescaled_default() -> None:
    """onlineFDR's 0.07720838 and ours differ only in the constant (ours sums to 1)."""
    j = np.arange(1, 101, dtype=np.float64)
    theirs = 0.07720838 * np.log(np.maximum(j, 2)) / (j * np.exp(np.sqrt(np.log(j))))
    np.testing.assert_allclose(
        lord_gamma_sequence(100), theirs * LORD_GAMMA_CONSTANT / 0.07720838, rtol=1e-14
    )


def test_default_gamma_normalisation_constant() -> None:
    """Exact sum to N plus the Euler-Maclaurin remainder with the closed-form tail integral."""
    n = 100_000

    def f(x: float) -> float:
        return math.log(max(x, 2.0)) / (x * math.exp(math.sqrt(math.log(x))))

    j = np.arange(1, n + 1, dtype=np.float64)
    partial = math.fsum((np.log(np.maximum(j, 2)) / (j * np.exp(np.sqrt(np.log(j))))).tolist())
    s = math.sqrt(math.log(n))
    tail = 2.0 * math.exp(-s) * (s**3 + 3 * s**2 + 6 * s + 6)
    log_n = math.log(n)
    f_prime = f(n) * (1 / (n * log_n) - 1 / n - 1 / (2 * n * math.sqrt(log_n)))
    total = partial + tail - f(n) / 2 - f_prime / 12
    assert total == pytest.approx(12.645107872871751, rel=1e-13)
    assert LORD_GAMMA_CONSTANT * total == pytest.approx(1.0, abs=1e-13)


def test_default_gamma_sums_to_at_most_one_and_is_non_increasing() -> None:
    gamma = lord_gamma_sequence(1_000_000)
    assert (gamma > 0).all()
    assert (np.diff(gamma) <= 0).all()
    assert math.fsum(gamma.tolist()) <= 1.0
    assert gamma[0] == pytest.approx(LORD_GAMMA_CONSTANT * math.log(2), rel=1e-15)


def test_p_equal_to_its_level_is_rejected() -> None:
    level = lord_plus_plus(np.array([1.0])).alpha_levels[0]
    assert lord_plus_plus(np.array([level])).rejected == (True,)
    assert lord_plus_plus(np.array([np.nextafter(level, 1.0)])).rejected == (False,)


@FEW
@given(p=streams, alpha=st.floats(0.01, 0.5), share=st.floats(0.05, 1.0))
def test_vectorised_levels_equal_the_direct_formula(
    p: np.ndarray, alpha: float, share: float
) -> None:
    w0 = alpha * share
    res = lord_plus_plus(p, alpha=alpha, w0=w0)
    levels, rejected = _direct_lord_plus_plus(p, alpha, w0, lord_gamma_sequence(p.shape[0]))
    np.testing.assert_allclose(res.alpha_levels, levels, rtol=1e-12, atol=0)
    assert res.rejected == tuple(rejected.tolist())


@FEW
@given(p=streams, data=st.data())
def test_levels_depend_only_on_the_past(p: np.ndarray, data: st.DataObject) -> None:
    t = data.draw(st.integers(0, p.shape[0] - 1))  # 0-based: alpha_levels[t] is alpha_{t+1}
    future = data.draw(hnp.arrays(np.float64, p.shape[0] - t, elements=st.floats(0.0, 1.0)))
    changed = p.copy()
    changed[t:] = future
    a = lord_plus_plus(p).alpha_levels
    b = lord_plus_plus(changed).alpha_levels
    assert a[: t + 1] == b[: t + 1]


@FEW
@given(p=streams)
def test_rejections_never_lower_later_levels(p: np.ndarray) -> None:
    res = lord_plus_plus(p)
    levels = np.array(res.alpha_levels)
    no_rejection_path = res.w0 * lord_gamma_sequence(p.shape[0])
    assert (levels >= no_rejection_path).all()
    if res.n_rejections:
        first = res.rejected.index(True)
        assert (levels[: first + 1] == no_rejection_path[: first + 1]).all()
        assert (levels[first + 1 :] > no_rejection_path[first + 1 :]).all()
    else:
        assert (levels == no_rejection_path).all()


def test_no_rejections_gives_gamma_times_w0() -> None:
    res = lord_plus_plus(np.ones(50), alpha=0.1, w0=0.03)
    assert res.n_rejections == 0
    np.testing.assert_array_equal(res.alpha_levels, 0.03 * lord_gamma_sequence(50))


def test_power_strong_early_signals_are_rejected_and_raise_later_levels() -> None:
    rng = np.random.default_rng(20240611)
    p = np.concatenate([np.full(10, 1e-6), rng.random(190)])
    res = lord_plus_plus(p, alpha=0.05)
    assert all(res.rejected[:10])
    levels = np.array(res.alpha_levels)
    baseline = res.w0 * lord_gamma_sequence(200)
    assert (levels[10:] > 3 * baseline[10:]).all()
    assert levels[10] > levels[0]


def test_ten_thousand_rejections_in_a_row() -> None:
    res = lord_plus_plus(np.zeros(10_000), alpha=0.05)
    assert res.n_rejections == 10_000
    levels = np.array(res.alpha_levels)
    # alpha_t for t >= 2 is W0 g_t + (alpha - W0) g_{t-1} + alpha (g_{t-2} + ... + g_1).
    g = lord_gamma_sequence(10_000)
    t = 5_000
    expected = 0.025 * g[t - 1] + 0.025 * g[t - 2] + 0.05 * math.fsum(g[: t - 2].tolist())
    assert levels[t - 1] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("alpha", "w0"), [(0.05, None), (0.2, 0.2)])
def test_global_null_size_within_binomial_band(alpha: float, w0: float | None) -> None:
    """Under the global null every rejection is false, so FDR = P(any rejection).

    With independent U(0, 1) p-values the levels stay at gamma_t W0 until the first rejection,
    so P(any rejection in 200) = 1 - prod_t (1 - gamma_t W0) exactly. The simulated share must
    lie in the 99% binomial band of that value and below the band's upper end at alpha.
    """
    reps, n = 10_000, 200
    rng = np.random.default_rng(20240612)
    draws = rng.random((reps, n))
    any_rejection = np.array(
        [lord_plus_plus(row, alpha=alpha, w0=w0).n_rejections > 0 for row in draws]
    )
    share = float(any_rejection.mean())
    wealth = alpha / 2 if w0 is None else w0
    exact = 1.0 - float(np.prod(1.0 - wealth * lord_gamma_sequence(n)))
    low, high = binomial_interval(reps, exact)
    assert low <= share <= high, (share, exact)
    assert share <= binomial_interval(reps, alpha)[1]


def test_fdr_with_signals_below_alpha() -> None:
    """20% non-nulls (one-sided z-test p-values, effect 3) among independent nulls: FDR <= alpha."""
    from scipy import stats as sps

    reps, n, alpha = 2000, 200, 0.1
    rng = np.random.default_rng(20240613)
    fdp = np.empty(reps)
    power = np.empty(reps)
    for i in range(reps):
        signal = rng.random(n) < 0.2
        z = rng.standard_normal(n) + 3.0 * signal
        res = lord_plus_plus(sps.norm.sf(z), alpha=alpha)
        rejected = np.array(res.rejected)
        fdp[i] = (rejected & ~signal).sum() / max(1, rejected.sum())
        power[i] = (rejected & signal).sum() / max(1, signal.sum())
    se = fdp.std(ddof=1) / math.sqrt(reps)
    assert fdp.mean() <= alpha + 2.576 * se
    assert power.mean() > 0.2


def test_result_is_frozen_and_serialises() -> None:
    res = lord_plus_plus(np.array([1e-6, 0.5, 1e-4]), alpha=0.05)
    assert isinstance(res, OnlineFdrResult)
    assert res.gamma_rule == "javanmard-montanari-2018-eq31-normalised"
    assert res.rejected == (True, False, True)
    with pytest.raises(AttributeError):
        res.alpha = 0.1  # type: ignore[misc]
    d = res.to_dict()
    assert d["method"] == "lord++" and d["n_rejections"] == 2 and d["w0"] == 0.025
    assert isinstance(d["alpha_levels"], list) and isinstance(d["rejected"][0], bool)
    canonical_dumps(d)


def test_user_gamma_normalised_in_floating_point_is_accepted() -> None:
    raw = 1.0 / np.arange(1, 8) ** 1.5
    gamma = raw / raw.sum()
    res = lord_plus_plus(np.full(7, 0.5), gamma=gamma)
    np.testing.assert_allclose(res.alpha_levels, 0.025 * gamma, rtol=1e-15)
    res = lord_plus_plus(np.full(3, 0.5), gamma=gamma)  # extra entries are ignored
    assert len(res.alpha_levels) == 3


P3 = np.array([0.01, 0.2, 0.03])


@pytest.mark.parametrize(
    ("p", "kwargs", "error", "match"),
    [
        ([0.1, 0.2], {}, TypeError, "pvalues must be a numpy.ndarray"),
        (np.array(["a"]), {}, TypeError, "pvalues must hold real numbers"),
        (np.ones((2, 2)), {}, ValueError, r"pvalues must be 1-D, got shape \(2, 2\)"),
        (np.array([]), {}, ValueError, "pvalues must contain at least one"),
        (np.array([0.1, np.nan]), {}, ValueError, "pvalues contains NaN"),
        (np.array([0.1, np.inf]), {}, ValueError, r"pvalues contains \+/-inf"),
        (
            np.array([0.1, 1.5]),
            {},
            ValueError,
            r"pvalues must lie in \[0, 1\], got 1.5 at position 1",
        ),
        (np.array([-0.1]), {}, ValueError, r"pvalues must lie in \[0, 1\], got -0.1"),
        (P3, {"alpha": 0.0}, ValueError, r"alpha must lie in \(0.0, 1.0\), got 0.0"),
        (P3, {"alpha": 1.0}, ValueError, r"alpha must lie in \(0.0, 1.0\), got 1.0"),
        (P3, {"alpha": "0.05"}, TypeError, "alpha must be a real number"),
        (P3, {"w0": 0.0}, ValueError, r"w0 must lie in \(0.0, 0.05\], got 0.0"),
        (P3, {"w0": 0.06}, ValueError, r"w0 must lie in \(0.0, 0.05\], got 0.06"),
        (P3, {"alpha": 0.1, "w0": 0.2}, ValueError, r"w0 must lie in \(0.0, 0.1\], got 0.2"),
        (P3, {"w0": float("nan")}, ValueError, "w0 must be finite"),
        (P3, {"gamma": [0.5, 0.2, 0.1]}, TypeError, "gamma must be a numpy.ndarray"),
        (P3, {"gamma": np.array([0.5, 0.2])}, ValueError, "gamma has 2 entries but there are 3"),
        (P3, {"gamma": np.array([0.5, -0.1, -0.2])}, ValueError, "gamma must be non-negative"),
        (
            P3,
            {"gamma": np.array([0.3, 0.2, 0.25])},
            ValueError,
            r"gamma must be non-increasing, got gamma\[1\] = 0.2 < gamma\[2\] = 0.25",
        ),
        (P3, {"gamma": np.array([0.6, 0.3, 0.2])}, ValueError, "gamma must sum to at most 1"),
        (P3, {"gamma": np.array([[0.5, 0.2, 0.1]])}, ValueError, "gamma must be 1-D"),
    ],
)
def test_validation_names_the_argument(p: object, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        lord_plus_plus(p, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "error", "match"),
    [(0, ValueError, "n must be >= 1"), (2.0, TypeError, "n must be an int")],
)
def test_gamma_sequence_validation(n: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        lord_gamma_sequence(n)  # type: ignore[arg-type]
