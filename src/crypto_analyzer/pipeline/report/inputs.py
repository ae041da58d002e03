"""A report's inputs: its STRICT dataset id and the data that id names, from one read of the bars.

The id and the bars come from the same pass over the ``bars`` table (``db.loaders.
load_identified_bars``): hashing the table and loading the report's frequency used to be two full
reads, each in its own Arrow worker. A caller that already computed the id in this process (the
demo checks the dataset first) hands it over and only the bars are read; the id is then checked to
be one a report could have computed itself — STRICT, this tenant, the default scope, a watermark
this database has — so a reused id can never name other data than the run reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.db.dataset_id import DEFAULT_SCOPE, DatasetIdentity
from crypto_analyzer.db.loaders import load_bars, load_identified_bars, load_instruments
from crypto_analyzer.db.market_history import check_watermark
from crypto_analyzer.research.panel import BAR_COLUMNS

__all__ = ["ReportInputs", "read_report_inputs"]


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """The dataset identity and the frames it names (as of its watermark)."""

    dataset: DatasetIdentity
    bars: pd.DataFrame
    instruments: pd.DataFrame


def read_report_inputs(
    engine: Engine, *, tenant_id: str, freq: str, dataset: DatasetIdentity | None = None
) -> ReportInputs:
    """The id (computed, or ``dataset`` checked), then the bars and instruments it names."""
    # Only the columns a panel is built from: the loader's vwap and log_return are a fifth of
    # the long frame and the report never reads them.
    if dataset is None:
        dataset, bars = load_identified_bars(
            engine, tenant_id=tenant_id, freq=freq, columns=BAR_COLUMNS
        )
    else:
        _check_reusable(engine, dataset, tenant_id)
        bars = load_bars(
            engine, tenant_id=tenant_id, freq=freq, as_of=dataset.watermark, columns=BAR_COLUMNS
        )
    instruments = load_instruments(engine, tenant_id=tenant_id, as_of=dataset.watermark)
    return ReportInputs(dataset, bars, instruments)


def _check_reusable(engine: Engine, dataset: DatasetIdentity, tenant_id: str) -> None:
    expected = [(entry.table, entry.columns) for entry in DEFAULT_SCOPE]
    found = [(table.table, table.columns) for table in dataset.tables]
    problem: str | None = None
    if dataset.mode is not DatasetMode.STRICT:
        problem = f"is {dataset.mode.value}, not strict"
    elif dataset.tenant_id != tenant_id:
        problem = f"belongs to tenant {dataset.tenant_id!r}, not {tenant_id!r}"
    elif found != expected or dataset.watermark is None:
        problem = "does not cover the default scope at a market watermark"
    if problem is not None or dataset.watermark is None:
        raise ValidationError(
            f"the dataset id handed to the report {problem}",
            "let the report compute its dataset id (pass none)",
        )
    with engine.connect() as connection:
        check_watermark(connection, tenant_id, dataset.watermark)
