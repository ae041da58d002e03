"""Per-invocation CLI state, the error boundary and output helpers.

The boundary is the only place exceptions become exit codes: a :class:`CryptoAnalyzerError` prints
one line (what was wrong, what to do) and exits with its code; anything else is an internal error
whose trace is shown only with ``--verbose``. Locals are never printed.

Settings may come from a ``crypto-analyzer.toml`` in the working directory, which anyone who can
write that directory can plant. So :func:`resolve_settings` warns, naming the file, when it holds
keys a file may not set (the clock, a token), and governed commands call :func:`announce` to say
on stderr which config file, database and tenant they are about to write to.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.settings import Settings, config_source, load_settings
from crypto_analyzer.db.engine import describe_url

__all__ = [
    "CliState",
    "announce",
    "command_boundary",
    "emit_json",
    "resolve_settings",
    "set_state",
    "stderr",
    "stdout",
]

P = ParamSpec("P")
R = TypeVar("R")

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


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


def _state() -> CliState:
    return _STATE.get(CliState())


def resolve_settings(db: str | None = None, tenant: str | None = None) -> Settings:
    """Settings with command-level options over global options over environment/file."""
    state = _state()
    settings = load_settings(db_url=db or state.db, tenant=tenant or state.tenant)
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    source = config_source()
    if source.ignored:
        stderr.print(
            f"warning: {source.path} sets {', '.join(source.ignored)}, which a config file may "
            "not set and is ignored (only CRYPTO_ANALYZER_FIXED_TIME and CRYPTO_ANALYZER_TOKEN "
            "in the environment pin the clock or name the caller)",
            highlight=False,
            markup=False,
        )
    return settings


def announce(settings: Settings) -> None:
    """One stderr line: the config file, database and tenant a governed command writes to."""
    path = config_source().path
    where = str(path) if path is not None else "(none: defaults and environment)"
    stderr.print(
        f"using config {where}, database {describe_url(settings.db_url)}, tenant {settings.tenant}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def emit_json(value: Any) -> None:
    """Canonical JSON to stdout (one line), for ``--json``."""
    sys.stdout.write(canonical_dumps(value) + "\n")
    sys.stdout.flush()


def command_boundary(function: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so domain errors print one line and exit with their code."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except CryptoAnalyzerError as exc:
            if _state().verbose:
                stderr.print_exception(show_locals=False)
            stderr.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
            raise typer.Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            stderr.print("interrupted")
            raise typer.Exit(code=130) from None
        except Exception as exc:
            if _state().verbose:
                stderr.print_exception(show_locals=False)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            stderr.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(message)} "
                "(rerun with --verbose for the trace)",
                markup=True,
                highlight=False,
            )
            raise typer.Exit(code=1) from None

    return wrapper
