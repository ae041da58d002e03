"""Progress reporting for long work, without any display library.

Ingest, materialization, factor fits and the report accept an optional :class:`ProgressSink` and
tell it what they are doing in counted units (files, candles, instruments, stages). The CLI passes
a rich progress bar when stderr is a terminal; library callers, tests, ``--json`` and piped runs
get :data:`NO_PROGRESS`, so nothing below the CLI depends on rich or on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["NO_PROGRESS", "NoProgress", "ProgressSink", "StageHook", "Stages"]


class ProgressSink(Protocol):
    """Where progress goes: named tasks, each with a total and increments towards it."""

    def start(self, task: str, total: int) -> None:
        """A task begins; ``total`` units are expected (0 when the size is not known)."""

    def advance(self, task: str, amount: int) -> None:
        """``amount`` more units of ``task`` are done."""


class NoProgress:
    """The sink that shows nothing (the default everywhere below the CLI)."""

    def start(self, task: str, total: int) -> None:
        """Ignore the task."""

    def advance(self, task: str, amount: int) -> None:
        """Ignore the increment."""


NO_PROGRESS: ProgressSink = NoProgress()


StageHook = Callable[[str], None]
"""Called with a stage's name as the stage begins (what :meth:`Stages.next` accepts)."""


class Stages:
    """The known stages of one job, reported as one counted task plus a line per stage.

    The job's task counts finished stages (``2/5``); each stage is a task ``"job: stage"`` of
    one unit, started by :meth:`next` and finished by the next :meth:`next` or by :meth:`done`.
    A job that fails leaves its count short, which is what happened.
    """

    def __init__(self, sink: ProgressSink | None, job: str, names: Sequence[str]) -> None:
        self._sink = sink or NO_PROGRESS
        self._job = job
        self._current: str | None = None
        self._sink.start(job, len(names))

    def next(self, name: str) -> None:
        """Stage ``name`` begins; the stage before it (if any) is done."""
        self.done()
        self._current = f"{self._job}: {name}"
        self._sink.start(self._current, 1)

    def done(self) -> None:
        """The running stage (if any) is done."""
        if self._current is not None:
            self._sink.advance(self._current, 1)
            self._sink.advance(self._job, 1)
            self._current = None
