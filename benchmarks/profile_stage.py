"""Where a CLI command spends its time and its memory: a sampling profiler for one process.

Runs ``crypto-analyzer ARGS…`` in this process while a thread samples, every ``--interval``
seconds, the resident set size (``/proc/self/statm``) and the main thread's stack. It prints

* time: the share of samples in which each project function was on the stack (cumulative) and
  was the innermost project frame (self) — a statistical profile that costs almost nothing, so
  the command runs at full size (``cProfile`` and ``tracemalloc`` slow it several-fold);
* memory: the highest RSS seen while each function was on the stack, and the stack at the
  process's peak — what held the memory when it peaked.

Linux only (``/proc``). Usage: python benchmarks/profile_stage.py [--interval 0.05] -- report …
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from types import FrameType

PAGE = os.sysconf("SC_PAGE_SIZE")
MARK = f"{os.sep}crypto_analyzer{os.sep}"


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 2**20


def _names(frame: FrameType | None) -> list[str]:
    """Project frames of a stack, innermost first, as ``module:function``."""
    names = []
    while frame is not None:
        path = frame.f_code.co_filename
        if MARK in path:
            module = path.split(MARK, 1)[1].removesuffix(".py").replace(os.sep, ".")
            names.append(f"{module}:{frame.f_code.co_name}")
        frame = frame.f_back
    return names


class Sampler(threading.Thread):
    """Samples RSS and the main thread's project stack until stopped."""

    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.main = threading.main_thread().ident
        self.stop = threading.Event()
        self.samples: list[tuple[float, float, list[str]]] = []

    def run(self) -> None:
        start = time.perf_counter()
        while not self.stop.wait(self.interval):
            frame = sys._current_frames().get(self.main or 0)
            self.samples.append((time.perf_counter() - start, _rss_mb(), _names(frame)))


def report(samples: list[tuple[float, float, list[str]]], top: int) -> list[str]:
    """The time and memory tables of a list of samples."""
    total = max(len(samples), 1)
    cumulative: Counter[str] = Counter()
    own: Counter[str] = Counter()
    high: dict[str, float] = {}
    for _, rss, names in samples:
        if names:
            own[names[0]] += 1
        for name in set(names):
            cumulative[name] += 1
            high[name] = max(high.get(name, 0.0), rss)
    lines = [f"{len(samples)} samples; peak RSS {max((s[1] for s in samples), default=0):.0f} MB"]
    lines.append(f"{'cumulative':>10} {'self':>6}  function (time: share of samples)")
    for name, count in cumulative.most_common(top):
        lines.append(f"{count / total:>10.1%} {own[name] / total:>6.1%}  {name}")
    lines.append("")
    lines.append(f"{'max RSS MB':>10}  function (memory: highest RSS while on the stack)")
    for name, rss in sorted(high.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"{rss:>10.0f}  {name}")
    if samples:
        peak = max(samples, key=lambda sample: sample[1])
        lines.append("")
        lines.append(f"stack at the peak ({peak[1]:.0f} MB, t = {peak[0]:.1f} s), innermost first:")
        lines += [f"    {name}" for name in peak[2]]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then the CLI arguments")
    options = parser.parse_args()
    argv = options.args[1:] if options.args[:1] == ["--"] else options.args
    from crypto_analyzer.cli.app import app

    sampler = Sampler(options.interval)
    sampler.start()
    start = time.perf_counter()
    try:
        app(argv, standalone_mode=False)
    finally:
        sampler.stop.set()
        sampler.join()
        elapsed = time.perf_counter() - start
        print(f"\n{' '.join(argv[:3])}: {elapsed:.1f} s, load {os.getloadavg()[0]:.2f}")
        for line in report(sampler.samples, options.top):
            print(line)


if __name__ == "__main__":
    main()
