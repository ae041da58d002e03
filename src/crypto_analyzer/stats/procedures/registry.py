"""The one registry of statistical procedures, and the manifest of the procedures a run used.

Built-in procedures are registered in code (:func:`default_registry`), so they never depend on the
installed package metadata; external procedures come from the entry-point group
``crypto_analyzer.stat_procedures``. A name is registered once: a second procedure under the same
name is refused (the same object listed twice — a built-in that is also declared as an entry
point of this project — is not a clash). A plugin that fails to import is an error naming the entry
point and its distribution.

The manifest (:meth:`ProcedureRegistry.manifest`) names, per procedure used, its version, the
distribution and version that shipped it and a SHA-256 over its source files; the report puts it in
the resolved config, so it enters the run key, and records it in lineage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from crypto_analyzer.core.errors import ConfigError, PluginError
from crypto_analyzer.core.plugins import (
    PluginSource,
    code_digest,
    distribution_of,
    forget_installed_distributions,
    load_entry_points,
    top_level_package,
)
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.stats.procedures.protocol import Procedure

__all__ = [
    "ENTRY_POINT_GROUP",
    "ProcedureRegistry",
    "RegisteredProcedure",
    "default_registry",
    "reset_default_registry",
]

ENTRY_POINT_GROUP = "crypto_analyzer.stat_procedures"
_PROJECT_PACKAGE = "crypto_analyzer"


@dataclass(frozen=True)
class RegisteredProcedure:
    """A procedure with where it came from and the digest of its code."""

    procedure: Procedure
    source: PluginSource
    code_digest: str

    @property
    def builtin(self) -> bool:
        return self.source.entry_point is None and self.source.module.startswith(
            f"{_PROJECT_PACKAGE}."
        )

    def manifest_entry(self) -> dict[str, Any]:
        proc = self.procedure
        return {
            "code_digest": self.code_digest,
            "distribution": self.source.distribution,
            "distribution_version": self.source.distribution_version,
            "entry_point": self.source.entry_point,
            "name": proc.name,
            "version": proc.version,
        }


def _check_shape(procedure: Any, where: str) -> None:
    problems = []
    name = getattr(procedure, "name", None)
    if not isinstance(name, str) or not name or len(name) > 100:
        problems.append("`name` must be a non-empty string of at most 100 characters")
    if not isinstance(getattr(procedure, "version", None), str) or not procedure.version:
        problems.append("`version` must be a non-empty string")
    model = getattr(procedure, "params_model", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        problems.append("`params_model` must be a pydantic model class")
    if not callable(getattr(procedure, "run", None)):
        problems.append("`run(inputs, ctx)` must be callable")
    if problems:
        raise PluginError(
            f"{where} is not a statistical procedure: {'; '.join(problems)}",
            "implement crypto_analyzer.stats.procedures.Procedure",
        )


class ProcedureRegistry:
    """Named procedures; the only place the report and the CLI look procedures up."""

    def __init__(self) -> None:
        self._entries: dict[str, RegisteredProcedure] = {}

    def register(self, procedure: Procedure, *, source: PluginSource | None = None) -> None:
        """Add ``procedure`` (an instance); a name registered before is refused.

        ``source`` is given for entry points; for code registration it is derived from the
        module that defines the procedure's class.
        """
        where = source.describe() if source else f"{type(procedure).__module__} object"
        _check_shape(procedure, where)
        name = procedure.name
        known = self._entries.get(name)
        if known is not None:
            if type(known.procedure) is type(procedure) and known.source.module == (
                source.module if source else type(procedure).__module__
            ):
                return  # the same built-in listed in code and as an entry point of this project
            raise PluginError(
                f"statistical procedure {name!r} from {where} is already registered by "
                f"{known.source.describe()}",
                "procedure names are unique: rename one plugin or uninstall one distribution",
            )
        if source is None:
            module = type(procedure).__module__
            dist, version = distribution_of(module)
            if module.startswith(f"{_PROJECT_PACKAGE}."):
                dist, version = "crypto-analyzer", ENGINE_VERSION
            source = PluginSource(module=module, distribution=dist, distribution_version=version)
        self._entries[name] = RegisteredProcedure(procedure, source, _digest(procedure, source))

    def load_entry_points(self) -> ProcedureRegistry:
        """Register every ``crypto_analyzer.stat_procedures`` entry point.

        An entry point may name a procedure class (instantiated without arguments) or an
        instance. Import failures and duplicate names raise :class:`PluginError`.
        """
        for source, target in load_entry_points(ENTRY_POINT_GROUP):
            procedure = target() if isinstance(target, type) else target
            declared = getattr(procedure, "name", None)
            if declared != source.name:
                raise PluginError(
                    f"plugin {source.describe()} is registered as {source.name!r} but its "
                    f"procedure is named {declared!r}",
                    "make the entry point name equal to the procedure's `name`",
                )
            self.register(procedure, source=source)
        return self

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    def entry(self, name: str) -> RegisteredProcedure:
        found = self._entries.get(name)
        if found is None:
            raise ConfigError(
                f"no statistical procedure is registered as {name!r} "
                f"(registered: {', '.join(self.names())})",
                f"install the plugin that provides it (entry point group {ENTRY_POINT_GROUP!r})",
            )
        return found

    def get(self, name: str) -> Procedure:
        return self.entry(name).procedure

    def params(self, name: str, given: dict[str, Any] | None = None) -> BaseModel:
        """``given`` validated by the procedure's params model (defaults filled in)."""
        model = self.get(name).params_model
        try:
            return model.model_validate(given or {})
        except Exception as exc:
            raise ConfigError(
                f"parameters of statistical procedure {name!r} are invalid: {exc}",
                f"see {model.__name__} for the accepted parameters",
            ) from None

    def manifest(self, names: Iterable[str]) -> list[dict[str, Any]]:
        """Manifest entries of ``names`` (deduplicated, sorted by name)."""
        return [self.entry(name).manifest_entry() for name in sorted(set(names))]


def _digest(procedure: Procedure, source: PluginSource) -> str:
    """Installed plugins: their whole top-level package. Code-registered procedures: the module
    defining the class plus any ``source_modules`` it names (the stats modules it wraps)."""
    if source.entry_point is not None and not source.module.startswith(f"{_PROJECT_PACKAGE}."):
        return code_digest([top_level_package(source.module)])
    extra = tuple(getattr(procedure, "source_modules", ()))
    return code_digest([type(procedure).__module__, *extra])


_DEFAULT: ProcedureRegistry | None = None


def default_registry() -> ProcedureRegistry:
    """Built-ins plus every installed plugin, discovered once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        from crypto_analyzer.stats.procedures.builtins import register_builtins

        registry = ProcedureRegistry()
        register_builtins(registry)
        _DEFAULT = registry.load_entry_points()
    return _DEFAULT


def reset_default_registry() -> None:
    """Forget the discovered registry (tests that install or remove plugins)."""
    global _DEFAULT
    _DEFAULT = None
    forget_installed_distributions()
