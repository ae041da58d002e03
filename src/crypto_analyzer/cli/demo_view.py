"""Rendering of the demo's outcome for people (stdout)."""

from __future__ import annotations

from rich.table import Table

from crypto_analyzer.cli.context import stdout
from crypto_analyzer.pipeline.demo import DemoResult

__all__ = ["render_demo"]


def render_demo(result: DemoResult) -> None:
    """Workspace, data, report, candidates with reasons, audit outcome."""
    line = lambda text: stdout.print(text, highlight=False)  # noqa: E731
    line(f"workspace   {result.directory}")
    line(f"database    {result.settings.db_url}")
    line(
        f"ingest      run {result.ingest['ingest_run_id']}: {result.ingest['n_accepted']:,} "
        f"accepted, {result.ingest['n_rejected']:,} rejected"
    )
    line(f"doctor      {'ok' if result.doctor.ok else 'FAILED'}")
    rows = sum(table.row_count for table in result.dataset.tables)
    line(f"dataset     {result.dataset.dataset_id.short} (strict, {rows:,} rows)")
    if result.report is None:
        return
    family = result.report.summary["family"]
    line(
        f"report      run {result.report.run_instance_id}; family of {family['size']}: "
        f"Reality Check p {family['rc_p']}, SPA p {family['spa_p']}, PBO {family['pbo']}"
    )
    table = Table(title="promotion (horizon 1)")
    for column in ("candidate", "signal", "status", "why"):
        table.add_column(column, overflow="fold")
    for outcome in result.candidates:
        more = f" (+{len(outcome.reasons) - 1} more)" if len(outcome.reasons) > 1 else ""
        why = outcome.reasons[0] + more if outcome.reasons else ""
        table.add_row(
            outcome.candidate_id, outcome.signal, outcome.status, why or "all rules passed"
        )
    stdout.print(table)
    if result.trace is not None:
        events = result.trace.get("events", [])
        line(f"audit trace {result.trace['candidate']['candidate_id']}: {len(events)} events")
    verdict = "verify ok" if result.audit_ok else "FINDINGS: " + "; ".join(result.audit_findings)
    line(f"audit       {verdict}")
    line(f"html        {result.report.html_uri}")
