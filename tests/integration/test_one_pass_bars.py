"""One pass over the bars: the dataset id and the bars of a frequency from the same read.

The id must be byte-identical to the one computed on its own and the frame identical to
``load_bars`` as of the id's watermark — through the Arrow worker and the row reader on SQLite,
and on PostgreSQL (where no rows are kept and the loader reads them) — and the Arrow worker must
read the bars table exactly once. The report's variant (only the panel's columns, as numpy blocks
of the Arrow batches) builds the same panel as the full frame.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.db import arrow_reader, dataset_id, loaders
from crypto_analyzer.db.bar_arrays import PANEL_BAR_COLUMNS, arrow_bar_arrays
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.loaders import load_bars, load_identified_bar_arrays, load_identified_bars
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.research import BarBlock, BarColumns, panel_from_bars


@pytest.fixture
def engine(backend_engine: sa.Engine) -> sa.Engine:
    upgrade(backend_engine)
    ingest_synthetic(backend_engine, SyntheticMarketConfig(assets=5, days=12, seed=4))
    return backend_engine


def count_bars_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every Arrow worker started for the bars table (the real worker still runs)."""
    started: list[str] = []
    real = arrow_reader._in_worker

    def counting(function_name: str, *args: Any) -> Any:
        if "bars" in re.findall(r"\bFROM\s+\"?(\w+)", str(args[1])):
            started.append(function_name)
        return real(function_name, *args)

    monkeypatch.setattr(arrow_reader, "_in_worker", counting)
    return started


@pytest.mark.parametrize("reader", ["rows", "arrow"])
def test_one_pass_gives_the_same_id_and_frame(
    engine: sa.Engine, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if reader == "arrow":  # the synthetic table is small: let the Arrow worker take it
        monkeypatch.setattr(dataset_id, "COLUMNAR_MIN_ROWS", 100)
        monkeypatch.setattr(loaders, "ARROW_MIN_ROWS", 100)
    alone = compute_dataset_id(engine, tenant_id="default")
    expected = load_bars(engine, tenant_id="default", freq="1h", as_of=alone.watermark)
    started = count_bars_reads(monkeypatch)
    identity, frame = load_identified_bars(engine, tenant_id="default", freq="1h")
    assert identity == alone  # byte-identical id, same tables, same watermark
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert len(frame) == 5 * 12 * 24
    expected_reads = 1 if reader == "arrow" and engine.dialect.name == "sqlite" else 0
    assert len(started) == expected_reads


def test_a_frequency_without_bars_is_refused(engine: sa.Engine) -> None:
    from crypto_analyzer.core.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no 1d bars"):
        load_identified_bars(engine, tenant_id="default", freq="1d")


@pytest.mark.parametrize("reader", ["rows", "arrow", "no-adbc", "refused"])
def test_the_panels_columns_from_one_pass_give_the_frames_panel(
    engine: sa.Engine, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's read (only instrument, time, close, volume; numpy blocks of the Arrow
    batches, each with its own id dictionary) builds the panel of the full loader frame, bit for
    bit; the row reader, PostgreSQL, SQLite without ADBC and a kept table the arrays cannot take
    hand over the loader's frame."""
    if reader != "rows":
        monkeypatch.setattr(dataset_id, "COLUMNAR_MIN_ROWS", 100)
    if reader == "no-adbc":
        monkeypatch.setattr(dataset_id, "arrow_reader_available", lambda: False)
    if reader == "refused":  # the kept table is not numpy-ready: it becomes the loader's frame
        monkeypatch.setattr(loaders, "arrow_bar_arrays", lambda table: None)
    alone = compute_dataset_id(engine, tenant_id="default")
    expected = panel_from_bars(
        load_bars(engine, tenant_id="default", freq="1h", as_of=alone.watermark)
    )
    identity, found = load_identified_bar_arrays(
        engine, tenant_id="default", freq="1h", chunk_rows=500
    )
    assert identity == alone
    if reader == "arrow" and engine.dialect.name == "sqlite":
        assert isinstance(found, list) and len(found) > 2
        assert len({tuple(block.ids) for block in found}) > 1  # each batch its own dictionary
        assert not found[0].close.flags.owndata  # a view of the read's buffer
        bars = BarColumns(BarBlock(*block) for block in found)
    else:
        assert isinstance(found, pd.DataFrame)
        assert list(found.columns) == list(PANEL_BAR_COLUMNS)
        bars = BarColumns.from_frame(found)
    del found
    panel = panel_from_bars(bars, release=True)
    for name in ("close", "volume", "log_returns", "dollar_volume"):
        want, got = getattr(expected, name), getattr(panel, name)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
        assert got.to_numpy().flags.c_contiguous == want.to_numpy().flags.c_contiguous


def test_batches_the_panel_cannot_take_as_arrays_are_left_to_the_frame() -> None:
    import pyarrow as pa

    good = {
        "instrument_id": pa.array(["a", "b"]).dictionary_encode(),
        "bar_open_ms": pa.array([1, 2], pa.int64()),
        "close": pa.array([1.0, 2.0]),
        "volume": pa.array([0.0, 3.0]),
    }
    blocks = arrow_bar_arrays(pa.table(good))
    assert blocks is not None and list(blocks[0].ids) == ["a", "b"]
    plain = arrow_bar_arrays(pa.table({**good, "instrument_id": pa.array(["a", "b"])}))
    assert plain is not None and list(plain[0].codes) == [0, 1]
    assert arrow_bar_arrays(pa.table({**good, "close": pa.array([1.0, None])})) is None
    assert arrow_bar_arrays(pa.table({**good, "bar_open_ms": pa.array(["x", "y"])})) is None
    assert arrow_bar_arrays(pa.table({k: good[k] for k in ("bar_open_ms", "close")})) is None


def test_no_bars_of_the_frequency_is_refused_by_the_columns_read(engine: sa.Engine) -> None:
    from crypto_analyzer.core.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no 1d bars"):
        load_identified_bar_arrays(engine, tenant_id="default", freq="1d")
