"""``crypto-analyzer reproduce CANDIDATE_OR_RUN``: re-execute a recorded run and compare bytes.

Rendering only; the work is :func:`crypto_analyzer.pipeline.reproduce.reproduce`. The principal is
resolved the way every governed write resolves it (token, else OS account; ``--actor`` may only
repeat it, or names a declared actor in a sandbox) before anything runs. Exit 0 only when every
artifact is byte-identical; 1 when the reproduction was refused or some artifact differs.
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
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.settings import principal_token
from crypto_analyzer.governance import open_governed
from crypto_analyzer.pipeline.reproduce import Reproduction, reproduce

__all__ = ["reproduce_command"]


@command_boundary
def reproduce_command(
    target: Annotated[
        str, typer.Argument(metavar="CANDIDATE_OR_RUN", help="Candidate id or run id (or prefix).")
    ],
    *,
    allow_engine_change: Annotated[
        bool,
        typer.Option(
            "--allow-engine-change",
            help="Re-execute even when this engine version differs from the recorded one, and "
            "list every artifact that differs.",
        ),
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Who you are, checked against your token or OS account; in a sandbox, a "
            "declared actor name.",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Re-execute a candidate's (or run's) report from the audit trail in a scratch workspace and
    compare every artifact with its recorded SHA-256; records a ``reproduced`` event."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    with open_governed(settings, token=principal_token(), actor=actor) as (_service, principal):
        pass  # authenticate before the (long) re-execution
    with stderr.status("reproducing (dataset identity, scratch report, comparison)…"):
        outcome = reproduce(
            settings, target, actor=principal, allow_engine_change=allow_engine_change
        )
    if json:
        emit_json(outcome.to_dict())
    else:
        _render(outcome)
    if not outcome.ok:
        raise typer.Exit(code=1)


def _render(outcome: Reproduction) -> None:
    if outcome.status == "refused":
        for item in outcome.tables:
            stdout.print(
                f"{printable(item.table)}: recorded {printable((item.recorded or '-')[:16])} "
                f"now {printable(item.current[:16])}"
                + ("" if item.equal is not False else "  [red]differs[/]"),
                highlight=False,
            )
        stderr.print(f"[bold red]refused:[/] {printable(outcome.reason)}", highlight=False)
        return
    table = Table(title=f"reproduce run {printable(outcome.run_instance_id)}")
    table.add_column("artifact")
    table.add_column("recorded")
    table.add_column("reproduced")
    table.add_column("equal")
    for artifact in outcome.artifacts:
        table.add_row(
            printable(artifact.name),
            printable((artifact.recorded or "missing")[:16]),
            printable((artifact.reproduced or "missing")[:16]),
            "yes" if artifact.equal else "[red]NO[/]",
        )
    stdout.print(table)
    if outcome.ok:
        stdout.print(
            f"reproduced: all {len(outcome.artifacts)} artifacts byte-identical", highlight=False
        )
    else:
        stderr.print(f"[bold red]differs:[/] {printable(outcome.reason)}", highlight=False)
    for event_id in outcome.event_ids:
        stderr.print(f"recorded event {printable(event_id)}", highlight=False)
