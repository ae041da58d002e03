"""One trial = one single-hypothesis report, computed by the report's own code.

Each trial is evaluated by :func:`~crypto_analyzer.pipeline.report.compute.compute_report` on the
trial's report config (:func:`~crypto_analyzer.pipeline.sweep.spec.trial_report_config`), under
the run key that config has on this dataset — so a trial's numbers, and every seed drawn for
them, are what ``crypto-analyzer report`` computes for the same hypothesis, whichever machine or
worker evaluates it. Nothing here touches the database or the store: a chunk of trials goes in,
Parquet bytes come out, and only the client writes (:mod:`.run`).

The bytes are deterministic (fixed column order and types, no pandas metadata, the sweep's run
key and chunk index in the schema metadata), so an in-process sweep and a cluster sweep produce
byte-identical chunks and everything computed from them is identical too.
"""

from __future__ import annotations

import io
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crypto_analyzer.core.canonical_json import canonical_dumps, canonical_loads
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.identities import run_key
from crypto_analyzer.pipeline.report.compute import compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.sweep.spec import (
    ALL_INSTRUMENTS,
    SweepConfig,
    TrialSpec,
    parse_sweep_config,
    trial_report_config,
)
from crypto_analyzer.research import FactorFit, fit_factor_model

__all__ = [
    "CHUNK_SCHEMA",
    "SweepData",
    "TrialOutcome",
    "decode_chunk",
    "encode_chunk",
    "evaluate_chunk",
    "evaluate_trial",
    "trial_run_key",
]

_META_KEY = b"crypto_analyzer.sweep_chunk"
CHUNK_SCHEMA = pa.schema(
    [
        ("index", pa.int64()),
        ("hypothesis_id", pa.string()),
        ("signal", pa.string()),
        ("params", pa.string()),
        ("horizon", pa.int64()),
        ("universe", pa.string()),
        ("cost", pa.string()),
        ("run_key", pa.string()),
        ("assets", pa.string()),
        ("start_ms", pa.int64()),
        ("end_ms", pa.int64()),
        ("ic_mean", pa.float64()),
        ("t_hac", pa.float64()),
        ("p_value", pa.float64()),
        ("n_obs", pa.int64()),
        ("sharpe", pa.float64()),
        ("skewness", pa.float64()),
        ("kurtosis", pa.float64()),
        ("n_returns", pa.int64()),
        ("net_sharpe", pa.float64()),
        ("ic_times", pa.list_(pa.int64())),
        ("ic_values", pa.list_(pa.float64())),
        ("return_times", pa.list_(pa.int64())),
        ("return_values", pa.list_(pa.float64())),
    ]
)
"""Columns of a chunk checkpoint: the trial's numbers, then its OOS IC and net return series."""


@dataclass(frozen=True)
class SweepData:
    """What every worker needs, sent once (scattered): the bars and instruments the dataset id
    names, as of its watermark."""

    dataset_id: str
    bars: pd.DataFrame
    instruments: pd.DataFrame

    def universe_bars(self, members: Sequence[str] | None) -> pd.DataFrame:
        if members is None:
            return self.bars
        return self.bars[self.bars["instrument_id"].isin(list(members))].reset_index(drop=True)

    def check_universes(self, config: SweepConfig) -> None:
        """Every listed instrument must have bars at the sweep's frequency."""
        present = set(self.bars["instrument_id"].unique())
        for name, members in sorted(config.universes.items()):
            if members == ALL_INSTRUMENTS:
                continue
            missing = sorted(set(members) - present)
            if missing:
                raise ValidationError(
                    f"universe {name!r} names instruments without {config.freq} bars in this "
                    f"dataset: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}",
                    "list instrument ids as `crypto-analyzer check-dataset` shows them",
                )


@dataclass(frozen=True)
class TrialOutcome:
    """A trial's row of the trial table plus its two OOS series."""

    spec: TrialSpec
    run_key: str
    assets: tuple[str, ...]
    start_ms: int
    end_ms: int
    ic_mean: float | None
    t_hac: float | None
    p_value: float | None
    n_obs: int
    sharpe: float | None
    skewness: float | None
    kurtosis: float | None
    n_returns: int
    net_sharpe: float | None
    oos_ic: pd.Series
    net_returns: pd.Series


