"""Progress bars for long commands: rich on a terminal, nothing when piped or with ``--json``.

Commands open :func:`progress_bars` around the service call and pass the sink it yields down as
the service's ``progress`` argument (:class:`~crypto_analyzer.core.progress.ProgressSink`). On a
terminal each task is a bar on stderr with its count (``3/12``), elapsed time and ETA. When stderr
is not a terminal (a pipe, a file, CI logs) or the command writes ``--json``, the sink is the
no-op one: stdout stays exactly the machine-readable result and stderr carries no bar or ANSI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from crypto_analyzer.cli.context import stderr
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.progress import NO_PROGRESS, ProgressSink

__all__ = ["RichProgressSink", "progress_bars"]


class RichProgressSink:
    """A :class:`ProgressSink` drawing one rich bar per task.

    A job reported in stages (:class:`~crypto_analyzer.core.progress.Stages`: a task ``job`` and
    tasks ``"job: stage"``) shows its count of finished stages and the stage now running.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}

    def start(self, task: str, total: int) -> None:
        known = self._tasks.get(task)
        if known is not None:  # a task restarted (e.g. the next page of the same symbol)
            self._progress.reset(known, total=total or None)
            return
        self._tasks[task] = self._progress.add_task(printable(task), total=total or None)

    def advance(self, task: str, amount: int) -> None:
        if task not in self._tasks:
            self.start(task, 0)
        task_id = self._tasks[task]
        self._progress.advance(task_id, amount)
        job, separator, _stage = task.partition(": ")
        if separator and job in self._tasks and self._finished(task_id):
            # A finished stage row of a job with its own bar: the job's count keeps it.
            self._progress.update(task_id, visible=False)

    def _finished(self, task_id: Any) -> bool:
        return any(item.id == task_id and item.finished for item in self._progress.tasks)


@contextmanager
def progress_bars(*, json: bool = False, console: Console | None = None) -> Iterator[ProgressSink]:
    """Bars on ``console`` (stderr) when it is a terminal and ``json`` is off; else no output."""
    target = console or stderr
    if json or not target.is_terminal:
        yield NO_PROGRESS
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=target) as progress:
        yield RichProgressSink(progress)
