"""``crypto-analyzer providers status``."""

from __future__ import annotations

import typer
from rich.table import Table

from crypto_analyzer.cli.context import command_boundary, emit_json, resolve_settings, stdout
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.ingest.service import status_report

__all__ = ["app"]

app = typer.Typer(
    name="providers", help="Market-data providers and their health.", no_args_is_help=True
)

_STYLE = {"closed": "green", "half_open": "yellow", "open": "red"}


@app.callback()
def group() -> None:
    """Market-data providers and their health."""


@app.command("status")
@command_boundary
def status_command(*, db: DbUrlOpt = None, tenant: TenantOpt = None, json: JsonOpt = False) -> None:
    """Circuit-breaker state per provider and data kind, as persisted in provider_health."""
    records = status_report(resolve_settings(db, tenant))
    if json:
        emit_json([record.to_dict() for record in records])
        return
    table = Table(title="provider health")
    for column in ("provider", "data", "breaker", "failures", "last success", "last error"):
        table.add_column(column, overflow="fold")
    for record in records:
        state = record.breaker_state
        table.add_row(
            printable(record.provider),
            printable(record.data_kind),
            f"[{_STYLE.get(state, 'white')}]{printable(state)}[/]",
            printable(record.consecutive_failures),
            printable(record.last_success_at or "-"),
            printable(record.last_error or "-"),
        )
    stdout.print(table if records else "no provider has been called yet")
