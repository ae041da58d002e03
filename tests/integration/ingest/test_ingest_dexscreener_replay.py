"""Dexscreener client against the replay server: snapshots, digests, drift, faults."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa
from replay import FIXTURES, Fault, ReplayServer

from conftest import FAST, NOW
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.providers import (
    DataKind,
    DexscreenerProvider,
    PermanentProviderError,
    TransientProviderError,
)
from crypto_analyzer.ingest.resilience import Resilience
from crypto_analyzer.ingest.snapshots import store_dex_pairs

WETH_USDC = "0x11b815efB8f581194ae79006d24E0d814B7697F6"
SOL_USDC = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"


def _rows(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


@pytest.fixture
def dex(replay_server: ReplayServer) -> DexscreenerProvider:
    provider = DexscreenerProvider(api_url=replay_server.url, timeout_s=0.5, rate_limit=FAST)
    yield provider
    provider.close()


def test_pair_snapshots_keep_price_liquidity_volume_txns_and_payload_digest(
    sqlite_engine: sa.Engine, dex: DexscreenerProvider
) -> None:
    payload = dex.fetch_dex_pairs("ethereum", [WETH_USDC])
    writer = ProvenanceWriter(sqlite_engine)
    run = writer.start_run("poll", "dexscreener", {})
    stored = store_dex_pairs(writer, run, payload, provider="dexscreener", fetched_at=NOW)
    writer.finish_run(run, "succeeded")
    assert len(stored.accepted) == 1
    row = _rows(
        sqlite_engine,
        "SELECT instrument_id, price, liquidity_usd, volume_24h, txn_count_24h, payload_sha256, "
        "provider FROM price_snapshots",
    )[0]
    pair = payload["pairs"][0]
    text = json.dumps(pair, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()  # sorted compact JSON of the raw pair
    assert row == (f"dex:ethereum:{WETH_USDC}", 2291.55, 187_440_000.5, 95_110_000.25,
                   10210 + 9921, digest, "dexscreener")  # fmt: skip
    instrument = _rows(
        sqlite_engine,
        "SELECT venue, symbol, base, quote, kind, chain, pair_address FROM instruments",
    )
    assert instrument == [
        ("uniswap", "WETH/USDC", "WETH", "USDC", "dex_pair", "ethereum", WETH_USDC)
    ]


def test_search_finds_pairs_for_discovery(dex: DexscreenerProvider) -> None:
    found = dex.search_dex_pairs("SOL")["pairs"]
    assert {pair["pairAddress"] for pair in found} >= {SOL_USDC}
    assert dex.fetch_dex_pairs("solana", ["NoSuchPair111"]) == {
        "schemaVersion": "1.0.0",
        "pairs": None,
    }


def test_drifted_payload_is_quarantined_with_the_raw_body(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, dex: DexscreenerProvider
) -> None:
    drifted = (FIXTURES / "dexscreener" / "drift_payload.json").read_bytes()
    replay_server.replay.fault("/latest/dex/search", Fault("body", body=drifted))
    payload = dex.search_dex_pairs("WETH")
    writer = ProvenanceWriter(sqlite_engine)
    run = writer.start_run("poll", "dexscreener", {})
    stored = store_dex_pairs(writer, run, payload, provider="dexscreener", fetched_at=NOW)
    counts = writer.finish_run(run, "succeeded")
    assert stored.accepted.empty
    assert counts == {"n_accepted": 0, "n_received": 1, "n_rejected": 1}
    reason, raw = _rows(sqlite_engine, "SELECT reason, raw_payload FROM ingest_rejects")[0]
    assert reason == "schema_drift: payload has no 'pairs' list"
    assert json.loads(raw) == json.loads(drifted)


def test_renamed_fields_inside_a_pair_are_schema_drift(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, dex: DexscreenerProvider
) -> None:
    pairs = json.loads((FIXTURES / "dexscreener" / "pairs.json").read_text())["pairs"][:2]
    pairs[1]["price_usd"] = pairs[1].pop("priceUsd")
    body = json.dumps({"schemaVersion": "1.1.0", "pairs": pairs}).encode()
    replay_server.replay.fault("/latest/dex/search", Fault("body", body=body))
    writer = ProvenanceWriter(sqlite_engine)
    run = writer.start_run("poll", "dexscreener", {})
    store_dex_pairs(writer, run, dex.search_dex_pairs("x"), provider="dexscreener", fetched_at=NOW)
    assert writer.finish_run(run, "succeeded") == {
        "n_accepted": 1,
        "n_received": 2,
        "n_rejected": 1,
    }
    assert _rows(sqlite_engine, "SELECT reason FROM ingest_rejects") == [
        ("schema_drift: price is missing",)
    ]


def test_faults_map_to_transient_and_permanent_errors(
    replay_server: ReplayServer, dex: DexscreenerProvider
) -> None:
    replay_server.replay.fault(
        "/latest/dex/search",
        Fault("status", 429, {"Retry-After": "12"}),
        Fault("status", 502),
        Fault("truncate"),
        Fault("slow", delay_s=1.2),
        Fault("status", 404),
    )
    with pytest.raises(TransientProviderError) as limited:
        dex.search_dex_pairs("SOL")
    assert limited.value.status == 429 and limited.value.retry_after == 12.0
    with pytest.raises(TransientProviderError, match="HTTP 502"):
        dex.search_dex_pairs("SOL")
    with pytest.raises(TransientProviderError, match="not valid JSON"):
        dex.search_dex_pairs("SOL")
    with pytest.raises(TransientProviderError, match="timed out"):
        dex.search_dex_pairs("SOL")
    with pytest.raises(PermanentProviderError, match="HTTP 404"):
        dex.search_dex_pairs("SOL")


def test_guarded_calls_retry_through_transient_faults(
    replay_server: ReplayServer, dex: DexscreenerProvider, resilience: Resilience
) -> None:
    replay_server.replay.fault(
        "/latest/dex/pairs", Fault("status", 429, {"Retry-After": "2"}), Fault("truncate")
    )
    guarded = resilience.guard(dex)
    payload = guarded.call(DataKind.DEX_PAIRS, lambda p: p.fetch_dex_pairs("solana", [SOL_USDC]))
    assert payload["pairs"][0]["pairAddress"] == SOL_USDC
    assert guarded.breaker(DataKind.DEX_PAIRS).state == "closed"
