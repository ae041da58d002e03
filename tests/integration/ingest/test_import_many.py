"""``ingest import DIR_OR_GLOB --symbol-from filename|column`` and ``ingest rejects``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from conftest import cli_root, db_url, rows

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z


def _bars(n: int, seed: int) -> pd.DataFrame:
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0.0, 0.01, n)))
    return pd.DataFrame(
        {
            "timestamp": T0 + HOUR * np.arange(n, dtype=np.int64),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 5.0,
        }
    )


def _invoke(engine: sa.Engine, *args: str) -> Result:
    return CliRunner().invoke(
        cli_root(), ["ingest", *args, "--db", db_url(engine)], catch_exceptions=False
    )


def test_directory_import_with_symbols_from_file_names(
    backend_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    for seed, name in enumerate(("BTC-USD", "ETH_USD", "SOL")):
        _bars(48, seed).to_csv(folder / f"{name}.csv", index=False)
    (folder / "README.md").write_text("not data")
    result = _invoke(backend_engine, "import", str(folder), "--venue", "x", "--freq", "1h",
                     "--symbol-from", "filename", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [item["instrument_id"] for item in body["files"]] == [
        "x:BTC/USD", "x:ETH/USD", "x:SOL/USD"
    ]  # fmt: skip
    assert body["n_accepted"] == 144 and body["refused"] == []
    assert rows(backend_engine, "SELECT COUNT(DISTINCT ingest_run_id), COUNT(*) FROM bars") == [
        (3, 144)
    ]


def test_glob_with_symbol_column_and_a_bad_file_writes_nothing(
    sqlite_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    long = pd.concat([_bars(24, 1).assign(symbol="BTC/USD"), _bars(24, 2).assign(symbol="ETH/USD")])
    long.to_csv(tmp_path / "a_long.csv", index=False)
    _bars(24, 3).drop(columns=["close"]).assign(symbol="SOL/USD").to_csv(
        tmp_path / "b_broken.csv", index=False
    )
    pattern = str(tmp_path / "*.csv")
    base = ["import", pattern, "--venue", "x", "--freq", "1h", "--symbol-from", "column"]
    refused = _invoke(sqlite_engine, *base)
    assert refused.exit_code == 2
    text = " ".join(refused.output.split())
    assert "1 of 2 file(s) cannot be imported, nothing was written: b_broken.csv lacks" in text
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(0,)]
    (tmp_path / "b_broken.csv").unlink()
    ok = _invoke(sqlite_engine, *base)
    assert ok.exit_code == 0, ok.output
    assert "importing" in ok.stderr or "checking files" in ok.stderr  # the progress bar
    assert rows(
        sqlite_engine, "SELECT instrument_id, COUNT(*) FROM bars GROUP BY 1 ORDER BY 1"
    ) == [("x:BTC/USD", 24), ("x:ETH/USD", 24)]


def test_rejects_lists_reasons_lines_and_runs(
    backend_engine: sa.Engine, tmp_path: Path, pinned_clock: object
) -> None:
    frame = _bars(10, 4)
    frame.loc[2, "high"] = 1.0
    frame.loc[5, "volume"] = -3.0
    frame["close"] = frame["close"].astype(object)
    frame.loc[7, "close"] = "n/a"
    frame.loc[8, "high"] = 1.0
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    imported = _invoke(backend_engine, "import", str(path), "--venue", "x", "--freq", "1h",
                       "--symbol", "BTC/USD", "--json")  # fmt: skip
    assert imported.exit_code == 0, imported.output
    summary = json.loads(imported.stdout)
    assert summary["reasons"] == {"high_below_low": 2, "negative_volume": 1, "schema_drift": 1}
    run = summary["ingest_run_id"]

    listed = _invoke(backend_engine, "rejects", "--run", run, "--json")
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.stdout)
    assert page["total"] == 4 and page["reason_counts"] == summary["reasons"]
    assert [(r["line"], r["reason_code"]) for r in page["rejects"]] == [
        (4, "high_below_low"), (7, "negative_volume"), (9, "schema_drift"), (10, "high_below_low")
    ]  # fmt: skip
    assert {r["provider"] for r in page["rejects"]} == {"file:mixed.csv"}

    only = _invoke(backend_engine, "rejects", "--reason", "high_below_low")
    assert only.exit_code == 0
    assert "2 quarantined record(s): high_below_low 2" in only.stdout
    assert "line 4: high_below_low" in only.stdout and "negative_volume: " not in only.stdout
    none = _invoke(backend_engine, "rejects", "--run", "no-such-run", "--json")
    assert json.loads(none.stdout)["total"] == 0
