"""Benchmark: does the cost per bar stay flat, and memory bounded, as the market grows?

For each size (assets × days of hourly bars) the parent writes a seeded synthetic market as one
Parquet file per asset (``BTC-USD.parquet``, …) and a fresh SQLite workspace, then runs every stage
as its own process, exactly as a user would type it:

* ``ingest``      — ``crypto-analyzer ingest import DIR --symbol-from filename`` (the real file
  ingest path: read, file checks, row rules, quarantine, provenance writer);
* ``materialize`` — ``crypto-analyzer materialize bars --freq 1D`` (daily bars from the hourly
  candles);
* ``report``      — ``crypto-analyzer report --config …`` (the demo's research run on ``1h``).

Each stage is timed as a whole process (interpreter start and imports included); its peak
resident memory is the child's own ``ru_maxrss`` (``os.wait4``: one child, not the maximum over
every child so far). Cost is seconds per million hourly bars in the workspace: wall time, wall
time net of the CLI's fixed start-up (``crypto-analyzer --help``, measured first), and CPU
seconds (user + system) net of the start-up's CPU. At the smallest size the start-up is a large
share, so the gross ratio flatters; on a loaded machine wall time moves with the load (with more
runnable processes than cores a process gets a falling share of them), so the verdict uses the
CPU ratio, with the wall ratios beside it. Per stage the summary prints the ratio of the largest
size's cost per million bars to the smallest size's and the largest peak RSS, beside the targets
of issue 20 (ratio ≤ 1.2, peak RSS ≤ 1.5 GB), with the load average.

Usage: python benchmarks/bench_scale.py [--sizes 50x365,500x1460] [--stages ingest,materialize]
                                        [--report-max-bars N] [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from harness import machine_line

DEFAULT_SIZES = "50x365,100x730,200x1460,500x1460"
STAGES = ("ingest", "materialize", "report")
TARGET_RATIO = 1.2
TARGET_RSS_MB = 1536.0
SEED = 20
HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
FIXED_TIME = "2030-01-01T00:00:00Z"
"""A pinned clock after every simulated bar, so no bar is 'in the future' at any size."""

REPORT_TOML = """\
freq = "1h"
signals = ["volume_shock", "momentum_24h", "short_reversal", "low_vol", "clean_momentum"]
horizons = [1, 4]
hypothesis = "bench_scale: the demo's research run at scale"
tags = ["bench"]

[portfolio]
k = {k}
target_capital = 10000.0
capital_grid = [5000.0, 10000.0, 50000.0, 100000.0]

[costs]
fee_bps = 2.0
half_spread_bps = 1.0
impact_coef = 0.01

[procedures]
bootstrap_reps = 1000
"""
"""The demo's report (``pipeline.demo.DEMO_REPORT``), names per side scaled like the demo's."""


# -- the synthetic market --------------------------------------------------------------------


def _symbols(assets: int) -> list[str]:
    return ["BTC", "ETH", *[f"ALT{index:03d}" for index in range(1, assets - 1)]]


def _log_returns(rng: np.random.Generator, bars: int, daily_vol: float) -> np.ndarray:
    """Fat-tailed returns with clustered volatility: Student-t shocks times an AR(1) log-vol."""
    shocks = rng.standard_t(4.0, size=bars) / np.sqrt(2.0)
    log_vol = lfilter([0.15], [1.0, -0.98], rng.normal(0.0, 1.0, size=bars))
    return daily_vol / np.sqrt(24.0) * np.exp(log_vol - log_vol.std() ** 2 / 2) * shocks


def write_market(directory: Path, assets: int, days: int, seed: int = SEED) -> int:
    """One Parquet file per asset; asset i's series depends only on (seed, i, days), so the
    smaller sizes are prefixes of the larger ones. Returns the number of bars written."""
    directory.mkdir(parents=True, exist_ok=True)
    bars = days * 24
    times = T0 + np.arange(bars, dtype=np.int64) * HOUR
    factor_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    btc = _log_returns(factor_rng, bars, 0.035)
    eth = 0.8 * btc * (0.045 / 0.035) + 0.6 * _log_returns(factor_rng, bars, 0.045)
    for index, symbol in enumerate(_symbols(assets)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1, index])))
        if index == 0:
            returns, vol = btc, 0.035
        elif index == 1:
            returns, vol = eth, 0.045
        else:
            vol = rng.uniform(0.04, 0.09)
            own = _log_returns(rng, bars, vol)
            returns = rng.uniform(0.6, 1.4) * btc + rng.uniform(0.0, 0.6) * eth + own
        first = {0: 42_000.0, 1: 2_300.0}.get(index) or float(np.exp(rng.uniform(-3.0, 6.2)))
        close = first * np.exp(np.cumsum(returns))
        open_ = np.concatenate([[first], close[:-1]])
        spread = np.abs(returns) + np.abs(rng.normal(0.0, 0.3, bars)) * vol / np.sqrt(24.0)
        high = np.maximum(open_, close) * np.exp(spread * rng.uniform(0.1, 0.6, bars))
        low = np.minimum(open_, close) * np.exp(-spread * rng.uniform(0.1, 0.6, bars))
        dollar = (
            np.exp(rng.uniform(np.log(2e5), np.log(5e7)))
            * (1.0 + 25.0 * np.abs(returns) / (vol / np.sqrt(24.0)))
            * np.exp(rng.normal(0.0, 0.35, bars))
        )
        frame = pd.DataFrame(
            {
                "timestamp": times,
                "open": open_,
                "high": high,
                "low": low,
                "close": close,
                "volume": dollar / close,
            }
        )
        frame.to_parquet(directory / f"{symbol}-USD.parquet", index=False)
    return assets * bars


# -- one stage, one process ------------------------------------------------------------------


@dataclass(frozen=True)
class StageRun:
    """One stage at one size: whole-process wall time and the child's own peak RSS."""

    size: str
    stage: str
    bars: int
    seconds: float
    peak_rss_mb: float
    load_1min: float

    startup: float = 0.0
    """Best wall time of a child that only starts the CLI (``--help``), measured once a run."""
    cpu: float = 0.0
    """User + system CPU seconds of the child."""
    startup_cpu: float = 0.0

    @property
    def cpu_per_million(self) -> float:
        """CPU seconds per million bars net of the start-up's CPU time."""
        return max(self.cpu - self.startup_cpu, 0.0) / (self.bars / 1e6)

    @property
    def per_million(self) -> float:
        return self.seconds / (self.bars / 1e6)

    @property
    def net_per_million(self) -> float:
        """Seconds per million bars once the fixed start-up is taken out: the work that has to
        scale. At small sizes start-up is a large share, so this ratio is the stricter one."""
        return max(self.seconds - self.startup, 0.0) / (self.bars / 1e6)


