"""Point-in-time market data: restatements keep history, ids and loads reproduce any watermark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

import crypto_analyzer.db.dataset_id as dataset_module
import crypto_analyzer.db.loaders as loaders
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.dataset_id import TableScope, compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.loaders import load_bars, load_instruments
from crypto_analyzer.db.market_history import current_watermark, restatements_after
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.provenance import ProvenanceWriter

IDS = ["x:A", "x:B"]
HOUR = 3_600_000


def _instruments(symbols: tuple[str, str] = ("A/USD", "B/USD")) -> pd.DataFrame:
    return pd.DataFrame(
        {"instrument_id": IDS, "venue": "x", "symbol": list(symbols), "kind": "spot"}
    )


def _bars(n: int = 12) -> pd.DataFrame:
    per = n // len(IDS)
    rows = []
    for asset, instrument in enumerate(IDS):
        for index in range(per):
            price = 100.0 + asset * 10 + index
            rows.append(
                {
                    "instrument_id": instrument,
                    "freq": "1h",
                    "bar_open_ms": index * HOUR,
                    "open": price,
                    "high": price + 2,
                    "low": price - 2,
                    "close": price + 1,
                    "volume": 5.0 + index,
                }
            )
    return pd.DataFrame(rows)


def _restated(frame: pd.DataFrame, close: float, row: int = 3) -> pd.DataFrame:
    changed = frame.copy()
    changed.loc[row, "close"] = close
    return changed


def _ingest(
    engine: sa.Engine, bars: pd.DataFrame, instruments: pd.DataFrame | None = None, **kw: Any
) -> str:
    writer = ProvenanceWriter(engine, **kw)
    run = writer.start_run("import", "x", {"rows": len(bars), "close": float(bars.close.sum())})
    writer.upsert_instruments(run, _instruments() if instruments is None else instruments)
    writer.write_bars(run, bars, source="import")
    writer.finish_run(run, "succeeded")
    return run.ingest_run_id


def _rows(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def _last_revision(engine: sa.Engine, run: str) -> int | None:
    (row,) = _rows(engine, f"SELECT last_revision FROM ingest_runs WHERE ingest_run_id = '{run}'")
    return row[0]


def _watermark(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return current_watermark(connection, "default")


def _reference_id(tmp_path: Path, name: str, bars: pd.DataFrame, symbols=None) -> str:
    """The id of a fresh database that only ever held ``bars``: what a plain read hashes."""
    engine = create_db_engine(f"sqlite:///{tmp_path / name}.sqlite")
    upgrade(engine)
    _ingest(engine, bars, _instruments(symbols) if symbols else None)
    value = compute_dataset_id(engine).dataset_id.value
    engine.dispose()
    return value


def test_restatements_keep_every_version_and_every_watermark_reproduces(
    backend_engine: sa.Engine, tmp_path: Path
) -> None:
    original = _bars()
    first_run = _ingest(backend_engine, original)
    first = compute_dataset_id(backend_engine)
    assert first.watermark == _watermark(backend_engine) == 2  # instruments, then bars
    assert first.to_dict()["watermark"] == 2
    assert first.dataset_id.value == _reference_id(tmp_path, "original", original)

    # An identical re-import changes nothing: no revision, no history, same id.
    again = _ingest(backend_engine, original)
    assert _watermark(backend_engine) == 2
    assert _rows(backend_engine, "SELECT COUNT(*) FROM bars_history") == [(0,)]
    assert compute_dataset_id(backend_engine) == first
    assert (_last_revision(backend_engine, first_run), _last_revision(backend_engine, again)) == (
        2,
        None,
    )

    # One bar restated: the old values stay in history with the run that replaced them.
    second_data = _restated(original, 104.5)
    second_run = _ingest(backend_engine, second_data)
    second = compute_dataset_id(backend_engine)
    assert second.watermark == 3 and second.dataset_id != first.dataset_id
    assert _rows(
        backend_engine,
        "SELECT instrument_id, bar_open_ms, close, revision, superseded_revision, "
        "superseded_by_ingest_run_id, ingest_run_id FROM bars_history",
    ) == [("x:A", 3 * HOUR, 104.0, 2, 3, second_run, first_run)]
    assert _rows(
        backend_engine,
        f"SELECT close, revision FROM bars WHERE bar_open_ms = {3 * HOUR} "
        "AND instrument_id = 'x:A'",
    ) == [(104.5, 3)]
    assert compute_dataset_id(backend_engine, as_of=2).dataset_id == first.dataset_id
    assert compute_dataset_id(backend_engine, as_of=3) == second

    # A second restatement of the same bar: three versions, each watermark gives its own id.
    third_data = _restated(original, 103.0)
    third_run = _ingest(backend_engine, third_data)
    third = compute_dataset_id(backend_engine)
    assert third.watermark == 4
    assert _rows(
        backend_engine,
        "SELECT close, revision, superseded_revision, superseded_by_ingest_run_id "
        "FROM bars_history ORDER BY revision",
    ) == [(104.0, 2, 3, second_run), (104.5, 3, 4, third_run)]
    ids = {w: compute_dataset_id(backend_engine, as_of=w).dataset_id for w in range(5)}
    assert ids[2] == first.dataset_id and ids[3] == second.dataset_id
    assert ids[4] == third.dataset_id
    assert ids[3].value == _reference_id(tmp_path, "second", second_data)
    assert ids[4].value == _reference_id(tmp_path, "third", third_data)
    assert len(set(ids.values())) == 5  # nothing, instruments only, then three bar versions
    assert [t.row_count for t in compute_dataset_id(backend_engine, as_of=1).tables] == [0, 2]

    # The loaders read the same versions.
    for watermark, close in ((2, 104.0), (3, 104.5), (4, 103.0)):
        frame = load_bars(backend_engine, tenant_id="default", freq="1h", as_of=watermark)
        assert len(frame) == len(original)
        assert frame.loc[3, "close"] == close
        assert frame["close"].drop(index=3).tolist() == original["close"].drop(index=3).tolist()
    current = load_bars(backend_engine, tenant_id="default", freq="1h")
    pd.testing.assert_frame_equal(
        current, load_bars(backend_engine, tenant_id="default", freq="1h", as_of=4)
    )

    # What changed after each watermark, within a footprint.
    with backend_engine.connect() as connection:
        after = restatements_after(connection, "default", 2)
    assert [item.to_dict() for item in after] == [
        {
            "end_ms": 3 * HOUR,
            "freq": "1h",
            "instruments": 1,
            "rows": 1,
            "start_ms": 3 * HOUR,
            "superseded_by_ingest_run_id": second_run,
            "superseded_revision": 3,
            "table": "bars",
        },
    ]  # the 104.5 version was never visible at 2: only the first replacement counts
    with backend_engine.connect() as connection:
        assert [r.superseded_revision for r in restatements_after(connection, "default", 3)] == [4]
        assert restatements_after(connection, "default", 4) == []
        for footprint in (
            {"freq": "1d"},
            {"instrument_ids": ["x:B"]},
            {"start_ms": 4 * HOUR},
            {"end_ms": 3 * HOUR},
        ):
            assert restatements_after(connection, "default", 2, **footprint) == [], footprint
        assert restatements_after(connection, "other", 2) == []


def test_instrument_restatements_are_versioned_too(backend_engine: sa.Engine) -> None:
    _ingest(backend_engine, _bars())
    before = compute_dataset_id(backend_engine)
    run = _ingest(backend_engine, _bars(), _instruments(("A/USDT", "B/USD")))
    assert _watermark(backend_engine) == before.watermark + 1
    assert _rows(
        backend_engine,
        "SELECT instrument_id, symbol, superseded_by_ingest_run_id FROM instruments_history",
    ) == [("x:A", "A/USD", run)]
    assert compute_dataset_id(backend_engine, as_of=before.watermark) == before
    old = load_instruments(backend_engine, tenant_id="default", as_of=before.watermark)
    assert old["symbol"].tolist() == ["A/USD", "B/USD"]
    assert load_instruments(backend_engine, tenant_id="default")["symbol"].tolist() == [
        "A/USDT",
        "B/USD",
    ]
    with backend_engine.connect() as connection:
        (found,) = restatements_after(connection, "default", before.watermark)
        assert (found.table, found.freq, found.start_ms, found.end_ms, found.rows) == (
            "instruments",
            None,
            None,
            None,
            1,
        )
        # An instrument restatement counts when its instrument is in the footprint.
        assert restatements_after(connection, "default", before.watermark, freq="1h")
        assert not restatements_after(
            connection, "default", before.watermark, instrument_ids=["x:B"]
        )


def test_the_sqlite_bulk_path_stamps_a_revision_per_changed_batch(
    backend_engine: sa.Engine,
) -> None:
    # 6,000 rows in batches of 2,000: the SQLite bulk path (PostgreSQL: the plain upsert).
    original = _bars(6_000)
    _ingest(backend_engine, original, batch_rows=2_000)
    start = compute_dataset_id(backend_engine)
    assert start.watermark == 4  # instruments + three batches
    _ingest(backend_engine, original, batch_rows=2_000)
    assert compute_dataset_id(backend_engine) == start
    changed = original.copy()
    for row in (10, 2_500, 5_999):  # one row in the first and in the last batch … and the middle
        changed.loc[row, "close"] = changed.loc[row, "low"]
    run = _ingest(backend_engine, changed, batch_rows=2_000)
    assert _rows(
        backend_engine,
        "SELECT revision, ingest_run_id FROM market_revisions WHERE revision > 4 ORDER BY revision",
    ) == [(5, run), (6, run), (7, run)]
    assert _rows(backend_engine, "SELECT superseded_revision FROM bars_history ORDER BY 1") == [
        (5,),
        (6,),
        (7,),
    ]
    assert _last_revision(backend_engine, run) == 7
    assert compute_dataset_id(backend_engine, as_of=4) == start
    assert compute_dataset_id(backend_engine, as_of=5) not in (
        start,
        compute_dataset_id(backend_engine),
    )


def test_a_restatement_committing_mid_read_does_not_leak_into_the_watermark(
    backend_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The history check says "nothing replaced", then an ingest restates a bar before the fast
    # read runs: the re-check after the read must catch it and read the history too.
    original = _bars()
    _ingest(backend_engine, original)
    expected = compute_dataset_id(backend_engine)
    expected_frame = load_bars(backend_engine, tenant_id="default", freq="1h")
    watermark = expected.watermark

    for module in (dataset_module, loaders):
        real = module.history_visible
        pending = [_restated(original, 104.25 if module is loaders else 104.75)]

        def racing(*args: Any, real=real, pending=pending) -> bool:
            answer = real(*args)
            if pending:
                _ingest(backend_engine, pending.pop())  # commits between the check and the read
            return answer

        monkeypatch.setattr(module, "history_visible", racing)
    assert compute_dataset_id(backend_engine, as_of=watermark) == expected
    frame = load_bars(backend_engine, tenant_id="default", freq="1h", as_of=watermark)
    pd.testing.assert_frame_equal(frame, expected_frame)
    assert _watermark(backend_engine) == watermark + 2  # both restatements did commit


def test_as_of_errors_are_clear(backend_engine: sa.Engine) -> None:
    _ingest(backend_engine, _bars())
    with pytest.raises(ValidationError, match=r"runs keep no history.*bars, instruments"):
        compute_dataset_id(backend_engine, [TableScope("bars"), TableScope("runs")], as_of=1)
    with pytest.raises(ValidationError, match=r"watermark 3 is outside .*\(0\.\.2\)"):
        compute_dataset_id(backend_engine, as_of=3)
    with pytest.raises(ValidationError, match="watermark -1 is outside"):
        load_bars(backend_engine, tenant_id="default", freq="1h", as_of=-1)
    # Without as_of a non-versioned scope behaves as before and records no watermark.
    assert compute_dataset_id(backend_engine, [TableScope("runs")]).watermark is None
    # ``revision`` is a provenance stamp: an implicit column list leaves it out.
    (bars_only,) = compute_dataset_id(backend_engine, [TableScope("bars")]).tables
    assert "revision" not in bars_only.columns and "ingest_run_id" in bars_only.columns


def test_the_arrow_reader_reads_a_watermark_with_history_like_the_row_reader(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _bars(300)
    _ingest(sqlite_engine, original)
    _ingest(sqlite_engine, _restated(original, 104.5))
    by_rows = compute_dataset_id(sqlite_engine, as_of=2)  # small tables: the row reader
    frame_by_rows = load_bars(sqlite_engine, tenant_id="default", freq="1h", as_of=2)
    monkeypatch.setattr(dataset_module, "COLUMNAR_MIN_ROWS", 0)
    monkeypatch.setattr(loaders, "ARROW_MIN_ROWS", 0)
    monkeypatch.setattr(dataset_module, "_LOG", None)  # a fallback would log: make it fail
    monkeypatch.setattr(loaders, "_LOG", None)
    queries: list[str] = []
    digest, read = dataset_module.digest_columns_isolated, loaders.read_table_isolated
    monkeypatch.setattr(
        dataset_module, "digest_columns_isolated", lambda *a: queries.append(a[1]) or digest(*a)
    )
    monkeypatch.setattr(loaders, "read_table_isolated", lambda *a: queries.append(a[1]) or read(*a))
    assert compute_dataset_id(sqlite_engine, as_of=2) == by_rows
    frame = load_bars(sqlite_engine, tenant_id="default", freq="1h", as_of=2)
    pd.testing.assert_frame_equal(frame, frame_by_rows)
    assert frame.loc[3, "close"] == 104.0
    # bars (id), instruments (id: no restatement, the one-table read), bars (load)
    assert ["UNION ALL" in sql for sql in queries] == [True, False, True], queries
