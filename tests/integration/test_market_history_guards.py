"""The database itself keeps market history: no delete, no silent overwrite, no forged version."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.provenance import ProvenanceWriter

HISTORY_KEY = "tenant_id, freq, instrument_id, bar_open_ms, revision"
BAR_COLUMNS = (
    "tenant_id, instrument_id, freq, bar_open_ms, open, high, low, close, volume, vwap, "
    "log_return, source, ingest_run_id, provider, fetched_at, status, revision"
)


def _seed(engine: sa.Engine) -> sa.Engine:
    """An instrument and a bar written at revisions 1 and 2, restated at revisions 3 and 4."""
    for symbol, close in (("A", 10.0), ("A2", 10.5)):
        writer = ProvenanceWriter(engine)
        run = writer.start_run("import", "x", {"close": close})
        writer.upsert_instruments(
            run,
            pd.DataFrame(
                {"instrument_id": ["x:A"], "venue": "x", "symbol": [symbol], "kind": "spot"}
            ),
        )
        bar = {
            "instrument_id": "x:A",
            "freq": "1h",
            "bar_open_ms": 0,
            "open": 10.0,
            "high": 11.0,
            "low": 9.0,
            "close": close,
            "volume": 1.0,
        }
        writer.write_bars(run, pd.DataFrame([bar]), source="import")
        writer.finish_run(run, "succeeded")
    return engine


@pytest.fixture
def restated(backend_engine: sa.Engine) -> sa.Engine:
    return _seed(backend_engine)


REPLACE_GUARD = "rows are never replaced"
"""Revision 0009's conflict guard on the append-only tables; where it fires first (an existing key),
it is the database's refusal just the same."""


def _refused(engine: sa.Engine, statement: str, fragment: str) -> None:
    before = _state(engine)
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as connection:
        connection.exec_driver_sql(statement)
    message = str(caught.value)
    assert fragment in message or REPLACE_GUARD in message, message
    assert _state(engine) == before


def _state(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2, 3").all())
            for table in (
                "bars",
                "instruments",
                "bars_history",
                "instruments_history",
                "market_revisions",
            )
        ]


def test_the_fixture_restated_once(restated: sa.Engine) -> None:
    with restated.connect() as connection:
        history = connection.exec_driver_sql(
            "SELECT close, revision, superseded_revision FROM bars_history"
        ).all()
        latest = connection.exec_driver_sql("SELECT MAX(revision) FROM market_revisions")
        assert [tuple(row) for row in history] == [(10.0, 2, 4)]
        assert latest.scalar_one() == 4


@pytest.mark.parametrize("table", ["bars", "instruments"])
def test_market_rows_are_never_deleted(restated: sa.Engine, table: str) -> None:
    _refused(restated, f"DELETE FROM {table}", "market data is point-in-time")


def test_an_update_must_carry_the_next_revision_and_keep_its_key(restated: sa.Engine) -> None:
    for statement in (
        "UPDATE bars SET close = 10.25",  # keeps revision 4
        "UPDATE bars SET close = 10.25, revision = 4",
        "UPDATE bars SET close = 10.25, revision = 9",
        "UPDATE instruments SET symbol = 'Z'",
    ):
        _refused(restated, statement, "an update must carry the next market revision")
    _refused(restated, "UPDATE bars SET bar_open_ms = 1, revision = 5", "primary-key columns")
    # With the next revision the update is allowed, and its replaced version is kept.
    with restated.begin() as connection:
        connection.exec_driver_sql("UPDATE bars SET close = 10.25, revision = 5")
        connection.exec_driver_sql(
            "INSERT INTO market_revisions (revision, ingest_run_id, created_at) "
            "SELECT 5, ingest_run_id, 't' FROM bars"
        )
        kept = connection.exec_driver_sql(
            "SELECT close, superseded_revision FROM bars_history ORDER BY revision"
        ).all()
    assert [tuple(row) for row in kept] == [(10.0, 4), (10.5, 5)]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO market_revisions (revision, ingest_run_id, created_at) "
        "SELECT 4, ingest_run_id, 't' FROM bars",
        "INSERT INTO market_revisions (revision, ingest_run_id, created_at) "
        "SELECT 6, ingest_run_id, 't' FROM bars",
    ],
)
def test_the_revision_log_only_extends_by_one(restated: sa.Engine, statement: str) -> None:
    _refused(restated, statement, "revision must extend the tenant's revisions by one")


@pytest.mark.parametrize(
    ("verb", "table", "fragment"),
    [
        ("INSERT OR REPLACE", "market_revisions", "revision must extend"),
        ("REPLACE", "market_revisions", "revision must extend"),
        ("INSERT OR REPLACE", "bars_history", "INSERT of a stored version is not allowed"),
        ("REPLACE", "bars_history", "INSERT of a stored version is not allowed"),
        ("INSERT OR IGNORE", "bars_history", "INSERT of a stored version is not allowed"),
        ("INSERT OR REPLACE", "instruments_history", "INSERT of a stored version"),
        ("INSERT OR REPLACE", "bars", "market data is point-in-time"),
        ("INSERT OR REPLACE", "instruments", "market data is point-in-time"),
    ],
)
def test_sqlite_replace_is_refused(
    sqlite_engine: sa.Engine, verb: str, table: str, fragment: str
) -> None:
    # REPLACE deletes the conflicting row without DELETE triggers unless recursive triggers are on
    # (the engine turns them on): every form must still leave all five tables as they were.
    _refused(_seed(sqlite_engine), f"{verb} INTO {table} SELECT * FROM {table}", fragment)


def test_an_upsert_cannot_overwrite_a_stored_version(restated: sa.Engine) -> None:
    for target, key, column in (
        ("bars_history", HISTORY_KEY, "close"),
        ("instruments_history", "tenant_id, instrument_id, revision", "symbol"),
    ):
        _refused(
            restated,
            f"INSERT INTO {target} SELECT * FROM {target} WHERE true "
            f"ON CONFLICT ({key}) DO UPDATE SET {column} = excluded.{column}",
            "INSERT of a stored version is not allowed",
        )


def test_history_takes_no_forged_version(restated: sa.Engine) -> None:
    # A new key, superseded by the next revision, but no update of bars replaced it.
    forged = (
        f"INSERT INTO bars_history ({BAR_COLUMNS}, superseded_revision, "
        f"superseded_by_ingest_run_id) SELECT {BAR_COLUMNS.replace('revision', '1')}, 5, "
        "ingest_run_id FROM bars"
    )
    _refused(restated, forged, "records the version an update of bars just replaced")


@pytest.mark.postgres
def test_postgres_truncate_of_market_tables_is_refused(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    upgrade(engine)
    _seed(engine)
    for table in ("market_revisions", "bars_history", "instruments_history"):
        _refused(engine, f"TRUNCATE {table}", f"{table} is append-only: TRUNCATE")
    for table in ("bars", "instruments"):
        _refused(engine, f"TRUNCATE {table} CASCADE", "market data is point-in-time")
    engine.dispose()
