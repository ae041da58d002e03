"""Fuzzed payloads (hypothesis, 1,000+ each kind): no crash, every record stored or quarantined."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.backfill import BAR_COLUMNS
from crypto_analyzer.ingest.parsing import candle_rows_frame
from crypto_analyzer.ingest.snapshots import store_dex_pairs
from crypto_analyzer.ingest.validation import check_candles

HOUR = 3_600_000
NOW_MS = 1_709_296_200_000
T0 = NOW_MS - 200 * HOUR

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # unbounded: also integers no double can hold
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
plausible_number = st.one_of(
    st.floats(min_value=-5.0, max_value=200.0),
    st.sampled_from([0.0, -1.0, math.nan, math.inf, 1e308]),
    st.integers(min_value=-3, max_value=300),
)
timestamp = st.one_of(
    st.integers(min_value=0, max_value=210).map(lambda i: T0 + i * HOUR),  # on grid, some future
    st.integers(min_value=T0, max_value=NOW_MS + 10 * HOUR),  # off grid
    json_scalar,
)
candle = st.one_of(
    st.tuples(timestamp, *[plausible_number] * 5).map(list),
    st.lists(json_scalar, max_size=8),
    json_scalar,
    st.dictionaries(st.text(max_size=4), json_scalar, max_size=3),
)
candle_page = st.one_of(st.lists(candle, max_size=12), json_scalar)

text_or_junk = st.one_of(st.sampled_from(["WETH", "USDC", "SOL", "USDT", ""]), json_scalar)
number_or_junk = st.one_of(plausible_number, json_scalar, st.sampled_from(["1.5", "abc", "-2"]))
pair = st.one_of(
    st.fixed_dictionaries(
        {
            "chainId": st.one_of(st.sampled_from(["ethereum", "solana"]), json_scalar),
            "pairAddress": st.one_of(st.sampled_from(["0xa", "0xb", "0xc"]), json_scalar),
            "dexId": text_or_junk,
            "baseToken": st.one_of(st.fixed_dictionaries({"symbol": text_or_junk}), json_scalar),
            "quoteToken": st.fixed_dictionaries({"symbol": text_or_junk}),
            "priceUsd": number_or_junk,
            "liquidity": st.one_of(st.fixed_dictionaries({"usd": number_or_junk}), json_scalar),
            "volume": st.fixed_dictionaries({"h24": number_or_junk}),
            "txns": st.fixed_dictionaries(
                {"h24": st.fixed_dictionaries({"buys": number_or_junk, "sells": number_or_junk})}
            ),
        },
        optional={"extra": json_scalar},
    ),
    json_scalar,
)
dex_payload = st.one_of(
    st.fixed_dictionaries({"schemaVersion": st.just("1.0.0"), "pairs": st.lists(pair, max_size=6)}),
    st.fixed_dictionaries({"pairs": st.one_of(st.none(), pair)}),
    st.dictionaries(st.text(max_size=5), json_scalar, max_size=3),
    json_scalar,
)


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    writer = ProvenanceWriter(engine)
    run = writer.start_run("seed", "fuzz", {})
    from crypto_analyzer.ingest.instruments import exchange_instruments

    writer.upsert_instruments(run, exchange_instruments("fuzz", ["BTC/USD"]))
    writer.finish_run(run, "succeeded")
    yield engine
    engine.dispose()


def _stored(engine: sa.Engine, run_id: str) -> tuple[int, int, int]:
    with engine.connect() as connection:
        bars = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM bars WHERE ingest_run_id = ?", (run_id,)
        ).scalar_one()
        snaps = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM price_snapshots WHERE ingest_run_id = ?", (run_id,)
        ).scalar_one()
        rejects = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM ingest_rejects WHERE ingest_run_id = ? AND reason <> ''",
            (run_id,),
        ).scalar_one()
    return bars, snaps, rejects


@settings(max_examples=1000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=candle_page)
def test_fuzzed_candle_pages_are_stored_or_quarantined(
    fuzz_engine: sa.Engine, page: object
) -> None:
    writer = ProvenanceWriter(fuzz_engine)
    run = writer.start_run("backfill", "fuzz", {})
    checked = check_candles(
        candle_rows_frame(page, instrument_id="fuzz:BTC/USD", freq="1h"),
        freq_ms=HOUR,
        now_ms=NOW_MS,
    )
    writer.write_rejects(run, checked.rejects)
    writer.write_bars(run, checked.accepted.loc[:, list(BAR_COLUMNS)], source="exchange")
    counts = writer.finish_run(run, "succeeded")
    received = len(page) if isinstance(page, list) else 1
    assert checked.received == received
    assert counts["n_accepted"] + counts["n_rejected"] == counts["n_received"] == received
    bars, _, rejects = _stored(fuzz_engine, run.ingest_run_id)
    assert rejects == counts["n_rejected"]
    # a row rewritten identically keeps the earlier run's stamp, so stored <= accepted
    assert bars <= counts["n_accepted"]


@settings(max_examples=1000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=dex_payload)
def test_fuzzed_dex_payloads_are_stored_or_quarantined(
    fuzz_engine: sa.Engine, payload: object
) -> None:
    from datetime import UTC, datetime

    writer = ProvenanceWriter(fuzz_engine)
    run = writer.start_run("poll", "fuzz", {})
    stored = store_dex_pairs(
        writer,
        run,
        payload,
        provider="dexscreener",
        fetched_at=datetime.fromtimestamp(NOW_MS / 1000, UTC),
    )
    counts = writer.finish_run(run, "succeeded")
    assert (
        counts["n_accepted"] + counts["n_rejected"]
        == counts["n_received"]
        == stored.checked.received
    )
    assert counts["n_accepted"] == len(stored.accepted)
    _, snaps, rejects = _stored(fuzz_engine, run.ingest_run_id)
    assert rejects == counts["n_rejected"]
    assert snaps <= counts["n_accepted"]