def _cli() -> list[str]:
    return [sys.executable, "-m", "crypto_analyzer"]


def run_stage(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Run one child to completion: (wall seconds, peak RSS in MB, CPU seconds).

    ``os.wait4`` reports the child alone (with the workers it reaped, e.g. an Arrow reader
    process): its peak RSS is the largest of theirs, not a sum, and its CPU time is user +
    system. CPU time is far less sensitive than wall time to other tenants of a shared machine,
    so both are printed."""
    start = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{tail}")
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB else
    return elapsed, usage.ru_maxrss / scale, usage.ru_utime + usage.ru_stime


def _commands(market: Path, config: Path) -> dict[str, list[str]]:
    return {
        "init": ["init"],
        "ingest": [
            "ingest", "import", str(market), "--venue", "synthetic", "--freq", "1h",
            "--symbol-from", "filename", "--json",
        ],
        "materialize": ["materialize", "bars", "--freq", "1D", "--json"],
        "report": ["report", "--config", str(config), "--actor", "bench", "--json"],
    }  # fmt: skip


def measure_startup(root: Path, repeat: int = 3) -> tuple[float, float, float]:
    """(best seconds, peak RSS MB, best CPU seconds) of ``crypto-analyzer --help``: interpreter,
    imports, exit."""
    root.mkdir(parents=True, exist_ok=True)
    runs = [run_stage([*_cli(), "--help"], dict(os.environ), root / "startup.log")
            for _ in range(repeat)]  # fmt: skip
    return min(run[0] for run in runs), max(run[1] for run in runs), min(run[2] for run in runs)


def bench_size(
    assets: int,
    days: int,
    stages: tuple[str, ...],
    root: Path,
    startup: tuple[float, float] = (0.0, 0.0),
    echo: bool = True,
) -> list[StageRun]:
    """Write the market, then run init and every chosen stage in order on a fresh workspace."""
    size = f"{assets}x{days}"
    work = root / size
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = time.perf_counter()
    bars = write_market(work / "market", assets, days)
    generated = time.perf_counter() - start
    config = work / "report.toml"
    config.write_text(REPORT_TOML.format(k=max(1, min(10, assets // 5))))
    env = {
        **os.environ,
        "CRYPTO_ANALYZER_DB_URL": f"sqlite:///{work / 'workspace.sqlite'}",
        "CRYPTO_ANALYZER_ARTIFACTS": f"file://{work / 'artifacts'}",
        "CRYPTO_ANALYZER_FIXED_TIME": FIXED_TIME,
        "CRYPTO_ANALYZER_LOG_LEVEL": "WARNING",
    }
    if echo:
        print(f"# {size}: {bars:,} hourly bars written as Parquet in {generated:.1f} s", flush=True)
    commands = _commands(work / "market", config)
    runs: list[StageRun] = []
    for stage in ("init", *stages):
        seconds, rss, cpu = run_stage([*_cli(), *commands[stage]], env, work / f"{stage}.log")
        load = os.getloadavg()[0]
        run = StageRun(size, stage, bars, seconds, rss, load, startup[0], cpu, startup[1])
        runs.append(run)
        if echo:
            print(
                f"#   {stage:<12} {seconds:8.1f} s  {run.per_million:7.2f} s/M bars "
                f"({run.net_per_million:.2f} net of start-up; CPU {run.cpu_per_million:.2f})  "
                f"peak RSS {rss:7.0f} MB  load {run.load_1min:.2f}",
                flush=True,
            )
    return runs


# -- the table -------------------------------------------------------------------------------


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        assets, sep, days = item.strip().lower().partition("x")
        if not sep or not assets.isdigit() or not days.isdigit():
            raise SystemExit(f"--sizes: {item!r} is not ASSETSxDAYS, e.g. 50x365")
        if int(assets) < 12 or int(days) < 150:
            raise SystemExit(f"--sizes: {item!r} is below 12 assets or 150 days (the report)")
        sizes.append((int(assets), int(days)))
    return sizes


def _ratio(large: float, small: float) -> float | None:
    return large / small if small > 0 else None


def _text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def summarize(runs: list[StageRun], stages: tuple[str, ...]) -> list[str]:
    """The per-size table, then per stage the largest/smallest cost ratio and peak RSS."""
    lines = [
        f"{'size (assets x days)':<22}{'bars':>12}  {'stage':<12}{'seconds':>9}"
        f"{'s / M bars':>12}{'net s / M':>11}{'CPU s / M':>11}{'peak RSS MB':>13}{'load 1m':>9}"
    ]
    for run in runs:
        lines.append(
            f"{run.size:<22}{run.bars:>12,}  {run.stage:<12}{run.seconds:>9.1f}"
            f"{run.per_million:>12.2f}{run.net_per_million:>11.2f}{run.cpu_per_million:>11.2f}"
            f"{run.peak_rss_mb:>13.0f}"
            f"{run.load_1min:>9.2f}"
        )
    lines.append("")
    lines.append(
        f"{'stage':<12}{'ratio':>8}{'net ratio':>11}{'CPU ratio':>11}{'target':>8}"
        f"{'peak RSS MB (largest)':>23}{'target':>8}  verdict (CPU ratio and RSS)"
    )
    for stage in stages:
        mine = [run for run in runs if run.stage == stage]
        if not mine:
            continue
        small = min(mine, key=lambda run: run.bars)
        large = max(mine, key=lambda run: run.bars)
        ratio = _ratio(large.per_million, small.per_million)
        net = _ratio(large.net_per_million, small.net_per_million)
        cpu = _ratio(large.cpu_per_million, small.cpu_per_million)
        ok = cpu is not None and cpu <= TARGET_RATIO and large.peak_rss_mb <= TARGET_RSS_MB
        lines.append(
            f"{stage:<12}{_text(ratio):>8}{_text(net):>11}{_text(cpu):>11}"
            f"{'≤ ' + str(TARGET_RATIO):>8}{large.peak_rss_mb:>23.0f}{'≤ 1536':>8}  "
            f"{'meets' if ok else 'misses'} ({small.size} → {large.size})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="ASSETSxDAYS,… (hourly bars)")
    parser.add_argument("--stages", default=",".join(STAGES), help="subset of " + ",".join(STAGES))
    parser.add_argument("--keep", type=Path, help="work here and keep the workspaces")
    parser.add_argument("--json", type=Path, help="also write the measurements as JSON")
    parser.add_argument(
        "--report-max-bars",
        type=int,
        default=10**9,
        help="skip the report above this many bars (it is the slowest stage by far)",
    )
    args = parser.parse_args()
    stages = tuple(name.strip() for name in args.stages.split(",") if name.strip())
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or not stages:
        raise SystemExit(f"--stages: unknown {', '.join(unknown)}; choose from {STAGES}")
    stages = tuple(name for name in STAGES if name in stages or name == "ingest")  # it feeds all
    sizes = sorted(_parse_sizes(args.sizes), key=lambda pair: pair[0] * pair[1])
    print(machine_line(), flush=True)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    runs: list[StageRun] = []
    try:
        startup, startup_rss, startup_cpu = measure_startup(root)
        print(f"# start-up (crypto-analyzer --help, best of 3): {startup:.2f} s, "
              f"peak RSS {startup_rss:.0f} MB", flush=True)  # fmt: skip
        for assets, days in sizes:
            chosen = stages
            if "report" in stages and assets * days * 24 > args.report_max_bars:
                chosen = tuple(name for name in stages if name != "report")
                print(f"# {assets}x{days}: report not run (more than --report-max-bars)")
            runs += bench_size(assets, days, chosen, root, (startup, startup_cpu))
            if args.keep is None:
                shutil.rmtree(root / f"{assets}x{days}", ignore_errors=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(machine_line())
    print(
        "each stage a whole process; seconds per million hourly bars (net: minus the start-up "
        f"of {startup:.2f} s); peak RSS = the child's own ru_maxrss (start-up alone: "
        f"{startup_rss:.0f} MB)"
    )
    for line in summarize([run for run in runs if run.stage != "init"], stages):
        print(line)
    if args.json is not None:
        rows = [
            {**asdict(run), "per_million": run.per_million, "net": run.net_per_million,
             "cpu_per_million": run.cpu_per_million}
            for run in runs
        ]  # fmt: skip
        body = {"machine": machine_line(), "startup_s": startup, "startup_cpu_s": startup_cpu,
                "runs": rows}  # fmt: skip
        args.json.write_text(json.dumps(body, indent=1))


if __name__ == "__main__":
    main()
