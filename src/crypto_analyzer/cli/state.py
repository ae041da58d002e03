"""Global options of one CLI invocation, kept apart from the output helpers.

The root callback records ``--db``, ``--tenant`` and ``--verbose`` here before any command runs.
This module imports nothing beyond the standard library so that ``crypto-analyzer --help`` and
``--version`` do not pay for settings, SQLAlchemy or pydantic (see :mod:`crypto_analyzer.cli.lazy`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["CliState", "current_state", "reset_state", "set_state"]


@dataclass(slots=True)
class CliState:
    """Global options given before the command name."""

    db: str | None = None
    tenant: str | None = None
    verbose: bool = False


_STATE: ContextVar[CliState] = ContextVar("crypto_analyzer_cli_state")


def set_state(state: CliState) -> None:
    """Record the global options of this invocation (called by the root callback)."""
    _STATE.set(state)


def current_state() -> CliState:
    """The global options of this invocation (defaults when none were recorded)."""
    return _STATE.get(CliState())


def reset_state() -> None:
    """Forget the global options: a later command invoked on its own must not inherit them."""
    _STATE.set(CliState())
