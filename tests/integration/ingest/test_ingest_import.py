"""``ingest import``: CSV and Parquet files, column mapping, clear errors, quarantined rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import cli_root, db_url, rows
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.ingest.importer import import_ohlcv, read_ohlcv_file

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z


def _frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": [T0 + i * HOUR for i in range(n)],
            "open": [100.0 + i for i in range(n)],
            "high": [102.0 + i for i in range(n)],
            "low": [99.0 + i for i in range(n)],
            "close": [101.0 + i for i in range(n)],
            "volume": [10.0] * n,
        }
    )


def test_csv_import_stores_bars_and_quarantines_bad_rows(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    frame = _frame()
    frame.loc[2, "high"] = 50.0  # below low
    frame.loc[4, "volume"] = -1.0
    frame["close"] = frame["close"].astype(object)
    frame.loc[5, "close"] = "n/a"
    path = tmp_path / "btc.csv"
    frame.to_csv(path, index=False)
    result = import_ohlcv(sqlite_engine, path, venue="binance", symbol="BTC/USDT", freq="1h")
    assert result.to_dict()["n_accepted"] == 3 and result.counts["n_rejected"] == 3
    assert rows(sqlite_engine, "SELECT instrument_id, source, provider FROM bars LIMIT 1") == [
        ("binance:BTC/USDT", "import", "file:btc.csv")
    ]
    reasons = [
        r[0].split(":")[0]
        for r in rows(sqlite_engine, "SELECT reason FROM ingest_rejects ORDER BY seq")
    ]
    assert reasons == ["high_below_low", "negative_volume", "schema_drift"]
    payload = json.loads(
        rows(sqlite_engine, "SELECT raw_payload FROM ingest_rejects ORDER BY seq")[2][0]
    )
    assert payload["close"] == "n/a" and payload["bar_open_ms"] == T0 + 5 * HOUR


def test_parquet_with_mapping_and_iso_times(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    frame = _frame().rename(columns={"timestamp": "open_time", "volume": "base_vol"})
    frame["open_time"] = pd.to_datetime(frame["open_time"], unit="ms", utc=True)
    path = tmp_path / "eth.parquet"
    frame.to_parquet(path)
    result = import_ohlcv(
        sqlite_engine,
        path,
        venue="kraken",
        symbol="ETH/USD",
        freq="1h",
        mapping={"volume": "base_vol"},
    )
    assert result.counts == {"n_accepted": 6, "n_received": 6, "n_rejected": 0}
    assert rows(sqlite_engine, "SELECT MIN(bar_open_ms), MAX(bar_open_ms) FROM bars") == [
        (T0, T0 + 5 * HOUR)
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["high"]), r"lacks column\(s\) high; it has timestamp, open"),
        (lambda f: f.assign(timestamp=["2024-01-01", "yesterday", *["2024-01-02"] * 4]),
         r"1 timestamp\(s\) not parseable as times \(line 3: 'yesterday'\)"),
        (lambda f: f.iloc[[0, 2, 1, 3, 4, 5]],
         r"not sorted by time \(line 4 is earlier than line 3\)"),
        (lambda f: f.iloc[[0, 1, 1, 2, 3, 4]], r"1 duplicate timestamp row\(s\) \(line 4\)"),
        (lambda f: f.iloc[0:0], "has no data rows"),
    ],
    ids=["missing-column", "bad-timestamp", "unsorted", "duplicate", "empty"],
)  # fmt: skip
def test_file_problems_stop_the_import_with_a_clear_message(
    tmp_path: Path, mutate: object, message: str
) -> None:
    path = tmp_path / "bad.csv"
    mutate(_frame()).to_csv(path, index=False)  # type: ignore[operator]
    with pytest.raises(ValidationError, match=message):
        read_ohlcv_file(path)


def test_epoch_units_are_inferred_or_given(tmp_path: Path) -> None:
    frame = _frame(3)
    frame["timestamp"] = frame["timestamp"] // 1000
    path = tmp_path / "seconds.csv"
    frame.to_csv(path, index=False)
    assert list(read_ohlcv_file(path)["bar_open_ms"]) == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert read_ohlcv_file(path, time_unit="s")["bar_open_ms"].iloc[0] == T0
    with pytest.raises(ValidationError, match="--time-unit 'weeks' is unknown"):
        read_ohlcv_file(path, time_unit="weeks")


def test_cli_import_exit_codes(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    _frame().to_csv(good, index=False)
    _frame().drop(columns=["close"]).to_csv(bad, index=False)
    base = [
        "ingest",
        "import",
        "--venue",
        "x",
        "--symbol",
        "BTC/USD",
        "--freq",
        "1h",
        "--db",
        db_url(sqlite_engine),
    ]
    ok = CliRunner().invoke(cli_root(), [*base, str(good), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["n_accepted"] == 6
    refused = CliRunner().invoke(cli_root(), [*base, str(bad)])
    assert refused.exit_code == 2
    assert "lacks column(s) close" in refused.output and "--map FIELD=COLUMN" in refused.output
    mapped = CliRunner().invoke(cli_root(), [*base, str(bad), "--map", "oops"])
    assert mapped.exit_code == 2 and "is not FIELD=COLUMN" in mapped.output
