"""Rendering of the demo's outcome for people (stdout)."""

from __future__ import annotations

from rich.table import Table

from crypto_analyzer.cli.context import stdout
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.pipeline.demo import DemoResult

__all__ = ["render_demo"]


def render_demo(result: DemoResult) -> None:
    """Workspace, data, report, candidates with reasons, audit outcome."""
    line = lambda text: stdout.print(text, highlight=False)  # noqa: E731
    line(f"workspace   {printable(result.directory)}")
    line(f"database    {printable(result.settings.db_url)}")
    line(
        f"ingest      run {printable(result.ingest['ingest_run_id'])}: "
        f"{result.ingest['n_accepted']:,} "
        f"accepted, {result.ingest['n_rejected']:,} rejected"
    )
    line(f"doctor      {'ok' if result.doctor.ok else 'FAILED'}")
    rows = sum(table.row_count for table in result.dataset.tables)
    line(f"dataset     {printable(result.dataset.dataset_id.short)} (strict, {rows:,} rows)")
    if result.report is None:
        return
    family = result.report.summary["family"]
    line(
        f"report      run {printable(result.report.run_instance_id)}; "
        f"family of {family['size']}: "
        f"Reality Check p {family['rc_p']}, SPA p {family['spa_p']}, PBO {family['pbo']}"
    )
    table = Table(title="promotion (horizon 1)")
    for column in ("candidate", "signal", "status", "why"):
        table.add_column(column, overflow="fold")
    for outcome in result.candidates:
        more = f" (+{len(outcome.reasons) - 1} more)" if len(outcome.reasons) > 1 else ""
        why = outcome.reasons[0] + more if outcome.reasons else ""
        table.add_row(
            printable(outcome.candidate_id),
            printable(outcome.signal),
            printable(outcome.status),
            printable(why or "all rules passed"),
        )
    stdout.print(table)
    if result.trace is not None:
        events = result.trace.get("events", [])
        candidate = printable(result.trace["candidate"]["candidate_id"])
        line(f"audit trace {candidate}: {len(events)} events")
    verdict = "verify ok" if result.audit_ok else "FINDINGS: " + "; ".join(result.audit_findings)
    line(f"audit       {printable(verdict)}")
    line(f"html        {printable(result.report.html_uri)}")
