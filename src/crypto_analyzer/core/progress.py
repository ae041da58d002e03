"""Progress reporting for long work, without any display library.

Ingest, materialization, factor fits and the report accept an optional :class:`ProgressSink` and
tell it what they are doing in counted units (files, candles, instruments, stages). The CLI passes
a rich progress bar when stderr is a terminal; library callers, tests, ``--json`` and piped runs
get :data:`NO_PROGRESS`, so nothing below the CLI depends on rich or on a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

__all__ = ["NO_PROGRESS", "NoProgress", "ProgressSink", "stages"]


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


class _Stages:
    """The stages of one job as one counted task: ``next(name)`` closes the running stage."""

    def __init__(self, sink: ProgressSink, task: str, total: int) -> None:
        self._sink = sink
        self._task = task
        self._total = total
        self._done = 0
        self._current: str | None = None

    def next(self, name: str) -> None:
        """Stage ``name`` starts; the one before it (if any) is done."""
        self._close_current()
        self._current = f"{self._task}: {name}"
        self._sink.start(self._current, 1)

    def _close_current(self) -> None:
        if self._current is not None:
            self._sink.advance(self._current, 1)
            self._done += 1
            self._sink.advance(self._task, 1)
            self._current = None

    def close(self) -> None:
        self._close_current()


@contextmanager
def stages(sink: ProgressSink | None, task: str, names: Sequence[str]) -> Iterator[_Stages]:
    """Report a job made of the known stages ``names``: an overall ``task`` counting finished
    stages (``2/5``) and one line per stage as it runs.

    The stage names only size the overall count; call ``next(name)`` as each stage begins.
    """
    target = sink or NO_PROGRESS
    target.start(task, len(names))
    tracker = _Stages(target, task, len(names))
    try:
        yield tracker
        tracker.close()
    finally:
        tracker._current = None
