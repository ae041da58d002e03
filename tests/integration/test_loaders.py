"""Bars loader: same frame from the Arrow and the pandas readers, on both backends."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

import crypto_analyzer.db.dataset_id as dataset_id
import crypto_analyzer.db.loaders as loaders
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.db.loaders import (
    BAR_FRAME_COLUMNS,
    load_bars,
    load_identified_bars,
    load_instruments,
)
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic


def test_load_bars_sorted_typed_and_reader_independent(
    backend_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_synthetic(backend_engine, SyntheticMarketConfig(assets=4, days=2, seed=3))
    monkeypatch.setattr(loaders, "ARROW_MIN_ROWS", 0)  # SQLite: the isolated Arrow worker
    tables = []
    isolated = loaders.read_table_isolated

    def counted(*args: str) -> object:
        tables.append(isolated(*args))
        return tables[-1]

    monkeypatch.setattr(loaders, "read_table_isolated", counted)
    monkeypatch.setattr(loaders, "_LOG", None)  # a fallback would log: make it fail instead
    frame = load_bars(backend_engine, tenant_id="default", freq="1h")
    sqlite = backend_engine.dialect.name == "sqlite"
    assert len(tables) == (1 if sqlite else 0) and all(t is not None for t in tables)
    assert tuple(frame.columns) == BAR_FRAME_COLUMNS
    assert len(frame) == 4 * 48
    assert frame.equals(frame.sort_values(["instrument_id", "bar_open_ms"]).reset_index(drop=True))
    assert frame["bar_open_ms"].dtype == "int64" and frame["close"].dtype == "float64"
    monkeypatch.setattr(loaders, "_read_arrow", lambda *args: None)
    pd.testing.assert_frame_equal(load_bars(backend_engine, tenant_id="default", freq="1h"), frame)
    window = load_bars(
        backend_engine,
        tenant_id="default",
        freq="1h",
        instrument_ids=["synthetic:BTC/USD"],
        start_ms=int(frame["bar_open_ms"].min()) + 3_600_000,
    )
    assert set(window["instrument_id"]) == {"synthetic:BTC/USD"} and len(window) == 47
    assert len(load_instruments(backend_engine, tenant_id="default")) == 4


def test_missing_bars_say_what_to_do(sqlite_engine: sa.Engine) -> None:
    with pytest.raises(NotFoundError, match="ingest data first"):
        load_bars(sqlite_engine, tenant_id="default", freq="1h")


@pytest.mark.parametrize("arrow", [False, True])
def test_a_column_subset_is_the_full_frame_projected(
    backend_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, arrow: bool
) -> None:
    """The report reads only the columns its panel is built from: the same rows and values as
    the full frame's columns, through either reader and the one-pass id + bars read."""
    ingest_synthetic(backend_engine, SyntheticMarketConfig(assets=3, days=2, seed=8))
    if arrow:  # the tables are small: let the Arrow worker take them
        monkeypatch.setattr(loaders, "ARROW_MIN_ROWS", 0)
        monkeypatch.setattr(dataset_id, "COLUMNAR_MIN_ROWS", 0)
    wanted = ("close", "instrument_id", "volume", "bar_open_ms")
    full = load_bars(backend_engine, tenant_id="default", freq="1h")
    part = load_bars(backend_engine, tenant_id="default", freq="1h", columns=wanted)
    expected = full[["instrument_id", "bar_open_ms", "close", "volume"]]
    pd.testing.assert_frame_equal(part, expected, check_exact=True)
    assert part["instrument_id"].dtype == object
    _, identified = load_identified_bars(
        backend_engine, tenant_id="default", freq="1h", columns=wanted
    )
    pd.testing.assert_frame_equal(identified, expected, check_exact=True)
    with pytest.raises(ValidationError, match="unknown bar columns"):
        load_bars(backend_engine, tenant_id="default", freq="1h", columns=["close", "spread"])
