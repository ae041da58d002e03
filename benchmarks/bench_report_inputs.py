"""Benchmark: a report's inputs — the STRICT dataset id and the bars it names — in one pass or two.

Before issue 20 the report hashed the ``bars`` table for its dataset id and then read it again
for the panel, each in its own Arrow worker. ``load_identified_bars`` keeps the report's rows from
the very batches being hashed. Both are timed, interleaved, best of ``--repeat``, on a synthetic
market ingested into a fresh SQLite workspace; the ids and frames are checked to be identical.

Usage: python benchmarks/bench_report_inputs.py [--assets 50] [--days 365] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.loaders import load_bars, load_identified_bars
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.workspace import init_workspace
from harness import interleaved, machine_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.repeat < 3:
        parser.error("--repeat must be >= 3 (best of at least three)")
    with tempfile.TemporaryDirectory(prefix="bench-inputs-") as tmp:
        settings = load_settings(db_url=f"sqlite:///{Path(tmp) / 'w.sqlite'}")
        init_workspace(settings)
        engine = create_db_engine(settings.db_url)
        ingest_synthetic(engine, SyntheticMarketConfig(assets=args.assets, days=args.days, seed=3))

        def two_reads() -> tuple[Any, pd.DataFrame]:
            identity = compute_dataset_id(engine, tenant_id="default")
            bars = load_bars(engine, tenant_id="default", freq="1h", as_of=identity.watermark)
            return identity, bars

        def one_pass() -> tuple[Any, pd.DataFrame]:
            return load_identified_bars(engine, tenant_id="default", freq="1h")

        timings = interleaved({"two reads": two_reads, "one pass": one_pass}, args.repeat)
        (id_a, bars_a), (id_b, bars_b) = (t.result for t in timings.values())
        assert id_a == id_b, "the one-pass id differs"
        pd.testing.assert_frame_equal(bars_a, bars_b, check_exact=True)
        n_bars = len(bars_a)
        engine.dispose()
    print(machine_line())
    print(
        f"report inputs, {args.assets} assets x {args.days} days hourly ({n_bars:,} bars); "
        f"best of {args.repeat}, interleaved; ids and frames identical"
    )
    base = timings["two reads"].best
    for name, timing in timings.items():
        print(f"{name:<10}{timing.best:>8.2f} s  ({timing.best / base:.2f}x of two reads)")


if __name__ == "__main__":
    main()
