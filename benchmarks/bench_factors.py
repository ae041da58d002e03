"""Benchmark: does a stored factor run pay for itself? Reuse against recompute, and its bytes.

A synthetic market is ingested into a fresh SQLite workspace; the hourly panel is fitted once and
stored as a factor run (a zstd Arrow file in a local artifact store, its digests in the database).
Then, interleaved, best of ``--repeat``:

* ``recompute``  — ``fit_factor_model`` on the panel (what a report does without a stored run);
* ``reuse``      — the stored run served end to end as a report gets it: the run row looked up,
  the file read, its SHA-256 and the values digest checked, the grids decoded;
* ``refit + verify`` — the other design: recompute the fit and check it against the recorded
  values digest (a run stored without an artifact store takes this path).

Also printed: the database bytes one factor run adds (SQLite pages, after a WAL checkpoint)
against the bytes of the bars table it was fitted on, the file size in the store, and the time
to store a new run. ``--legacy`` adds the layout before revision 0016 (long rows in the
database): store and read-back time and its bytes — slow at full size (tens of seconds).

Usage: python benchmarks/bench_factors.py [--assets 200] [--days 365] [--repeat 3] [--legacy]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.factor_rows import load_factor_frames, save_factor_frames
from crypto_analyzer.db.factor_runs import FactorFrames
from crypto_analyzer.db.loaders import load_bars, load_instruments
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.factor_runs import MaterializedFactorFits, default_factor_ids
from crypto_analyzer.pipeline.workspace import init_workspace
from crypto_analyzer.research import fit_factor_model, panel_from_bars
from harness import interleaved, machine_line

WINDOW = 720
DATASET = "ds_bench_" + "0" * 55


def _table_bytes(path: Path, table: str) -> int:
    """Bytes of a table and its indexes, from SQLite's page statistics."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = ? AND type IN ('table', 'index')",
                (table,),
            )
        ]
        marks = ",".join("?" * len(names))
        query = f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({marks})"
        return int(connection.execute(query, names).fetchone()[0])


def _row_bytes(path: Path, table: str) -> int:
    """Bytes the rows of ``table`` occupy in its pages (cells incl. headers), from dbstat."""
    with sqlite3.connect(path) as connection:
        query = "SELECT COALESCE(SUM(payload + (pgsize - unused - payload)), 0) FROM dbstat "
        query += "WHERE name = ? AND pagetype = 'leaf'"
        return int(connection.execute(query, (table,)).fetchone()[0])


