"""The provenance writer stamps every row, keeps tallies honest and converges on reruns."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.db.provenance import ProvenanceWriter, Reject

INSTRUMENTS = pd.DataFrame(
    {"instrument_id": ["x:BTC/USD"], "venue": "x", "symbol": ["BTC/USD"], "kind": "spot"}
)


def _bars(n: int, close: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "instrument_id": "x:BTC/USD",
            "freq": "1h",
            "bar_open_ms": [i * 3_600_000 for i in range(n)],
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": 5.0,
        }
    )


def _rows(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def test_rows_are_stamped_and_run_counts_add_up(backend_engine: sa.Engine) -> None:
    writer = ProvenanceWriter(backend_engine, actor="tester", batch_rows=4)
    run = writer.start_run("backfill", "x", {"symbols": ["BTC/USD"]})
    writer.upsert_instruments(run, INSTRUMENTS)
    assert writer.write_bars(run, _bars(10), source="exchange", fetched_at="F") == 10
    writer.write_rejects(run, [Reject("ohlcv", "high < low", '{"h": 1, "l": 2}')] * 3)
    counts = writer.finish_run(run, "succeeded")
    assert counts == {"n_accepted": 10, "n_received": 13, "n_rejected": 3}
    stamped = _rows(
        backend_engine,
        "SELECT DISTINCT ingest_run_id, provider, fetched_at, status, tenant_id FROM bars",
    )
    assert stamped == [(run.ingest_run_id, "x", "F", "ok", "default")]
    runs = _rows(
        backend_engine,
        "SELECT status, actor, n_received, n_accepted, n_rejected, finished_at IS NOT NULL "
        "FROM ingest_runs",
    )
    assert runs == [("succeeded", "tester", 13, 10, 3, True)]
    rejects = _rows(
        backend_engine, "SELECT seq, reason, payload_sha256 FROM ingest_rejects ORDER BY seq"
    )
    assert [row[0] for row in rejects] == [0, 1, 2]
    assert all(len(row[2]) == 64 for row in rejects)


def test_identical_rewrite_keeps_provenance_and_changes_update_it(
    backend_engine: sa.Engine,
) -> None:
    first = ProvenanceWriter(backend_engine)
    run_a = first.start_run("backfill", "x", {"attempt": 1})
    first.upsert_instruments(run_a, INSTRUMENTS)
    first.write_bars(run_a, _bars(5), source="exchange")
    first.finish_run(run_a, "interrupted")
    second = ProvenanceWriter(backend_engine)
    run_b = second.start_run("backfill", "x", {"attempt": 2})
    changed = _bars(6)
    changed.loc[5, ["open", "high", "low", "close"]] = [50.0, 51.0, 49.0, 50.0]
    changed.loc[4, "volume"] = 7.0
    second.write_bars(run_b, changed, source="exchange")
    second.finish_run(run_b, "succeeded")
    owners = _rows(
        backend_engine, "SELECT bar_open_ms, ingest_run_id FROM bars ORDER BY bar_open_ms"
    )
    assert [owner for _, owner in owners] == [run_a.ingest_run_id] * 4 + [run_b.ingest_run_id] * 2


def test_a_frame_cannot_write_into_another_tenant(backend_engine: sa.Engine) -> None:
    writer = ProvenanceWriter(backend_engine, tenant_id="team-a")
    run = writer.start_run("import", "csv", {})
    writer.upsert_instruments(run, INSTRUMENTS.assign(tenant_id="team-b"))
    writer.write_bars(run, _bars(2).assign(tenant_id="team-b"), source="import")
    assert _rows(backend_engine, "SELECT DISTINCT tenant_id FROM bars") == [("team-a",)]


def test_bad_frames_and_runs_are_refused(backend_engine: sa.Engine) -> None:
    writer = ProvenanceWriter(backend_engine)
    with pytest.raises(ValidationError, match="ingest kind 'scrape'"):
        writer.start_run("scrape", "x", {})
    run = writer.start_run("import", "csv", {})
    writer.upsert_instruments(run, INSTRUMENTS)
    with pytest.raises(ValidationError, match=r"lack required column.*close"):
        writer.write_bars(run, _bars(2).drop(columns=["close"]), source="import")
    with pytest.raises(ValidationError, match=r"bars\.volume has missing values in 1 row"):
        writer.write_bars(run, _bars(2).assign(volume=[1.0, None]), source="import")
    other = ProvenanceWriter(backend_engine)
    with pytest.raises(NotFoundError, match="not started by this writer"):
        other.write_bars(run, _bars(1), source="import")
    with pytest.raises(ValidationError, match="final ingest status"):
        writer.finish_run(run, "running")


def test_database_constraints_back_the_writer(backend_engine: sa.Engine) -> None:
    writer = ProvenanceWriter(backend_engine)
    run = writer.start_run("import", "csv", {})
    writer.upsert_instruments(run, INSTRUMENTS)
    bad = _bars(1).assign(high=90.0)  # high below low: the CHECK constraint refuses it
    with pytest.raises(sa.exc.IntegrityError):
        writer.write_bars(run, bad, source="import")
    assert _rows(backend_engine, "SELECT COUNT(*) FROM bars") == [(0,)]
