"""A many-file import streams (check every file, then read each again to write it) and writes
exactly what preparing every file in memory first wrote; the light structural check refuses
exactly what the full read refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import cli_root, db_url, rows
from crypto_analyzer.core.clock import now_ms
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.ingest.file_reader import ReadOptions, check_ohlcv_file, read_ohlcv_file
from crypto_analyzer.ingest.importer import prepare_import, write_import
from crypto_analyzer.ingest.multi_import import import_many, plan_many, symbol_of

HOUR = 3_600_000
T0 = 1_704_067_200_000
TABLES = {
    "bars": "tenant_id, instrument_id, freq, bar_open_ms",
    "ingest_runs": "started_at, ingest_run_id",
    "ingest_rejects": "ingest_run_id, seq",
    "instruments": "instrument_id",
}


def _bars(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    return pd.DataFrame(
        {
            "timestamp": T0 + HOUR * np.arange(n, dtype=np.int64),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.uniform(1.0, 9.0, n),
        }
    )


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    for seed, name in enumerate(("AAA-USD", "BBB_USD", "CCC")):
        frame = _bars(300 + 50 * seed, seed)
        if name == "BBB_USD":  # quarantined rows inside a file that is still accepted
            frame.loc[[5, 77], "low"] = frame.loc[[5, 77], "high"] * 2
        frame.to_csv(folder / f"{name}.csv", index=False)
    refused = _bars(40, 9)
    refused.loc[:, "close"] = -1.0  # every row quarantined: the file is refused as a whole
    refused.to_csv(folder / "DDD-USD.csv", index=False)
    _bars(200, 11).to_parquet(folder / "EEE-USD.parquet", index=False)
    return folder


def _in_memory_first(engine: sa.Engine, folder: Path) -> None:
    """The earlier behaviour: every file read and prepared before the first write."""
    stamp = now_ms()
    paths = sorted(p for p in folder.iterdir())
    prepared = [
        prepare_import(read_ohlcv_file(path), file=path.name, venue="x", freq="1h",
                       symbol=symbol_of(path.name.split(".")[0], "USD"), now_ms=stamp)
        for path in paths
    ]  # fmt: skip
    for item in prepared:
        try:
            write_import(engine, item)
        except ValidationError:
            assert item.refusal is not None


def _tables(engine: sa.Engine) -> dict[str, list[tuple]]:
    return {
        table: rows(engine, f"SELECT * FROM {table} ORDER BY {order}")
        for table, order in TABLES.items()
    }


def test_streamed_import_writes_what_preparing_everything_first_wrote(
    tmp_path: Path, pinned_clock: object, sqlite_engine: sa.Engine, backend_engine: sa.Engine
) -> None:
    folder = _folder(tmp_path)
    reference = sqlite_engine
    _in_memory_first(reference, folder)
    streamed = backend_engine  # SQLite (a second file) and PostgreSQL
    plans = plan_many(sorted(folder.iterdir()), venue="x", freq="1h", symbol_from="filename")
    result = import_many(streamed, plans)
    assert [item.instrument_id for item in result.results] == [
        "x:AAA/USD", "x:BBB/USD", "x:CCC/USD", "x:EEE/USD"
    ]  # fmt: skip
    assert len(result.refused) == 1 and "DDD-USD.csv" in result.refused[0]
    want, got = _tables(reference), _tables(streamed)
    assert len(want["bars"]) == 300 + 348 + 400 + 200 and len(want["ingest_rejects"]) == 42
    if streamed.dialect.name == "sqlite":
        assert got == want  # every column of every row
    else:  # PostgreSQL returns its own types: compare the identities and the values
        for table in TABLES:
            assert len(got[table]) == len(want[table])
        pairs = zip(got["bars"], want["bars"], strict=True)
        assert all(mine[:4] == theirs[:4] and mine[4:9] == theirs[4:9] for mine, theirs in pairs)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("timestamp,open,high,low,close\n1704067200000,1,1,1,1\n", "lacks column"),
        ("timestamp,open,high,low,close,volume\nnot-a-time,1,1,1,1,1\n", "not parseable"),
        ("timestamp,open,high,low,close,volume\n1704070800000,1,1,1,1,1\n"
         "1704067200000,1,1,1,1,1\n", "not sorted"),
        ("timestamp,open,high,low,close,volume\n1704067200000,1,1,1,1,1\n"
         "1704067200000,1,1,1,1,1\n", "duplicate"),
        ("timestamp,open,high,low,close,volume\n1104067200000,1,1,1,1,1\n", "before"),
        ("timestamp;open;high;low;close;volume\n1704067200000;1;1;1;1;1\n", "delimited"),
        ("timestamp,open,high,low,close,volume\n", "no data rows"),
    ],
)  # fmt: skip
def test_the_light_check_refuses_what_the_full_read_refuses(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "BAD-USD.csv"
    path.write_text(content)
    with pytest.raises(ValidationError) as full:
        read_ohlcv_file(path, options=ReadOptions())
    with pytest.raises(ValidationError) as light:
        check_ohlcv_file(path, ReadOptions())
    assert message in str(full.value) and str(light.value) == str(full.value)


def test_a_bad_file_found_by_the_check_writes_nothing(
    tmp_path: Path, pinned_clock: object, sqlite_engine: sa.Engine
) -> None:
    folder = _folder(tmp_path)
    _bars(30, 3).iloc[::2].to_csv(folder / "FFF-USD.csv", index=False)  # 2h apart vs --freq 1h
    args = ["ingest", "import", str(folder), "--venue", "x", "--freq", "1h",
            "--symbol-from", "filename", "--db", db_url(sqlite_engine)]  # fmt: skip
    result = CliRunner().invoke(cli_root(), args)
    assert result.exit_code == 2
    assert "FFF-USD.csv: bars are spaced 2h apart" in " ".join(result.output.split())
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(0,)]
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM ingest_runs") == [(0,)]