def _members(config: SweepConfig, universe: str) -> tuple[str, ...] | None:
    members = config.universes[universe]
    return None if members == ALL_INSTRUMENTS else tuple(sorted(members))


def trial_run_key(
    dataset_id: str, report_config: ReportConfig, members: Sequence[str] | None
) -> str:
    """The run key of the trial's report: on every instrument, exactly the run key
    ``crypto-analyzer report`` gives that config; on a listed universe, the universe joins it."""
    resolved = report_config.resolved()
    if members is not None:
        resolved = {**resolved, "universe": sorted(members)}
    return run_key(dataset_id, resolved)


class _CachedFits:
    """Factor fits shared by the trials of one chunk (a fit depends only on the returns, window
    and lag — never on the trial's signal, horizon or costs)."""

    def __init__(self) -> None:
        self._fits: dict[tuple[Any, ...], FactorFit] = {}

    def __call__(
        self, returns: pd.DataFrame, *, factor_ids: Sequence[Hashable], window: int, lag: int
    ) -> FactorFit:
        key = (tuple(returns.columns), returns.shape, tuple(factor_ids), window, lag)
        if key not in self._fits:
            self._fits[key] = fit_factor_model(
                returns, factor_ids=factor_ids, window=window, lag=lag
            )
        return self._fits[key]


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def evaluate_trial(
    data: SweepData,
    config: SweepConfig,
    trial: TrialSpec,
    *,
    fit_factors: _CachedFits | None = None,
) -> TrialOutcome:
    """Evaluate one trial with :func:`compute_report` (the report's walk-forward, IC, HAC t,
    p-value, portfolio and costs; ``trial_only``: nothing the trial does not record)."""
    report_config = trial_report_config(config, trial)
    members = _members(config, trial.universe)
    key = trial_run_key(data.dataset_id, report_config, members)
    try:
        computation = compute_report(
            data.universe_bars(members),
            data.instruments,
            report_config,
            run_key=key,
            dataset_id=data.dataset_id,
            fit_factors=fit_factors or _CachedFits(),
            trial_only=True,
        )
    except ValidationError as exc:  # the config does not fit the data: say which trial
        raise ValidationError(
            f"sweep trial {trial.hypothesis_id} ({canonical_dumps(trial.to_dict())}) does not "
            f"fit this dataset: {exc.problem}",
            exc.hint or "adjust the sweep's report settings or grids, or ingest more data",
        ) from exc
    result = computation.hypotheses[(trial.signal, trial.horizon)]
    t_hac = _finite(result.ic.t_hac)
    moments = result.return_moments
    start, end = computation.period
    return TrialOutcome(
        spec=trial,
        run_key=key,
        assets=computation.assets,
        start_ms=int(start),
        end_ms=int(end),
        ic_mean=_finite(result.ic.mean),
        t_hac=t_hac,
        p_value=None if t_hac is None else _finite(result.p_value),
        n_obs=int(result.ic.n_obs),
        sharpe=None if moments is None else _finite(moments[0]),
        skewness=None if moments is None else _finite(moments[1]),
        kurtosis=None if moments is None else _finite(moments[2]),
        n_returns=0 if moments is None else int(moments[3]),
        net_sharpe=_finite(result.net_sharpe),
        oos_ic=computation.oos_ic[(trial.signal, trial.horizon)].astype(float),
        net_returns=result.net_returns.astype(float),
    )


