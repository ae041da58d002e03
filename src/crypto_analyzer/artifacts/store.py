"""The artifact store contract and the registry that picks a backend by URL scheme.

The base class owns everything that must be identical across backends: key validation (relative,
no ``..``, no empty segments), SHA-256 of the bytes, and create-only semantics — putting the same
bytes under an existing key is a no-op that returns the same reference, different bytes are an
:class:`ArtifactConflictError`. Backends only move bytes (``_create``, ``_read``, ``_exists``,
``_list``), so a new backend cannot weaken those guarantees.
"""

from __future__ import annotations

import abc
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import BinaryIO

from crypto_analyzer.core.errors import (
    ArtifactConflictError,
    ConfigError,
    NotFoundError,
    ValidationError,
)
from crypto_analyzer.core.settings import Settings

__all__ = [
    "ArtifactRef",
    "ArtifactStore",
    "open_settings_store",
    "open_store",
    "register_store",
    "registered_schemes",
]


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
        checked = _check_key(key)
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
        checked = _check_key(key)
        data = self._read(checked)
        if data is None:
            raise NotFoundError(f"artifact {self.uri_for(checked)} does not exist")
        return data

    def open(self, key: str) -> BinaryIO:
        """A read-only binary stream over the artifact."""
        return io.BytesIO(self.get(key))

    def exists(self, key: str) -> bool:
        return self._exists(_check_key(key))

    def ref(self, key: str) -> ArtifactRef:
        """Reference of a stored artifact (hash computed from the stored bytes)."""
        data = self.get(key)
        return ArtifactRef(key, hashlib.sha256(data).hexdigest(), len(data), self.uri_for(key))

    def list(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix``, sorted."""
        if prefix:
            _check_key(prefix.rstrip("/"))
        return sorted(self._list(prefix))

    def uri_for(self, key: str) -> str:
        return f"{self.url}/{key}"

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
    def _list(self, prefix: str) -> list[str]: ...


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValidationError(f"artifact key must be a non-empty string, got {key!r}")
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(part in ("", ".", "..") for part in parts):
        raise ValidationError(
            f"artifact key {key!r} is not a clean relative path",
            "use segments separated by '/', without '..', '.', empty segments or a leading '/'",
        )
    return key


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
    """The store configured by ``CRYPTO_ANALYZER_ARTIFACTS`` (+ S3 endpoint settings)."""
    options: dict[str, object] = {}
    if settings.artifacts.startswith(("s3://", "gs://")):
        options = {"endpoint_url": settings.s3_endpoint_url, "region": settings.s3_region}
    return open_store(settings.artifacts, **options)


def _known() -> str:
    return "known schemes: " + ", ".join(f"{scheme}://" for scheme in registered_schemes())
