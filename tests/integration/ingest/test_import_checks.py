"""``ingest import`` file checks: each refuses (or flags) with a message and stores nothing partial.

Every test runs the real CLI against a migrated database and asserts the exit code, the message,
and the rows stored afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from conftest import cli_root, db_url, rows

HOUR = 3_600_000
DAY = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z (the pinned clock is 2024-03-01 12:30Z)


def _bars(n: int, step: int = HOUR, start: int = T0, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    return pd.DataFrame(
        {
            "timestamp": start + step * np.arange(n, dtype=np.int64),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.uniform(1.0, 10.0, n),
        }
    )


def _invoke(engine: sa.Engine, path: Path | str, *args: str, freq: str = "1h") -> Result:
    base = ["ingest", "import", str(path), "--venue", "x", "--freq", freq]
    return CliRunner().invoke(cli_root(), [*base, *args, "--db", db_url(engine)])


def _count(engine: sa.Engine, table: str) -> int:
    return int(rows(engine, f"SELECT COUNT(*) FROM {table}")[0][0])


@pytest.mark.parametrize(
    ("step", "freq", "found"),
    [(DAY, "1h", "1d"), (30 * DAY, "1D", "30d"), (HOUR, "1D", "1h")],
    ids=["daily-as-1h", "monthly-as-1D", "hourly-as-1D"],
)
def test_spacing_must_match_freq(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object, step: int, freq: str, found: str
) -> None:
    path = tmp_path / "wrong.csv"
    _bars(30, step=step, start=T0 - 30 * step).to_csv(path, index=False)
    result = _invoke(sqlite_engine, path, "--symbol", "BTC/USD", freq=freq)
    assert result.exit_code == 2, result.output
    assert f"spaced {found} apart" in result.output and f"--freq {freq}" in result.output
    assert _count(sqlite_engine, "bars") == 0 and _count(sqlite_engine, "ingest_runs") == 0


def test_gaps_are_allowed_when_the_step_is_one_bar(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    weekdays = pd.bdate_range("2023-01-02", periods=40, tz="UTC")
    frame = _bars(40)
    frame["timestamp"] = weekdays.strftime("%Y-%m-%d")
    path = tmp_path / "weekdays.csv"
    frame.to_csv(path, index=False)
    result = _invoke(sqlite_engine, path, "--symbol", "SPY/USD", freq="1D")
    assert result.exit_code == 0, result.output
    assert _count(sqlite_engine, "bars") == 40


def test_mostly_quarantined_file_is_refused_with_top_reasons(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    frame = _bars(10)
    frame.loc[[0, 1, 2, 3], "high"] = 1.0  # high below low
    frame.loc[[4, 5, 6], "volume"] = -1.0
    path = tmp_path / "junk.csv"
    frame.to_csv(path, index=False)
    refused = _invoke(sqlite_engine, path, "--symbol", "BTC/USD")
    assert refused.exit_code == 2
    text = " ".join(refused.output.split())
    assert "7 of 10 rows (70%) were quarantined, more than --max-rejected 50%" in text
    assert "top reasons: high_below_low 4, negative_volume 3" in text and "--keep-partial" in text
    assert _count(sqlite_engine, "bars") == 0
    assert _count(sqlite_engine, "ingest_rejects") == 7  # kept as evidence of the refusal
    assert rows(sqlite_engine, "SELECT status FROM ingest_runs") == [("failed",)]

    looser = _invoke(sqlite_engine, path, "--symbol", "BTC/USD", "--max-rejected", "0.8")
    assert looser.exit_code == 0, looser.output
    assert _count(sqlite_engine, "bars") == 3
    partial = _invoke(sqlite_engine, path, "--symbol", "ETH/USD", "--keep-partial", "--json")
    assert partial.exit_code == 0, partial.output
    assert json.loads(partial.stdout)["reasons"] == {"high_below_low": 4, "negative_volume": 3}
    assert _count(sqlite_engine, "bars") == 6


def test_timestamps_before_2009_are_refused_unless_allowed(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    from arch.data import sp500

    real = sp500.load().iloc[:300]  # real S&P 500 daily bars from 1999
    path = tmp_path / "SPX.csv"
    real.rename(columns={"Adj Close": "adj_close"}).to_csv(path, index_label="Date")
    refused = _invoke(sqlite_engine, path, "--symbol", "SPX/USD", freq="1D")
    assert refused.exit_code == 2
    assert "300 timestamp(s) before 2009-01-01 (line 2: 1999-01-04)" in refused.output
    assert "--earliest 1999-01-04" in refused.output
    assert _count(sqlite_engine, "bars") == 0
    allowed = _invoke(sqlite_engine, path, "--symbol", "SPX/USD", "--earliest", "any", freq="1D")
    assert allowed.exit_code == 0, allowed.output
    assert _count(sqlite_engine, "bars") == 300


def test_future_and_1970_timestamps_are_refused(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    future = tmp_path / "future.csv"
    _bars(5, step=DAY, start=T0 + 400 * DAY).to_csv(future, index=False)
    result = _invoke(sqlite_engine, future, "--symbol", "BTC/USD", freq="1D")
    assert result.exit_code == 2
    assert "5 timestamp(s) in the future (line 2: 2025-02-04; now is 2024-03-01)" in result.output
    packed = tmp_path / "packed.csv"  # YYYYMMDD integers: as epoch seconds they are 1970 bars
    frame = _bars(5, step=DAY)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms").dt.strftime("%Y%m%d")
    frame.to_csv(packed, index=False)
    result = _invoke(sqlite_engine, packed, "--symbol", "BTC/USD", freq="1D")
    assert result.exit_code == 2
    assert "before 2009-01-01 (line 2: 1970-08-23)" in result.output
    assert "look like YYYYMMDD dates: pass --date-format %Y%m%d" in result.output
    assert _count(sqlite_engine, "bars") == 0
    fixed = _invoke(sqlite_engine, packed, "--symbol", "BTC/USD", "--date-format", "%Y%m%d",
                    freq="1D")  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    assert rows(sqlite_engine, "SELECT MIN(bar_open_ms) FROM bars") == [(T0,)]


def test_time_unit_mismatch_names_the_unit_the_values_look_like(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    path = tmp_path / "ms.csv"
    _bars(6).to_csv(path, index=False)  # epoch milliseconds
    result = _invoke(sqlite_engine, path, "--symbol", "BTC/USD", "--time-unit", "s")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--time-unit s does not fit the values: they look like epoch ms" in text
    assert "pass --time-unit ms" in text
    assert _count(sqlite_engine, "bars") == 0
    assert _invoke(sqlite_engine, path, "--symbol", "BTC/USD", "--time-unit", "ms").exit_code == 0
    assert _count(sqlite_engine, "bars") == 6


def test_reverting_spike_and_zero_volume_stretch_are_flagged(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    frame = _bars(200)
    frame.loc[100, ["open", "high", "low", "close"]] *= [1.0, 3.0, 1.0, 3.0]  # one-bar spike
    frame.loc[150:179, "volume"] = 0.0  # 30 bars of no trading
    path = tmp_path / "spiky.csv"
    frame.to_csv(path, index=False)
    warned = _invoke(sqlite_engine, path, "--symbol", "BTC/USD", "--json")
    assert warned.exit_code == 0, warned.output
    body = json.loads(warned.stdout)
    assert body["n_accepted"] == 200 and body["n_rejected"] == 0
    assert "1 reverting price spike(s) (first at line 102) kept" in body["warnings"][0]
    assert (
        "30 bar(s) in zero-volume stretches of 24+ bars (first at line 152)" in body["warnings"][1]
    )
    quarantined = _invoke(sqlite_engine, path, "--symbol", "ETH/USD", "--outliers", "quarantine",
                          "--json")  # fmt: skip
    assert quarantined.exit_code == 0, quarantined.output
    assert json.loads(quarantined.stdout)["reasons"] == {
        "price_spike": 1,
        "zero_volume_stretch": 30,
    }
    assert rows(
        sqlite_engine,
        "SELECT COUNT(*) FROM bars WHERE instrument_id = 'x:ETH/USD'",
    ) == [(169,)]


def test_delimiter_encoding_and_date_format(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    frame = _bars(5, step=DAY)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms").dt.strftime("%d/%m/%Y")
    frame["libellé"] = "clôture"
    path = tmp_path / "eu.csv"
    path.write_bytes(frame.to_csv(index=False, sep=";").encode("latin-1"))
    plain = _invoke(sqlite_engine, path, "--symbol", "EUR/USD", freq="1D")
    assert plain.exit_code == 2 and "cannot read eu.csv as utf-8" in plain.output
    latin = _invoke(sqlite_engine, path, "--symbol", "EUR/USD", "--encoding", "latin-1", freq="1D")
    assert latin.exit_code == 2 and "it looks ';'-delimited" in latin.output
    no_format = _invoke(sqlite_engine, path, "--symbol", "EUR/USD", "--encoding", "latin-1",
                        "--delimiter", ";", freq="1D")  # fmt: skip
    assert no_format.exit_code == 2 and "not parseable as times" in no_format.output
    assert _count(sqlite_engine, "bars") == 0
    ok = _invoke(sqlite_engine, path, "--symbol", "EUR/USD", "--encoding", "latin-1",
                 "--delimiter", ";", "--date-format", "%d/%m/%Y", freq="1D")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "not in --date-format" not in ok.output
    assert rows(sqlite_engine, "SELECT MIN(bar_open_ms), COUNT(*) FROM bars") == [(T0, 5)]


def test_help_documents_the_accepted_columns() -> None:
    result = CliRunner().invoke(cli_root(), ["ingest", "import", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "time: timestamp/time/date/datetime/open_time/bar_open_ms" in text
    for option in ("--delimiter", "--encoding", "--date-format", "--symbol-from", "--keep-partial"):
        assert option in text
