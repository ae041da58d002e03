"""One pass over the bars: the dataset id and the bars of a frequency from the same read.

The id must be byte-identical to the one computed on its own and the frame identical to
``load_bars`` as of the id's watermark — through the Arrow worker and the row reader on SQLite,
and on PostgreSQL (where no rows are kept and the loader reads them) — and the Arrow worker must
read the bars table exactly once.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.db import arrow_reader, dataset_id, loaders
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.loaders import load_bars, load_identified_bars
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic


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
