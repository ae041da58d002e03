"""Finding signal plugins, loading them, and fingerprinting their code.

Two ways in, both without editing the package:

* an installed distribution declares ``[project.entry-points."crypto_analyzer.signals"]`` with
  ``<signal name> = "module:ATTRIBUTE"`` pointing at a
  :class:`~crypto_analyzer.plugins.signals.SignalPlugin`;
* a Python file named in the report config defines ``SIGNAL = SignalPlugin(...)`` (or a sequence
  ``SIGNALS``).

Entry points are listed by name without importing anything (so a name clash is refused cheaply)
and a plugin's code runs only when a config uses its signal; a file the config names always loads.
Every loaded plugin carries a :class:`PluginOrigin` whose ``code_sha256`` is a SHA-256 over its
source — the file's bytes, or every ``.py`` file its distribution installed — so the report's run
key changes when the code does, even if nobody bumps the version.

A signal name means one thing: a plugin that reuses a built-in name, two entry points with the same
name, or two files defining the same signal are refused, never resolved by load order.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import Distribution, EntryPoint, entry_points
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Literal

from crypto_analyzer.core.hashing import sha256_bytes, sha256_json
from crypto_analyzer.plugins.signals import SignalPlugin, SignalPluginError, plugin_spec
from crypto_analyzer.research.signal_registry import SIGNALS, SignalSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "MAX_PLUGIN_FILE_BYTES",
    "LoadedSignal",
    "PluginOrigin",
    "SignalCatalog",
    "build_catalog",
    "check_installed_signals",
    "describe_plugins",
    "distribution_code_digest",
    "load_entry_point",
    "load_signal_file",
    "signal_entry_points",
    "source_digest",
]

ENTRY_POINT_GROUP = "crypto_analyzer.signals"
MAX_PLUGIN_FILE_BYTES = 1 << 20
"""A signal plugin file larger than this is refused before it is read (1 MiB)."""
_FILE_MODULE_PREFIX = "crypto_analyzer_signal_file_"


@dataclass(frozen=True, slots=True)
class PluginOrigin:
    """Where a plugin came from and what its code was: the record a run keeps of it.

    ``locator`` is ``module:attribute`` for an entry point and the path as written in the config
    for a file (never an absolute path, so the record does not depend on where a workspace lives).
    """

    source: Literal["entry_point", "file"]
    locator: str
    version: str
    code_sha256: str
    distribution: str | None = None
    distribution_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Canonical-JSON-able dict (the ``signal_plugins`` entry of a resolved report config)."""
        return {
            "code_sha256": self.code_sha256,
            "distribution": self.distribution,
            "distribution_version": self.distribution_version,
            "locator": self.locator,
            "source": self.source,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class LoadedSignal:
    """A plugin, where it came from, and its registry entry."""

    plugin: SignalPlugin
    origin: PluginOrigin
    spec: SignalSpec


@dataclass(frozen=True, slots=True)
class SignalCatalog:
    """The signals one report config can use: the built-ins plus the plugins it loaded."""

    registry: Mapping[str, SignalSpec]
    plugins: Mapping[str, LoadedSignal]


def source_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over ``(relative path, SHA-256 of bytes)`` pairs, sorted by path.

    Paths are the ones relative to the install root or package, so the digest names the code, not
    the machine it is installed on.
    """
    pairs = sorted((name, sha256_bytes(data)) for name, data in files)
    return sha256_json([[name, digest] for name, digest in pairs])


def distribution_code_digest(dist: Distribution) -> str | None:
    """Digest of every ``.py`` file ``dist`` installed (from its RECORD); None when it lists none
    (an editable install lists only a path hook)."""
    files = []
    for item in dist.files or ():
        if item.suffix != ".py":
            continue
        located = Path(str(dist.locate_file(item)))
        if located.is_file():
            files.append((item.as_posix(), located.read_bytes()))
    return source_digest(files) if files else None


def _package_digest(module_name: str) -> str:
    """Digest of the top-level package (or single module) ``module_name`` belongs to."""
    top = module_name.split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None:  # pragma: no cover - the module was just imported
        raise SignalPluginError(f"cannot locate the source of module {module_name!r}")
    if spec.submodule_search_locations:
        files = []
        for root in spec.submodule_search_locations:
            base = Path(root)
            for path in sorted(base.rglob("*.py")):
                files.append((f"{top}/{path.relative_to(base).as_posix()}", path.read_bytes()))
        return source_digest(files)
    if spec.origin is None or not Path(spec.origin).is_file():
        raise SignalPluginError(f"cannot locate the source of module {module_name!r}")
    return source_digest([(Path(spec.origin).name, Path(spec.origin).read_bytes())])


def signal_entry_points() -> dict[str, list[EntryPoint]]:
    """Entry points of the ``crypto_analyzer.signals`` group by name; nothing is imported."""
    out: dict[str, list[EntryPoint]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        out.setdefault(point.name, []).append(point)
    return out


def _dist_name(point: EntryPoint) -> str:
    return point.dist.metadata["Name"] if point.dist is not None else "an unknown distribution"


def load_entry_point(point: EntryPoint) -> LoadedSignal:
    """Import the plugin an entry point names and fingerprint its distribution's code."""
    where = f"entry point {point.name!r} ({point.value}) of {_dist_name(point)}"
    try:
        plugin = point.load()
    except SignalPluginError as exc:
        raise SignalPluginError(f"{where}: {exc}") from None
    except Exception as exc:
        raise SignalPluginError(
            f"{where} failed to import: {type(exc).__name__}: {exc}"[:600]
        ) from None
    if not isinstance(plugin, SignalPlugin):
        raise SignalPluginError(f"{where} is a {type(plugin).__name__}, not a SignalPlugin")
    if plugin.name != point.name:
        raise SignalPluginError(f"{where} defines signal {plugin.name!r}; the names must match")
    dist = point.dist
    digest = distribution_code_digest(dist) if dist is not None else None
    origin = PluginOrigin(
        source="entry_point",
        locator=point.value,
        version=plugin.version,
        code_sha256=digest or _package_digest(point.module),
        distribution=None if dist is None else dist.metadata["Name"],
        distribution_version=None if dist is None else dist.version,
    )
    return LoadedSignal(plugin, origin, plugin_spec(plugin))


def load_signal_file(path: Path, *, written: str | None = None) -> tuple[LoadedSignal, ...]:
    """Execute a plugin file and return the signals it defines (``SIGNAL`` or ``SIGNALS``).

    The bytes that are hashed are the bytes that run (compiled from memory, not re-read). The
    module is registered under a name derived from its digest, so a changed file is a new module
    and an unchanged one is not executed twice in one process.
    """
    written = str(path) if written is None else written
    where = f"signal plugin file {written!r}"
    if not path.is_file():
        raise SignalPluginError(f"{where} does not exist (resolved to {path})")
    if path.suffix != ".py":
        raise SignalPluginError(f"{where} is not a Python file (.py)")
    size = path.stat().st_size
    if size > MAX_PLUGIN_FILE_BYTES:
        limit = MAX_PLUGIN_FILE_BYTES
        raise SignalPluginError(f"{where} is {size:,} bytes; the limit is {limit:,}")
    data = path.read_bytes()
    digest = sha256_bytes(data)
    module = _exec_file(path, data, digest, where)
    found = getattr(module, "SIGNALS", None)
    if found is None:
        found = getattr(module, "SIGNAL", None)
        found = None if found is None else (found,)
    if found is None:
        raise SignalPluginError(
            f"{where} defines no signal: expected a module-level SIGNAL = SignalPlugin(...) "
            "(or SIGNALS = [...])"
        )
    if not isinstance(found, Sequence) or not found:
        raise SignalPluginError(f"{where}: SIGNALS must be a non-empty list of SignalPlugin")
    bad = [type(item).__name__ for item in found if not isinstance(item, SignalPlugin)]
    if bad:
        raise SignalPluginError(f"{where}: expected SignalPlugin objects, got {', '.join(bad)}")
    return tuple(
        LoadedSignal(
            plugin,
            PluginOrigin(
                source="file", locator=written, version=plugin.version, code_sha256=digest
            ),
            plugin_spec(plugin),
        )
        for plugin in found
    )


def _exec_file(path: Path, data: bytes, digest: str, where: str) -> ModuleType:
    name = f"{_FILE_MODULE_PREFIX}{digest[:24]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    if spec is None:  # pragma: no cover - spec_from_loader always returns a spec here
        raise SignalPluginError(f"{where} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    sys.modules[name] = module  # pydantic and dataclasses resolve names through sys.modules
    try:
        exec(compile(data, str(path), "exec"), module.__dict__)  # the plugin's code
    except SignalPluginError as exc:
        del sys.modules[name]
        raise SignalPluginError(f"{where}: {exc}") from None
    except BaseException as exc:
        del sys.modules[name]
        if not isinstance(exc, Exception):
            raise
        raise SignalPluginError(
            f"{where} failed to import: {type(exc).__name__}: {exc}"[:600]
        ) from None
    return module


def build_catalog(wanted: Sequence[str], files: Sequence[tuple[str, Path]] = ()) -> SignalCatalog:
    """The built-ins, every signal the ``files`` define, and the entry points ``wanted`` names.

    Parameters
    ----------
    wanted : sequence of str
        Signal names the config uses; an entry point is imported only when named here.
    files : sequence of (str, Path)
        Plugin files as written in the config and resolved to a path.

    Raises
    ------
    SignalPluginError
        A name clash (with a built-in, between entry points, between files or between a file and
        an entry point), a file or entry point that does not load or break the contract, or a
        wanted name nobody defines.
    """
    points = signal_entry_points()
    for name, found in sorted(points.items()):
        if name in SIGNALS:
            raise SignalPluginError(
                f"entry point {name!r} of {_dist_name(found[0])} reuses the name of a built-in "
                "signal; a plugin must have a name of its own"
            )
        if len(found) > 1:
            dists = ", ".join(sorted(_dist_name(point) for point in found))
            raise SignalPluginError(
                f"signal {name!r} is declared by {len(found)} entry points ({dists}); "
                "uninstall one of them"
            )
    loaded: dict[str, LoadedSignal] = {}
    for written, path in files:
        for item in load_signal_file(path, written=written):
            name = item.plugin.name
            clash = (
                "a built-in signal" if name in SIGNALS
                else f"entry point {points[name][0].value!r}" if name in points
                else f"file {loaded[name].origin.locator!r}" if name in loaded
                else None
            )  # fmt: skip
            if clash is not None:
                raise SignalPluginError(
                    f"signal plugin file {written!r} defines {name!r}, already defined by {clash}"
                )
            loaded[name] = item
    for name in wanted:
        if name in SIGNALS or name in loaded:
            continue
        if name not in points:
            known = sorted({*SIGNALS, *points, *loaded})
            raise SignalPluginError(
                f"signals: unknown signal {name!r}; registered: {', '.join(known)} (a plugin "
                "needs its distribution installed or its file in signal_plugin_files)"
            )
        loaded[name] = load_entry_point(points[name][0])
    registry = {**SIGNALS, **{name: item.spec for name, item in loaded.items()}}
    return SignalCatalog(MappingProxyType(registry), MappingProxyType(loaded))


def describe_plugins(plugins: Mapping[str, LoadedSignal]) -> dict[str, dict[str, Any]]:
    """``{name: origin dict}`` of ``plugins``, sorted by name."""
    return {name: plugins[name].origin.to_dict() for name in sorted(plugins)}


def check_installed_signals() -> tuple[bool, str]:
    """(ok, detail) for ``doctor``: every installed entry point loads, fulfils the contract and has
    a name of its own; the detail lists them (name, distribution, version, short digest)."""
    points = signal_entry_points()
    if not points:
        return True, f"none installed (entry point group {ENTRY_POINT_GROUP})"
    try:
        catalog = build_catalog(sorted(points))
    except SignalPluginError as exc:
        return False, str(exc)
    listed = []
    for name, item in sorted(catalog.plugins.items()):
        origin = item.origin
        listed.append(
            f"{name} ({origin.distribution} {origin.distribution_version}, "
            f"code {origin.code_sha256[:12]})"
        )
    return True, f"{len(listed)} installed: {'; '.join(listed)}"
