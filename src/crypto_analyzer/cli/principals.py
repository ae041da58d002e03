"""``crypto-analyzer principals add | list | disable``: who may act in a governed workspace.

``add`` registers a principal with a role and prints its token once, alone on stdout, so a script
can capture it (``token=$(crypto-analyzer principals add alice --role researcher)``); the database
keeps only the token's SHA-256. Managing principals needs an admin token in
``CRYPTO_ANALYZER_TOKEN``, except for the first principal of a tenant, which must be an admin.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli.context import (
    announce,
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.core.settings import principal_token
from crypto_analyzer.governance import add_principal, disable_principal, list_principals

__all__ = ["app"]

app = typer.Typer(
    name="principals",
    help="Principals and their tokens: add, list, disable (admin).",
    no_args_is_help=True,
)

NameArg = Annotated[
    str, typer.Argument(help="Principal name (normalised: NFKC, case-folded, one script).")
]


@app.command("add")
@command_boundary
def add_command(
    name: NameArg,
    *,
    role: Annotated[str, typer.Option("--role", help="researcher, reviewer or admin.")],
    display_name: Annotated[
        str | None,
        typer.Option(
            "--display-name", help="Free-text name to show (default: NAME).", show_default=False
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Register a principal and print its token once (stdout); only its hash is stored."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    issued = add_principal(settings, name, role, token=principal_token(), display_name=display_name)
    if json:
        emit_json(issued.to_dict())
        return
    principal = issued.principal
    stderr.print(
        f"added {principal.principal_id} ({principal.role}), key {issued.key_id}; the token below "
        "is shown only now — hand it over privately, it acts as this principal",
        highlight=False,
        markup=False,
    )
    stdout.print(issued.token, highlight=False, markup=False, soft_wrap=True)


@app.command("list")
@command_boundary
def list_command(*, db: DbUrlOpt = None, tenant: TenantOpt = None, json: JsonOpt = False) -> None:
    """Principals of the tenant with role, state and number of usable keys (read-only)."""
    rows = list_principals(resolve_settings(db, tenant))
    if json:
        emit_json([row.to_dict() for row in rows])
        return
    table = Table(title=f"{len(rows)} principal(s)")
    for column in ("principal", "display name", "role", "keys", "created", "disabled"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.principal_id,
            row.display_name,
            row.role,
            str(row.active_keys),
            row.created_at,
            row.disabled_at or "",
        )
    stdout.print(table)


@app.command("disable")
@command_boundary
def disable_command(
    name: NameArg, *, db: DbUrlOpt = None, tenant: TenantOpt = None, json: JsonOpt = False
) -> None:
    """Disable a principal and revoke its keys (its past actions stay on record)."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    row = disable_principal(settings, name, token=principal_token())
    if json:
        emit_json(row.to_dict())
        return
    stderr.print(f"disabled {row.principal_id} at {row.disabled_at}", highlight=False, markup=False)
