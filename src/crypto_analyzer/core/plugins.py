"""Entry-point plugins: discovery, where a plugin came from, and a digest of its code.

Every extension point of the project (statistical procedures, artifact stores, policy rules,
signals) keeps exactly one registry, and each registry uses these helpers so that all plugins are
found, named and fingerprinted the same way:

* :func:`load_entry_points` imports every entry point of a group in a stable order. A plugin that
  fails to import is a :class:`~crypto_analyzer.core.errors.PluginError` naming the entry point
  and the distribution that ships it — never a warning, because a silently skipped plugin would
  change what a run computes or how it is judged.
* :func:`code_digest` is the SHA-256 over a plugin's Python source files, so a run key that
  includes it changes when the plugin's code changes even if its declared version does not.
* :func:`distribution_of` names the installed distribution (and version) that provides a module.

Nothing here registers anything: registries own their names and refuse duplicates themselves.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from crypto_analyzer.core.errors import PluginError
from crypto_analyzer.core.hashing import sha256_bytes, sha256_json

__all__ = [
    "PluginSource",
    "code_digest",
    "distribution_of",
    "forget_installed_distributions",
    "load_entry_points",
    "module_source_files",
    "top_level_package",
]


@dataclass(frozen=True, slots=True)
class PluginSource:
    """Where a registered object came from: an entry point of an installed distribution, or code.

    ``entry_point`` is ``"group:name = module:attr"`` for an entry point and ``None`` for an object
    registered in code (the project's built-ins, or a caller's programmatic registration).
    """

    module: str
    distribution: str | None
    distribution_version: str | None
    entry_point: str | None = None
    name: str | None = None
    """The entry point's name (``None`` for code registration)."""

    def describe(self) -> str:
        dist = self.distribution or "no installed distribution"
        if self.distribution and self.distribution_version:
            dist = f"{self.distribution} {self.distribution_version}"
        where = f"entry point {self.entry_point}" if self.entry_point else f"module {self.module}"
        return f"{where} ({dist})"


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    # Sorted so that registration order (and so which of two clashing plugins is named first)
    # does not depend on the order of sys.path or of the installed metadata.
    return sorted(metadata.entry_points(group=group), key=lambda ep: (ep.name, ep.value))


def load_entry_points(group: str) -> list[tuple[PluginSource, Any]]:
    """Import every entry point of ``group``: ``(source, loaded object)`` in name order.

    Raises
    ------
    PluginError
        An entry point failed to import or to resolve its attribute; the message names the
        entry point (group, name, target) and its distribution with version.
    """
    loaded: list[tuple[PluginSource, Any]] = []
    for entry in _entry_points(group):
        dist = entry.dist
        source = PluginSource(
            module=entry.module,
            distribution=None if dist is None else dist.name,
            distribution_version=None if dist is None else dist.version,
            entry_point=f"{group}:{entry.name} = {entry.value}",
            name=entry.name,
        )
        try:
            target = entry.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {source.describe()} failed to import: {type(exc).__name__}: {exc}",
                "fix the plugin or uninstall its distribution; a broken plugin is never skipped",
            ) from exc
        loaded.append((source, target))
    return loaded


@functools.lru_cache(maxsize=4)
def _distributions_by_package(search_path: tuple[str, ...]) -> Mapping[str, list[str]]:
    # ``packages_distributions`` reads the file list of every installed distribution (about
    # 0.6 s in a full environment); a report registers 14 built-ins, so it is read once per
    # search path. A plugin installed into a new path entry changes the key and is seen.
    del search_path
    return metadata.packages_distributions()


def distribution_of(module: str) -> tuple[str | None, str | None]:
    """(distribution name, version) that installs the top-level package of ``module``, if any."""
    top = module.partition(".")[0]
    names = _distributions_by_package(tuple(sys.path)).get(top, [])
    if not names:
        return None, None
    name = sorted(names)[0]
    try:
        return name, metadata.version(name)
    except metadata.PackageNotFoundError:
        return name, None


def forget_installed_distributions() -> None:
    """Read the installed distributions afresh on the next lookup (after installing into a path
    that was already on ``sys.path``)."""
    _distributions_by_package.cache_clear()


def top_level_package(module: str) -> str:
    """``"a"`` for ``"a.b.c"``: the unit a plugin distribution normally ships."""
    return module.partition(".")[0]


def _as_module(module: str | ModuleType) -> ModuleType:
    if isinstance(module, ModuleType):
        return module
    found = sys.modules.get(module)
    return found if found is not None else importlib.import_module(module)


def module_source_files(module: str | ModuleType) -> list[tuple[str, Path]]:
    """``(relative path, file)`` of the module's source; every ``.py`` file of a package.

    Relative paths start at the directory holding the top-level package, so the same code has
    the same digest whether it sits in ``src/`` or in ``site-packages``.
    """
    mod = _as_module(module)
    file = getattr(mod, "__file__", None)
    if not file or not str(file).endswith(".py"):
        raise PluginError(
            f"module {mod.__name__} has no Python source file to digest ({file!r})",
            "install the plugin from source (not as bytecode only) so its code can be pinned",
        )
    path = Path(file).resolve()
    parts = mod.__name__.split(".")
    is_package = hasattr(mod, "__path__")
    base = path.parents[len(parts)] if is_package else path.parents[len(parts) - 1]
    files = sorted(path.parent.rglob("*.py")) if is_package else [path]
    return [(item.relative_to(base).as_posix(), item) for item in files]


def code_digest(modules: Iterable[str | ModuleType]) -> str:
    """SHA-256 over the source files of ``modules`` (packages: all their ``.py`` files).

    The digest is taken over canonical JSON of ``[{path, sha256}]`` sorted by path, so it depends
    on file names and contents only, never on where the code is installed.
    """
    entries: dict[str, str] = {}
    for module in modules:
        for relative, file in module_source_files(module):
            entries[relative] = sha256_bytes(file.read_bytes())
    if not entries:
        raise PluginError("no source files to digest", "name at least one module")
    return sha256_json(
        [{"path": path, "sha256": digest} for path, digest in sorted(entries.items())]
    )
