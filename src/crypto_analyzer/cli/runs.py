"""``crypto-analyzer runs list | show | diff``: the experiment registry.

Run ids are shown in full: UUIDv7 ids made in the same millisecond (always, under a pinned clock)
share their first 13 characters, so any fixed-length prefix could name two runs. The registry is
imported inside each command so that ``runs --help`` starts without SQLAlchemy or Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli.context import command_boundary, emit_json, resolve_settings, stdout
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable

if TYPE_CHECKING:
    from crypto_analyzer.db.registry import RunRecord

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


_REPORTS = ("report.html", "report.md")
"""The run artifacts ``runs show`` points at, by name (as the report pipeline records them)."""

_FAILED = frozenset({"failed", "interrupted"})


def _failure(record: RunRecord) -> str | None:
    """Why the run did not succeed: its recorded error, or a note that none was recorded."""
    if record.error:
        return record.error
    if record.status in _FAILED:
        return f"(no reason recorded; the run ended as {record.status})"
    return None


def _location(uri: str | None) -> str | None:
    """A local report as a path a reader can open; any other store's URI as it is."""
    if uri is None:
        return None
    return uri.removeprefix("file://") if uri.startswith("file:///") else uri


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
    from crypto_analyzer.db.migrate import require_head
    from crypto_analyzer.db.registry import list_runs
    from crypto_analyzer.db.workspace import open_engine

    settings = resolve_settings(db, tenant)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        records = list_runs(engine, settings.tenant, limit)
    if json:
        emit_json([record.to_dict() for record in records])
        return
    table = Table(title="runs")
    id_width = max((len(record.run_instance_id) for record in records), default=0)
    table.add_column("run_instance_id", no_wrap=True, min_width=id_width)
    for column in ("status", "started_at", "dataset", "run_key", "hypothesis"):
        table.add_column(column, overflow="fold")
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
    """One run: identity, config and metrics, where its report is and why it failed."""
    from crypto_analyzer.db.migrate import require_head
    from crypto_analyzer.db.registry import get_run
    from crypto_analyzer.db.run_queries import find_run_artifact
    from crypto_analyzer.db.workspace import open_engine

    settings = resolve_settings(db, tenant)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        record = get_run(engine, settings.tenant, run_id)
        reports = {
            name: row.uri
            for name in _REPORTS
            if (row := find_run_artifact(engine, settings.tenant, record.run_instance_id, name))
        }
    failure = _failure(record)
    if json:
        emit_json({**record.to_dict(), "failure": failure, "reports": reports})
        return
    table = Table(title=f"run {printable(record.run_instance_id)}", show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    for field in _SHOWN_FIELDS:
        table.add_row(field, _value(getattr(record, field)))
        if field == "status" and failure is not None:
            table.add_row("[bold red]failure[/]", _value(failure))
    table.add_row("hypothesis", _value(record.hypothesis))
    table.add_row("tags", _value(", ".join(record.tags)) if record.tags else "—")
    for name in _REPORTS:
        table.add_row(f"report ({name.rpartition('.')[2]})", _value(_location(reports.get(name))))
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
    from crypto_analyzer.db.migrate import require_head
    from crypto_analyzer.db.registry import diff_runs
    from crypto_analyzer.db.workspace import open_engine

    settings = resolve_settings(db, tenant)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        difference = diff_runs(engine, settings.tenant, left, right)
    if json:
        emit_json(difference.to_dict())
        return
    table = Table(title=f"{printable(difference.left)} vs {printable(difference.right)}")
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
