"""The SQLite bulk upsert: every constraint still holds per batch, with the database's own error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from conftest import bulk_bars, rows
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.db.sqlite_bulk import SqliteBulk

N = 5_000  # above the bulk-path threshold


def _writer(engine: sa.Engine, ids: list[str], batch_rows: int = N) -> tuple[ProvenanceWriter, Any]:
    writer = ProvenanceWriter(engine, batch_rows=batch_rows)
    run = writer.start_run("import", "x", {})
    frame = pd.DataFrame({"instrument_id": ids, "venue": "x", "symbol": ids, "kind": "spot"})
    writer.upsert_instruments(run, frame)
    return writer, run


def test_a_bad_row_in_a_later_batch_keeps_the_earlier_batches_and_nothing_of_its_own(
    sqlite_engine: sa.Engine,
) -> None:
    writer, run = _writer(sqlite_engine, ["x:A"], batch_rows=2_000)
    bad = bulk_bars(["x:A"], N, vwap=False)
    bad.loc[3_000, "volume"] = -1.0
    with pytest.raises(sa.exc.IntegrityError, match=r"CHECK constraint failed: .*volume"):
        writer.write_bars(run, bad, source="import")
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(2_000,)]


def test_a_bad_stamp_fails_with_the_databases_own_error(sqlite_engine: sa.Engine) -> None:
    writer, run = _writer(sqlite_engine, ["x:A"])
    with pytest.raises(sa.exc.IntegrityError, match=r"CHECK constraint failed: .*source"):
        writer.write_bars(run, bulk_bars(["x:A"], N, vwap=False), source="scraped")
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(0,)]


def test_an_unknown_instrument_among_many_fails_the_batch(sqlite_engine: sa.Engine) -> None:
    ids = [f"x:{i}" for i in range(50)]
    writer, run = _writer(sqlite_engine, ids, batch_rows=51 * 100)
    frame = bulk_bars([*ids, "x:missing"], 51 * 100, vwap=False)
    frame["instrument_id"] = frame["instrument_id"].astype(object)  # the generic column path
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        writer.write_bars(run, frame, source="import")
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(0,)]


def test_text_bound_to_a_numeric_column_is_checked_as_stored(sqlite_engine: sa.Engine) -> None:
    # '-1' compares above 0 as text, but SQLite stores (and checks) it as the number -1.0.
    writer, run = _writer(sqlite_engine, ["x:A"])
    frame = bulk_bars(["x:A"], N, vwap=False)
    frame["volume"] = frame["volume"].astype(str).astype(object)
    frame.loc[10, "volume"] = "-1"
    with pytest.raises(sa.exc.IntegrityError, match=r"CHECK constraint failed: .*volume"):
        writer.write_bars(run, frame, source="import")
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(0,)]


def test_the_connection_gets_its_pragmas_back(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.connect() as connection:
        before = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
            for name in ("cache_size", "foreign_keys", "ignore_check_constraints")
        }
    writer, run = _writer(sqlite_engine, ["x:A"], batch_rows=1_000)
    assert writer.write_bars(run, bulk_bars(["x:A"], N, vwap=False), source="import") == N
    with sqlite_engine.connect() as connection:
        for name, value in before.items():
            assert connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() == value
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
        checkpoint = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert checkpoint[1] == checkpoint[2]  # the write left no frame behind uncopied


def test_a_conservative_in_statement_check_falls_back_to_the_checked_write(
    tmp_path: Path,
) -> None:
    # The in-statement CHECK reads the bound integer 1, which is not IN ('1', '2'); SQLite stores
    # (and checks) it as the text '1', so the fully checked replay accepts the batch.
    engine = create_db_engine(f"sqlite:///{tmp_path / 'codes.sqlite'}")
    table = sa.Table(
        "codes",
        sa.MetaData(),
        sa.Column("k", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.CheckConstraint("code IN ('1', '2')", name="known"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    table.create(engine)
    frame = pd.DataFrame({"k": np.arange(N, dtype=np.int64), "code": [1, 2] * (N // 2)})
    frame["code"] = frame["code"].astype(object)
    conflict = " ON CONFLICT (k) DO UPDATE SET code = excluded.code"
    bulk = SqliteBulk.plan(engine, table, frame, ["k", "code"], {}, conflict)
    assert bulk is not None
    assert bulk.write(2_000) == N
    assert rows(engine, "SELECT code, COUNT(*) FROM codes GROUP BY 1") == [
        ("1", N // 2),
        ("2", N // 2),
    ]
    engine.dispose()
