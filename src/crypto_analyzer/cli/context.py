"""Per-invocation CLI state, the error boundary and output helpers.

The boundary is the only place exceptions become exit codes: a :class:`CryptoAnalyzerError` prints
one line (what was wrong, what to do) and exits with its code; anything else is an internal error
whose trace is shown only with ``--verbose``. Locals are never printed. Error messages quote user
values, so they pass through :func:`~crypto_analyzer.cli.safe_text.printable` like every other
value the CLI shows; both consoles are :class:`~crypto_analyzer.cli.safe_text.SafeConsole`.

Settings may come from a ``crypto-analyzer.toml`` in the working directory, which anyone who can
write that directory can plant. So :func:`resolve_settings` warns, naming the file, when it holds
keys a file may not set (the clock, a token), and governed commands call :func:`announce` to say
on stderr which config file, database and tenant they are about to write to.
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from crypto_analyzer.cli.safe_text import (
    SafeConsole,
    SafeLogFormatter,
    json_for_terminal,
    printable,
    visible,
)
from crypto_analyzer.cli.state import CliState, current_state, reset_state, set_state
from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.errors import CryptoAnalyzerError

if TYPE_CHECKING:
    from crypto_analyzer.core.settings import Settings

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

stdout = SafeConsole(soft_wrap=True)
stderr = SafeConsole(stderr=True, soft_wrap=True)


def _state() -> CliState:
    return current_state()


def resolve_settings(db: str | None = None, tenant: str | None = None) -> Settings:
    """Settings with command-level options over global options over environment/file."""
    # Imported here: settings pull in pydantic and SQLAlchemy, which `--help` never needs.
    from crypto_analyzer.core.settings import config_source, load_settings

    state = _state()
    settings = load_settings(db_url=db or state.db, tenant=tenant or state.tenant)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeLogFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    source = config_source()
    if source.ignored:
        stderr.print(
            f"warning: {source.path} sets {', '.join(source.ignored)}, which a config file may "
            "not set and is ignored (only CRYPTO_ANALYZER_FIXED_TIME, CRYPTO_ANALYZER_TOKEN and "
            "CRYPTO_ANALYZER_SERVICE_KEY_FILE in the environment pin the clock, name the caller "
            "or name the service key)",
            highlight=False,
            markup=False,
        )
    return settings


def announce(settings: Settings) -> None:
    """One stderr line: the config file, database and tenant a governed command writes to."""
    from crypto_analyzer.core.settings import config_source
    from crypto_analyzer.db.engine import describe_url

    path = config_source().path
    where = str(path) if path is not None else "(none: defaults and environment)"
    stderr.print(
        f"using config {where}, database {describe_url(settings.db_url)}, tenant {settings.tenant}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def emit_json(value: Any) -> None:
    """Canonical JSON to stdout (one line), for ``--json``.

    Characters canonical JSON writes raw but a terminal would act on (DEL, C1 and bidi controls)
    are written as ``\\u`` escapes; parsing the line gives exactly the same values.
    """
    sys.stdout.write(json_for_terminal(canonical_dumps(value)) + "\n")
    sys.stdout.flush()


def _print_trace(exc: BaseException) -> None:
    """The traceback as plain text, control characters spelled out (messages quote values)."""
    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    stderr.print(visible(text, keep_newlines=True), markup=False, highlight=False)


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
                _print_trace(exc)
            stderr.print(f"[bold red]error:[/] {printable(exc)}", markup=True, highlight=False)
            raise typer.Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            stderr.print("interrupted")
            raise typer.Exit(code=130) from None
        except Exception as exc:
            if _state().verbose:
                _print_trace(exc)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            stderr.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {printable(message)} "
                "(rerun with --verbose for the trace)",
                markup=True,
                highlight=False,
            )
            raise typer.Exit(code=1) from None
        finally:
            # The global options belong to this invocation only: a later command group invoked
            # on its own (tests, embedding) must not inherit --verbose or --db from this one.
            reset_state()

    return wrapper
