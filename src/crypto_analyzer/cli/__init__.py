"""Command-line interface (Typer). Commands parse, call one service, render."""

from __future__ import annotations

__all__ = ["app", "main"]


def __getattr__(name: str) -> object:
    # Lazy so that ``import crypto_analyzer.cli.stats`` does not build the whole root app.
    if name in __all__:
        from crypto_analyzer.cli import app as _app

        return getattr(_app, name)
    raise AttributeError(name)
