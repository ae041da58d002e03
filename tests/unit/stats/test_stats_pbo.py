"""CSCV probability of backtest overfitting."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import pbo_cscv, pbo_summary
from crypto_analyzer.stats.pbo import _pbo_from_data


def _naive_pbo(returns: np.ndarray, s: int, metric: str) -> tuple[float, np.ndarray]:
    """Per-split loop straight from the paper (the twin the fast path must equal)."""
    t, n = returns.shape
    blocks = np.array_split(np.arange(t), s)
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        is_rows = np.concatenate([blocks[i] for i in combo])
        oos_rows = np.concatenate([blocks[i] for i in range(s) if i not in combo])

        def score(rows: np.ndarray) -> np.ndarray:
            x = returns[rows]
            return x.mean(0) if metric == "mean" else x.mean(0) / x.std(0, ddof=1)

        is_m, oos_m = score(is_rows), score(oos_rows)
        best = int(np.argmax(is_m))
        rank = (oos_m < oos_m[best]).sum() + ((oos_m == oos_m[best]).sum() + 1) / 2
        w = rank / (n + 1)
        logits.append(np.log(w / (1 - w)))
    arr = np.array(logits)
    return float(np.mean(arr <= 0)), arr


def test_hand_checkable_s4_case() -> None:
    # Four rows = four blocks, three strategies, metric = mean. C(4,2) = 6 splits.
    # Strategy A wins blocks 0 and 1 then loses; B is the opposite; C is flat at 0.
    r = np.array([[2.0, -1.0, 0.0], [2.0, -1.0, 0.0], [-1.0, 2.0, 0.0], [-1.0, 2.0, 0.0]])
    # Splits (IS blocks): {0,1}: IS means A=2, B=-1, C=0 -> A; OOS A=-1 is the worst (rank 1),
    # w = 1/4, logit < 0.  {2,3}: B wins IS, worst OOS -> logit < 0.  {0,2},{0,3},{1,2},{1,3}:
    # IS means A=B=0.5 > C=0 -> argmax picks A; OOS A=B=0.5 tie for best: average rank 2.5,
    # w = 2.5/4, logit = log(5/3) > 0.  PBO = 2/6.
    res = pbo_cscv(r, n_blocks=4, metric="mean")
    assert res.n_splits == 6 and res.enumeration == "full" and res.seed is None
    assert res.pbo == pytest.approx(2 / 6)
    expected = sorted([np.log(1 / 3)] * 2 + [np.log(5 / 3)] * 4)
    np.testing.assert_allclose(sorted(res.logits), expected)
    # Winner OOS: -1, -1 and 0.5 x 4 -> probability of loss 2/6.
    assert res.probability_of_loss == pytest.approx(2 / 6)


@pytest.mark.parametrize("metric", ["mean", "sharpe"])
def test_fast_path_equals_naive_split_loop(metric: str) -> None:
    rng = np.random.default_rng(3)
    r = rng.standard_normal((203, 9)) * 0.01 + rng.normal(0, 0.002, 9)
    res = pbo_cscv(r, n_blocks=8, metric=metric)
    pbo, logits = _naive_pbo(r, 8, metric)
    assert res.pbo == pytest.approx(pbo)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-9, atol=1e-12)


def test_truly_better_strategy_gives_pbo_near_zero() -> None:
    rng = np.random.default_rng(4)
    r = rng.standard_normal((2000, 50)) * 0.01
    r[:, 17] += 0.004
    res = pbo_cscv(r)
    assert res.pbo < 0.02
    assert res.probability_of_loss < 0.02
    assert res.n_splits == 12870


def test_pure_noise_gives_pbo_near_half_on_average() -> None:
    values = [
        pbo_cscv(np.random.default_rng(seed).standard_normal((480, 20)), n_blocks=10).pbo
        for seed in range(60)
    ]
    assert np.mean(values) == pytest.approx(0.5, abs=0.05)


def test_sampling_above_sixteen_blocks_is_seeded_and_recorded() -> None:
    r = np.random.default_rng(5).standard_normal((400, 6))
    with pytest.raises(ValueError, match="pass seed"):
        pbo_cscv(r, n_blocks=18)
    a = pbo_cscv(r, n_blocks=18, max_splits=500, seed=9)
    b = pbo_cscv(r, n_blocks=18, max_splits=500, seed=9)
    assert a.enumeration == "sampled" and a.seed == 9 and a.n_splits == 500
    assert a.to_dict() == b.to_dict()


def test_summary_is_schema_versioned() -> None:
    res = pbo_cscv(np.random.default_rng(6).standard_normal((200, 5)), n_blocks=6)
    summary = pbo_summary(res)
    assert summary["schema_version"] == 1 and summary["pbo"] == res.pbo
    canonical_dumps(summary)
    canonical_dumps(res.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_blocks": 5}, ValueError, "even"),
        ({"n_blocks": 0}, ValueError, "n_blocks"),
        ({"metric": "sortino"}, ValueError, "metric must be one of"),
        ({"returns": np.ones((40, 1))}, ValueError, "at least 2 strategies"),
        ({"returns": np.ones((40, 2))}, ValueError, "constant"),
        ({"returns": np.zeros((10, 2)) + np.arange(10)[:, None] * [1, 2]}, ValueError, "rows"),
        ({"returns": [[1.0, 2.0]]}, TypeError, "numpy.ndarray"),
    ],
)
def test_validation(kwargs: dict, error: type, match: str) -> None:
    args = {"returns": np.random.default_rng(0).standard_normal((64, 3)), "n_blocks": 8}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        pbo_cscv(**args)


@pytest.mark.parametrize(
    ("t", "n", "s", "metric"),
    [(200, 7, 8, "sharpe"), (333, 40, 10, "mean"), (640, 25, 16, "sharpe"), (300, 5, 18, "sharpe")],
)
def test_chunked_splits_equal_unchunked_exactly(t: int, n: int, s: int, metric: str) -> None:
    rng = np.random.default_rng(t + n)
    r = rng.standard_normal((t, n)) * 0.01 + rng.normal(0.0, 0.002, n)
    r[:, 0] = r[:, 1]  # exact ties between two strategies
    seed = 3 if s > 16 else None
    whole = _pbo_from_data(r.copy(), s, metric, 500, seed, 10**9)
    for chunk in (1, 7, 64):
        part = _pbo_from_data(r.copy(), s, metric, 500, seed, chunk)
        assert part.to_dict() == whole.to_dict()
        np.testing.assert_array_equal(part.logits, whole.logits)
    public = pbo_cscv(r, n_blocks=s, metric=metric, seed=seed, max_splits=500)
    np.testing.assert_array_equal(public.logits, whole.logits)


def test_peak_memory_stays_within_twice_the_input() -> None:
    # 12,870 splits x 400 strategies held at once would be 41 MB per array (about 13x the input).
    r = np.random.default_rng(8).standard_normal((1_000, 400)) * 0.01
    tracemalloc.start()
    try:
        pbo_cscv(r, n_blocks=16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 2 * r.nbytes + 4 * 2**20, (peak, r.nbytes)
