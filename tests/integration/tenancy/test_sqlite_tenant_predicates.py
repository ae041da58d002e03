"""SQLite: every statement the code runs pins the tenant of every tenant-scoped table it touches.

SQLite has no row-level security, so the code's tenant filter is the whole guarantee there. This
test runs the representative workflow — the demo (init, ingest, doctor, dataset id, the research
report, create/evaluate/promote, audit trace and verify) plus the CLI's read commands — for a
non-default tenant and records every statement SQLite executes on every connection (its trace
callback sees the DBAPI-level paths too: bulk ingest, the dataset-id reader). Each must pass
:func:`tenant_predicates.violations`.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tenant_predicates import violations
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from report_workspace import MARKET, SMALL

from crypto_analyzer.cli.app import app
from crypto_analyzer.db.schema import metadata
from crypto_analyzer.pipeline.demo import run_demo

_MIGRATION_SCRATCH = re.compile(r"\w+__rebuild\b|_alembic_tmp_\w+")
TENANT_TABLES = frozenset(t.name for t in metadata.sorted_tables if "tenant_id" in t.c)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement executed on any pooled SQLite connection opened meanwhile."""
    seen: list[str] = []

    def trace(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(seen.append)

    sa.event.listen(sa.pool.Pool, "connect", trace)
    try:
        yield seen
    finally:
        sa.event.remove(sa.pool.Pool, "connect", trace)


def test_the_analyser_catches_a_missing_or_partial_tenant_predicate() -> None:
    tables = frozenset({"runs", "run_metrics"})
    assert violations("SELECT * FROM runs WHERE runs.tenant_id = 'a'", tables) == []
    assert violations("SELECT * FROM runs WHERE tenant_id = ?", tables) == []
    assert violations("SELECT * FROM runs", tables) == ["runs (as runs) without a tenant predicate"]
    assert violations("SELECT * FROM runs WHERE runs.run_instance_id = 'x'", tables)
    joined = (
        "SELECT * FROM runs AS r JOIN run_metrics AS m ON m.run_instance_id = r.run_instance_id "
        "WHERE r.tenant_id = 'a'"
    )
    assert violations(joined, tables) == ["run_metrics (as m) without a tenant predicate"]
    assert violations(joined.replace("WHERE", "AND m.tenant_id = r.tenant_id WHERE"), tables) == []
    assert violations("INSERT INTO runs (run_instance_id) VALUES ('x')", tables)
    assert (
        violations("INSERT INTO runs (tenant_id, run_instance_id) VALUES ('a', 'x')", tables) == []
    )
    assert violations("UPDATE runs SET status = 'x' WHERE runs.run_instance_id = 'y'", tables)
    assert violations("DELETE FROM runs WHERE runs.tenant_id = 'a'", tables) == []
    assert violations("SELECT count(*) FROM runs, run_metrics WHERE runs.tenant_id = 'a'", tables)


def test_every_statement_of_the_workflow_pins_the_tenant(
    tmp_path: Path, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_demo(tmp_path / "demo", MARKET, tenant="desk-a", report=SMALL)
    assert result.audit_ok and result.report is not None
    monkeypatch.setenv("CRYPTO_ANALYZER_DB_URL", result.settings.db_url)
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", result.settings.artifacts)
    runner = CliRunner()
    for command in (
        ["runs", "list"],
        ["promotion", "list"],
        ["audit", "verify"],
        ["check-dataset"],
        ["materialize", "factors", "--window", "120"],
        ["principals", "add", "rita", "--role", "admin"],
        ["principals", "list"],
        ["providers", "status"],
    ):
        outcome = runner.invoke(app, ["--tenant", "desk-a", *command])
        assert outcome.exit_code == 0, (command, outcome.output)
    touching = [sql for sql in statements if any(t in sql for t in TENANT_TABLES)]
    assert len(touching) > 200  # the workflow really ran through the database
    covered = {table for table in TENANT_TABLES if any(table in sql for sql in touching)}
    assert len(covered) >= 24, sorted(TENANT_TABLES - covered)
    # Migrations (run by init inside the demo) rebuild whole tables across every tenant by
    # design; they are the only statements allowed to, and they name their scratch tables.
    workflow = [sql for sql in statements if not _MIGRATION_SCRATCH.search(sql)]
    assert len(statements) - len(workflow) < 20
    found = {sql: problems for sql in workflow if (problems := violations(sql, TENANT_TABLES))}
    assert not found, "\n\n".join(f"{sql}\n  -> {problems}" for sql, problems in found.items())
