"""``crypto-analyzer tenants list | create``: the tenants registry (admin).

Both commands run on the owner/migration URL (``CRYPTO_ANALYZER_ADMIN_DB_URL``, else the database
URL): on PostgreSQL only the owner role sees across tenants. ``list`` shows every tenant with its
mode, its own policy (if any) and the heads of its hash chains; ``create`` registers a tenant,
optionally with a policy file of its own (stored in the artifact store by digest).
"""

from __future__ import annotations

from pathlib import Path
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
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance.tenants import create_tenant, list_tenants

__all__ = ["app"]

app = typer.Typer(
    name="tenants", help="The tenants registry: list, create (admin).", no_args_is_help=True
)


@app.command("list")
@command_boundary
def list_command(*, db: DbUrlOpt = None, json: JsonOpt = False) -> None:
    """Every tenant: mode, own policy, governance-event chain head and trial-ledger size."""
    rows = list_tenants(resolve_settings(db))
    if json:
        emit_json([row.to_dict() for row in rows])
        return
    table = Table(title=f"{len(rows)} tenant(s)")
    for column in ("tenant", "mode", "registered", "policy", "events head", "ledger"):
        table.add_column(column, overflow="fold")
    for row in rows:
        head = "empty" if row.events_seq is None else f"{row.events_seq} {row.events_hash[:16]}"
        table.add_row(
            printable(row.tenant_id),
            row.mode,
            row.created_at or "no (wrote before registration)",
            (row.policy_digest or "default")[:16],
            head,
            str(row.ledger_size),
        )
    stdout.print(table)


@app.command("create")
@command_boundary
def create_command(
    tenant_id: Annotated[str, typer.Argument(help="Tenant id: 1-63 of a-z, 0-9, '-', '_'.")],
    *,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Register it as a sandbox (one-way, like init).")
    ] = False,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="The tenant's own policy file (default: the packaged policy).",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """Register a tenant (idempotent for the same mode and policy)."""
    settings = resolve_settings(db)
    load_settings(tenant=tenant_id)  # the same check --tenant gets: a clear error, exit 2
    announce(settings)
    mode = WorkspaceMode.SANDBOX if sandbox else WorkspaceMode.GOVERNED
    info = create_tenant(settings, tenant_id, mode=mode, policy_path=policy)
    if json:
        emit_json(info.to_dict())
        return
    own = f" with policy {info.policy_digest[:16]}" if info.policy_digest else ""
    stderr.print(
        f"tenant {printable(info.tenant_id)} is a {info.mode} tenant{own}", highlight=False
    )
