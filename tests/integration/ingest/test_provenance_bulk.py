"""The writer's multi-row SQLite path keeps the plain path's semantics (on both backends)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa

from conftest import bulk_bars, rows
from crypto_analyzer.db.provenance import ProvenanceWriter

N = 5_000  # above the bulk-path threshold


def _instruments(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"instrument_id": ids, "venue": "x", "symbol": ids, "kind": "spot"})


def test_bulk_upsert_stamps_keeps_identical_rows_and_updates_changed_ones(
    backend_engine: sa.Engine,
) -> None:
    ids = ["x:A", "x:B"]
    first = ProvenanceWriter(backend_engine, batch_rows=1_500)
    run_a = first.start_run("backfill", "x", {"n": 1})
    first.upsert_instruments(run_a, _instruments(ids))
    assert first.write_bars(run_a, bulk_bars(ids, N), source="exchange", fetched_at="F1") == N
    first.finish_run(run_a, "succeeded")
    second = ProvenanceWriter(backend_engine, batch_rows=1_500)
    run_b = second.start_run("backfill", "x", {"n": 2})
    changed = bulk_bars(ids, N)
    changed.loc[changed.index[-10:], ["open", "high", "low", "close"]] += 5.0
    second.write_bars(run_b, changed, source="exchange", fetched_at="F2")
    second.finish_run(run_b, "succeeded")
    owners = rows(
        backend_engine,
        "SELECT ingest_run_id, fetched_at, COUNT(*) FROM bars GROUP BY 1, 2 ORDER BY 3",
    )
    assert owners == [(run_b.ingest_run_id, "F2", 10), (run_a.ingest_run_id, "F1", N - 10)]
    nulls = rows(backend_engine, "SELECT COUNT(*) FROM bars WHERE vwap IS NULL")[0][0]
    assert nulls == 2 * math.ceil((N // 2) / 3)  # NaN is stored as NULL, never as NaN
    assert rows(
        backend_engine, "SELECT DISTINCT tenant_id, provider, status, source FROM bars"
    ) == [("default", "x", "ok", "exchange")]


def test_a_missing_instrument_fails_the_batch_with_the_databases_own_error(
    backend_engine: sa.Engine,
) -> None:
    writer = ProvenanceWriter(backend_engine)
    run = writer.start_run("import", "x", {})
    writer.upsert_instruments(run, _instruments(["x:A"]))
    with pytest.raises(sa.exc.IntegrityError):
        writer.write_bars(run, bulk_bars(["x:A", "x:missing"], N), source="import")
    assert rows(backend_engine, "SELECT COUNT(*) FROM bars") == [(0,)]


def test_a_check_violation_anywhere_in_a_batch_keeps_nothing_of_it(
    backend_engine: sa.Engine,
) -> None:
    writer = ProvenanceWriter(backend_engine, batch_rows=N)
    run = writer.start_run("import", "x", {})
    writer.upsert_instruments(run, _instruments(["x:A"]))
    bad = bulk_bars(["x:A"], N)
    bad.loc[N - 1, "high"] = 1.0  # below low
    with pytest.raises(sa.exc.IntegrityError, match=r"(?i)check"):
        writer.write_bars(run, bad, source="import")
    assert rows(backend_engine, "SELECT COUNT(*) FROM bars") == [(0,)]
    # the pooled connection got its pragmas back after the failed write
    assert writer.write_bars(run, bulk_bars(["x:A"], 10), source="import") == 10
    with backend_engine.connect() as connection:
        if backend_engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000


def test_a_frame_cannot_cross_tenants_on_the_bulk_path(backend_engine: sa.Engine) -> None:
    writer = ProvenanceWriter(backend_engine, tenant_id="team-a")
    run = writer.start_run("import", "x", {})
    writer.upsert_instruments(run, _instruments(["x:A"]))
    writer.write_bars(run, bulk_bars(["x:A"], N).assign(tenant_id="team-b"), source="import")
    assert rows(backend_engine, "SELECT DISTINCT tenant_id FROM bars") == [("team-a",)]
