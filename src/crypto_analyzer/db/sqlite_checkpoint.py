"""Background WAL checkpoints for the SQLite bulk upsert (:mod:`.sqlite_bulk`).

Why it exists. The bulk write turns automatic checkpoints off (``wal_autocheckpoint=0``) so that a
commit never stalls copying the WAL into the database file. Someone still has to copy it, or the
WAL grows without bound; this module does it on a second connection, in a thread, overlapping the
next batch's write. It is a concurrency concern of its own, separate from what the batches write.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

__all__ = ["Checkpointer"]


class Checkpointer:
    """WAL checkpoints on a second connection, in a thread, while the next batch is written.

    SQLite releases the GIL while it copies WAL frames into the database file and syncs it, so
    the copy of batch *n* overlaps the writing of batch *n + 1* instead of stalling its commit.
    Leaving the context waits for a final checkpoint: the write returns with its WAL copied, as a
    commit with automatic checkpoints would have left it (the work stays inside the call).
    """

    def __init__(self, raw: sqlite3.Connection) -> None:
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
        path = raw.execute("PRAGMA database_list").fetchone()[2]
        self._path = path if mode == "wal" and path else None
        self._wanted = threading.Condition()
        self._pending = False
        self._done = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def __enter__(self) -> Checkpointer:
        if self._path is not None:
            self._thread.start()
        return self

    def request(self) -> None:
        """Ask for a checkpoint of what is committed so far (merged with one still pending)."""
        with self._wanted:
            self._pending = True
            self._wanted.notify()

    def __exit__(self, *exc: object) -> None:
        if self._path is None:
            return
        with self._wanted:
            self._done = True
            self._wanted.notify()
        self._thread.join()

    def _run(self) -> None:
        # Errors are dropped on purpose: the data is committed either way, and a checkpoint that
        # cannot run now runs at the next commit or close.
        assert self._path is not None  # the thread is only started when there is a WAL file
        with (
            contextlib.suppress(sqlite3.Error),
            contextlib.closing(
                sqlite3.connect(self._path, timeout=0, isolation_level=None)
            ) as connection,
        ):
            while True:
                with self._wanted:
                    while not (self._pending or self._done):
                        self._wanted.wait()
                    last, self._pending = self._done, False
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if last:
                    return
