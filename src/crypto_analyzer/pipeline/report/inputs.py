"""A report's inputs: its STRICT dataset id and the data that id names, from one read of the bars.

The id and the bars come from the same pass over the ``bars`` table (``db.loaders.
load_identified_bars``): hashing the table and loading the report's frequency used to be two full
reads, each in its own Arrow worker. A caller that already computed the id in this process (the
demo checks the dataset first) hands it over and only the bars are read; the id is then checked to
be one a report could have computed itself — STRICT, this tenant, the default scope, a watermark
this database has — so a reused id can never name other data than the run reads.

Only the columns a panel is built from are read (instrument, time, close, volume), and they are
handed on as :class:`~crypto_analyzer.research.bar_columns.BarColumns`: numpy blocks of the Arrow
read's own batches when it kept them, else the loader's frame cut into views. No long frame of
the bars exists on the fast path (it was a gigabyte at 17.5 M bars, on top of the read).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.db.bar_arrays import PANEL_BAR_COLUMNS, BarArrays
from crypto_analyzer.db.dataset_id import DEFAULT_SCOPE, DatasetIdentity
from crypto_analyzer.db.loaders import load_bars, load_identified_bar_arrays, load_instruments
from crypto_analyzer.db.market_history import check_watermark
from crypto_analyzer.research.bar_columns import BarBlock, BarColumns

__all__ = ["ReportInputs", "read_report_inputs"]


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """The dataset identity and the data it names (as of its watermark): the panel's bar
    columns and the instruments frame."""

    dataset: DatasetIdentity
    bars: BarColumns
    instruments: pd.DataFrame


def read_report_inputs(
    engine: Engine, *, tenant_id: str, freq: str, dataset: DatasetIdentity | None = None
) -> ReportInputs:
    """The id (computed, or ``dataset`` checked), then the bars and instruments it names."""
    found: list[BarArrays] | pd.DataFrame
    if dataset is None:
        dataset, found = load_identified_bar_arrays(engine, tenant_id=tenant_id, freq=freq)
    else:
        _check_reusable(engine, dataset, tenant_id)
        found = load_bars(
            engine,
            tenant_id=tenant_id,
            freq=freq,
            as_of=dataset.watermark,
            columns=PANEL_BAR_COLUMNS,
        )
    bars = _bar_columns(found)
    del found  # the blocks' arrays are now held by ``bars`` alone, so building the panel frees them
    instruments = load_instruments(engine, tenant_id=tenant_id, as_of=dataset.watermark)
    return ReportInputs(dataset, bars, instruments)


def _bar_columns(found: list[BarArrays] | pd.DataFrame) -> BarColumns:
    if isinstance(found, pd.DataFrame):
        return BarColumns.from_frame(found)
    return BarColumns(BarBlock(*arrays) for arrays in found)


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
