"""The artifact store contract and the registry that picks a backend by URL scheme.

The base class owns everything that must be identical across backends: key validation (one
function, :func:`check_key`, for every backend and every operation), SHA-256 of the bytes, and
create-only semantics — putting the same bytes under an existing key is a no-op that returns the
same reference, different bytes are an :class:`ArtifactConflictError`. Backends only move bytes
(``_create``, ``_read``, ``_exists``, ``_list``) and state how long a key they can hold
(``max_key_bytes``), so a new backend cannot weaken those guarantees.
"""

from __future__ import annotations

import abc
import builtins
import hashlib
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import BinaryIO, NoReturn

from crypto_analyzer.core.errors import (
    ArtifactConflictError,
    ConfigError,
    NotFoundError,
    ValidationError,
)
from crypto_analyzer.core.settings import Settings

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SEGMENT_BYTES",
    "RESERVED_SEGMENT_PREFIX",
    "ArtifactRef",
    "ArtifactStore",
    "check_key",
    "open_settings_store",
    "open_store",
    "register_store",
    "registered_schemes",
]

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
                raise ArtifactConflictError(
                    f"artifact {self.uri_for(checked)} already exists with different content",
                    "artifacts are immutable: write under a new key (e.g. include the run id)",
                )
        return ArtifactRef(checked, digest, len(payload), self.uri_for(checked))

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`NotFoundError` when absent."""
        checked = self._checked(key)
        data = self._read(checked)
        if data is None:
            raise NotFoundError(f"artifact {self.uri_for(checked)} does not exist")
        return data

    def open(self, key: str) -> BinaryIO:
        """A read-only binary stream over the artifact."""
        return io.BytesIO(self.get(key))

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

    @abc.abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The stored bytes, or None."""

    @abc.abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _list(self, prefix: str) -> builtins.list[str]: ...  # `list` here is the method above


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


StoreFactory = Callable[..., ArtifactStore]

_FACTORIES: dict[str, str] = {
    "file": "crypto_analyzer.artifacts.local:LocalArtifactStore.from_url",
    "s3": "crypto_analyzer.artifacts.s3:S3ArtifactStore.from_url",
    "gs": "crypto_analyzer.artifacts.s3:S3ArtifactStore.from_gcs_url",
}
_EXTRA_FACTORIES: dict[str, StoreFactory] = {}


def registered_schemes() -> MappingProxyType[str, str]:
    """Read-only view of scheme → factory (dotted path or callable name)."""
    view = dict(_FACTORIES)
    view.update({scheme: repr(factory) for scheme, factory in _EXTRA_FACTORIES.items()})
    return MappingProxyType(view)


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Add a backend for ``scheme``; registering a known scheme again is refused."""
    if scheme in _FACTORIES or scheme in _EXTRA_FACTORIES:
        raise ConfigError(f"artifact store scheme {scheme!r} is already registered")
    _EXTRA_FACTORIES[scheme] = factory


def open_store(url: str, **options: object) -> ArtifactStore:
    """Open the store for ``url``; backends import lazily and name their extra when missing."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ConfigError(f"artifact store URL {url!r} has no scheme", _known())
    if scheme in _EXTRA_FACTORIES:
        return _EXTRA_FACTORIES[scheme](url, **options)
    target = _FACTORIES.get(scheme)
    if target is None:
        raise ConfigError(f"artifact store scheme {scheme!r} in {url!r} is unknown", _known())
    module_name, _, attribute = target.partition(":")
    import importlib

    module = importlib.import_module(module_name)
    factory: object = module
    for part in attribute.split("."):
        factory = getattr(factory, part)
    return factory(url, **options)  # type: ignore[operator]


def open_settings_store(settings: Settings) -> ArtifactStore:
    """The store configured by ``CRYPTO_ANALYZER_ARTIFACTS`` (+ S3 endpoint settings).

    A relative local path is anchored at the workspace (:attr:`Settings.artifacts_url`).
    """
    options: dict[str, object] = {}
    if settings.artifacts.startswith(("s3://", "gs://")):
        options = {"endpoint_url": settings.s3_endpoint_url, "region": settings.s3_region}
    return open_store(settings.artifacts_url, **options)


def _known() -> str:
    return "known schemes: " + ", ".join(f"{scheme}://" for scheme in registered_schemes())
