"""``crypto-analyzer db upgrade | status | check``."""

from __future__ import annotations

import typer
from rich.table import Table

from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.db_copy import copy_command
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.db.engine import describe_url
from crypto_analyzer.db.migrate import SchemaStatus
from crypto_analyzer.db.workspace import check_schema, database_status, upgrade_database

__all__ = ["app"]

app = typer.Typer(name="db", help="Database schema: upgrade, status, check.", no_args_is_help=True)


def _render_status(status: SchemaStatus, url: str) -> None:
    table = Table(title="schema", show_header=False)
    table.add_row("database", printable(describe_url(url)))
    table.add_row("current", printable(status.current or "(no schema)"))
    table.add_row("head", printable(status.head))
    table.add_row("pending", printable(", ".join(status.pending) or "none"))
    stdout.print(table)


@app.command("upgrade")
@command_boundary
def upgrade_command(*, db: DbUrlOpt = None, json: JsonOpt = False) -> None:
    """Apply pending migrations to an existing database (the only command besides init that runs
    DDL)."""
    settings = resolve_settings(db)
    status = upgrade_database(settings)
    if json:
        emit_json(status.to_dict())
        return
    stderr.print(f"schema at revision {printable(status.current)}")


@app.command("status")
@command_boundary
def status_command(*, db: DbUrlOpt = None, json: JsonOpt = False) -> None:
    """Show the current and head revision (read-only)."""
    settings = resolve_settings(db)
    status = database_status(settings)
    if json:
        emit_json(status.to_dict())
        return
    _render_status(status, settings.db_url)


@app.command("check")
@command_boundary
def check_command(*, db: DbUrlOpt = None, json: JsonOpt = False) -> None:
    """Fail unless the schema is at head, matches the code's tables, and every trigger (and trigger
    function) is exactly what the migrations made: same definition, table and enabled state."""
    settings = resolve_settings(db)
    result = check_schema(settings)
    if json:
        emit_json(result.to_dict())
    else:
        _render_status(result.status, settings.db_url)
        for line in result.drift:
            stderr.print(f"drift: {printable(line)}", highlight=False)
        for finding in result.triggers:
            stderr.print(f"trigger: {printable(finding.message)}", highlight=False)
        for message in result.row_security:
            stderr.print(f"row security: {printable(message)}", highlight=False)
        stderr.print("schema check: ok" if result.ok else "schema check: FAILED")
    if not result.ok:
        raise typer.Exit(code=1)


app.command("copy")(copy_command)