def _db_bytes(path: Path) -> int:
    """Bytes of the database in use (pages minus free pages), after a WAL checkpoint."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--legacy", action="store_true", help="also time the pre-0016 rows")
    args = parser.parse_args()
    if args.repeat < 3:
        parser.error("--repeat must be >= 3 (best of at least three)")

    with tempfile.TemporaryDirectory(prefix="bench-factors-") as tmp:
        directory = Path(tmp)
        db_path = directory / "w.sqlite"
        settings = load_settings(db_url=f"sqlite:///{db_path}", artifacts=f"file://{tmp}/a")
        init_workspace(settings)
        engine = create_db_engine(settings.db_url)
        market = SyntheticMarketConfig(assets=args.assets, days=args.days, seed=7)
        ingest_synthetic(engine, market)
        bars = load_bars(engine, tenant_id="default", freq="1h")
        panel = panel_from_bars(bars)
        returns = panel.log_returns
        ids = default_factor_ids(panel.assets, load_instruments(engine, tenant_id="default"))
        n_bars = int(bars.shape[0])
        del bars
        store = open_store(f"file://{tmp}/a")

        def fits(dataset: str, with_store: bool) -> MaterializedFactorFits:
            return MaterializedFactorFits(
                engine,
                tenant_id="default",
                dataset_id=dataset,
                freq="1h",
                store=store if with_store else None,
            )

        bars_bytes = _table_bytes(db_path, "bars")
        before = _db_bytes(db_path)
        start = time.perf_counter()
        fits(DATASET, True)(returns, factor_ids=ids, window=WINDOW, lag=1)
        store_s = time.perf_counter() - start
        run_bytes = _db_bytes(db_path) - before
        (key,) = store.list("factor_runs/")
        file_bytes = len(store.get(key))
        digest_only = DATASET.replace("0", "1")
        fits(digest_only, False)(returns, factor_ids=ids, window=WINDOW, lag=1)

        def reuse() -> pd.DataFrame:
            served = fits(DATASET, True)
            out = served(returns, factor_ids=ids, window=WINDOW, lag=1).residuals
            assert served.used[0].reused
            return out

        def refit_verify() -> pd.DataFrame:
            served = fits(digest_only, False)
            out = served(returns, factor_ids=ids, window=WINDOW, lag=1).residuals
            assert served.used[0].reused
            return out

        timings = interleaved(
            {
                "recompute": lambda: (
                    fit_factor_model(returns, factor_ids=ids, window=WINDOW, lag=1).residuals
                ),
                "reuse": reuse,
                "refit + verify": refit_verify,
            },
            repeat=args.repeat,
        )
        base = timings["recompute"]
        for name in ("reuse", "refit + verify"):
            pd.testing.assert_frame_equal(timings[name].result, base.result, check_exact=True)

        legacy: tuple[float, float, int] | None = None
        if args.legacy:
            fit = fit_factor_model(returns, factor_ids=ids, window=WINDOW, lag=1)
            frames = FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals)
            before = _db_bytes(db_path)
            start = time.perf_counter()
            save_factor_frames(engine, tenant_id="default", factor_run_id="legacy",
                               dataset_id=DATASET, config=fit.config, fit=frames)  # fmt: skip
            legacy_store_s = time.perf_counter() - start
            legacy_bytes = _db_bytes(db_path) - before
            start = time.perf_counter()
            load_factor_frames(engine, tenant_id="default", factor_run_id="legacy",
                               index=returns.index, assets=fit.residuals.columns,
                               factor_ids=ids)  # fmt: skip
            legacy = (legacy_store_s, time.perf_counter() - start, legacy_bytes)
        with engine.connect() as connection:
            runs = connection.execute(sa.text("SELECT COUNT(*) FROM factor_runs")).scalar_one()
        per_run = _row_bytes(db_path, "factor_runs") // runs
        engine.dispose()

    print(machine_line())
    print(
        f"factor runs, {args.assets} assets x {args.days} days hourly ({n_bars:,} bars), "
        f"window {WINDOW}, factors {len(ids)}; best of {args.repeat}, interleaved"
    )
    print(f"{'path':<18}{'best s':>9}{'worst s':>9}{'vs recompute':>14}")
    for name, timing in timings.items():
        ratio = timing.best / base.best
        print(f"{name:<18}{timing.best:>9.3f}{timing.worst:>9.3f}{ratio:>13.2f}x")
    print(f"reuse vs recompute: {timings['reuse'].best / base.best:.2f}x (target <= 1.0x)")
    print(
        f"database bytes per factor run: {per_run:,} B (its factor_runs row; the database grew "
        f"{run_bytes:,} B in whole pages when it was stored) = "
        f"{100 * max(per_run, run_bytes) / bars_bytes:.4f} % of the bars table "
        f"({_mb(bars_bytes)}; target <= 10 %)"
    )
    print(f"artifact file: {_mb(file_bytes)} (zstd Arrow IPC); storing a new run: {store_s:.2f} s")
    print(f"factor runs in the database: {runs}")
    if legacy is not None:
        print(
            f"before revision 0016 (rows): store {legacy[0]:.2f} s, read back {legacy[1]:.2f} s, "
            f"{_mb(legacy[2])} = {100 * legacy[2] / bars_bytes:.1f} % of the bars table"
        )


if __name__ == "__main__":
    main()
