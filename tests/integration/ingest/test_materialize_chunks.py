"""``materialize bars`` in pieces (instrument groups × time windows) == in one piece.

The windows cut through instruments' rows on purpose (budgets of a few rows), across gaps, native
bars, snapshots and finer candles, in full and incremental runs, so a bar whose return or gap
depends on the previous window's last bar is checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from conftest import rows
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.instruments import exchange_instruments
from crypto_analyzer.materialize import materialize_bars
from crypto_analyzer.materialize.chunks import ChunkBudget, Touched, time_windows

HOUR, FIVE, DAY = 3_600_000, 300_000, 86_400_000
T0 = 1_704_067_200_000
WHOLE = ChunkBudget(instruments=10_000, rows=10**12)
PIECES = (ChunkBudget(instruments=1, rows=7), ChunkBudget(instruments=2, rows=40))
SYMBOLS = ["SNAP/USD", "CNDL/USD", "MIX/USD", "LATE/USD"]
VALUES = (
    "instrument_id, freq, bar_open_ms, open, high, low, close, volume, vwap, log_return, "
    "source, status, ingest_run_id, provider"
)


def _candles(name: str, freq_ms: int, start: int, count: int, seed: int) -> pd.DataFrame:
    rng = np.random.Generator(np.random.PCG64(seed))
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.003, count)))
    frame = pd.DataFrame(
        {
            "instrument_id": f"x:{name}",
            "freq": {FIVE: "5min", HOUR: "1h", 15 * 60_000: "15min"}[freq_ms],
            "bar_open_ms": start + np.arange(count, dtype=np.int64) * freq_ms,
            "open": close,
            "high": close * 1.002,
            "low": close * 0.998,
            "close": close,
            "volume": rng.uniform(1, 5, count),
            "vwap": close,
        }
    )
    keep = (frame["bar_open_ms"] - start) // HOUR % 7 != 3  # whole empty hours: gaps
    return frame[keep.to_numpy()].reset_index(drop=True)


def _snapshots(name: str, start: int, count: int, seed: int) -> pd.DataFrame:
    rng = np.random.Generator(np.random.PCG64(seed))
    times = start + np.sort(rng.choice(60 * HOUR, size=count, replace=False)) // 1000 * 1000
    keep = (times - T0) // HOUR % 5 != 2
    price = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, count)))
    frame = pd.DataFrame({"instrument_id": f"x:{name}", "observed_ms": times, "price": price})
    return frame[keep].reset_index(drop=True)


def _ingest(engine: sa.Engine, part: int) -> None:
    writer = ProvenanceWriter(engine)
    run = writer.start_run("import", "x", {"part": part})
    writer.upsert_instruments(run, exchange_instruments("x", SYMBOLS))
    shift = (part - 1) * 40 * HOUR
    writer.write_snapshots(
        run,
        pd.concat(
            [
                _snapshots("SNAP/USD", T0 + shift, 500, part),
                _snapshots("MIX/USD", T0 + shift + 7 * HOUR, 300, 10 + part),
            ]
        ),
    )
    candles = pd.concat(
        [
            _candles("CNDL/USD", FIVE, T0 + shift + 35 * 60_000, 500, part),
            _candles("MIX/USD", 15 * 60_000, T0 + shift + 30 * HOUR, 80, 20 + part),
            _candles("LATE/USD", FIVE, T0 + shift + 50 * HOUR, 300, 30 + part),
        ]
    )
    writer.write_bars(run, candles, source="exchange")
    native = _candles("MIX/USD", HOUR, T0 + shift + 12 * HOUR, 6, 40 + part)  # natives win
    writer.write_bars(run, native, source="exchange")
    writer.finish_run(run, "succeeded")


def _workspace(path: str) -> sa.Engine:
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _everything(engine: sa.Engine) -> list[tuple]:
    return rows(engine, "SELECT * FROM bars ORDER BY instrument_id, freq, bar_open_ms")


@pytest.mark.parametrize("budget", PIECES, ids=["1-instrument-7-rows", "2-instruments-40-rows"])
def test_pieces_write_exactly_the_rows_of_one_piece(
    tmp_path: object, pinned_clock: object, budget: ChunkBudget
) -> None:
    whole, pieces = _workspace(f"{tmp_path}/whole.sqlite"), _workspace(f"{tmp_path}/p.sqlite")
    try:
        for part in (1, 2):  # the second materialization is incremental
            for engine in (whole, pieces):
                _ingest(engine, part)
            for freq in ("1h", "1D"):
                one = materialize_bars(whole, freq, budget=WHOLE)
                many = materialize_bars(pieces, freq, budget=budget)
                assert many.to_dict() == one.to_dict()
                assert one.buckets > 0 and (one.gaps > 0 or freq == "1D")
        full_one = materialize_bars(whole, "1h", full=True, budget=WHOLE)
        full_many = materialize_bars(pieces, "1h", full=True, budget=budget)
        assert full_many.to_dict() == full_one.to_dict()
        assert _everything(pieces) == _everything(whole)  # every column, revisions included
        log_returns = rows(whole, "SELECT count(log_return) FROM bars WHERE freq = '1h'")
        assert log_returns[0][0] > 100
    finally:
        whole.dispose()
        pieces.dispose()


def test_pieces_equal_one_piece_on_every_backend(
    tmp_path: object, pinned_clock: object, backend_engine: sa.Engine
) -> None:
    whole = _workspace(f"{tmp_path}/whole.sqlite")
    try:
        for engine in (whole, backend_engine):
            _ingest(engine, 1)
        materialize_bars(whole, "1h", budget=WHOLE)
        materialize_bars(backend_engine, "1h", budget=PIECES[0])
        sql = f"SELECT {VALUES} FROM bars ORDER BY instrument_id, freq, bar_open_ms"
        got, want = rows(backend_engine, sql), rows(whole, sql)
        assert len(got) == len(want) > 0
        for mine, theirs in zip(got, want, strict=True):
            assert mine[:3] == theirs[:3] and mine[10:] == theirs[10:]
            assert np.allclose(
                np.array(mine[3:10], dtype=float), np.array(theirs[3:10], dtype=float),
                rtol=1e-15, atol=0, equal_nan=True,
            )  # fmt: skip
    finally:
        whole.dispose()


def test_windows_cut_through_an_instrument_and_stay_bucket_aligned() -> None:
    touched = {
        "a": Touched(first=T0, last=T0 + 9 * DAY, rows=240),  # 24 rows a bucket
        "b": Touched(first=T0 + 3 * DAY, last=T0 + 4 * DAY, rows=48),
    }
    windows = time_windows(touched, DAY, ChunkBudget(instruments=2, rows=100))
    assert windows[0][0] == T0 - DAY and windows[-1][1] == T0 + 11 * DAY
    assert all(lo % DAY == T0 % DAY and lo < hi for lo, hi in windows)
    assert [hi for _, hi in windows[:-1]] == [lo for lo, _ in windows[1:]]  # no hole, no overlap
    assert len(windows) == 6  # 100 rows // (24 rows × 2 instruments) = 2 buckets a window
    one = time_windows(touched, DAY, ChunkBudget(instruments=2, rows=10**9))
    assert one == [(T0 - DAY, T0 + 11 * DAY)]
    with pytest.raises(ValueError, match="positive"):
        ChunkBudget(instruments=0)
