"""Shared option aliases, declared once so every command spells them the same way."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["DbUrlOpt", "JsonOpt", "TenantOpt"]

DbUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///PATH or postgresql://…); overrides CRYPTO_ANALYZER_DB_URL.",
        show_default=False,
    ),
]
TenantOpt = Annotated[
    str | None,
    typer.Option(
        "--tenant", help="Tenant id; overrides CRYPTO_ANALYZER_TENANT.", show_default=False
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Write canonical JSON to stdout and nothing else."),
]
