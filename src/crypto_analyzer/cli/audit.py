"""``crypto-analyzer audit trace | verify | stale | checkpoint``: the governance record, checked.

``trace`` reads only the database; ``verify`` also checks MACs with the service key, the signed
chain-head checkpoints and the artifacts in the store, re-derives every decision, and exits 1 when
it finds anything, so it can gate a CI job or a cron. ``checkpoint`` signs the current chain heads
into the store (after a checkpoint failure, once the rows are verified).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.governance import audit_checkpoint, audit_stale, audit_trace, audit_verify
from crypto_analyzer.governance.workspace import audit_verify_all

__all__ = ["app"]

app = typer.Typer(
    name="audit",
    help="Audit the governance record: trace a candidate, verify.",
    no_args_is_help=True,
)


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    table = Table(title=printable(title), title_justify="left")
    for column in columns:
        table.add_column(printable(column), overflow="fold")
    for row in rows:
        table.add_row(
            *("" if row.get(column) is None else printable(row.get(column)) for column in columns)
        )
    return table


@app.command("trace")
@command_boundary
def trace_command(
    candidate_id: Annotated[str, typer.Argument(help="Candidate id (or a unique prefix).")],
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Candidate → reports → events → run → dataset → artifacts → lineage, from the database."""
    trace = audit_trace(resolve_settings(db, tenant), candidate_id)
    if json:
        emit_json(trace)
        return
    candidate = trace["candidate"]
    stdout.print(_table("candidate", [candidate], tuple(candidate)))
    stdout.print(
        _table(
            "eligibility reports",
            trace["reports"],
            (
                "report_id",
                "level",
                "passed",
                "evidence_digest",
                "policy_id",
                "policy_digest",
                "actor",
                "created_at",
            ),
        )
    )
    for report in trace["reports"]:
        if report["reasons"]:
            stdout.print(
                _table(f"reasons of {report['report_id']}", report["reasons"], ("rule", "message"))
            )
    stdout.print(
        _table(
            "events",
            trace["events"],
            (
                "seq",
                "event_type",
                "from_status",
                "to_status",
                "report_id",
                "actor",
                "created_at",
                "hash",
            ),
        )
    )
    run = trace["run"]
    if run is None:
        stderr.print(f"[red]run {printable(candidate['run_instance_id'])} is missing[/]")
    else:
        shown = {key: run[key] for key in run if key not in ("config", "tags")}
        stdout.print(_table("run", [shown], tuple(shown)))
    stdout.print(_table("dataset", [trace["dataset"]], ("dataset_id", "mode", "short")))
    stdout.print(
        _table(
            "artifacts (lineage)",
            trace["lineage"],
            ("logical_name", "artifact_type", "artifact_sha256", "size_bytes", "uri"),
        )
    )
    stdout.print(_table("lineage edges", trace["edges"], ("src_name", "edge_type", "dst_ref")))


PolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy file whose on_restatement decides if stale results fail (default: packaged).",
        show_default=False,
    ),
]


CheckpointsOpt = Annotated[
    int | None,
    typer.Option(
        "--checkpoints",
        min=0,
        help="Check only the newest N chain-head checkpoints (default: all; each is one read).",
        show_default=False,
    ),
]


