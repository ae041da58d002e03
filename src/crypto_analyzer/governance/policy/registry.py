"""Extra policies: registered in code or through the ``crypto_analyzer.policies`` entry points.

Registration only makes a policy *available*; the policy file's ``plugins`` list makes it take
part, so the file (and therefore the digest in every report) says exactly which policies decided.
There is one decision path: whatever is listed joins the single deny-overrides set built by
:func:`build_policy_set`, next to the default policy, which can never be left out. A plugin that
fails to load, or a name listed but not registered, is an error — never a silent skip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.policy.base import Policy
from crypto_analyzer.governance.policy.combine import PolicySet
from crypto_analyzer.governance.policy.config import PolicyConfig, load_policy_config
from crypto_analyzer.governance.policy.default import DefaultPolicy
from crypto_analyzer.governance.policy.http import HttpDecisionPolicy

__all__ = [
    "ENTRY_POINT_GROUP",
    "PolicyFactory",
    "PolicyRegistry",
    "build_policy_set",
    "load_policy_set",
]

ENTRY_POINT_GROUP = "crypto_analyzer.policies"

PolicyFactory = Callable[[Mapping[str, Any]], Policy]
"""Builds a policy from its ``[plugin_settings.<name>]`` table (empty when absent)."""


class PolicyRegistry:
    """Named policy factories. Registering a name twice is refused."""

    def __init__(self) -> None:
        self._factories: dict[str, PolicyFactory] = {}

    def register(self, name: str, factory: PolicyFactory) -> None:
        if not name or not isinstance(name, str):
            raise PolicyConfigError(f"policy name must be a non-empty string, got {name!r}")
        if name in self._factories:
            raise PolicyConfigError(
                f"policy {name!r} is already registered", "choose another name for the plugin"
            )
        if not callable(factory):
            raise PolicyConfigError(f"policy {name!r}: factory {factory!r} is not callable")
        self._factories[name] = factory

    def load_entry_points(self) -> PolicyRegistry:
        """Register every ``crypto_analyzer.policies`` entry point; a broken one is an error."""
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                factory = entry.load()
            except Exception as exc:
                raise PolicyConfigError(
                    f"policy plugin {entry.name!r} ({entry.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}",
                    "fix or uninstall the package that provides it",
                ) from exc
            self.register(entry.name, factory)
        return self

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._factories))

    def create(self, name: str, settings: Mapping[str, Any]) -> Policy:
        factory = self._factories.get(name)
        if factory is None:
            known = ", ".join(self.names()) or "none"
            raise PolicyConfigError(
                f"the policy file lists plugin {name!r}, but no policy of that name is registered "
                f"(registered: {known})",
                f"install the plugin (entry point group {ENTRY_POINT_GROUP!r}) or remove it",
            )
        policy = factory(settings)
        if not isinstance(policy, Policy):
            raise PolicyConfigError(
                f"plugin {name!r} built {type(policy).__name__}, which is not a Policy",
                "return an object with policy_id, digest() and evaluate()",
            )
        return policy


def build_policy_set(config: PolicyConfig, registry: PolicyRegistry | None = None) -> PolicySet:
    """The one policy set: default policy, listed plugins, then the external service if any."""
    members: list[Policy] = [DefaultPolicy(config)]
    if config.plugins:
        available = registry if registry is not None else PolicyRegistry().load_entry_points()
        for name in config.plugins:
            members.append(available.create(name, config.plugin_settings.get(name, {})))
    if config.external is not None:
        members.append(HttpDecisionPolicy(config.external))
    return PolicySet(
        members,
        policy_id=config.policy_id,
        digest=config.digest(),
        timeout_seconds=config.timeout_seconds,
        history=config.history,
        config=config,
    )


def load_policy_set(
    path: Path | str | None = None, registry: PolicyRegistry | None = None
) -> PolicySet:
    """Policy set from a policy file (default: the packaged default policy)."""
    return build_policy_set(load_policy_config(path), registry)
