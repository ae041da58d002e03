"""A factor fit as one compact file: Arrow IPC, zstd-compressed, with a digest of its values.

Storing a fit long-format in the database (one row per asset, bar and factor, each repeating a
64-character run id and text instrument ids) made reading it back slower than refitting and took
most of a workspace's disk. The fitted values are dense time x asset grids of float64, so they are
stored as such: one Arrow column per grid (the betas in factor order, alpha, R^2 when present, the
residuals), each the grid in time-major order, and a header — the factor ids, the asset ids and
the bar open times — in the file's schema metadata. Decoding is a decompress and a reshape.

Two digests identify a fit, and they answer different questions:

* the file's SHA-256 (its artifact id) says *these bytes are the ones written*; the store key
  is built from it, so the file is content-addressed and never overwritten;
* :func:`values_digest` says *these are the fitted numbers*: SHA-256 of the canonical JSON header
  followed by every grid's float64 little-endian bytes (NaN written as the one canonical quiet
  NaN). It does not depend on the file encoding or the compressor, so a refit can be verified
  against it as well as a decoded file (:mod:`crypto_analyzer.pipeline.factor_runs` does both).

A whole-panel fit file is hundreds of MB, so it is written to (and read from) a file, never held
as one ``bytes`` beside the grids: :func:`write_factor_fit` streams the record batches into a
caller's file, hashing them on the way; the digest reads the grids a row block at a time (the
bytes of a C-ordered grid are its row blocks' bytes one after another); :func:`decode_factor_fit`
takes an open file as well as bytes and decompresses one record batch at a time.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from crypto_analyzer.artifacts.run_layout import tenant_prefix
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.errors import ArtifactIntegrityError, ValidationError
from crypto_analyzer.core.hashing import is_hex_digest
from crypto_analyzer.core.row_blocks import ROW_BLOCK_CELLS, row_blocks
from crypto_analyzer.db.factor_runs import FactorFrames

__all__ = [
    "FACTOR_FILE_SCHEMA",
    "FACTOR_FILE_SCHEMA_VERSION",
    "FACTOR_RUNS_FOLDER",
    "EncodedFactorFit",
    "WrittenFactorFit",
    "decode_factor_fit",
    "encode_factor_fit",
    "factor_fit_key",
    "values_digest",
    "write_factor_fit",
]

FACTOR_FILE_SCHEMA = "crypto_analyzer.factor_fit_values"
FACTOR_FILE_SCHEMA_VERSION = 1
FACTOR_RUNS_FOLDER = "factor_runs/"
"""Store folder of fit files, inside the tenant's prefix (``tenants/<T>/`` unless default)."""

_METADATA_KEY = b"crypto_analyzer.factor_fit"
FILE_BLOCK_CELLS = 1 << 21
"""Cells per grid in one record batch of a fit file (16 MB of float64 per column)."""
_CANONICAL_NAN = np.float64(np.nan)


@dataclass(frozen=True, slots=True)
class EncodedFactorFit:
    """A fit's file bytes and the digest of the values they hold."""

    data: bytes
    values_digest: str


@dataclass(frozen=True, slots=True)
class WrittenFactorFit:
    """What :func:`write_factor_fit` wrote: the file's SHA-256 and size, the values digest."""

    sha256: str
    size: int
    values_digest: str


def factor_fit_key(tenant_id: str, file_sha256: str) -> str:
    """Store key of a fit file: content-addressed, inside the tenant's folder."""
    if not is_hex_digest(file_sha256):
        raise ValueError(f"{file_sha256!r} is not a SHA-256 hex digest")
    return f"{tenant_prefix(tenant_id)}{FACTOR_RUNS_FOLDER}{file_sha256}.arrow"


def _header(fit: FactorFrames) -> dict[str, Any]:
    frames = _frames(fit)
    first = fit.alpha
    for frame in frames:
        if not frame.index.equals(first.index) or not frame.columns.equals(first.columns):
            raise ValidationError(
                "factor fit frames are not aligned on one time x asset grid",
                "store the frames exactly as the fit returned them",
            )
    bad = [name for name in [*first.columns, *fit.betas] if not isinstance(name, str) or not name]
    if bad:
        raise ValidationError(
            f"factor fit assets and factors must be instrument ids (non-empty text), got {bad[:3]}",
            "build the fit from a panel whose columns are instrument ids",
        )
    return {
        "schema": FACTOR_FILE_SCHEMA,
        "schema_version": FACTOR_FILE_SCHEMA_VERSION,
        "factor_ids": list(fit.betas),
        "assets": list(first.columns),
        "ts_ms": first.index.to_numpy(dtype=np.int64).tolist(),
        "has_r2": fit.r2 is not None,
    }


def _frames(fit: FactorFrames) -> list[pd.DataFrame]:
    return [
        *fit.betas.values(),
        fit.alpha,
        *([fit.r2] if fit.r2 is not None else []),
        fit.residuals,
    ]


