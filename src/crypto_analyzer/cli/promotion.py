"""``crypto-analyzer promotion create | evaluate | reject | revoke | list | show``.

Each command parses, calls one governance service function and renders; the state machine, the
policy and the transaction live in ``governance.service``. A denied evaluation is recorded and then
exits 1, so scripts can tell "evaluated and refused" from "evaluated and promoted".

Writes act as the caller's principal (``governance.open_governed``): the token in
``CRYPTO_ANALYZER_TOKEN`` (environment only), else the OS account while the tenant has no
registered principal. ``--actor`` may only repeat that identity (exit 2 otherwise), except in a
sandbox workspace, where it declares the actor and is recorded as declared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.settings import principal_token
from crypto_analyzer.governance import (
    STATUSES,
    CandidateRecord,
    EventRecord,
    ReportRecord,
    open_governed,
    open_service,
)

__all__ = ["app"]

app = typer.Typer(
    name="promotion",
    help="Promotion candidates: create, evaluate, reject, revoke, list, show.",
    no_args_is_help=True,
)

ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who you are, checked against your token or OS account (exit 2 on a mismatch); in a "
        "sandbox workspace, a declared actor name.",
        show_default=False,
    ),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why; recorded on the event.")]
CandidateArg = Annotated[str, typer.Argument(help="Candidate id (or a unique prefix).")]
PolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy file (TOML); default: the packaged default policy.",
        show_default=False,
    ),
]


def _reasons_table(title: str, items: Any) -> Table:
    table = Table(title=printable(title), title_justify="left")
    table.add_column("rule", style="bold")
    table.add_column("detail", overflow="fold")
    for item in items:
        table.add_row(printable(item.get("rule", "")), printable(item.get("message", "")))
    return table


def _history_line(report: ReportRecord) -> str:
    """``trials in scope: N (this run: k)`` plus the ledger head the decision judged."""
    history = report.history or {}
    scope = history.get("scope")
    ledger = history.get("ledger") or {}
    if not scope:
        problem = history.get("problem") or "no research history was recorded"
        return f"research history: {problem}"
    return (
        f"research history: trials in scope: {scope['unique_trials']} "
        f"(this run: {scope['this_run']}), effective {scope['effective_trials']:.3g}, "
        f"scope {scope['rule']}; ledger of {ledger.get('size')} trial(s), head "
        f"{str(ledger.get('hash', ''))[:16]}…"
    )


def _candidate_line(candidate: CandidateRecord) -> str:
    return (
        f"{printable(candidate.candidate_id)}  {printable(candidate.status)}  "
        f"signal {printable(candidate.signal)} horizon {candidate.horizon}  "
        f"run {printable(candidate.run_instance_id)}"
    )


@app.command("create")
@command_boundary
def create_command(
    *,
    run: Annotated[str, typer.Option("--run", help="Run instance id (or a unique prefix).")],
    signal: Annotated[str, typer.Option("--signal", help="Signal name in the run's bundles.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Forecast horizon in bars.", min=1)],
    actor: ActorOpt = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Register a (run, signal, horizon) as an exploratory candidate pinned to its evidence."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    with open_governed(settings, token=principal_token(), actor=actor) as (service, principal):
        candidate = service.create(
            run_instance_id=run, signal=signal, horizon=horizon, actor=principal
        )
    if json:
        emit_json(candidate.to_dict())
        return
    stderr.print(f"created {_candidate_line(candidate)}", highlight=False)
    stdout.print(printable(candidate.candidate_id), highlight=False)


@app.command("evaluate")
@command_boundary
def evaluate_command(
    candidate_id: CandidateArg,
    *,
    to: Annotated[
        str, typer.Option("--to", help="Level to evaluate for: candidate or accepted.")
    ] = "candidate",
    actor: ActorOpt = None,
    policy: PolicyOpt = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Judge the evidence at a level; promote when the policy allows. Exit 1 when denied."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    with open_governed(settings, token=principal_token(), actor=actor, policy_path=policy) as (
        service,
        principal,
    ):
        outcome = service.evaluate(candidate_id, target=to, actor=principal)
    if json:
        emit_json(outcome.to_dict())
    else:
        verdict = "[green]passed[/]" if outcome.passed else "[red]denied[/]"
        stdout.print(
            f"{printable(outcome.candidate.candidate_id)}: {printable(to)} {verdict} "
            f"(report {printable(outcome.report.report_id)}, "
            f"policy {printable(outcome.report.policy_id)} "
            f"{printable(outcome.report.policy_digest[:16])}…)"
        )
        stdout.print(_history_line(outcome.report), highlight=False)
        if outcome.report.reasons:
            stdout.print(_reasons_table("reasons", outcome.report.reasons))
        if outcome.report.warnings:
            stdout.print(_reasons_table("warnings", outcome.report.warnings))
        change = (
            f"{printable(outcome.previous_status)} -> {printable(outcome.candidate.status)}"
            if outcome.status_changed
            else f"unchanged ({printable(outcome.candidate.status)})"
        )
        stderr.print(f"status {change}", highlight=False)
    if not outcome.passed:
        raise typer.Exit(code=1)


def _review(
    action: str, candidate_id: str, reason: str, actor: str | None, db: Any, tenant: Any, json: bool
) -> None:
    settings = resolve_settings(db, tenant)
    announce(settings)
    with open_governed(settings, token=principal_token(), actor=actor) as (service, principal):
        method = service.reject if action == "reject" else service.revoke
        candidate = method(candidate_id, reason=reason, actor=principal)
    if json:
        emit_json(candidate.to_dict())
        return
    stderr.print(
        f"{printable(candidate.candidate_id)} is now {printable(candidate.status)}: "
        f"{printable(reason)}",
        highlight=False,
    )


@app.command("reject")
@command_boundary
def reject_command(
    candidate_id: CandidateArg,
    *,
    reason: ReasonOpt,
    actor: ActorOpt = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Reject an exploratory or candidate candidate (terminal)."""
    _review("reject", candidate_id, reason, actor, db, tenant, json)


