"""Benchmark: the demo's main job, stage by stage, against its 60-second budget.

Runs the same work as ``make demo`` (50 assets × 1 year of hourly bars with a planted signal,
report, promotion, audit) on a fresh temporary workspace and prints the wall time of each stage,
the total, and the budget side by side.

Usage: python benchmarks/bench_report.py [--assets 50] [--days 365]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import audit_verify
from crypto_analyzer.ingest.synthetic import ingest_synthetic
from crypto_analyzer.pipeline.demo import DEMO_MARKET, _demo_report, _promote
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import check_dataset, init_workspace

BUDGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=DEMO_MARKET.assets)
    parser.add_argument("--days", type=int, default=DEMO_MARKET.days)
    args = parser.parse_args()
    market = replace(DEMO_MARKET, assets=args.assets, days=args.days)
    stages: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        directory = Path(tmp)
        settings = load_settings(
            db_url=f"sqlite:///{directory / 'w.sqlite'}", artifacts=f"file://{directory / 'a'}"
        )
        clock = time.perf_counter()

        def mark(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            stages.append((name, now - clock))
            clock = now

        init_workspace(settings)
        mark("init (create + migrate)")
        with open_engine(settings, read_only=False) as engine:
            ingest_synthetic(engine, market)
        mark(f"ingest synthetic ({market.assets} × {market.n_bars} bars)")
        check_dataset(settings)
        mark("STRICT dataset id")
        config = ReportConfig.model_validate(_demo_report(market.assets))
        marks: list[tuple[str, float]] = []

        def progress(message: str) -> None:
            marks.append((message, time.perf_counter()))

        result = run_report(settings, config, actor="bench", progress=progress)
        end = time.perf_counter()
        names = [name for name, _ in marks]
        times = [moment for _, moment in marks] + [end]
        for index, name in enumerate(names):
            stages.append((f"report: {name}", times[index + 1] - times[index]))
        clock = end
        _promote(settings, result, config)
        mark(f"promotion ({len(config.signals)} candidates, 2 levels)")
        audit_verify(settings)
        mark("audit verify")
    total = sum(seconds for _, seconds in stages)
    width = max(len(name) for name, _ in stages) + 2
    print(f"{'stage':<{width}} {'seconds':>8} {'share':>6}")
    for name, seconds in stages:
        print(f"{name:<{width}} {seconds:>8.2f} {seconds / total:>6.1%}")
    print(f"{'total':<{width}} {total:>8.2f}")
    ratio = total / BUDGET_SECONDS
    print(f"{'budget (make demo)':<{width}} {BUDGET_SECONDS:>8.2f}  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
