"""Root command: global options, workspace commands, and the command groups."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli import api_keys as _api_keys  # noqa: F401  (registers `keys create`)
from crypto_analyzer.cli import attest as attest_commands
from crypto_analyzer.cli import audit as audit_commands
from crypto_analyzer.cli import ci as ci_commands
from crypto_analyzer.cli import db as db_commands
from crypto_analyzer.cli import ingest as ingest_commands
from crypto_analyzer.cli import keys as keys_commands
from crypto_analyzer.cli import materialize as materialize_commands
from crypto_analyzer.cli import principals as principals_commands
from crypto_analyzer.cli import promotion as promotion_commands
from crypto_analyzer.cli import providers as providers_commands
from crypto_analyzer.cli import runs as runs_commands
from crypto_analyzer.cli import stats as stats_commands
from crypto_analyzer.cli import tenants as tenants_commands
from crypto_analyzer.cli.context import (
    CliState,
    announce,
    command_boundary,
    emit_json,
    resolve_settings,
    set_state,
    stderr,
    stdout,
)
from crypto_analyzer.cli.demo_view import render_demo
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.report import report_command
from crypto_analyzer.cli.reproduce import reproduce_command
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.cli.serve import serve_command
from crypto_analyzer.cli.sweep import sweep_command
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.db.dataset_id import DEFAULT_SCOPE, DatasetIdentity, parse_scope
from crypto_analyzer.db.engine import describe_url
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.pipeline.demo import DEMO_MARKET, run_demo
from crypto_analyzer.pipeline.workspace import (
    AsOfCheck,
    check_dataset,
    check_dataset_as_of,
    doctor,
    init_workspace,
    key_status,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="crypto-analyzer",
    help="Research validation control plane for crypto quant research.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_commands.app)
app.add_typer(ingest_commands.app)
app.add_typer(providers_commands.app)
app.add_typer(materialize_commands.app)
app.add_typer(promotion_commands.app)
app.add_typer(principals_commands.app)
app.add_typer(audit_commands.app)
app.add_typer(keys_commands.app)
app.add_typer(runs_commands.app)
app.add_typer(stats_commands.app)
app.add_typer(tenants_commands.app)
app.add_typer(attest_commands.app)
app.add_typer(ci_commands.app)
app.command("report")(report_command)
app.command("serve")(serve_command)
app.command("reportv2", hidden=True)(report_command)
app.command("reproduce")(reproduce_command)
app.command("sweep")(sweep_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crypto-analyzer {ENGINE_VERSION}")
        raise typer.Exit()


@app.callback()
def root(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options apply to every command; a command's own --db/--tenant wins."""
    set_state(CliState(db=db, tenant=tenant, verbose=verbose))


