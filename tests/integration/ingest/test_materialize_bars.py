"""``materialize bars``: idempotent, incremental == all at once, gaps kept, natives untouched."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import cli_root, db_url, rows
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.ingest.instruments import exchange_instruments
from crypto_analyzer.materialize import materialize_bars

HOUR, FIVE = 3_600_000, 300_000
T0 = 1_704_067_200_000
VALUES = (
    "instrument_id, freq, bar_open_ms, open, high, low, close, volume, vwap, log_return, "
    "source, status"
)


def _snapshots(seed: int, start: int, count: int) -> pd.DataFrame:
    rng = np.random.Generator(np.random.PCG64(seed))
    times = start + np.sort(rng.choice(40 * HOUR, size=count, replace=False)) // 1000 * 1000
    keep = (times - T0) // HOUR % 9 != 4  # leave some hours empty: gaps
    price = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, count)))
    return pd.DataFrame({"instrument_id": "x:SNAP/USD", "observed_ms": times, "price": price})[keep]


def _candles(seed: int, start: int, count: int) -> pd.DataFrame:
    rng = np.random.Generator(np.random.PCG64(seed))
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.003, count)))
    return pd.DataFrame(
        {
            "instrument_id": "x:CNDL/USD",
            "freq": "5min",
            "bar_open_ms": start + np.arange(count, dtype=np.int64) * FIVE,
            "open": close,
            "high": close * 1.002,
            "low": close * 0.998,
            "close": close,
            "volume": rng.uniform(1, 5, count),
            "vwap": close,
        }
    )


def _writer(engine: sa.Engine) -> tuple[ProvenanceWriter, IngestRun]:
    writer = ProvenanceWriter(engine)
    run = writer.start_run("import", "x", {"n": len(rows(engine, "SELECT 1 FROM ingest_runs"))})
    writer.upsert_instruments(run, exchange_instruments("x", ["SNAP/USD", "CNDL/USD"]))
    return writer, run


def _ingest(engine: sa.Engine, part: int, *, finish: bool = True) -> None:
    writer, run = _writer(engine)
    writer.write_snapshots(run, _snapshots(part, T0 + (part - 1) * 30 * HOUR, 400))
    candles = _candles(part, T0 + (part - 1) * 20 * HOUR + 35 * 60_000, 200)
    writer.write_bars(run, candles, source="exchange")
    if finish:
        writer.finish_run(run, "succeeded")


def _values(engine: sa.Engine, freq: str) -> list[tuple]:
    return rows(engine, f"SELECT {VALUES} FROM bars WHERE freq = '{freq}' ORDER BY 1, 3")


def test_materializing_twice_changes_nothing(sqlite_engine: sa.Engine) -> None:
    _ingest(sqlite_engine, 1)
    first = materialize_bars(sqlite_engine, "1h")
    before = rows(sqlite_engine, "SELECT * FROM bars ORDER BY instrument_id, freq, bar_open_ms")
    again = materialize_bars(sqlite_engine, "1h")
    full = materialize_bars(sqlite_engine, "1h", full=True)
    assert first.buckets > 0 and again.buckets == 0 and full.buckets == first.buckets
    assert (
        rows(sqlite_engine, "SELECT * FROM bars ORDER BY instrument_id, freq, bar_open_ms")
        == before
    )


def test_incremental_after_appends_equals_one_full_materialization(
    tmp_path: object, sqlite_engine: sa.Engine, backend_engine: sa.Engine
) -> None:
    step_by_step, all_at_once = sqlite_engine, backend_engine  # sweeps SQLite and PostgreSQL
    for freq in ("15min", "1h"):
        materialize_bars(step_by_step, freq)  # nothing yet
    _ingest(step_by_step, 1)
    materialize_bars(step_by_step, "1h")
    _ingest(step_by_step, 2)  # overlaps part 1's last buckets and extends past them
    _ingest(step_by_step, 3, finish=False)  # a run that never finished (killed)
    materialize_bars(step_by_step, "1h")
    materialize_bars(step_by_step, "15min")
    for part in (1, 2):
        _ingest(all_at_once, part)
    _ingest(all_at_once, 3, finish=False)
    for freq in ("1h", "15min"):
        materialize_bars(all_at_once, freq)
        assert _values(step_by_step, freq) == _values(all_at_once, freq)
    assert compute_dataset_id(step_by_step).dataset_id == compute_dataset_id(all_at_once).dataset_id


def test_gaps_stay_gaps_returns_never_bridge_them_and_natives_win(sqlite_engine: sa.Engine) -> None:
    writer, run = _writer(sqlite_engine)
    snaps = pd.DataFrame(
        {
            "instrument_id": "x:SNAP/USD",
            "observed_ms": [T0 + 60_000, T0 + 30 * 60_000, T0 + HOUR + 5, T0 + 3 * HOUR + 10],
            "price": [10.0, 12.0, 11.0, 13.0],
        }
    )
    writer.write_snapshots(run, snaps)
    native = pd.DataFrame({"instrument_id": ["x:SNAP/USD"], "freq": "1h",
                           "bar_open_ms": [T0 + 3 * HOUR], "open": 1.0, "high": 1.0, "low": 1.0,
                           "close": 1.0, "volume": 7.0})  # fmt: skip
    writer.write_bars(run, native, source="exchange")
    writer.finish_run(run, "succeeded")
    result = materialize_bars(sqlite_engine, "1h")
    got = rows(
        sqlite_engine,
        "SELECT bar_open_ms, open, high, low, close, volume, vwap, log_return, source "
        "FROM bars WHERE instrument_id = 'x:SNAP/USD' ORDER BY bar_open_ms",
    )
    assert got == [
        (T0, 10.0, 12.0, 10.0, 12.0, 0.0, None, None, "snapshots"),
        (T0 + HOUR, 11.0, 11.0, 11.0, 11.0, 0.0, None, float(np.log(11 / 12)), "snapshots"),
        (T0 + 3 * HOUR, 1.0, 1.0, 1.0, 1.0, 7.0, None, None, "exchange"),  # native, untouched
    ]
    assert result.gaps == 1  # the empty hour at T0 + 2h


def test_resampled_bars_sum_volume_weight_vwap_and_flag_incomplete_buckets(
    sqlite_engine: sa.Engine,
) -> None:
    writer, run = _writer(sqlite_engine)
    candles = _candles(7, T0, 18)  # 1h and a half of 5-minute bars
    writer.write_bars(run, candles, source="exchange")
    writer.finish_run(run, "succeeded")
    materialize_bars(sqlite_engine, "1h")
    got = rows(sqlite_engine, "SELECT bar_open_ms, volume, vwap, status, source FROM bars "
               "WHERE freq = '1h' ORDER BY bar_open_ms")  # fmt: skip
    first = candles.iloc[:12]
    assert got[0][0] == T0 and got[0][3:] == ("ok", "resampled")
    assert np.isclose(got[0][1], first["volume"].sum())
    assert np.isclose(got[0][2], (first["vwap"] * first["volume"]).sum() / first["volume"].sum())
    assert got[1][0] == T0 + HOUR and got[1][3] == "suspect"  # 6 of 12 bars


def test_cli_materialize_bars(sqlite_engine: sa.Engine) -> None:
    _ingest(sqlite_engine, 1)
    args = ["materialize", "bars", "--freq", "1D", "--db", db_url(sqlite_engine), "--json"]
    result = CliRunner().invoke(cli_root(), args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["freq"] == "1D" and summary["buckets"] == 3  # x:SNAP 2 days, x:CNDL 1
    refused = CliRunner().invoke(
        cli_root(), ["materialize", "bars", "--freq", "7min", "--db", db_url(sqlite_engine)]
    )
    assert refused.exit_code == 2 and "use one of 5min, 15min, 1h, 1D" in refused.output
