"""Benchmark: the demo's main job, timed as whole processes, against its 60-second budget.

Two things are timed, interleaved, best of ``--repeat``:

* the staged run — the same work as ``make demo`` (50 assets × 1 year of hourly bars with a
  planted signal, report, promotion, audit) in a fresh child process that marks each stage. The
  parent times the whole child, so interpreter start, imports and setup before the first mark
  appear as their own row instead of vanishing from the total;
* ``crypto-analyzer demo --dir …`` exactly as a user runs it (default market size only).

Usage: python benchmarks/bench_report.py [--assets 50] [--days 365] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from harness import machine_line

BUDGET_SECONDS = 60.0


def _staged_child(directory: Path, assets: int, days: int) -> None:
    """Run the demo's work stage by stage in this process and print the marks as JSON."""
    from crypto_analyzer.core.settings import load_settings
    from crypto_analyzer.db.workspace import open_engine
    from crypto_analyzer.governance import audit_verify
    from crypto_analyzer.ingest.synthetic import ingest_synthetic
    from crypto_analyzer.pipeline.demo import DEMO_MARKET, _demo_report, _promote
    from crypto_analyzer.pipeline.report.config import ReportConfig
    from crypto_analyzer.pipeline.report.run import run_report
    from crypto_analyzer.pipeline.workspace import check_dataset, init_workspace

    market = replace(DEMO_MARKET, assets=assets, days=days)
    stages: list[tuple[str, float]] = []
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
    if marks:
        stages.append(("report: setup before its first stage", marks[0][1] - clock))
    times = [moment for _, moment in marks] + [end]
    for index, (name, _) in enumerate(marks):
        stages.append((f"report: {name}", times[index + 1] - times[index]))
    clock = end
    _promote(settings, result, config)
    mark(f"promotion ({len(config.signals)} candidates, 2 levels)")
    audit_verify(settings)
    mark("audit verify")
    print(json.dumps(stages))


def _timed_process(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def _demo_command(directory: Path) -> list[str]:
    script = Path(sys.executable).with_name("crypto-analyzer")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "crypto_analyzer"]
    return [*base, "demo", "--dir", str(directory)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stages-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_child is not None:
        _staged_child(args.stages_child, args.assets, args.days)
        return
    with_demo = (args.assets, args.days) == (50, 365)
    staged: list[tuple[float, list[tuple[str, float]]]] = []
    demo: list[float] = []
    for _ in range(args.repeat):  # interleaved, so a load change hits both alike
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            command = [sys.executable, __file__, "--stages-child", tmp]
            command += ["--assets", str(args.assets), "--days", str(args.days)]
            elapsed, out = _timed_process(command)
            staged.append((elapsed, [tuple(pair) for pair in json.loads(out)]))
        if with_demo:
            directory = Path(tempfile.mkdtemp(prefix="bench-demo-"))
            try:
                demo.append(_timed_process(_demo_command(directory / "demo"))[0])
            finally:
                shutil.rmtree(directory, ignore_errors=True)
    total, stages = min(staged, key=lambda item: item[0])
    outside = total - sum(seconds for _, seconds in stages)
    rows = [("interpreter start, imports, setup (outside every stage)", outside), *stages]
    width = max(len(name) for name, _ in rows) + 2
    print(machine_line())
    print(f"staged run: the fastest of {args.repeat} whole processes")
    print(f"{'stage':<{width}} {'seconds':>8} {'share':>6}")
    for name, seconds in rows:
        print(f"{name:<{width}} {seconds:>8.2f} {seconds / total:>6.1%}")
    print(f"{'total (whole process)':<{width}} {total:>8.2f}")
    if demo:
        line = f"best {min(demo):.2f} s, worst {max(demo):.2f} s of {len(demo)}"
        print(f"{'crypto-analyzer demo (as a user runs it)':<{width}} {min(demo):>8.2f}  {line}")
    ratio = (min(demo) if demo else total) / BUDGET_SECONDS
    print(f"{'budget (make demo)':<{width}} {BUDGET_SECONDS:>8.2f}  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
