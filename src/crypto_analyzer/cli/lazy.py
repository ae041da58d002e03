"""A command group that imports a command's module only when that command is used.

Importing every command module costs seconds (pandas, scipy, matplotlib, ccxt, SQLAlchemy
dialects), which every ``crypto-analyzer --version`` used to pay. The root group here knows each
command's name and one-line help statically (:class:`LazyCommand`) and imports the module only
when the command is invoked or its own ``--help`` is asked. Listing the commands (the root
``--help``) renders placeholders built from the static text; a test compares that text with each
command's real help so the two cannot drift.

Typer renders every flag with a ``<bool>`` type column (``--json <bool>``), which reads as if the
flag took a value; :func:`plain_flags` blanks that column on every command this group loads.

Typer (0.29) ships its own copy of click as ``typer._click``; its classes and exceptions are not
the ``click`` package's, so this module uses that copy.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup, TyperOption

__all__ = ["LazyCommand", "LazyGroup", "load_command", "plain_flags"]


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A root command known by name and help without importing its module.

    ``target`` is ``"package.module:attribute"``: a :class:`typer.Typer` (a command group) or a
    command function (a single command). ``help`` is the first paragraph of the command's own
    help, shown in the root listing.
    """

    name: str
    target: str
    help: str
    hidden: bool = False


def plain_flags(command: click.Command, help_option_names: Sequence[str]) -> None:
    """Show the flags of ``command`` and its subcommands without a type: ``--json``, not
    ``--json <bool>``.

    The help option is created (and cached by click) here with the names the invocation will use.
    """
    params = list(command.params)
    helper = command.get_help_option(
        click.Context(command, help_option_names=list(help_option_names))
    )
    if helper is not None:
        params.append(helper)
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        plain_flags(sub, help_option_names)


def load_command(
    spec: LazyCommand, help_option_names: Sequence[str] = ("--help",)
) -> click.Command:
    """Import ``spec.target`` and build its click command, named ``spec.name``."""
    module_name, _, attribute = spec.target.partition(":")
    value: Any = getattr(importlib.import_module(module_name), attribute)
    if isinstance(value, typer.Typer):
        command: click.Command = typer.main.get_group(value)
    else:
        wrapper = typer.Typer(add_completion=False)
        wrapper.command(spec.name, hidden=spec.hidden)(value)
        command = typer.main.get_command(wrapper)
    command.name = spec.name
    command.hidden = spec.hidden
    plain_flags(command, help_option_names)
    return command


class LazyGroup(TyperGroup):
    """A Typer group whose :attr:`lazy_commands` are imported on first use.

    Subclasses set :attr:`lazy_commands`; commands registered the ordinary way (none at the root
    today) still work and are listed first.
    """

    lazy_commands: ClassVar[Sequence[LazyCommand]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._specs = {spec.name: spec for spec in self.lazy_commands}
        self._loaded: dict[str, click.Command] = {}
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = super().list_commands(ctx)
        return [*eager, *(name for name in self._specs if name not in eager)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        eager = super().get_command(ctx, cmd_name)
        if eager is not None:
            return eager
        spec = self._specs.get(cmd_name)
        if spec is None:
            return None
        if cmd_name in self._loaded:
            return self._loaded[cmd_name]
        if self._listing:
            # Only the name and one-line help are shown: do not import the module for them.
            return TyperCommand(spec.name, help=spec.help, hidden=spec.hidden)
        command = load_command(spec, ctx.help_option_names)
        self._loaded[cmd_name] = command
        return command

    def get_help_option(self, ctx: click.Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""
        return params

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            if self.suggest_commands and args:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    suggestions = ", ".join(f"{match!r}" for match in matches)
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise
