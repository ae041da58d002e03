"""A small shared thread pool for kernels whose pieces release the GIL (FFT, sparse products).

Each piece writes its own disjoint slice of a preallocated output, so the result never depends on
the number of threads or on which thread ran what; threads only change the wall time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

__all__: list[str] = []

_MAX_THREADS = 4


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    workers = max(1, min(_MAX_THREADS, os.cpu_count() or 1))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stats-kernel")


def run_all(tasks: Iterable[Callable[[], None]]) -> None:
    """Run the tasks on the pool and wait for all of them; the first error is raised."""
    futures = [_pool().submit(task) for task in tasks]
    for future in futures:
        future.result()