def _column_names(header: dict[str, Any]) -> list[str]:
    betas = [f"beta_{k}" for k in range(len(header["factor_ids"]))]
    return [*betas, "alpha", *(["r2"] if header["has_r2"] else []), "residual"]


def _canonical(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part`` (rows of ``whole``) as C-ordered little-endian float64 with every NaN the
    canonical quiet NaN; ``whole`` is never written to."""
    grid = np.ascontiguousarray(part, dtype="<f8")
    nan = np.isnan(grid)
    if nan.any():  # NaN bit patterns vary (sign, payload); the digest must not
        if np.may_share_memory(grid, whole):
            grid = np.where(nan, _CANONICAL_NAN, grid)  # a view of the fit: never written to
        else:
            np.copyto(grid, _CANONICAL_NAN, where=nan)  # our own copy: no second block
    return grid


def _values(frame: pd.DataFrame) -> np.ndarray:
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


def _canonical_rows(
    frames: Iterable[pd.DataFrame], between_blocks: Callable[[], None] | None = None
) -> Iterator[np.ndarray]:
    """Every grid's canonical bytes in order, a row block at a time (never a whole grid)."""
    for frame in frames:
        whole = _values(frame)
        n_rows, n_cols = whole.shape
        for rows in row_blocks(n_rows, n_cols, ROW_BLOCK_CELLS, min_cells=1):
            yield _canonical(whole[rows], whole)
            if between_blocks is not None:
                between_blocks()


def _digest(header: dict[str, Any], parts: Iterable[np.ndarray]) -> str:
    digest = hashlib.sha256(canonical_bytes(header))
    for part in parts:
        digest.update(np.ascontiguousarray(part, dtype="<f8").data.cast("B"))
    return digest.hexdigest()


def values_digest(fit: FactorFrames, *, between_blocks: Callable[[], None] | None = None) -> str:
    """SHA-256 of the fitted values (header + canonical float64 grids), independent of encoding;
    ``between_blocks`` as in :func:`write_factor_fit`."""
    return _digest(_header(fit), _canonical_rows(_frames(fit), between_blocks))


class _HashingSink(io.RawIOBase):
    """Writes through to ``target`` and hashes what goes by, so the file's SHA-256 (its store
    key) is known when the last batch is written, without reading the file back."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha256.update(view)
        self._target.write(view)
        self.size += len(view)
        return len(view)

    def tell(self) -> int:
        return self.size


def write_factor_fit(
    fit: FactorFrames, sink: BinaryIO, *, between_blocks: Callable[[], None] | None = None
) -> WrittenFactorFit:
    """Write the fit's Arrow IPC file (zstd) into ``sink`` (a binary file open for writing).

    The digest reads one canonical row block at a time; the file is written as record batches
    of consecutive bars (every column, :data:`FILE_BLOCK_CELLS` cells per grid): memory beyond
    the fit itself is one batch, the file goes to ``sink`` as it is made. ``between_blocks`` is
    called after each block of a grid is read, e.g. to let go of the pages of grids mapped from
    files (reading a few rows of each column of a mapped grid can map all of its pages).
    """
    header = _header(fit)
    frames = _frames(fit)
    digest = _digest(header, _canonical_rows(frames, between_blocks))
    names = _column_names(header)
    schema = pa.schema(
        [(name, pa.float64()) for name in names], metadata={_METADATA_KEY: canonical_bytes(header)}
    )
    grids = [_values(frame) for frame in frames]
    hashing = _HashingSink(sink)
    target = pa.PythonFile(hashing, mode="w")
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_file(target, schema, options=options) as writer:
        n_rows, n_cols = grids[0].shape
        for rows in row_blocks(n_rows, n_cols, FILE_BLOCK_CELLS, min_cells=1):
            columns = []
            for grid in grids:
                columns.append(pa.array(_canonical(grid[rows], grid).reshape(-1)))
                if between_blocks is not None:  # a mapped grid's reads may map all its pages
                    between_blocks()
            writer.write_batch(pa.record_batch(columns, schema=schema))
            del columns
    target.flush()
    sink.flush()
    pa.default_memory_pool().release_unused()  # the compressed batches, kept by the pool
    return WrittenFactorFit(hashing.sha256.hexdigest(), hashing.size, digest)


def encode_factor_fit(fit: FactorFrames) -> EncodedFactorFit:
    """The fit's file as ``bytes`` and its values digest (:func:`write_factor_fit` holds less)."""
    with tempfile.TemporaryFile() as spool:
        written = write_factor_fit(fit, spool)
        spool.seek(0)
        data = spool.read()
    return EncodedFactorFit(data, written.values_digest)


def decode_factor_fit(
    data: bytes | BinaryIO,
    *,
    source: str,
    allocate: Callable[[str, int], np.ndarray] | None = None,
    between_blocks: Callable[[], None] | None = None,
) -> tuple[FactorFrames, str]:
    """The fit a file holds and the digest of its values; a malformed file is refused.

    ``data`` is the file's bytes or a seekable binary file open on it (then only one record
    batch at a time is read and decompressed beside the grids). ``source`` names the file in
    errors (its URI). The caller compares the returned digest with the one recorded for the run:
    decoding alone proves only that the file is well formed.

    ``allocate(column, cells)`` gives the writable float64 array each column (``beta_0``, ...,
    ``alpha``, ``r2``, ``residual``) is decoded into, time-major (default: new arrays);
    ``between_blocks`` is called after each record batch is copied and after each grid is
    hashed, e.g. to let go of the pages of arrays mapped from files.
    """
    try:
        handle = pa.py_buffer(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
        reader = ipc.open_file(handle)
        raw = (reader.schema.metadata or {}).get(_METADATA_KEY)
        found = json.loads(raw) if raw is not None else None
        header = _check_header(found, reader.schema, source)
        cells = len(header["ts_ms"]) * len(header["assets"])
        grids = _read_grids(reader, _column_names(header), cells, allocate, between_blocks)
    except (pa.ArrowException, ValueError) as exc:
        raise ArtifactIntegrityError(
            f"factor fit file {source} is not a readable Arrow file: {exc}",
            "the file is damaged; delete it and rerun to recompute the fit",
        ) from exc
    index = pd.Index(np.asarray(header["ts_ms"], dtype=np.int64), name="bar_open_ms")
    columns = pd.Index(header["assets"])
    shape = (len(index), len(columns))
    grids = [grid.reshape(shape) for grid in grids]
    frames = [pd.DataFrame(grid, index=index, columns=columns, copy=False) for grid in grids]
    n_betas = len(header["factor_ids"])
    betas: dict[Hashable, pd.DataFrame] = dict(
        zip(header["factor_ids"], frames[:n_betas], strict=True)
    )
    alpha, *rest = frames[n_betas:]
    r2 = rest[0] if header["has_r2"] else None
    fit = FactorFrames(betas, alpha, r2, rest[-1])
    return fit, _digest(header, _each_then(grids, between_blocks))


def _each_then(
    grids: list[np.ndarray], between_blocks: Callable[[], None] | None
) -> Iterator[np.ndarray]:
    for grid in grids:
        yield grid
        if between_blocks is not None:
            between_blocks()


def _read_grids(
    reader: ipc.RecordBatchFileReader,
    names: list[str],
    total: int,
    allocate: Callable[[str, int], np.ndarray] | None = None,
    between_blocks: Callable[[], None] | None = None,
) -> list[np.ndarray]:
    """Each column as one float64 array of ``total`` cells (the header's grid; a file holding
    another number is refused): a single batch is converted without a copy (unless ``allocate``
    says where the columns go); several (the block-wise writer's) are copied batch by batch into
    one array per column, so the file is never decompressed whole beside its copy."""
    if reader.num_record_batches == 1 and allocate is None:
        batch = reader.get_batch(0)
        _check_cells(batch.num_rows, total)
        return [batch.column(name).to_numpy(zero_copy_only=False) for name in names]
    grids = [
        np.empty(total, dtype=np.float64) if allocate is None else allocate(name, total)
        for name in names
    ]
    start = 0
    for i in range(reader.num_record_batches):
        batch = reader.get_batch(i)
        stop = start + batch.num_rows
        if stop > total:
            _check_cells(stop, total)
        for grid, name in zip(grids, names, strict=True):
            grid[start:stop] = batch.column(name).to_numpy(zero_copy_only=False)
        start = stop
        if between_blocks is not None:
            between_blocks()
    _check_cells(start, total)
    return grids


def _check_cells(found: int, expected: int) -> None:
    if found != expected:
        raise ValueError(f"it holds {found} float cells per column, the header names {expected}")


def _check_header(header: Any, schema: pa.Schema, source: str) -> dict[str, Any]:
    def refuse(what: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(
            f"factor fit file {source} {what}",
            "the file is not one this version wrote; delete it and rerun to recompute the fit",
        )

    if not isinstance(header, dict) or header.get("schema") != FACTOR_FILE_SCHEMA:
        raise refuse("has no factor fit header")
    if header.get("schema_version") != FACTOR_FILE_SCHEMA_VERSION:
        raise refuse(f"has schema version {header.get('schema_version')!r}")
    for name, kind in (("factor_ids", list), ("assets", list), ("ts_ms", list), ("has_r2", bool)):
        if not isinstance(header.get(name), kind):
            raise refuse(f"has a malformed header field {name!r}")
    expected = _column_names(header)
    if schema.names != expected:
        raise refuse(f"has columns {schema.names}, expected {expected}")
    if any(t != pa.float64() for t in schema.types):
        raise refuse(f"has column types {[str(t) for t in schema.types]}, expected float64")
    return header
