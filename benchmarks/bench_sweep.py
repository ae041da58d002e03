"""Benchmark: sweep throughput in-process vs a LocalCluster of 1 and 2 workers, and trial cost.

On a fresh temporary workspace (synthetic market, default 20 assets × 90 days of hourly bars), runs
the same sweep (default 96 trials) in-process and on ``distributed.LocalCluster`` with 1 and 2
single-threaded worker processes, each ``--repeats`` times (best of), and prints trials/s of the
evaluation phase (chunks out → results recorded: ledger appends and checkpoints included) and of
the whole sweep (dataset id, cluster start, family statistics and artifacts included). Then it
compares the per-trial cost with the report's per-hypothesis cost: ``compute_report`` on the
report's default signals × horizons on the same market, divided by its number of hypotheses.

Usage: python benchmarks/bench_sweep.py [--assets 20] [--days 90] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.loaders import load_bars, load_instruments
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.compute import compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.sweep import (
    SweepProgress,
    make_executor,
    parse_sweep_config,
    run_sweep,
)
from crypto_analyzer.pipeline.workspace import init_workspace

REPORT: dict[str, Any] = {
    "min_assets": 5,
    "factor_window": 240,
    "splits": {"test_size": 240, "min_train_size": 720, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
    "portfolio": {"k": 4},
}
SWEEP: dict[str, Any] = {
    "name": "bench",
    "horizons": [1, 4],
    "signals": [
        {"name": "momentum_24h", "params": {"lookback": [6, 12, 24, 48, 72, 96]}},
        {"name": "short_reversal", "params": {"lookback": [1, 2, 3, 6]}},
        {"name": "low_vol", "params": {"lookback": [24, 72, 168]}},
        {"name": "volume_shock", "params": {"window": [12, 24, 48]}},
    ],
    "costs": {"base": {}, "stressed": {"fee_bps": 20.0, "half_spread_bps": 10.0}},
    "report": REPORT,
    "chunk_size": 8,
}


class _Timer(SweepProgress):
    def __init__(self) -> None:
        self.start = self.end = 0.0

    def step(self, message: str) -> None:
        if message.startswith("evaluating"):
            self.start = time.perf_counter()
        elif message == "family statistics":
            self.end = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    market = SyntheticMarketConfig(assets=args.assets, days=args.days, seed=11, planted_ic=0.06)
    config = parse_sweep_config(SWEEP)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        directory = Path(tmp)
        settings = load_settings(
            db_url=f"sqlite:///{directory / 'w.sqlite'}", artifacts=f"file://{directory / 'a'}"
        )
        init_workspace(settings)
        with open_engine(settings, read_only=False) as engine:
            ingest_synthetic(engine, market)
            bars = load_bars(engine, tenant_id=settings.tenant, freq="1h")
            instruments = load_instruments(engine, tenant_id=settings.tenant)
        print(f"market: {market.assets} assets × {market.n_bars} hourly bars; "
              f"sweep: {config.n_trials} trials in chunks of {config.chunk_size}")  # fmt: skip
        rows = []
        for label, workers in (("in-process", 0), ("LocalCluster, 1 worker", 1),
                               ("LocalCluster, 2 workers", 2)):  # fmt: skip
            evaluation, total = float("inf"), float("inf")
            for _ in range(args.repeats):
                timer = _Timer()
                began = time.perf_counter()
                run_sweep(settings, config, actor="bench",
                          executor=make_executor("local", workers), progress=timer)  # fmt: skip
                total = min(total, time.perf_counter() - began)
                evaluation = min(evaluation, timer.end - timer.start)
            rows.append((label, evaluation, total))
        n = config.n_trials
        print(f"\n{'executor':<26}{'eval trials/s':>15}{'sweep trials/s':>16}{'eval s':>9}")
        for label, evaluation, total in rows:
            print(f"{label:<26}{n / evaluation:>15.1f}{n / total:>16.1f}{evaluation:>9.2f}")

        report = ReportConfig.model_validate(REPORT)
        hypotheses = len(report.signals) * len(report.horizons)
        best = float("inf")
        for _ in range(args.repeats):
            began = time.perf_counter()
            compute_report(bars, instruments, report, run_key="b" * 64, dataset_id="d" * 64)
            best = min(best, time.perf_counter() - began)
        per_trial = rows[0][1] / n
        print(f"\nper trial (in-process sweep, recording included): {per_trial * 1e3:.1f} ms")
        print(f"per hypothesis (compute_report, {hypotheses} hypotheses: signals share work, "
              f"family statistics included): {best / hypotheses * 1e3:.1f} ms")  # fmt: skip
        print(f"ratio: {per_trial / (best / hypotheses):.2f}×")


if __name__ == "__main__":
    main()
