"""A run's artifact as a stream of chunks, checked against the SHA-256 the run recorded.

``read_run_artifact`` (``pipeline.experiments``) hands out a whole artifact as bytes — fine for a
bundle, not for a multi-gigabyte panel. Here the bytes never sit in memory whole:

1. :func:`verify_run_artifact` resolves the run and the artifact's lineage row, then reads the
   object once from the store in chunks, hashing as it goes: bytes that do not hash to what the
   run recorded are refused (:class:`ArtifactStoreError`) before anyone receives any of them.
2. :func:`artifact_chunks` reads it again and yields the requested byte range in chunks. When the
   whole object is requested it hashes again while streaming and holds back the last chunk until
   the digest is known, so an object swapped between the two reads is never delivered complete
   (the stream stops with an error instead: the receiver sees a short body).

Memory is O(chunk) whatever the size; the price is reading the object twice per request (a
ranged read still hashes the whole object first). Stores read incrementally where they can
(``ArtifactStore.open``: local files, S3 bodies); a range on S3 skips to its start by reading.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import ArtifactStoreError, NotFoundError
from crypto_analyzer.core.hashing import sha256_stream
from crypto_analyzer.db.registry import resolve_run_id
from crypto_analyzer.db.run_queries import RunArtifactRow, find_run_artifact

__all__ = ["CHUNK_BYTES", "VerifiedArtifact", "artifact_chunks", "verify_run_artifact"]

CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class VerifiedArtifact:
    """A run's artifact whose stored bytes hashed to the recorded SHA-256 (``size`` bytes)."""

    run_instance_id: str
    row: RunArtifactRow
    key: str
    size: int


def verify_run_artifact(
    engine: Engine,
    store: ArtifactStore,
    tenant_id: str,
    run_id: str,
    name: str,
    *,
    chunk: int = CHUNK_BYTES,
) -> VerifiedArtifact:
    """Find artifact ``name`` of run ``run_id`` in ``store`` and check its bytes (one streamed
    pass); :class:`NotFoundError` when the run has no such artifact here."""
    full = resolve_run_id(engine, tenant_id, run_id)
    row = find_run_artifact(engine, tenant_id, full, name)
    prefix = store.url + "/"
    if row is None or not row.uri.startswith(prefix):
        raise NotFoundError(
            f"run {full} has no artifact {name!r} in this artifact store",
            "see the run's artifacts in GET /reports/latest or `crypto-analyzer audit trace`",
        )
    key = row.uri[len(prefix) :]
    stream = store.open(key)
    try:
        digest, size = sha256_stream(stream, chunk)
    finally:
        stream.close()
    if digest != row.sha256:
        raise ArtifactStoreError(
            f"artifact {name!r} of run {full} does not match the SHA-256 the run recorded",
            "the store was altered; run `crypto-analyzer audit verify`",
        )
    return VerifiedArtifact(full, row, key, size)


def _skip(stream: BinaryIO, count: int, chunk: int) -> None:
    if count <= 0:
        return
    if stream.seekable():
        stream.seek(count)
        return
    while count > 0:
        block = stream.read(min(chunk, count))
        if not block:
            return
        count -= len(block)


def artifact_chunks(
    store: ArtifactStore,
    artifact: VerifiedArtifact,
    start: int,
    end: int,
    *,
    chunk: int = CHUNK_BYTES,
) -> Iterator[bytes]:
    """Bytes ``start..end`` (inclusive) of ``artifact``, read from the store in chunks."""
    whole = start == 0 and end == artifact.size - 1
    digest = hashlib.sha256()
    stream = store.open(artifact.key)
    try:
        _skip(stream, start, chunk)
        left = end - start + 1
        pending = b""
        while left > 0:
            block = stream.read(min(chunk, left))
            if not block:
                break
            left -= len(block)
            if whole:
                digest.update(block)
            if pending:
                yield pending
            pending = block
        if left > 0 or (whole and digest.hexdigest() != artifact.row.sha256):
            raise ArtifactStoreError(
                f"artifact {artifact.row.name!r} of run {artifact.run_instance_id} changed while "
                "it was being sent; the transfer was cut short",
                "retry; if it persists run `crypto-analyzer audit verify`",
            )
        if pending:
            yield pending
    finally:
        stream.close()
