"""Factor fits through the database: read a stored factor run back, or fit it once and store it.

The fit is always made on the *whole* panel of a bar frequency (every asset of the dataset at that
frequency), never on a report's universe: each asset's rolling regression uses only its own
returns and the factors', so a whole-panel fit serves any universe chosen from it
(:meth:`FactorFit.select_assets`), and the run id can honestly be a function of the dataset id and
the fit config alone — ``{"fit": <fit config>, "bars": {"freq": ...}}``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.core.errors import DatabaseError, ValidationError
from crypto_analyzer.core.progress import ProgressSink, Stages
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.factor_runs import find_factor_run
from crypto_analyzer.db.loaders import load_identified_bars, load_instruments
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.pipeline.factor_run_source import FactorRunSource
from crypto_analyzer.pipeline.fit_parking import (
    ScratchFitOutputs,
    park_unread_fit_parts,
    release_parked_pages,
)
from crypto_analyzer.research import (
    FactorFit,
    factor_run_id,
    fit_factor_model,
    panel_from_bars,
    rolling_factor_config,
)

__all__ = [
    "FactorRunUse",
    "MaterializedFactorFits",
    "default_factor_ids",
    "factor_run_config",
    "run_materialize_factors",
]

FACTOR_BASES = ("BTC", "ETH")
"""The market factors of the crypto cross-section, found by base asset among the instruments."""


def default_factor_ids(assets: pd.Index, instruments: pd.DataFrame) -> list[Any]:
    """Instrument ids among ``assets`` whose base is BTC, then ETH (several venues: all kept)."""
    bases = dict(zip(instruments["instrument_id"], instruments["base"], strict=True))
    return [asset for base in FACTOR_BASES for asset in assets if bases.get(asset) == base]


def factor_run_config(fit_config: dict[str, Any], freq: str) -> dict[str, Any]:
    """What a factor run id hashes besides the dataset id: the fit and the bars it reads."""
    return {"fit": fit_config, "bars": {"freq": freq}}


@dataclass(frozen=True, slots=True)
class FactorRunUse:
    """One factor fit served: its run id and whether it came from the database."""

    factor_run_id: str
    reused: bool
    n_assets: int


@dataclass
class MaterializedFactorFits:
    """A drop-in for :func:`fit_factor_model` that stores each fit once and reuses it after.

    Call it with the whole-panel returns of ``freq``; ``used`` lists the runs it served. With a
    ``store`` a new fit's values go into one compressed file there (see
    :mod:`crypto_analyzer.artifacts.factor_fit_file`) and a reuse reads it back; without one only
    the digest of the values is recorded and a reuse refits and verifies against it.
    """

    engine: Engine
    tenant_id: str
    dataset_id: str
    freq: str
    store: ArtifactStore | None = None
    used: list[FactorRunUse] = field(default_factory=list)

    def __call__(
        self, returns: pd.DataFrame, *, factor_ids: Sequence[Hashable], window: int, lag: int
    ) -> FactorFit:
        ids = list(factor_ids)
        fit_config = rolling_factor_config(factor_ids=ids, window=window, lag=lag)
        run_config = factor_run_config(fit_config, self.freq)
        run_id = factor_run_id(run_config, self.dataset_id)
        assets = returns.columns.difference(pd.Index(ids), sort=False)
        stored = find_factor_run(self.engine, tenant_id=self.tenant_id, factor_run_id=run_id)
        if stored is not None and stored.status != "succeeded":
            raise DatabaseError(
                f"factor run {run_id} is recorded as {stored.status!r}, not succeeded",
                "inspect the factor_runs row; this writer only ever commits succeeded runs",
            )
        # The counts are never stored nor served (a reused run has none): not computed either,
        # one panel-sized grid less while the fit is stored and the signals are computed.
        refit = partial(
            fit_factor_model, returns, factor_ids=ids, window=window, lag=lag, with_counts=False
        )
        source = FactorRunSource(self.engine, self.tenant_id, self.store)
        if stored is None:
            # Parked as it is computed (see fit_parking): the grids other than the residuals
            # live in mapped files, and the pages the fit writes, and the file writer then
            # reads, go back to the system after each block.
            fit = park_unread_fit_parts(refit(outputs=ScratchFitOutputs()))
            if fit.config != fit_config:  # pragma: no cover - both come from rolling_factor_config
                raise AssertionError("fit_factor_model recorded a config other than the one stored")
            release = partial(release_parked_pages, fit)
            source.record_new(run_id, self.dataset_id, run_config, fit, between_blocks=release)
            release()
            self.used.append(FactorRunUse(run_id, False, len(assets)))
            return fit  # what a reused run gives: the same fit either way, without counts
        frames = source.reuse(stored, returns.index, assets, ids, refit)
        self.used.append(FactorRunUse(run_id, True, len(assets)))
        # as fit_factor_model labels them: residual columns keep the panel's column name
        residuals = frames.residuals.set_axis(assets.rename(returns.columns.name), axis=1)
        return FactorFit(frames.betas, frames.alpha, frames.r2, residuals, None, fit_config)


_FACTOR_STAGES = ("dataset identity and bars", "fit and store")


def run_materialize_factors(
    settings: Settings,
    *,
    freq: str,
    window: int,
    lag: int,
    factor_ids: Sequence[str] | None = None,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """``materialize factors``: fit (or find) the factor run of the current dataset."""
    stage = Stages(progress, "factor fit", _FACTOR_STAGES)
    with open_engine(settings, read_only=False) as engine:
        require_head(engine)
        stage.next("dataset identity and bars")
        # one read of the bars: the id and exactly the data it names (as of its watermark)
        dataset, bars = load_identified_bars(engine, tenant_id=settings.tenant, freq=freq)
        watermark = dataset.watermark
        panel = panel_from_bars(bars)
        ids = list(factor_ids or [])
        if not ids:
            ids = default_factor_ids(
                panel.assets,
                load_instruments(engine, tenant_id=settings.tenant, as_of=watermark),
            )
        unknown = [f for f in ids if f not in panel.assets]
        if not ids or unknown:
            raise ValidationError(
                f"factor instrument(s) {unknown or 'BTC/ETH'} have no {freq} bars in this dataset",
                "pass --factors with instrument ids listed by the bars of that frequency",
            )
        if window > panel.shape[0]:
            raise ValidationError(
                f"--window {window} is longer than the {panel.shape[0]} {freq} bars available",
                "choose a shorter window or ingest more history",
            )
        fits = MaterializedFactorFits(
            engine,
            tenant_id=settings.tenant,
            dataset_id=dataset.dataset_id.value,
            freq=freq,
            store=open_settings_store(settings),
        )
        stage.next("fit and store")
        try:
            fits(panel.log_returns, factor_ids=ids, window=window, lag=lag)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"cannot fit the factor model: {exc}", "check --window/--lag"
            ) from exc
        use = fits.used[0]
    stage.done()
    return {
        "dataset_id": dataset.dataset_id.value,
        "factor_ids": ids,
        "factor_run_id": use.factor_run_id,
        "freq": freq,
        "lag": lag,
        "n_assets": use.n_assets,
        "reused": use.reused,
        "window": window,
    }