@app.command("revoke")
@command_boundary
def revoke_command(
    candidate_id: CandidateArg,
    *,
    reason: ReasonOpt,
    actor: ActorOpt = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Revoke an accepted candidate (terminal)."""
    _review("revoke", candidate_id, reason, actor, db, tenant, json)


@app.command("list")
@command_boundary
def list_command(
    *,
    status: Annotated[
        str | None, typer.Option("--status", help="Only this status.", show_default=False)
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Candidates of the tenant, newest first (read-only)."""
    if status is not None and status not in STATUSES:
        raise ValidationError(f"--status {status!r} is not one of: {', '.join(STATUSES)}")
    with open_service(resolve_settings(db, tenant), read_only=True) as service:
        candidates = service.list_candidates(status=status)
    if json:
        emit_json([candidate.to_dict() for candidate in candidates])
        return
    table = Table(title=f"{len(candidates)} candidate(s)")
    for column in ("candidate", "status", "signal", "horizon", "run", "updated"):
        table.add_column(column, overflow="fold")
    for item in candidates:
        table.add_row(
            printable(item.candidate_id),
            printable(item.status),
            printable(item.signal),
            printable(item.horizon),
            printable(item.run_instance_id),
            printable(item.updated_at),
        )
    stdout.print(table)


def _events_table(events: list[EventRecord]) -> Table:
    table = Table(title="events", title_justify="left")
    for column in ("seq", "type", "from", "to", "report", "actor", "at"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            printable(event.seq),
            printable(event.event_type),
            printable(event.from_status or ""),
            printable(event.to_status or ""),
            printable(event.report_id or ""),
            printable(event.actor),
            printable(event.created_at),
        )
    return table


def _reports_table(reports: list[ReportRecord]) -> Table:
    table = Table(title="eligibility reports", title_justify="left")
    for column in ("report", "level", "result", "reasons", "actor", "at"):
        table.add_column(column, overflow="fold")
    for report in reports:
        table.add_row(
            printable(report.report_id),
            printable(report.level),
            "passed" if report.passed else "denied",
            str(len(report.reasons)),
            printable(report.actor),
            printable(report.created_at),
        )
    return table


@app.command("show")
@command_boundary
def show_command(
    candidate_id: CandidateArg,
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """One candidate with its reports (and the latest report's reasons) and events (read-only)."""
    with open_service(resolve_settings(db, tenant), read_only=True) as service:
        candidate = service.get(candidate_id)
        reports = service.reports(candidate.candidate_id)
        events = service.events(candidate.candidate_id)
    if json:
        emit_json(
            {
                "candidate": candidate.to_dict(),
                "events": [event.to_dict() for event in events],
                "reports": [report.to_dict() for report in reports],
            }
        )
        return
    summary = Table(
        show_header=False, title=printable(candidate.candidate_id), title_justify="left"
    )
    for key, value in candidate.to_dict().items():
        summary.add_row(printable(key), "" if value is None else printable(value))
    stdout.print(summary)
    if reports:
        stdout.print(_reports_table(reports))
        latest = reports[-1]
        stdout.print(_history_line(latest), highlight=False)
        if latest.reasons:
            stdout.print(_reasons_table(f"reasons of {latest.report_id}", latest.reasons))
        if latest.warnings:
            stdout.print(_reasons_table(f"warnings of {latest.report_id}", latest.warnings))
    stdout.print(_events_table(events))
