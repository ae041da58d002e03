"""The Arrow (ADBC) reader for SQLite, run in a process of its own.

ADBC's SQLite driver links its own copy of the SQLite library. Two copies in one process break
SQLite's locking: POSIX advisory locks belong to the process, so when one copy closes a file
descriptor the kernel drops every lock the *other* copy holds on that file — including the
shared-memory locks that keep another process from resetting the WAL index under a live
connection (see "How To Corrupt An SQLite Database File", section 2.2). The Arrow reader is
several times faster than row tuples on big tables, so it is kept, but only ever opened in a
short-lived spawned worker whose only SQLite copy is ADBC's. The worker returns plain data:
finished column digests (hex digest and count) for the dataset id, or an Arrow table for the
loaders. Callers use it above a size where that beats the worker's start (about a second).

Keep this module's imports light: the worker imports it in a fresh interpreter.
"""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys
import tempfile
from typing import Any

__all__ = [
    "FinishedDigest",
    "arrow_reader_available",
    "digest_and_keep_isolated",
    "digest_columns_isolated",
    "read_table_isolated",
    "system_pool",
]


class FinishedDigest:
    """A column digest computed elsewhere: what :class:`ColumnDigest` callers read from it."""

    __slots__ = ("_hex", "count")

    def __init__(self, hexdigest: str, count: int) -> None:
        self._hex = hexdigest
        self.count = count

    def hexdigest(self) -> str:
        return self._hex


def arrow_reader_available() -> bool:
    """Whether the ADBC SQLite driver is installed (it is an optional speed-up)."""
    return importlib.util.find_spec("adbc_driver_sqlite") is not None


def digest_columns_isolated(
    uri: str, sql: str, params: tuple[Any, ...], width: int, chunk_rows: int
) -> list[FinishedDigest] | None:
    """Per-column digests made in a spawned worker; ``None`` if the reader refuses the data."""
    finished = _in_worker("_digest_in_worker", uri, sql, params, width, chunk_rows)
    if finished is None:
        return None
    return [FinishedDigest(hexdigest, count) for hexdigest, count in finished]


def digest_and_keep_isolated(
    uri: str,
    sql: str,
    params: tuple[Any, ...],
    width: int,
    chunk_rows: int,
    keep: tuple[tuple[int, ...], int, Any],
) -> tuple[list[FinishedDigest], Any] | None:
    """Per-column digests and, from the same read, the rows whose column ``keep[1]`` equals
    ``keep[2]`` projected on the columns ``keep[0]`` (a ``pyarrow.Table``); ``None`` if the
    reader refuses the data. One pass serves a dataset id and a loader."""
    found = _in_worker("_digest_in_worker", uri, sql, params, width, chunk_rows, keep)
    if found is None:
        return None
    finished, kept = found
    return [FinishedDigest(hexdigest, count) for hexdigest, count in finished], kept


def read_table_isolated(uri: str, sql: str) -> Any | None:
    """``sql`` (parameters inlined) as a ``pyarrow.Table`` read in a spawned worker, or ``None``
    when the reader refuses the data (the caller then reads rows)."""
    return _in_worker("_read_in_worker", uri, sql)


def system_pool() -> Any:
    """The C library's allocator as an Arrow memory pool, for converting a read table to pandas.

    Arrow's default pool (mimalloc or jemalloc) keeps memory it was given back for its own
    later use; NumPy allocates from the C library, so a large conversion through the default
    pool left its size in the process for the rest of a run that then allocates only NumPy
    arrays. Through this pool, freed conversion buffers are reusable by NumPy (or returned)."""
    import pyarrow as pa

    return pa.system_memory_pool()


def _in_worker(function_name: str, *args: Any) -> Any:
    """Run ``function_name(*args)`` of this module in a fresh interpreter and return its result.

    A plain ``python -m`` child rather than ``multiprocessing``: spawn would re-import the
    parent's ``__main__`` (the whole CLI) first, which costs more than the read it serves. The
    child inherits no SQLite connection, thread or Arrow pool from this process.
    """
    # The result is unpickled straight from the pipe: reading it into one bytes object first
    # held the whole table twice (the bytes and the table built from them) at the read's peak.
    # stderr goes to a file, so a chatty worker can never block on a full pipe.
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert child.stdin is not None and child.stdout is not None  # both are pipes
        result: Any = None
        try:
            with child.stdin:
                child.stdin.write(pickle.dumps((function_name, args)))
            with child.stdout:
                try:
                    result = pickle.load(child.stdout)
                except (EOFError, pickle.UnpicklingError):
                    result = None  # the worker died before its answer: its exit code says why
        finally:
            returncode = child.wait()
        if returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"the Arrow reader worker exited with {returncode}: {tail}")
    return result


def _read_in_worker(uri: str, sql: str) -> Any | None:
    from adbc_driver_sqlite import dbapi as adbc

    try:
        with adbc.connect(uri) as connection:
            cursor = connection.cursor()
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
            cursor.close()
    except Exception as exc:
        if "Type mismatch" in str(exc):
            return None
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
    return table


def _digest_in_worker(
    uri: str,
    sql: str,
    params: tuple[Any, ...],
    width: int,
    chunk_rows: int,
    keep: tuple[tuple[int, ...], int, Any] | None = None,
) -> Any:
    """Column digests (``[(hex, count)]``); with ``keep``, also the kept rows as a table."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from adbc_driver_sqlite import dbapi as adbc

    from crypto_analyzer.core.cell_encoding import ColumnDigest, UnsupportedCellError

    digests = [ColumnDigest() for _ in range(width)]
    kept: list[Any] = []
    try:
        with adbc.connect(uri) as connection:
            cursor = connection.cursor()
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(chunk_rows)})
            cursor.execute(sql, params)
            reader = cursor.fetch_record_batch()
            for batch in reader:
                for index, digest in enumerate(digests):
                    digest.update_arrow(batch.column(index))
                if keep is not None:
                    columns, where, value = keep
                    wanted = batch.filter(pc.equal(batch.column(where), value))
                    kept.append(_dictionary_text(wanted.select(list(columns))))
            schema = reader.schema
            cursor.close()
    except UnsupportedCellError:
        return None
    except Exception as exc:
        # The driver infers a column's type from the first batch and stops on a later mismatch
        # (e.g. a first batch of all-NULL REALs): the caller then uses the row reader.
        if "Type mismatch" in str(exc):
            return None
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None  # picklable for the parent
    finished = [(digest.hexdigest(), digest.count) for digest in digests]
    if keep is None:
        return finished
    empty = pa.schema([schema.field(index) for index in keep[0]])
    return finished, pa.Table.from_batches(kept, schema=empty if not kept else None)


def _dictionary_text(batch: Any) -> Any:
    """Text columns dictionary-encoded: an id repeated on every row of a long table travels as
    a small integer (the reader's frame converts each distinct id once)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [
        pc.dictionary_encode(column) if pa.types.is_string(column.type) else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _serve() -> None:
    """Worker entry point: one pickled ``(function name, args)`` in, one pickled result out."""
    name, args = pickle.loads(sys.stdin.buffer.read())
    if name not in ("_digest_in_worker", "_read_in_worker"):
        raise SystemExit(f"unknown worker function {name!r}")
    result = globals()[name](*args)
    # streamed, not built as one bytes object first: the worker's peak stays one table
    pickle.dump(result, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve()
