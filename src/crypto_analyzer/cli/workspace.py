"""Workspace commands at the root: ``init``, ``doctor`` and ``check-dataset``.

Each command imports its service when it runs, so that ``crypto-analyzer init --help`` (and the
root listing, which never imports this module) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from crypto_analyzer.cli.context import (
    announce,
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.errors import ValidationError

if TYPE_CHECKING:
    from crypto_analyzer.db.dataset_id import DatasetIdentity
    from crypto_analyzer.pipeline.workspace import AsOfCheck

__all__ = ["check_dataset_command", "doctor_command", "init_command"]


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
    from crypto_analyzer.db.engine import describe_url
    from crypto_analyzer.db.workspace_mode import WorkspaceMode
    from crypto_analyzer.pipeline.workspace import init_workspace, key_status

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
    from rich.table import Table

    from crypto_analyzer.core.versions import ENGINE_VERSION
    from crypto_analyzer.pipeline.workspace import doctor

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
    from crypto_analyzer.core.identities import DatasetMode
    from crypto_analyzer.db.dataset_id import DEFAULT_SCOPE, parse_scope
    from crypto_analyzer.pipeline.workspace import check_dataset, check_dataset_as_of

    modes = {"strict": DatasetMode.STRICT, "fast-dev": DatasetMode.FAST_DEV}
    if mode not in modes:
        raise ValidationError(f"--mode {mode!r} is not one of: {', '.join(modes)}")
    tables = parse_scope(scope) if scope else DEFAULT_SCOPE
    settings = resolve_settings(db, tenant)
    if as_of is not None:
        check = check_dataset_as_of(settings, as_of, tables, modes[mode])
        _render_as_of(check, json=json)
        if check.reproduced is False:
            raise typer.Exit(code=1)
        return
    identity = check_dataset(settings, tables, modes[mode])
    if json:
        emit_json(identity.to_dict())
        return
    _render_identity(identity)


def _render_identity(identity: DatasetIdentity) -> None:
    from rich.table import Table

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