@app.command("init")
@command_boundary
def init_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Make the tenant a sandbox (pinned clock and declared actors allowed, recorded "
            "as such). One-way: a sandbox never becomes governed, nor a governed tenant a sandbox.",
        ),
    ] = False,
) -> None:
    """Create the database (if needed), migrate it to head and register the tenant's mode."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    mode = WorkspaceMode.SANDBOX if sandbox else WorkspaceMode.GOVERNED
    status = init_workspace(settings, mode)
    key = key_status(settings)
    if json:
        emit_json({**status.to_dict(), "service_key": key.to_dict(), "tenant": settings.tenant,
                   "workspace_mode": mode.value})  # fmt: skip
        return
    stderr.print(
        f"initialized {printable(describe_url(settings.db_url))} at schema revision "
        f"{printable(status.current)}; tenant {printable(settings.tenant)} is a {mode.value} "
        "workspace",
        highlight=False,
    )
    if key.key_id is not None:
        stderr.print(f"service key {key.key_id}: {printable(key.location)}", highlight=False)
    else:
        stderr.print(
            f"[yellow]no usable service key[/] ({printable(key.problem or key.location)}): "
            "governed writes are refused until one is configured (`crypto-analyzer keys "
            "init-service`)",
            highlight=False,
        )


@app.command("doctor")
@command_boundary
def doctor_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    full: Annotated[
        bool, typer.Option("--full", help="Run PRAGMA integrity_check instead of quick_check.")
    ] = False,
) -> None:
    """Check environment, database, schema and artifact store (read-only). Exit 1 on any failure."""
    report = doctor(resolve_settings(db, tenant), full_integrity=full)
    if json:
        emit_json(report.to_dict())
    else:
        table = Table(title=f"crypto-analyzer {ENGINE_VERSION} doctor")
        table.add_column("check")
        table.add_column("status")
        table.add_column("detail", overflow="fold")
        for check in report.checks:
            table.add_row(
                printable(check.name), "ok" if check.ok else "[red]FAIL[/]", printable(check.detail)
            )
        stdout.print(table)
    if not report.ok:
        raise typer.Exit(code=1)


_MODES = {"strict": DatasetMode.STRICT, "fast-dev": DatasetMode.FAST_DEV}


@app.command("check-dataset")
@command_boundary
def check_dataset_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            help="Tables to identify, e.g. 'bars,instruments' or 'bars(instrument_id,close)'. "
            "Default: market content of bars and instruments.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="strict (promotable) or fast-dev (quick fingerprint).")
    ] = "strict",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="RUN_OR_WATERMARK",
            help="Reproduce the id at a market watermark: an integer, a report run id or prefix "
            "(its recorded watermark; exit 1 if its recorded id is not reproduced) or an ingest "
            "run id (the last revision it wrote).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the dataset id of a table scope: id, mode, watermark, per-table counts and digests."""
    if mode not in _MODES:
        raise ValidationError(f"--mode {mode!r} is not one of: {', '.join(_MODES)}")
    tables = parse_scope(scope) if scope else DEFAULT_SCOPE
    settings = resolve_settings(db, tenant)
    if as_of is not None:
        check = check_dataset_as_of(settings, as_of, tables, _MODES[mode])
        _render_as_of(check, json=json)
        if check.reproduced is False:
            raise typer.Exit(code=1)
        return
    identity = check_dataset(settings, tables, _MODES[mode])
    if json:
        emit_json(identity.to_dict())
        return
    _render_identity(identity)


def _render_identity(identity: DatasetIdentity) -> None:
    at = "" if identity.watermark is None else f" at watermark {identity.watermark}"
    table = Table(
        title=f"dataset {printable(identity.dataset_id.short)} "
        f"({printable(identity.mode.value)}){at}"
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("digest")
    table.add_column("columns", overflow="fold")
    for item in identity.tables:
        table.add_row(
            printable(item.table),
            f"{item.row_count:,}",
            printable(item.digest[:16]),
            printable(", ".join(item.columns)),
        )
    stdout.print(table)
    stdout.print(f"dataset_id {printable(identity.dataset_id.value)}", highlight=False)
    if identity.watermark is not None:
        stdout.print(f"watermark {identity.watermark}", highlight=False)


def _render_as_of(check: AsOfCheck, *, json: bool) -> None:
    if json:
        emit_json(check.to_dict())
        return
    _render_identity(check.identity)
    reference = check.reference
    if reference.kind != "watermark":
        named = reference.kind.replace("_", " ")
        stdout.print(f"as of {named} {printable(reference.run_id)}", highlight=False)
    if reference.recorded_dataset_id is None:
        return
    stdout.print(f"recorded   {printable(reference.recorded_dataset_id)}", highlight=False)
    if check.reproduced:
        stdout.print("reproduced: the recorded dataset id", highlight=False)
    else:
        stderr.print(
            f"[bold red]not reproduced:[/] run {printable(reference.run_id)} recorded "
            f"{printable(reference.recorded_dataset_id)}, the data as of watermark "
            f"{reference.watermark} gives {printable(check.identity.dataset_id.value)}",
            highlight=False,
        )


@app.command("demo")
@command_boundary
def demo_command(
    *,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Workspace directory (default: a new temporary directory)."),
    ] = None,
    assets: Annotated[int, typer.Option("--assets", help="Synthetic assets.", min=12)] = 50,
    days: Annotated[
        int, typer.Option("--days", help="Days of hourly bars (the splits need 150).", min=150)
    ] = 365,
    seed: Annotated[int, typer.Option("--seed", help="Synthetic market seed.", min=0)] = 7,
    json: JsonOpt = False,
) -> None:
    """Run the main job end to end: data → report → candidates → promotion → audit."""
    market = replace(DEMO_MARKET, assets=assets, days=days, seed=seed)
    with stderr.status("running the demo (ingest, report, promotion, audit)…"):
        result = run_demo(directory, market)
    if json:
        emit_json(result.to_dict())
    else:
        render_demo(result)
    if not result.ok:
        raise typer.Exit(code=1)


def main() -> None:
    """Console-script and ``python -m crypto_analyzer`` entry point."""
    app()
