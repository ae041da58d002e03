"""Universe screen and churn decisions (pure)."""

from __future__ import annotations

import pandas as pd

from crypto_analyzer.ingest.universe import UniverseFilters, decide_universe, screen_candidates


def _candidates(*rows: tuple[str, str, str, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["instrument_id", "base", "quote", "liquidity_usd", "volume_24h"]
    )


POOL = _candidates(
    ("a", "WETH", "USDC", 9e6, 5e6),
    ("b", "PEPE", "WETH", 8e6, 5e6),
    ("c", "SOL", "USDC", 7e6, 5e6),
    ("d", "USDC", "USDT", 9e7, 5e7),  # stable/stable
    ("e", "WETH", "WETH", 5e6, 5e6),  # same symbol
    ("f", "TINY", "WETH", 1e3, 5e6),  # illiquid
    ("g", "QUIET", "USDC", 5e6, 10.0),  # no volume
    ("h", "CAKE", "WBNB", 5e6, 5e6),  # quote not allowed
)
FILTERS = UniverseFilters(
    min_liquidity_usd=1e5, min_volume_24h=1e4, max_members=10, max_churn=1, persistence=2
)


def test_screen_names_the_first_failed_rule() -> None:
    reasons = dict(zip(POOL["instrument_id"], screen_candidates(POOL, FILTERS), strict=True))
    assert reasons == {
        "a": None, "b": None, "c": None,
        "d": "stable/stable pair", "e": "same symbol on both sides",
        "f": "liquidity below 100000 USD", "g": "24h volume below 10000 USD",
        "h": "quote not in allowlist",
    }  # fmt: skip


def test_bootstrap_fills_by_liquidity_then_churn_is_limited() -> None:
    first = decide_universe(POOL, [], {}, FILTERS)
    assert list(first.members["instrument_id"]) == ["a", "b", "c"]
    assert list(first.members["rank"]) == [1, 2, 3]
    more = pd.concat(
        [POOL, _candidates(("i", "ARB", "USDC", 2e7, 1e6), ("j", "OP", "USDC", 3e7, 1e6))]
    )
    second = decide_universe(more, ["a", "b", "c"], {}, FILTERS)
    assert list(second.churn["action"]).count("added") == 1  # max_churn = 1
    assert list(second.members["instrument_id"]) == ["j", "a", "b", "c"]


def test_a_failing_member_is_held_before_it_is_removed() -> None:
    without_b = POOL[POOL["instrument_id"] != "b"]
    held = decide_universe(without_b, ["a", "b", "c"], {}, FILTERS)
    row = held.churn.set_index("instrument_id").loc["b"]
    assert row["action"] == "held_pending_removal"
    assert row["reason"] == "absent from discovery results; strike 1 of 2"
    assert "b" in set(held.members["instrument_id"])
    removed = decide_universe(without_b, ["a", "b", "c"], {"b": 1}, FILTERS)
    row = removed.churn.set_index("instrument_id").loc["b"]
    assert row["action"] == "removed" and "2 refreshes in a row" in row["reason"]
    assert "b" not in set(removed.members["instrument_id"])
    assert removed.counts == {"retained": 2, "removed": 1}  # the removal used the churn budget
