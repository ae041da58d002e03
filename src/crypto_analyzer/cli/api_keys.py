"""``crypto-analyzer keys create``: an API key for the HTTP API, on the ``keys`` command group.

A key is a registered principal with a role in a tenant (``governance.principal_store``): the
bearer token is printed once, alone on stdout, and only its SHA-256 is stored. Creating keys needs
an admin token in ``CRYPTO_ANALYZER_TOKEN``, except for a tenant's first key, which must be an
admin's. ``keys list`` and ``keys revoke`` live with the other key commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crypto_analyzer.cli.context import (
    announce,
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.keys import app
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt
from crypto_analyzer.core.settings import principal_token
from crypto_analyzer.governance import add_principal

__all__ = ["create_command"]


@app.command("create")
@command_boundary
def create_command(
    *,
    role: Annotated[str, typer.Option("--role", help="researcher, reviewer or admin.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant the key acts in.")],
    name: Annotated[
        str, typer.Option("--name", help="Principal name (normalised: NFKC, case-folded).")
    ],
    display_name: Annotated[
        str | None,
        typer.Option(
            "--display-name", help="Free-text name to show (default: NAME).", show_default=False
        ),
    ] = None,
    db: DbUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """Create an API key (a principal with a role) and print its secret once (stdout)."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    issued = add_principal(settings, name, role, token=principal_token(), display_name=display_name)
    if json:
        emit_json({**issued.to_dict(), "tenant_id": settings.tenant})
        return
    principal = issued.principal
    stderr.print(
        f"created key {issued.key_id} for {principal.principal_id} ({principal.role}) in tenant "
        f"{settings.tenant}; the secret below is shown only now — store it in a secret manager "
        "and send it as `Authorization: Bearer <secret>`",
        highlight=False,
        markup=False,
    )
    stdout.print(issued.token, highlight=False, markup=False, soft_wrap=True)