@app.command("verify")
@command_boundary
def verify_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    policy: PolicyOpt = None,
    checkpoints: CheckpointsOpt = None,
    all_tenants: Annotated[
        bool,
        typer.Option(
            "--all-tenants",
            help="Verify every tenant the database knows (listed on the owner URL), each as "
            "itself.",
        ),
    ] = False,
) -> None:
    """Hash chains (events, trial ledger), service-key MACs, chain-head checkpoints, triggers,
    re-derived decisions, state-machine replay, status/report/event consistency, artifact hashes,
    lineage, stale results. Exit 1 on any finding."""
    if all_tenants:
        _verify_all(resolve_settings(db, tenant), policy, checkpoints, json=json)
        return
    report = audit_verify(resolve_settings(db, tenant), policy_path=policy, checkpoints=checkpoints)
    if json:
        emit_json(report.to_dict())
    else:
        counts = ", ".join(
            f"{value} {printable(key)}" for key, value in sorted(report.checked.items())
        )
        stderr.print(f"checked {counts}", highlight=False)
        if report.findings:
            stdout.print(
                _table(
                    f"{len(report.findings)} finding(s)",
                    [finding.to_dict() for finding in report.findings],
                    ("check", "message"),
                )
            )
        else:
            stdout.print("audit verify: ok")
        if report.orphans:
            stdout.print(
                _table(
                    f"{len(report.orphans)} orphan file(s): in the store, referenced by no lineage "
                    "row (left by interrupted or failed runs; not a finding)",
                    [orphan.to_dict() for orphan in report.orphans],
                    ("run_instance_id", "run_status", "key"),
                )
            )
        if report.warnings:
            stdout.print(
                _table(
                    f"{len(report.warnings)} warning(s)",
                    [warning.to_dict() for warning in report.warnings],
                    ("check", "message"),
                )
            )
    if not report.ok:
        raise typer.Exit(code=1)


def _verify_all(
    settings: Settings, policy: Path | None, checkpoints: int | None, *, json: bool
) -> None:
    reports = audit_verify_all(settings, policy_path=policy, checkpoints=checkpoints)
    if json:
        emit_json({tenant: report.to_dict() for tenant, report in reports.items()})
    else:
        for tenant, report in reports.items():
            state = "ok" if report.ok else f"{len(report.findings)} finding(s)"
            stdout.print(f"tenant {printable(tenant)}: {state}", highlight=False)
            for finding in report.findings:
                stdout.print(
                    f"  {printable(finding.check)}: {printable(finding.message)}", highlight=False
                )
    if not all(report.ok for report in reports.values()):
        raise typer.Exit(code=1)


@app.command("stale")
@command_boundary
def stale_command(*, db: DbUrlOpt = None, tenant: TenantOpt = None, json: JsonOpt = False) -> None:
    """Candidate and accepted results whose market data was restated after their run read it,
    with the tables and time ranges affected. Exit 1 when any is stale."""
    results = audit_stale(resolve_settings(db, tenant))
    stale = [item for item in results if item.stale]
    if json:
        emit_json({"checked": len(results), "results": [item.to_dict() for item in results],
                   "stale": len(stale)})  # fmt: skip
    else:
        stderr.print(f"checked {len(results)} candidate/accepted result(s)", highlight=False)
        rows = [
            {
                "candidate": item.candidate.candidate_id,
                "status": item.candidate.status,
                "run": item.candidate.run_instance_id,
                "watermark": item.watermark,
                "restated": item.describe() if (item.stale or item.problem) else "",
            }
            for item in results
            if item.stale or item.problem
        ]
        if rows:
            stdout.print(
                _table(
                    f"{len(stale)} stale result(s)",
                    rows,
                    ("candidate", "status", "run", "watermark", "restated"),
                )
            )
        else:
            stdout.print("audit stale: no result's data was restated")
    if stale:
        raise typer.Exit(code=1)


@app.command("checkpoint")
@command_boundary
def checkpoint_command(
    *, db: DbUrlOpt = None, tenant: TenantOpt = None, json: JsonOpt = False
) -> None:
    """Sign the tenant's current chain heads (events, trial ledger, market watermark) with the
    service key into the artifact store. Run `audit verify` first: a checkpoint vouches for
    whatever the database holds now."""
    checkpoint = audit_checkpoint(resolve_settings(db, tenant))
    if json:
        emit_json(checkpoint.to_dict())
        return
    heads = checkpoint.heads
    stdout.print(printable(checkpoint.key), highlight=False)
    stderr.print(
        f"checkpoint of events to seq {heads.events_seq}, {heads.ledger_size} trial(s), market "
        f"watermark {heads.market_watermark}, signed with key {checkpoint.key_id}",
        highlight=False,
    )
