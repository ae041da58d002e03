"""The contract a signal plugin fulfils: a name, a version, a parameter model and a causal function.

A researcher adds a signal without editing the package by publishing one :class:`SignalPlugin`
object — through the ``crypto_analyzer.signals`` entry-point group of an installed distribution or
as ``SIGNAL`` in a Python file the report config names (discovery:
:mod:`crypto_analyzer.plugins.signal_discovery`). The object is checked when it is built, so a
malformed plugin fails at discovery with its own name in the message, never halfway through a run:

* ``name`` is a lowercase identifier (it becomes part of hypothesis ids and artifact names);
* ``params`` is a pydantic model whose every field has a default, so the report can write every
  parameter into its resolved config (and so into the run key) — the model is the parameters' one
  home, as the function signature is for a built-in signal;
* ``compute(panel, params)`` returns a raw score, time x asset, higher = expected to outperform,
  using data at or before each bar only (checked at report time by
  :mod:`crypto_analyzer.research.causality_check`);
* ``lookback(params)`` is the number of bars of history the score needs at each bar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd
import pydantic

from crypto_analyzer.research.panel import Panel
from crypto_analyzer.research.signal_registry import SignalSpec

__all__ = ["NAME_PATTERN", "SignalPlugin", "SignalPluginError", "plugin_spec"]

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A plugin's signal name: lowercase letters, digits and underscores, starting with a letter."""
_SCALARS = (bool, int, float, str)
_RESERVED = frozenset({"factor_fit", "name", "panel", "registry", "winsor_quantile"})
"""Keywords of ``compute_signal`` itself; a parameter may not take one of these names."""


class SignalPluginError(ValueError):
    """A signal plugin does not fulfil the contract (or cannot be found or loaded).

    A ``ValueError``: the plugin is part of the user's input, so the report config reports it as a
    config error (CLI exit 2) naming the plugin and what is wrong.
    """


@dataclass(frozen=True, slots=True)
class SignalPlugin:
    """A signal defined outside the package.

    Attributes
    ----------
    name : str
        Signal name used in the report config's ``signals`` list (see :data:`NAME_PATTERN`).
    version : str
        The plugin's own version string; recorded with the run (the code digest is what makes a
        changed plugin change the run key, the version is for people).
    params : type[pydantic.BaseModel]
        Parameter model; every field needs a default and a JSON scalar value (int, float, bool or
        str). Use ``Field(..., ge=, le=)`` bounds: they are the validation the config applies.
    compute : callable
        ``compute(panel, params) -> DataFrame``: raw score indexed like ``panel.close``; columns
        are instrument ids (missing ones become NaN). Its docstring's first paragraph is the
        signal's description in reports.
    lookback : callable
        ``lookback(params) -> int``: bars of history used at each bar (>= 1).
    """

    name: str
    version: str
    params: type[pydantic.BaseModel]
    compute: Callable[[Panel, Any], pd.DataFrame]
    lookback: Callable[[Any], int]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or NAME_PATTERN.fullmatch(self.name) is None:
            raise SignalPluginError(
                f"signal plugin name {self.name!r} is not a lowercase identifier "
                f"(pattern {NAME_PATTERN.pattern})"
            )
        where = f"signal plugin {self.name!r}"
        if not isinstance(self.version, str) or not self.version.strip():
            raise SignalPluginError(f"{where}: version must be a non-empty str")
        if not isinstance(self.params, type) or not issubclass(self.params, pydantic.BaseModel):
            raise SignalPluginError(f"{where}: params must be a pydantic BaseModel subclass")
        if not callable(self.compute) or not callable(self.lookback):
            raise SignalPluginError(f"{where}: compute and lookback must be callables")
        self.defaults()  # every field has a JSON-scalar default, or this raises
        lookback = self.lookback(self.params())
        if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 1:
            raise SignalPluginError(
                f"{where}: lookback(default params) must be an int >= 1, got {lookback!r}"
            )

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default, as JSON scalars (what the resolved config records)."""
        where = f"signal plugin {self.name!r}"
        missing = [n for n, f in self.params.model_fields.items() if f.is_required()]
        if missing:
            raise SignalPluginError(
                f"{where}: parameter(s) {', '.join(missing)} have no default; every parameter "
                "needs one so the resolved config can state it"
            )
        taken = sorted(_RESERVED & set(self.params.model_fields))
        if taken:
            raise SignalPluginError(
                f"{where}: parameter name(s) {', '.join(taken)} are reserved; rename them"
            )
        values = self.params().model_dump(mode="json")
        odd = sorted(k for k, v in values.items() if not isinstance(v, _SCALARS))
        if odd:
            raise SignalPluginError(
                f"{where}: parameter(s) {', '.join(odd)} are not int, float, bool or str"
            )
        return values

    def validate_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` checked by the parameter model, every default filled in (JSON scalars).

        Raises
        ------
        SignalPluginError
            Naming the first offending parameter, its value and the model's rule.
        """
        unknown = sorted(set(values) - set(self.params.model_fields))
        if unknown:
            raise SignalPluginError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for signal {self.name!r}; "
                f"declared: {', '.join(sorted(self.params.model_fields)) or 'none'}"
            )
        try:
            model = self.params.model_validate(dict(values))
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "params"
            raise SignalPluginError(
                f"signal {self.name!r} parameter {where} = {first.get('input')!r}: {first['msg']}"
            ) from None
        return model.model_dump(mode="json")


def plugin_spec(plugin: SignalPlugin) -> SignalSpec:
    """The registry entry of ``plugin``: the same :class:`SignalSpec` the built-ins have, so the
    report computes, validates and z-scores a plugin signal on the built-ins' code path."""
    if not isinstance(plugin, SignalPlugin):
        raise TypeError(f"plugin must be a SignalPlugin, got {type(plugin).__name__}")

    def func(panel: Panel, **params: Any) -> pd.DataFrame:
        out = plugin.compute(panel, plugin.params.model_validate(params))
        if not isinstance(out, pd.DataFrame) or not out.index.equals(panel.close.index):
            what = type(out).__name__ if not isinstance(out, pd.DataFrame) else "a DataFrame"
            raise SignalPluginError(
                f"signal plugin {plugin.name!r} returned {what} not indexed like the panel's bars"
            )
        return out

    func.__doc__ = plugin.compute.__doc__
    func.__name__ = plugin.name

    def lookback(params: Mapping[str, Any]) -> int:
        return int(plugin.lookback(plugin.params.model_validate(dict(params))))

    return SignalSpec(
        name=plugin.name,
        func=func,
        defaults=MappingProxyType(plugin.defaults()),
        lookback=lookback,
        needs_factor_fit=False,
        validate=plugin.validate_params,
    )
