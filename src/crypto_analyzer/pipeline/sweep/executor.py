"""Where chunks of trials run: in this process, on a local Dask cluster, or on an existing one.

The contract is the same for every executor: the sweep data goes to the workers once, each task
is one chunk (``evaluate_chunk``: plain arguments in, Parquet bytes out), and every finished
chunk is handed to the client's ``on_done`` callback — the only place anything is written. The
order chunks finish in is whatever the cluster makes it; the client re-orders by chunk index, so
the results do not depend on it.

Failures: a task that raises is retried (``retries``); a worker process that dies is Dask's
business — the scheduler reschedules the chunks it held (up to ``distributed.scheduler.
allowed-failures`` times), and the scattered data survives on the other workers because it is
broadcast to every one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from crypto_analyzer.core.errors import ConfigError, CryptoAnalyzerError
from crypto_analyzer.pipeline.sweep.evaluate import SweepData, evaluate_chunk

__all__ = [
    "ChunkTask",
    "DaskExecutor",
    "Executor",
    "InProcessExecutor",
    "OnDone",
    "make_executor",
]

TASK_RETRIES = 2
"""Retries of a chunk whose task raised (a lost worker is handled by the scheduler, not this)."""

OnDone = Callable[[int, bytes], None]


@dataclass(frozen=True)
class ChunkTask:
    """One task: the chunk's index and its trials as plain dicts."""

    index: int
    trials: tuple[Mapping[str, Any], ...]


class Executor(Protocol):
    """Runs chunk tasks; calls ``on_done(index, chunk_bytes)`` in the client for each."""

    description: str

    def run(
        self,
        data: SweepData,
        sweep: Mapping[str, Any],
        sweep_run_key: str,
        tasks: Sequence[ChunkTask],
        on_done: OnDone,
    ) -> None: ...


class InProcessExecutor:
    """Evaluates the chunks one after another in this process (no Dask involved)."""

    description = "in-process"

    def run(
        self,
        data: SweepData,
        sweep: Mapping[str, Any],
        sweep_run_key: str,
        tasks: Sequence[ChunkTask],
        on_done: OnDone,
    ) -> None:
        for task in tasks:
            on_done(task.index, evaluate_chunk(data, sweep, sweep_run_key, task.index, task.trials))


class DaskExecutor:
    """A ``distributed`` client: of an existing scheduler (``tcp://HOST:PORT``) or of a
    ``LocalCluster`` with ``n_workers`` single-threaded worker processes started for this sweep.

    ``on_cluster(dashboard_link)`` is called once the client is connected.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        n_workers: int | None = None,
        on_cluster: Callable[[str], None] | None = None,
    ) -> None:
        if (address is None) == (n_workers is None):
            raise ValueError("give exactly one of address (an existing cluster) or n_workers")
        self.address = address
        self.n_workers = n_workers
        self.on_cluster = on_cluster
        self.description = (
            f"Dask scheduler {address}" if address else f"LocalCluster of {n_workers} worker(s)"
        )

    @contextmanager
    def _client(self) -> Iterator[Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - the extra is installed in the test env
            raise ConfigError(
                "a Dask scheduler needs the `distributed` extra",
                "install crypto-analyzer[distributed], or use --scheduler local without --workers",
            ) from exc
        if self.address is not None:
            try:
                client = Client(self.address, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise CryptoAnalyzerError(
                    f"cannot reach the Dask scheduler at {self.address}: {exc}",
                    "start `dask scheduler` there, or check the address and firewall",
                ) from exc
            with client:
                yield client
            return
        cluster = LocalCluster(
            n_workers=self.n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        with cluster, Client(cluster) as client:
            yield client

    def run(
        self,
        data: SweepData,
        sweep: Mapping[str, Any],
        sweep_run_key: str,
        tasks: Sequence[ChunkTask],
        on_done: OnDone,
    ) -> None:
        from distributed import as_completed

        with self._client() as client:
            if self.on_cluster is not None:
                self.on_cluster(str(client.dashboard_link))
            if not tasks:
                return
            # Once, to every worker: a worker that dies takes no data with it.
            shared = client.scatter(data, broadcast=True)
            prefix = f"sweep-{sweep_run_key[:16]}-chunk-"
            futures = [
                client.submit(
                    evaluate_chunk,
                    shared,
                    sweep,
                    sweep_run_key,
                    task.index,
                    task.trials,
                    key=f"{prefix}{task.index}",
                    retries=TASK_RETRIES,
                    pure=False,
                )
                for task in tasks
            ]
            index_of = {future.key: task.index for future, task in zip(futures, tasks, strict=True)}
            for future in as_completed(futures):
                on_done(index_of[future.key], future.result())
                future.release()


def make_executor(
    scheduler: str,
    workers: int | None,
    *,
    on_cluster: Callable[[str], None] | None = None,
) -> Executor:
    """``local`` → in-process (``workers`` None or 0) or a LocalCluster of ``workers``;
    ``tcp://HOST:PORT`` (or ``tls://``) → that existing cluster."""
    if workers is not None and workers < 0:
        raise ConfigError(f"--workers must be >= 0, got {workers}", "give a worker count")
    if scheduler == "local":
        if not workers:
            return InProcessExecutor()
        return DaskExecutor(n_workers=workers, on_cluster=on_cluster)
    if scheduler.startswith(("tcp://", "tls://")) and len(scheduler) > len("tcp://"):
        if workers:
            raise ConfigError(
                f"--workers {workers} applies to a local cluster only; {scheduler} has its own",
                "drop --workers, or use --scheduler local",
            )
        return DaskExecutor(address=scheduler, on_cluster=on_cluster)
    raise ConfigError(
        f"--scheduler {scheduler!r} is neither `local` nor a scheduler address",
        "use --scheduler local, or tcp://HOST:PORT of a running `dask scheduler`",
    )
