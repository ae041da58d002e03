"""``crypto-analyzer runs list | show | diff``: the experiment registry."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli.context import command_boundary, emit_json, resolve_settings, stdout
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.registry import diff_runs, get_run, list_runs
from crypto_analyzer.db.workspace import open_engine

__all__ = ["app"]

app = typer.Typer(
    name="runs", help="Experiment registry: list, show and diff runs.", no_args_is_help=True
)


_SHOWN_FIELDS = (
    "status",
    "run_key",
    "dataset_id",
    "dataset_mode",
    "data_watermark",
    "config_digest",
    "engine_version",
    "spec_version",
    "started_at",
    "finished_at",
    "actor",
)


def _value(value: object) -> str:
    """A cell: ``—`` for missing, 6 significant digits for floats, else terminal-safe text."""
    if value is None:
        return "—"
    return f"{value:.6g}" if isinstance(value, float) else printable(value)


@app.command("list")
@command_boundary
def list_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    limit: Annotated[int, typer.Option("--limit", help="How many runs, newest first.", min=1)] = 20,
) -> None:
    """Most recent runs first."""
    settings = resolve_settings(db, tenant)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        records = list_runs(engine, settings.tenant, limit)
    if json:
        emit_json([record.to_dict() for record in records])
        return
    table = Table(title="runs")
    for column in ("run_instance_id", "status", "started_at", "dataset", "run_key", "hypothesis"):
        table.add_column(column)
    for record in records:
        table.add_row(
            printable(record.run_instance_id),
            printable(record.status),
            printable(record.started_at),
            printable(record.dataset_id[:16]),
            printable(record.run_key[:16]),
            printable(record.hypothesis or ""),
        )
    stdout.print(table)


@app.command("show")
@command_boundary
def show_command(
    run_id: Annotated[str, typer.Argument(help="Run instance id or a unique prefix.")],
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """One run: identity, config and metrics."""
    settings = resolve_settings(db, tenant)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        record = get_run(engine, settings.tenant, run_id)
    if json:
        emit_json(record.to_dict())
        return
    table = Table(title=f"run {printable(record.run_instance_id)}", show_header=False)
    for field in _SHOWN_FIELDS:
        table.add_row(field, _value(getattr(record, field)))
    table.add_row("hypothesis", _value(record.hypothesis))
    table.add_row("tags", _value(", ".join(record.tags)) if record.tags else "—")
    if record.error:
        table.add_row("error", _value(record.error))
    for name, value in record.metrics.items():
        table.add_row(f"metric {printable(name)}", _value(value))
    stdout.print(table)


@app.command("diff")
@command_boundary
def diff_command(
    left: Annotated[str, typer.Argument(help="First run (id or prefix).")],
    right: Annotated[str, typer.Argument(help="Second run (id or prefix).")],
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Identity, config and metric differences between two runs."""
    settings = resolve_settings(db, tenant)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        difference = diff_runs(engine, settings.tenant, left, right)
    if json:
        emit_json(difference.to_dict())
        return
    table = Table(title=f"{printable(difference.left[:13])} vs {printable(difference.right[:13])}")
    for column in ("kind", "key", "left", "right"):
        table.add_column(column)
    for kind, mapping in (
        ("identity", difference.identity),
        ("config", difference.config),
        ("metric", difference.metrics),
    ):
        for key, (a, b) in mapping.items():
            table.add_row(kind, printable(key), _value(a), _value(b))
    if not table.row_count:
        stdout.print("no differences")
        return
    stdout.print(table)
