"""``crypto-analyzer db copy --from URL --to URL [--tenant T]``: move a workspace between backends.

Registered on the ``db`` group by ``cli/db.py``. Exit 0 when every copied tenant's dataset id is
equal on both sides and ``audit verify`` passes on the target; 1 otherwise; 2 for bad input (the
target not empty, the source not at head, a bad URL).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import JsonOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.copy import DEFAULT_BATCH_ROWS
from crypto_analyzer.pipeline.db_copy import copy_database

__all__ = ["copy_command"]


@command_boundary
def copy_command(
    *,
    source: Annotated[
        str, typer.Option("--from", help="Source database URL (at head).", show_default=False)
    ],
    target: Annotated[
        str,
        typer.Option("--to", help="Target database URL (new or empty).", show_default=False),
    ],
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", help="Copy only this tenant (default: every tenant)."),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per read and insert batch.")
    ] = DEFAULT_BATCH_ROWS,
    copy_key: Annotated[
        bool,
        typer.Option(
            "--copy-service-key",
            help="Write the source's service key next to a SQLite target (where it looks).",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Copy rows in dependency order with every trigger on, then prove the copy per tenant:
    equal dataset ids and a passing `audit verify` on the target."""
    settings = resolve_settings()
    checked_source = load_settings(db_url=source).db_url  # same URL checks as --db: exit 2
    checked_target = load_settings(db_url=target).db_url
    if tenant is not None:
        load_settings(tenant=tenant)
    result = copy_database(
        settings,
        checked_source,
        checked_target,
        tenant=tenant,
        batch=batch,
        copy_key=copy_key,
        progress=None if json else lambda message: stderr.print(printable(message)),
    )
    if json:
        emit_json(result.to_dict())
    else:
        table = Table(title=f"copied {sum(result.rows.values()):,} rows to {result.target}")
        for column in ("tenant", "dataset id equal", "audit verify", "findings"):
            table.add_column(column, overflow="fold")
        for check in result.tenants:
            table.add_row(
                printable(check.tenant_id),
                "yes" if check.source_dataset_id == check.target_dataset_id else "NO",
                "ok" if check.audit_ok else "FAILED",
                printable("; ".join(check.findings)),
            )
        stdout.print(table)
    if not result.ok:
        raise typer.Exit(code=1)
