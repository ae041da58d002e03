"""Benchmark: STRICT dataset_id over bar tables vs the floor of reading and hashing the same data.

The floor, measured in the same run on the same database, is what any exact identity must pay:
a bare ``SELECT`` of the same rows and columns in primary-key order through the fastest reader
the project uses (ADBC → Arrow for SQLite), plus plain SHA-256 over as many bytes as that read
produced. Target: dataset_id ≤ 1.5× the floor. The floor reads in this process; dataset_id runs
the same reader in a child process (``db/arrow_reader.py`` explains why), so its time includes
that child's start (about a second). The row-tuple reader (the path used for PostgreSQL, non-STRICT
and small tables) is shown too, against its own floor (a bare sqlite3 cursor read).

Usage: python benchmarks/bench_dataset_id.py [--rows 1000000 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

import crypto_analyzer.db.dataset_id as dataset_module
from crypto_analyzer.db.dataset_id import DEFAULT_SCOPE, compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine, sqlite_uri
from crypto_analyzer.db.migrate import upgrade

BARS_SCOPE = tuple(entry for entry in DEFAULT_SCOPE if entry.table == "bars")
COLUMNS = ", ".join(BARS_SCOPE[0].columns or ())
ORDER = "tenant_id, freq, instrument_id, bar_open_ms"
SQL = f"SELECT {COLUMNS} FROM bars WHERE tenant_id = ? ORDER BY {ORDER}"


def build_database(path: Path, rows: int) -> None:
    """Fill a migrated database with ``rows`` synthetic hourly bars (setup, not measured)."""
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    assets = 200
    per_asset = rows // assets
    rng = np.random.default_rng(0)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute(
        "INSERT INTO ingest_runs (ingest_run_id, kind, provider, actor, params_json, started_at, "
        "status) VALUES ('bench', 'synthetic', 'bench', 'bench', '{}', 't', 'succeeded')"
    )
    connection.executemany(
        "INSERT INTO instruments (instrument_id, venue, symbol, kind, created_at, ingest_run_id) "
        "VALUES (?, 'bench', ?, 'synthetic', 't', 'bench')",
        [(f"bench:A{i:03d}/USD", f"A{i:03d}/USD") for i in range(assets)],
    )
    times = (1_700_000_000_000 + np.arange(per_asset, dtype=np.int64) * 3_600_000).tolist()
    for asset in range(assets):
        close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, per_asset)))
        vwap = np.where(rng.uniform(size=per_asset) < 0.05, np.nan, close)
        connection.executemany(
            "INSERT INTO bars (instrument_id, freq, bar_open_ms, open, high, low, close, volume, "
            "vwap, log_return, source, ingest_run_id, provider, fetched_at) "
            "VALUES (?, '1h', ?, ?, ?, ?, ?, ?, ?, ?, 'synthetic', 'bench', 'bench', 't')",
            zip(
                [f"bench:A{asset:03d}/USD"] * per_asset,
                times,
                close.tolist(),
                (close * 1.01).tolist(),
                (close * 0.99).tolist(),
                close.tolist(),
                rng.uniform(1, 100, per_asset).tolist(),
                [None if np.isnan(v) else v for v in vwap.tolist()],
                np.diff(np.log(close), prepend=np.nan).tolist(),
                strict=True,
            ),
        )
    connection.commit()
    connection.execute("UPDATE bars SET log_return = NULL WHERE log_return != log_return")
    connection.commit()
    connection.close()


def timed(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def adbc_select(path: Path) -> int:
    from adbc_driver_sqlite import dbapi

    total = 0
    with dbapi.connect(sqlite_uri(path, read_only=True)) as connection:
        cursor = connection.cursor()
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "50000"})
        cursor.execute(SQL, ("default",))
        for batch in cursor.fetch_record_batch():
            total += batch.nbytes
        cursor.close()
    return total


def tuple_select(path: Path) -> int:
    connection = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    cursor = connection.execute(SQL, ("default",))
    count = 0
    while rows := cursor.fetchmany(50_000):
        count += len(rows)
    connection.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header = (
        f"{'rows':>11} {'reader':>8} {'dataset_id s':>13} {'rows/s':>11} "
        f"{'SELECT s':>9} {'SHA-256 s':>10} {'floor s':>8} {'ratio':>6}"
    )
    lines = [header, "-" * len(header)]
    with tempfile.TemporaryDirectory(prefix="bench-dataset-id-") as tmp:
        for rows in args.rows:
            path = Path(tmp) / f"bars_{rows}.sqlite"
            build_database(path, rows)
            engine = create_db_engine(f"sqlite:///{path}", read_only=True)
            identity_s, identity = timed(
                partial(compute_dataset_id, engine, BARS_SCOPE), args.repeat
            )
            select_s, nbytes = timed(partial(adbc_select, path), args.repeat)
            payload = bytes(int(nbytes))
            sha_s, _ = timed(partial(hashlib.sha256, payload), args.repeat)
            floor = select_s + sha_s
            lines.append(
                f"{rows:>11,} {'arrow':>8} {identity_s:>13.3f} {rows / identity_s:>11,.0f} "
                f"{select_s:>9.3f} {sha_s:>10.3f} {floor:>8.3f} {identity_s / floor:>6.2f}"
            )
            original = dataset_module._digest_columnar
            dataset_module._digest_columnar = lambda *a: None  # force the row-tuple reader
            try:
                rows_s, row_identity = timed(
                    partial(compute_dataset_id, engine, BARS_SCOPE), max(1, args.repeat - 2)
                )
            finally:
                dataset_module._digest_columnar = original
            tuple_s, _ = timed(partial(tuple_select, path), max(1, args.repeat - 2))
            lines.append(
                f"{rows:>11,} {'tuples':>8} {rows_s:>13.3f} {rows / rows_s:>11,.0f} "
                f"{tuple_s:>9.3f} {sha_s:>10.3f} {tuple_s + sha_s:>8.3f} "
                f"{rows_s / (tuple_s + sha_s):>6.2f}"
            )
            assert row_identity.dataset_id == identity.dataset_id, "readers disagree"
            engine.dispose()
            path.unlink()
    print("\n".join(lines))
    print("ratio = dataset_id time / floor (bare SELECT in key order + SHA-256 of as many bytes)")


if __name__ == "__main__":
    main()
