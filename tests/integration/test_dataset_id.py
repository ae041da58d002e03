"""STRICT and FAST_DEV dataset identity on real databases."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
import sqlalchemy as sa

import crypto_analyzer.db.dataset_id as dataset_module
from crypto_analyzer.core.errors import DatasetIdentityError, NotFoundError, ValidationError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.db.dataset_id import TableScope, compute_dataset_id, parse_scope
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.provenance import ProvenanceWriter


def _bars(n: int = 60) -> pd.DataFrame:
    rows = []
    for asset in ("syn:A/USD", "syn:B/USD", "syn:C/USD"):
        for index in range(n // 3):
            price = 100.0 + index + len(asset) / 7
            rows.append(
                {
                    "instrument_id": asset,
                    "freq": "1h",
                    "bar_open_ms": 1_700_000_000_000 + index * 3_600_000,
                    "open": price,
                    "high": price * 1.01,
                    "low": price * 0.99,
                    "close": price * 1.001,
                    "volume": 10.0 + index,
                    "vwap": None if index % 5 == 0 else price,
                    "log_return": None,
                }
            )
    return pd.DataFrame(rows)


INSTRUMENTS = pd.DataFrame(
    {
        "instrument_id": ["syn:A/USD", "syn:B/USD", "syn:C/USD"],
        "venue": "syn",
        "symbol": ["A/USD", "B/USD", "C/USD"],
        "kind": "synthetic",
    }
)


def _load(engine: sa.Engine, bars: pd.DataFrame, tenant: str = "default") -> None:
    writer = ProvenanceWriter(engine, tenant_id=tenant)
    run = writer.start_run("synthetic", "test", {"n": len(bars)})
    writer.upsert_instruments(run, INSTRUMENTS)
    writer.write_bars(
        run,
        bars,
        source="synthetic",
    )
    writer.finish_run(run, "succeeded")


def _fresh(url: str) -> sa.Engine:
    engine = create_db_engine(url)
    upgrade(engine)
    return engine


def test_insertion_order_does_not_change_the_id(tmp_path) -> None:
    bars = _bars()
    first, second = (
        _fresh(f"sqlite:///{tmp_path}/a.sqlite"),
        _fresh(f"sqlite:///{tmp_path}/b.sqlite"),
    )
    _load(first, bars)
    _load(second, bars.sample(frac=1.0, random_state=3))
    assert compute_dataset_id(first).dataset_id == compute_dataset_id(second).dataset_id


def test_one_cell_a_new_row_or_another_tenant_change_the_id(sqlite_engine: sa.Engine) -> None:
    bars = _bars()
    _load(sqlite_engine, bars)
    base = compute_dataset_id(sqlite_engine).dataset_id
    changed = bars.copy()
    changed.loc[7, "volume"] += 1e-9
    _load(sqlite_engine, changed)
    after_cell = compute_dataset_id(sqlite_engine).dataset_id
    assert after_cell != base
    extra = bars.iloc[[0]].assign(bar_open_ms=1_800_000_000_000)
    _load(sqlite_engine, extra)
    assert compute_dataset_id(sqlite_engine).dataset_id not in (base, after_cell)
    # Another tenant's rows are invisible to this tenant's identity.
    before_other = compute_dataset_id(sqlite_engine).dataset_id
    _load(sqlite_engine, _bars(9), tenant="other")
    assert compute_dataset_id(sqlite_engine).dataset_id == before_other
    assert compute_dataset_id(sqlite_engine, tenant_id="other").dataset_id != before_other


@pytest.mark.parametrize("value", [1, 1.0, "1"])
def test_type_tags_enter_the_id(sqlite_engine: sa.Engine, value: object) -> None:
    # A table the user added outside the STRICT schema: a column without declared type keeps
    # whatever type was inserted.
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (k INTEGER PRIMARY KEY, v)")
        connection.exec_driver_sql("INSERT INTO notes VALUES (1, ?)", (value,))
    ids = {}
    for probe in (1, 1.0, "1"):
        with sqlite_engine.begin() as connection:
            connection.exec_driver_sql("UPDATE notes SET v = ? WHERE k = 1", (probe,))
        ids[type(probe).__name__] = compute_dataset_id(
            sqlite_engine, [TableScope("notes")]
        ).dataset_id
    assert len(set(ids.values())) == 3


def test_strict_refuses_a_table_without_primary_key(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE loose (a INTEGER, b TEXT)")
        connection.exec_driver_sql("INSERT INTO loose VALUES (1, 'x'), (2, 'y')")
    with pytest.raises(DatasetIdentityError, match="no primary key"):
        compute_dataset_id(sqlite_engine, [TableScope("loose")])
    fast = compute_dataset_id(sqlite_engine, [TableScope("loose")], mode=DatasetMode.FAST_DEV)
    assert fast.mode is DatasetMode.FAST_DEV
    assert fast.dataset_id.value.startswith("fastdev-")


def test_fast_dev_never_equals_strict_and_tracks_changes(sqlite_engine: sa.Engine) -> None:
    _load(sqlite_engine, _bars())
    strict = compute_dataset_id(sqlite_engine)
    fast = compute_dataset_id(sqlite_engine, mode=DatasetMode.FAST_DEV)
    assert strict.dataset_id.value != fast.dataset_id.value
    assert fast.dataset_id.short.startswith("dsdev_")
    _load(sqlite_engine, _bars().assign(volume=lambda f: f.volume + 1))
    assert (
        compute_dataset_id(sqlite_engine, mode=DatasetMode.FAST_DEV).dataset_id != fast.dataset_id
    )


def test_columnar_and_row_readers_agree(sqlite_engine: sa.Engine, monkeypatch) -> None:
    _load(sqlite_engine, _bars(300))
    rows = compute_dataset_id(sqlite_engine, chunk_rows=13)  # small table: the row reader
    monkeypatch.setattr(dataset_module, "COLUMNAR_MIN_ROWS", 0)
    used = []
    isolated = dataset_module.digest_columns_isolated
    monkeypatch.setattr(
        dataset_module, "digest_columns_isolated", lambda *a: used.append(1) or isolated(*a)
    )
    monkeypatch.setattr(dataset_module, "_LOG", None)  # a fallback would log: make it fail
    columnar = compute_dataset_id(sqlite_engine, chunk_rows=7)
    assert used, "the isolated Arrow reader was not exercised"
    assert rows.dataset_id == columnar.dataset_id
    # Its own SQLite copy never entered this process (see db/arrow_reader.py for why).
    assert "adbc_driver_sqlite" not in sys.modules


def test_columnar_reader_falls_back_when_first_batch_is_all_null(
    sqlite_engine: sa.Engine, monkeypatch
) -> None:
    # ADBC infers INT64 for an all-NULL first batch and refuses a later REAL: the digest must
    # still come out, equal to the one computed with one big batch.
    monkeypatch.setattr(dataset_module, "COLUMNAR_MIN_ROWS", 0)
    bars = _bars(300)
    bars["log_return"] = [None] * 150 + [0.001 * i for i in range(150)]
    _load(sqlite_engine, bars)
    assert (
        compute_dataset_id(sqlite_engine, chunk_rows=10).dataset_id
        == compute_dataset_id(sqlite_engine, chunk_rows=100_000).dataset_id
    )


def test_a_failing_arrow_worker_falls_back_to_rows(sqlite_engine: sa.Engine, monkeypatch) -> None:
    _load(sqlite_engine, _bars(300))
    expected = compute_dataset_id(sqlite_engine)
    monkeypatch.setattr(dataset_module, "COLUMNAR_MIN_ROWS", 0)

    def broken(*_args: object) -> None:
        raise RuntimeError("worker died")

    monkeypatch.setattr(dataset_module, "digest_columns_isolated", broken)
    assert compute_dataset_id(sqlite_engine).dataset_id == expected.dataset_id


def test_scope_errors_are_clear(sqlite_engine: sa.Engine) -> None:
    with pytest.raises(NotFoundError, match="'nope' is not in the database"):
        compute_dataset_id(sqlite_engine, [TableScope("nope")])
    with pytest.raises(ValidationError, match="no hashable column"):
        compute_dataset_id(sqlite_engine, [TableScope("bars", ("close", "ghost"))])
    with pytest.raises(ValidationError, match="omits primary-key"):
        compute_dataset_id(sqlite_engine, [TableScope("bars", ("close",))])
    assert parse_scope("bars(instrument_id,freq),instruments") == (
        TableScope("bars", ("instrument_id", "freq")),
        TableScope("instruments"),
    )
    with pytest.raises(ValidationError):
        parse_scope("bars;drop table x")


@pytest.mark.postgres
def test_sqlite_and_postgres_give_the_same_id(sqlite_engine: sa.Engine, postgres_url: str) -> None:
    postgres = _fresh(postgres_url)
    bars = _bars(90)
    _load(sqlite_engine, bars)
    _load(postgres, bars.sample(frac=1.0, random_state=1))
    assert compute_dataset_id(sqlite_engine).dataset_id == compute_dataset_id(postgres).dataset_id
    postgres.dispose()
