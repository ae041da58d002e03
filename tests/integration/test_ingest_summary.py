"""``db.ingest_summary``: what the data-health page reads, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.identities import DatasetId, DatasetMode
from crypto_analyzer.db.ingest_summary import dataset_uses, recent_ingest_runs, rejects_by_reason
from crypto_analyzer.db.provenance import ProvenanceWriter, Reject
from crypto_analyzer.db.registry import start_run

INSTRUMENTS = pd.DataFrame(
    {"instrument_id": ["x:BTC/USD"], "venue": "x", "symbol": ["BTC/USD"], "kind": "spot"}
)
BARS = pd.DataFrame(
    {
        "instrument_id": "x:BTC/USD",
        "freq": "1h",
        "bar_open_ms": [0, 3_600_000],
        "open": 1.0,
        "high": 2.0,
        "low": 0.5,
        "close": 1.5,
        "volume": 3.0,
    }
)


def _ingest(engine: sa.Engine, tenant: str, reasons: list[str]) -> str:
    writer = ProvenanceWriter(engine, tenant_id=tenant, actor="tester")
    run = writer.start_run("backfill", "x", {})
    writer.upsert_instruments(run, INSTRUMENTS)
    writer.write_bars(run, BARS.assign(tenant_id=tenant), source="exchange")
    writer.write_rejects(run, [Reject("ohlcv", reason, "{}") for reason in reasons])
    writer.finish_run(run, "succeeded")
    return run.ingest_run_id


def test_ingest_runs_rejects_and_dataset_ids_per_tenant(backend_engine: sa.Engine) -> None:
    first = _ingest(backend_engine, "default", ["high < low", "high < low", "negative volume"])
    _ingest(backend_engine, "other", ["stale"])
    runs = recent_ingest_runs(backend_engine, "default")
    assert [(r.ingest_run_id, r.n_accepted, r.n_rejected, r.status) for r in runs] == [
        (first, 2, 3, "succeeded")
    ]
    counts = rejects_by_reason(backend_engine, "default")
    assert [(r.data_kind, r.reason, r.count) for r in counts] == [
        ("ohlcv", "high < low", 2),
        ("ohlcv", "negative volume", 1),
    ]
    assert [r.reason for r in rejects_by_reason(backend_engine, "other")] == ["stale"]
    dataset = DatasetId(DatasetMode.STRICT, "b" * 64)
    with backend_engine.begin() as connection:
        for number in (1, 2):
            start_run(
                connection,
                tenant_id="default",
                run_key=f"k{number}",
                run_instance_id=f"run-{number}",
                dataset_id=dataset,
                config={"n": number},
                actor="tester",
            )
    uses = dataset_uses(backend_engine, "default")
    assert [(u.dataset_id, u.dataset_mode, u.runs) for u in uses] == [(dataset.value, "strict", 2)]
    assert dataset_uses(backend_engine, "other") == []


@pytest.mark.parametrize("limit", [0, 1001, True, "5"])
def test_bad_limits_are_refused(backend_engine: sa.Engine, limit: object) -> None:
    with pytest.raises(ValidationError, match="limit"):
        recent_ingest_runs(backend_engine, "default", limit)  # type: ignore[arg-type]