def encode_chunk(
    outcomes: Sequence[TrialOutcome], *, sweep_run_key: str, chunk_index: int
) -> bytes:
    """Parquet bytes of a chunk (deterministic: same outcomes ⇒ same bytes)."""
    columns: dict[str, list[Any]] = {name: [] for name in CHUNK_SCHEMA.names}
    for item in outcomes:
        spec = item.spec
        row: dict[str, Any] = {
            "index": spec.index,
            "hypothesis_id": spec.hypothesis_id,
            "signal": spec.signal,
            "params": canonical_dumps(dict(spec.params)),
            "horizon": spec.horizon,
            "universe": spec.universe,
            "cost": spec.cost,
            "run_key": item.run_key,
            "assets": canonical_dumps(list(item.assets)),
            "start_ms": item.start_ms,
            "end_ms": item.end_ms,
            "ic_mean": item.ic_mean,
            "t_hac": item.t_hac,
            "p_value": item.p_value,
            "n_obs": item.n_obs,
            "sharpe": item.sharpe,
            "skewness": item.skewness,
            "kurtosis": item.kurtosis,
            "n_returns": item.n_returns,
            "net_sharpe": item.net_sharpe,
            "ic_times": item.oos_ic.index.to_numpy(dtype=np.int64).tolist(),
            "ic_values": item.oos_ic.to_numpy(dtype=float).tolist(),
            "return_times": item.net_returns.index.to_numpy(dtype=np.int64).tolist(),
            "return_values": item.net_returns.to_numpy(dtype=float).tolist(),
        }
        for name in CHUNK_SCHEMA.names:
            columns[name].append(row[name])
    meta = {
        "chunk": chunk_index,
        "hypotheses": [item.spec.hypothesis_id for item in outcomes],
        "sweep_run_key": sweep_run_key,
    }
    table = pa.Table.from_pydict(columns, schema=CHUNK_SCHEMA).replace_schema_metadata(
        {_META_KEY: canonical_dumps(meta).encode()}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=False)
    return buffer.getvalue()


def decode_chunk(
    data: bytes, *, sweep_run_key: str, chunk_index: int, trials: Sequence[TrialSpec]
) -> list[TrialOutcome]:
    """Outcomes from checkpoint bytes, refused unless they are this sweep's chunk of exactly
    ``trials`` (a checkpoint of another sweep, chunk size or grid is never mixed in)."""
    table = pq.read_table(io.BytesIO(data))
    meta = canonical_loads((table.schema.metadata or {}).get(_META_KEY, b"null").decode())
    expected = {
        "chunk": chunk_index,
        "hypotheses": [trial.hypothesis_id for trial in trials],
        "sweep_run_key": sweep_run_key,
    }
    if meta != expected or table.schema.remove_metadata() != CHUNK_SCHEMA:
        raise ValidationError(
            f"sweep checkpoint of chunk {chunk_index} does not belong to sweep "
            f"{sweep_run_key[:16]} (wrong sweep, chunk or trials)",
            "start the sweep again without --resume",
        )
    rows = table.to_pylist()
    outcomes = []
    for trial, row in zip(trials, rows, strict=True):
        outcomes.append(
            TrialOutcome(
                spec=trial,
                run_key=row["run_key"],
                assets=tuple(canonical_loads(row["assets"])),
                start_ms=row["start_ms"],
                end_ms=row["end_ms"],
                ic_mean=row["ic_mean"],
                t_hac=row["t_hac"],
                p_value=row["p_value"],
                n_obs=row["n_obs"],
                sharpe=row["sharpe"],
                skewness=row["skewness"],
                kurtosis=row["kurtosis"],
                n_returns=row["n_returns"],
                net_sharpe=row["net_sharpe"],
                oos_ic=_series(row["ic_times"], row["ic_values"]),
                net_returns=_series(row["return_times"], row["return_values"]),
            )
        )
    return outcomes


def _series(times: list[int], values: list[float | None]) -> pd.Series:
    return pd.Series(
        np.array([np.nan if v is None else v for v in values], dtype=float),
        index=pd.Index(np.asarray(times, dtype=np.int64), name="bar_open_ms"),
    )


def evaluate_chunk(
    data: SweepData,
    sweep: Mapping[str, Any],
    sweep_run_key: str,
    chunk_index: int,
    trials: Sequence[Mapping[str, Any]],
) -> bytes:
    """The task a worker runs: evaluate ``trials`` (plain dicts) and return the chunk's bytes.

    Arguments are plain data (the resolved sweep, trial dicts) so a task pickles small and means
    the same on any worker; the data itself arrives once, scattered.
    """
    config = parse_sweep_config(sweep["sweep"])
    fits = _CachedFits()
    outcomes = [
        evaluate_trial(data, config, TrialSpec.from_dict(trial), fit_factors=fits)
        for trial in trials
    ]
    return encode_chunk(outcomes, sweep_run_key=sweep_run_key, chunk_index=chunk_index)
