"""Timing rules every benchmark in this folder shares.

A ratio is only fair when both sides saw the same machine. On a shared VM the load moves between
runs, so the candidates are timed *interleaved* (ours, baseline, ours, baseline, …) and each keeps
the best of its runs — the ``timeit`` convention: noise from other tenants only ever adds time. The
load average is printed beside the figures so a reader can tell a quiet run from a busy one.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Timing", "interleaved", "machine_line"]


@dataclass(frozen=True)
class Timing:
    """Best and worst wall time of one candidate, and the result of its last run."""

    best: float
    worst: float
    result: Any


def interleaved(candidates: Mapping[str, Callable[[], Any]], repeat: int = 3) -> dict[str, Timing]:
    """Run every candidate ``repeat`` times in round-robin order and keep each one's best."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    seconds: dict[str, list[float]] = {name: [] for name in candidates}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in candidates.items():
            start = time.perf_counter()
            results[name] = fn()
            seconds[name].append(time.perf_counter() - start)
    return {
        name: Timing(min(values), max(values), results[name]) for name, values in seconds.items()
    }


def machine_line() -> str:
    """One line naming the CPU count and the load average, printed above every table."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average (1, 5, 15 min): {load}"
    )
