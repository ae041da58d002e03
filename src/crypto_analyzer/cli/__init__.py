"""Command-line interface (Typer). Commands parse, call one service, render.

The root app and the ``main`` entry point live in :mod:`crypto_analyzer.cli.app`; this package
imports nothing eagerly so that loading one command group does not build the whole CLI.
"""

from __future__ import annotations

__all__: list[str] = []
