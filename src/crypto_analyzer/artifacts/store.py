"""The artifact store contract (backends are chosen by URL scheme in :mod:`.registry`).

The base class owns everything that must be identical across backends: key validation (one
function, :func:`check_key`, for every backend and every operation), SHA-256 of the bytes, and
create-only semantics — putting the same bytes under an existing key is a no-op that returns the
same reference, different bytes are an :class:`ArtifactConflictError`. Backends only move bytes
(``_create``, ``_read``, ``_exists``, ``_list``) and state how long a key they can hold
(``max_key_bytes``), so a new backend cannot weaken those guarantees.

:meth:`ArtifactStore.put_file` is ``put`` for an artifact too large to hold in memory (a factor
fit file is hundreds of MB): the bytes are streamed from a file, hashed on the way, with the
same create-only rule. Backends that can stream override ``_create_from`` (the local store copies
through its temporary file, S3 sends the file as the request body); the default reads the file
whole and calls ``_create``, so a backend without it still works, only without the saving.
"""

from __future__ import annotations

import abc
import builtins
import contextlib
import hashlib
import io
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn, cast

from crypto_analyzer.core.errors import (
    ArtifactConflictError,
    NotFoundError,
    ValidationError,
)
from crypto_analyzer.core.hashing import sha256_stream

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SEGMENT_BYTES",
    "RESERVED_SEGMENT_PREFIX",
    "ArtifactRef",
    "ArtifactStore",
    "FileSource",
    "check_key",
]

COPY_CHUNK_BYTES = 1 << 20
"""Bytes read at a time when a file is streamed into (or out of) a store: 1 MiB."""

FileSource = BinaryIO | str | os.PathLike[str]
"""What :meth:`ArtifactStore.put_file` stores: a path, or a binary file open for reading that can
seek (it is read from its start; the store may read it more than once)."""

MAX_KEY_BYTES = 1024
"""Longest key, in UTF-8 bytes: S3's object-key limit, so a key valid on one backend is valid on
all. A backend that prefixes keys (an S3 prefix, a local root) offers less (``max_key_bytes``)."""

MAX_SEGMENT_BYTES = 255
"""Longest segment between two ``/``, in UTF-8 bytes: NAME_MAX of ext4, XFS, APFS and NTFS."""

RESERVED_SEGMENT_PREFIX = ".tmp-"
"""Segments starting with this are the local store's in-flight temporary files, hidden from
``list``; a key using it could never be listed, so it is refused on every backend."""

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories refused in keys: control characters (NUL, newline, DEL, C1), invisible
format characters (bidirectional overrides that disguise a name), surrogates, line separators."""


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """Where an artifact lives and what it is: content hash, size, full URI and store key."""

    key: str
    sha256: str
    size: int
    uri: str

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "sha256": self.sha256, "size": self.size, "uri": self.uri}


class ArtifactStore(abc.ABC):
    """Create-only, content-verified blob store addressed by relative keys."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    # -- public API (shared behaviour) --------------------------------------------------------

    def put(self, key: str, data: bytes) -> ArtifactRef:
        """Store ``data`` under ``key`` unless it is already there; never overwrite other bytes."""
        checked = self._checked(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"artifact data must be bytes, got {type(data).__name__}")
        payload = bytes(data)
        digest = hashlib.sha256(payload).hexdigest()
        if not self._create(checked, payload):
            existing = self._read(checked)
            if existing is None or hashlib.sha256(existing).hexdigest() != digest:
                raise self._conflict(checked)
        return ArtifactRef(checked, digest, len(payload), self.uri_for(checked))

    def put_file(self, key: str, source: FileSource) -> ArtifactRef:
        """:meth:`put` for the contents of a file, streamed: never held in memory whole.

        ``source`` is a path or a seekable binary file (read from its start). The SHA-256 is
        computed as the bytes go by; create-only exactly as :meth:`put` (the same bytes under
        an existing key are a no-op returning the same reference, other bytes a conflict).
        """
        checked = self._checked(key)
        with _readable(source) as stream:
            created, digest, size = self._create_from(checked, stream)
        if not created and self._stored_sha256(checked) != digest:
            raise self._conflict(checked)
        return ArtifactRef(checked, digest, size, self.uri_for(checked))

    def _conflict(self, key: str) -> ArtifactConflictError:
        return ArtifactConflictError(
            f"artifact {self.uri_for(key)} already exists with different content",
            "artifacts are immutable: write under a new key (e.g. include the run id)",
        )

    def _stored_sha256(self, key: str) -> str | None:
        """SHA-256 of the stored bytes, read as a stream (None when absent)."""
        stream = self._open(key)
        if stream is None:
            return None
        with contextlib.closing(stream):
            return sha256_stream(stream)[0]

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`NotFoundError` when absent."""
        checked = self._checked(key)
        data = self._read(checked)
        if data is None:
            raise NotFoundError(f"artifact {self.uri_for(checked)} does not exist")
        return data

    def open(self, key: str) -> BinaryIO:
        """A read-only binary stream over the artifact, read from the backend as it is consumed
        where the backend can (a local file, an S3 response body) — so a large artifact is never
        held in memory whole. Close it when done; :class:`NotFoundError` when absent."""
        checked = self._checked(key)
        stream = self._open(checked)
        if stream is None:
            raise NotFoundError(f"artifact {self.uri_for(checked)} does not exist")
        return stream

    def exists(self, key: str) -> bool:
        return self._exists(self._checked(key))

    def ref(self, key: str) -> ArtifactRef:
        """Reference of a stored artifact (hash computed from the stored bytes)."""
        data = self.get(key)
        return ArtifactRef(key, hashlib.sha256(data).hexdigest(), len(data), self.uri_for(key))

    def list(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix``, sorted."""
        if prefix:
            self._checked(prefix[:-1] if prefix.endswith("/") else prefix)
        return sorted(self._list(prefix))

    def uri_for(self, key: str) -> str:
        return f"{self.url}/{key}"

    @property
    def max_key_bytes(self) -> int:
        """Longest key this store holds, in UTF-8 bytes (never more than ``MAX_KEY_BYTES``)."""
        return MAX_KEY_BYTES

    def _checked(self, key: str) -> str:
        return check_key(key, max_bytes=self.max_key_bytes)

    # -- backend hooks ------------------------------------------------------------------------

    @abc.abstractmethod
    def _create(self, key: str, data: bytes) -> bool:
        """Write atomically if ``key`` is absent; return False (writing nothing) if present."""

    def _create_from(self, key: str, stream: BinaryIO) -> tuple[bool, str, int]:
        """Like ``_create`` for the bytes of ``stream`` (positioned at its start); returns
        (created, SHA-256, size). This default reads the stream whole; backends that can
        stream override it."""
        data = stream.read()
        return self._create(key, data), hashlib.sha256(data).hexdigest(), len(data)

    @abc.abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The stored bytes, or None."""

    def _open(self, key: str) -> BinaryIO | None:
        """A stream over the stored bytes, or None. This default reads them all; backends that
        can read incrementally override it."""
        data = self._read(key)
        return None if data is None else io.BytesIO(data)

    @abc.abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _list(self, prefix: str) -> builtins.list[str]: ...  # `list` here is the method above


@contextlib.contextmanager
def _readable(source: object) -> Iterator[BinaryIO]:
    """``source`` as a binary stream at its start: a path is opened (and closed after), a
    stream must be readable and seekable, and is left open for its owner."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            stream = path.open("rb")
        except FileNotFoundError as exc:
            raise ValidationError(
                f"artifact source file {str(path)!r} does not exist",
                "pass the path of the file to store (or an open binary file)",
            ) from exc
        except OSError as exc:
            raise ValidationError(
                f"artifact source file {str(path)!r} cannot be read: {exc.strerror or exc}",
                "pass the path of a readable file (or an open binary file)",
            ) from exc
        with stream:
            yield stream
        return
    readable = getattr(source, "readable", None)
    seekable = getattr(source, "seekable", None)
    if not callable(readable) or not callable(seekable) or isinstance(source, io.TextIOBase):
        raise TypeError(
            f"artifact source must be a path or a binary file, got {type(source).__name__}"
        )
    if not readable() or not seekable():
        raise ValidationError(
            f"artifact source {type(source).__name__} is not readable and seekable",
            "open the file with mode 'rb' (a pipe or socket cannot be stored; spool it first)",
        )
    given = cast(BinaryIO, source)  # a binary file, as checked above
    given.seek(0)
    yield given


def check_key(key: str, *, max_bytes: int = MAX_KEY_BYTES) -> str:
    """``key`` if it is a clean relative key; otherwise a :class:`ValidationError` naming the rule.

    The rules, the same for every backend: a non-empty string of valid UTF-8 text, at most
    ``max_bytes`` bytes, without control or invisible format characters (NUL included); relative
    (no leading ``/``), ``/``-separated (no backslash), no trailing ``/``, no empty, ``.`` or ``..``
    segment, no segment longer than ``MAX_SEGMENT_BYTES`` bytes or starting with
    ``RESERVED_SEGMENT_PREFIX``.
    """
    if not isinstance(key, str):
        raise ValidationError(f"artifact key must be a string, got {type(key).__name__}")
    if not key:
        raise ValidationError("artifact key '' is refused: it is empty", _HINT)
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        _refuse(key, "it is not valid UTF-8 text (it holds a lone surrogate)")
    for position, char in enumerate(key):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            _refuse(key, f"it holds a control or format character U+{ord(char):04X} at {position}")
    if len(encoded) > max_bytes:
        _refuse(key, f"it is {len(encoded)} bytes long, this store holds at most {max_bytes}")
    if key.startswith("/"):
        _refuse(key, "it is absolute (starts with '/')")
    if "\\" in key:
        _refuse(key, "it contains a backslash; segments are separated by '/'")
    if key.endswith("/"):
        _refuse(key, "it has a trailing '/'")
    for segment in key.split("/"):
        if not segment:
            _refuse(key, "it has an empty segment ('//')")
        if segment in (".", ".."):
            _refuse(key, "it has a '.' or '..' segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            _refuse(key, f"segment {_short(segment)} is longer than {MAX_SEGMENT_BYTES} bytes")
        if segment.startswith(RESERVED_SEGMENT_PREFIX):
            reserved = RESERVED_SEGMENT_PREFIX
            _refuse(key, f"segment {_short(segment)} uses the reserved prefix {reserved!r}")
    return key


_HINT = (
    "use '/'-separated segments of printable text, each at most "
    f"{MAX_SEGMENT_BYTES} bytes, without '.', '..', empty segments or a leading '/'"
)


def _short(text: str) -> str:
    """``repr`` of ``text``, cut to stay readable in one line of an error message."""
    return repr(text) if len(text) <= 80 else f"{text[:60]!r}… ({len(text)} characters)"


def _refuse(key: str, rule: str) -> NoReturn:
    raise ValidationError(f"artifact key {_short(key)} is refused: {rule}", _HINT)
