"""The one registry of artifact store backends, keyed by URL scheme.

Nothing else in the project knows which schemes exist: settings only check that the URL has one,
``doctor`` asks the backend to check its own URL, and :func:`open_store` looks the scheme up here.
The project's backends (``file``, ``s3``, ``gs``) are registered in code as dotted paths, so their
modules — and optional clients such as boto3 — are imported only when a store of that scheme is
opened; other backends come from the entry-point group ``crypto_analyzer.artifact_stores``
(entry point name = scheme, value = ``factory(url, **options) -> ArtifactStore``). A scheme
registered twice is refused; a plugin that fails to import is an error naming the entry point and
its distribution.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from crypto_analyzer.artifacts.store import ArtifactStore
from crypto_analyzer.core.errors import ConfigError, PluginError
from crypto_analyzer.core.plugins import load_entry_points
from crypto_analyzer.core.settings import Settings

__all__ = [
    "ENTRY_POINT_GROUP",
    "StoreFactory",
    "check_store_url",
    "open_settings_store",
    "open_store",
    "register_store",
    "registered_schemes",
    "reset_store_plugins",
]

ENTRY_POINT_GROUP = "crypto_analyzer.artifact_stores"

StoreFactory = Callable[..., ArtifactStore]
"""``factory(url, **options)``; options are the S3 endpoint and region settings (or ``None``)."""

_FACTORIES: dict[str, str | StoreFactory] = {
    "file": "crypto_analyzer.artifacts.local:LocalArtifactStore.from_url",
    "s3": "crypto_analyzer.artifacts.s3:S3ArtifactStore.from_url",
    "gs": "crypto_analyzer.artifacts.s3:S3ArtifactStore.from_gcs_url",
}
_SOURCES: dict[str, str] = dict.fromkeys(_FACTORIES, "crypto-analyzer (built in)")
_BUILTIN_TARGETS = frozenset(target for target in _FACTORIES.values() if isinstance(target, str))
_PLUGINS_LOADED = False


def _load_plugins() -> None:
    """Register the entry points once per process (a broken one raises every time)."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    for source, factory in load_entry_points(ENTRY_POINT_GROUP):
        target = (source.entry_point or "").split(" = ", 1)[-1]
        if target in _BUILTIN_TARGETS and _FACTORIES.get(source.name or "") == target:
            continue  # this project's own backend, declared as an entry point as well
        _register(source.name or "", factory, source.describe())
    _PLUGINS_LOADED = True


def reset_store_plugins() -> None:
    """Forget the plugins registered from entry points (tests that install or remove some)."""
    global _PLUGINS_LOADED
    for scheme, source in list(_SOURCES.items()):
        if source.startswith("entry point"):
            del _FACTORIES[scheme], _SOURCES[scheme]
    _PLUGINS_LOADED = False


def _register(scheme: str, factory: StoreFactory, source: str) -> None:
    if not scheme or not scheme.isascii() or not scheme[0].isalpha():
        raise PluginError(f"artifact store scheme {scheme!r} from {source} is not a URL scheme")
    if not callable(factory):
        raise PluginError(f"artifact store scheme {scheme!r} from {source} is not callable")
    if scheme in _FACTORIES:
        raise PluginError(
            f"artifact store scheme {scheme!r} from {source} is already registered by "
            f"{_SOURCES[scheme]}",
            "schemes are unique: rename one backend or uninstall one distribution",
        )
    _FACTORIES[scheme] = factory
    _SOURCES[scheme] = source


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Add a backend for ``scheme`` in code; registering a known scheme again is refused."""
    _load_plugins()
    _register(scheme, factory, f"{getattr(factory, '__module__', '?')} (registered in code)")


def registered_schemes() -> MappingProxyType[str, str]:
    """Read-only view of scheme → factory (dotted path or callable name)."""
    _load_plugins()
    return MappingProxyType(
        {scheme: f if isinstance(f, str) else repr(f) for scheme, f in _FACTORIES.items()}
    )


def _factory(url: str) -> tuple[str, StoreFactory]:
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ConfigError(f"artifact store URL {url!r} has no scheme", _known())
    _load_plugins()
    target = _FACTORIES.get(scheme)
    if target is None:
        raise ConfigError(f"artifact store scheme {scheme!r} in {url!r} is unknown", _known())
    if not isinstance(target, str):
        return scheme, target
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return scheme, found


def open_store(url: str, **options: object) -> ArtifactStore:
    """Open the store for ``url``; backends import lazily and name their extra when missing."""
    _, factory = _factory(url)
    return factory(url, **options)


def open_settings_store(settings: Settings) -> ArtifactStore:
    """The store configured by ``CRYPTO_ANALYZER_ARTIFACTS``; every backend receives the S3
    endpoint settings as options and uses them or not. A relative local path is anchored at the
    workspace (:attr:`Settings.artifacts_url`), so commands work from any directory."""
    return open_store(
        settings.artifacts_url, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region
    )


def check_store_url(url: str) -> tuple[bool, str]:
    """(ok, detail) without writing: the backend's own ``check_url`` when it has one."""
    scheme, factory = _factory(url)
    owner = getattr(factory, "__self__", None)
    check = getattr(owner, "check_url", None)
    if check is None:
        return True, f"{scheme}:// backend from {_SOURCES[scheme]} (no offline check)"
    ok, detail = check(url)
    return bool(ok), str(detail)


def _known() -> str:
    return "known schemes: " + ", ".join(f"{scheme}://" for scheme in registered_schemes())
