"""Benchmark: wall time of a few CLI invocations, next to a bare interpreter in the same run.

Each row starts a fresh ``python`` process (what a user's shell pays): ``python -c pass`` and
``python -c "import crypto_analyzer"`` are the floors; then ``--version``, ``--help``, a command
group's ``--help`` and ``runs list`` on an empty SQLite workspace (the cheapest command that opens
a database). Candidates run interleaved, best of ``--repeat`` (≥ 5); the load average is printed
beside them. Goals (issue 19): ``--version``/``--help`` < 0.3 s, a no-op command < 1 s.

Usage: python benchmarks/bench_cli_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness import interleaved, machine_line

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"--version": 0.3, "--help": 0.3, "runs --help": 1.0, "runs list (empty)": 1.0}


def _runner(argv: list[str], env: dict[str, str]) -> Callable[[], int]:
    def run() -> int:
        completed = subprocess.run(argv, env=env, capture_output=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"{argv} exited {completed.returncode}: {completed.stderr!r}")
        return completed.returncode

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per candidate (>= 5)")
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "100"}
    python = sys.executable
    cli = [python, "-m", "crypto_analyzer"]
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'empty.sqlite'}"
        subprocess.run([*cli, "--db", db, "init", "--sandbox"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        candidates = {
            "python -c pass": _runner([python, "-c", "pass"], env),
            "python -c 'import crypto_analyzer'": _runner(
                [python, "-c", "import crypto_analyzer"], env
            ),
            "--version": _runner([*cli, "--version"], env),
            "--help": _runner([*cli, "--help"], env),
            "runs --help": _runner([*cli, "runs", "--help"], env),
            "runs list (empty)": _runner([*cli, "--db", db, "runs", "list"], env),
        }
        timings = interleaved(candidates, repeat=args.repeat)
    print(machine_line())
    print(f"best of {args.repeat} runs each, candidates interleaved; every row a fresh process")
    print(f"{'invocation':<38} {'best s':>8} {'worst s':>8} {'goal s':>7}")
    for name, timing in timings.items():
        goal = GOALS.get(name)
        mark = "" if goal is None else f"{goal:7.1f}" + (" ok" if timing.best < goal else " MISS")
        print(f"{name:<38} {timing.best:8.3f} {timing.worst:8.3f} {mark}")


if __name__ == "__main__":
    main()
