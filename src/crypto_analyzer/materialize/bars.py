"""Bars materialization: research-grid OHLCV bars from snapshots and from finer candles.

A bar is labelled by its open time (UTC epoch milliseconds; ``1D`` bars open at UTC midnight) and
covers ``[open, open + freq)``. Per instrument and bucket the source is, in order of preference:

1. finer native candles (``exchange``/``import``/``synthetic`` bars whose length divides ``freq``;
   the coarsest such length present in the bucket) → ``source='resampled'``: open of the first,
   max high, min low, close of the last, summed volume, and VWAP as the volume-weighted mean of the
   finer VWAPs when every finer bar has one; ``status='suspect'`` when finer bars are missing;
2. price snapshots (all providers, ordered by observation time then provider) →
   ``source='snapshots'``: first/max/min/last price. Snapshots carry no traded volume, so volume is
   0 and VWAP is NULL.

A bucket that already holds a native bar at ``freq`` is never overwritten (the native bar still
anchors its neighbours' returns). ``log_return`` is ``ln(close_b / close_{b-1})`` when the previous
bucket has a bar, else NULL: gaps stay gaps (they are counted, never filled or bridged).

Incremental and idempotent. Each run of kind ``materialize`` records (``params_json``) the finished
source ingest runs it consumed. The next run looks only at rows of runs not yet consumed — plus runs
still ``running``, which are re-examined until they finish — and recomputes, per instrument, the
buckets those rows touch, one bucket of context before them and the bucket after them (whose log
return depends on the last touched close). Rows are written through the provenance writer, whose
upsert leaves identical rows untouched: materializing twice changes nothing, and materializing
after appending data gives the rows a single full materialization would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.progress import NO_PROGRESS, ProgressSink
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.db.schema import bars, price_snapshots
from crypto_analyzer.ingest.frequencies import FREQ_MS, MATERIALIZE_FREQS, parse_freq
from crypto_analyzer.materialize.chunks import (
    DEFAULT_BUDGET,
    ChunkBudget,
    Touched,
    instrument_groups,
    time_windows,
)
from crypto_analyzer.materialize.reads import (
    NATIVE_SOURCES,
    fetch_frame,
    source_runs,
    touched_ranges,
    within,
)

__all__ = ["NATIVE_SOURCES", "MaterializeResult", "compute_bars", "materialize_bars"]

_OUT = ("instrument_id", "freq", "bar_open_ms", "open", "high", "low", "close", "volume", "vwap")
_KEPT = [*_OUT, "log_return", "source", "status"]
_CARRIED = ["instrument_id", "bar_open_ms", "open", "high", "low", "close", "volume", "vwap"]


@dataclass(frozen=True, slots=True)
class MaterializeResult:
    """What a materialization wrote and found."""

    ingest_run_id: str
    freq: str
    instruments: int
    buckets: int
    gaps: int
    by_source: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "buckets": self.buckets,
            "by_source": dict(self.by_source),
            "freq": self.freq,
            "gaps": self.gaps,
            "ingest_run_id": self.ingest_run_id,
            "instruments": self.instruments,
            **self.counts,
        }


def materialize_bars(
    engine: Engine,
    freq: str,
    *,
    tenant_id: str = "default",
    actor: str = "cli",
    full: bool = False,
    progress: ProgressSink | None = None,
    budget: ChunkBudget = DEFAULT_BUDGET,
) -> MaterializeResult:
    """Materialize ``freq`` bars for everything new since the last run (or everything: ``full``).

    The source rows are read and folded piece by piece (``budget``: instruments × time windows,
    see :mod:`.chunks`), so memory follows the piece and the output, not the whole panel; the
    rows written are the same for any budget. ``progress`` counts instruments as their bars are
    built (then one step for the write).
    """
    sink = progress or NO_PROGRESS
    label = parse_freq(freq, allowed=MATERIALIZE_FREQS)
    step = FREQ_MS[label]
    finer = tuple(f for f in FREQ_MS if FREQ_MS[f] < step and step % FREQ_MS[f] == 0)
    finished, running = source_runs(engine, tenant_id, label)
    scope = None if full else [*finished, *running]
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    params = {"freq": label, "full": full, "source_runs": sorted(finished)}
    run = writer.start_run("materialize", "materialize", params)
    try:
        touched = touched_ranges(engine, tenant_id, scope, (*finer, label), step)
        task = f"materialize {label} bars (instruments)"
        sink.start(task, len(touched))
        gaps, parts = 0, []
        for names in instrument_groups(list(touched), budget):
            group = {name: touched[name] for name in names}
            built = _materialize_group(engine, tenant_id, group, label, finer, budget)
            gaps += int(built["gap_before"].sum()) if len(built) else 0
            parts.append(built.loc[~built["native"].to_numpy(dtype=bool), _KEPT])
            sink.advance(task, len(names))
        built = pd.concat(parts, ignore_index=True) if parts else _empty()
        sink.start(f"materialize {label} bars: write", 1)
        by_source = _write(writer, run, built)
        sink.advance(f"materialize {label} bars: write", 1)
    except BaseException as exc:
        writer.finish_run(run, "failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    counts = dict(writer.finish_run(run, "succeeded"))
    return MaterializeResult(
        run.ingest_run_id, label, len(touched), len(built), gaps, by_source, counts
    )


def compute_bars(
    snapshots: pd.DataFrame,
    candles: pd.DataFrame,
    native: pd.DataFrame,
    freq: str,
) -> pd.DataFrame:
    """Pure core: the bar series at ``freq`` and which rows to write, for one or many instruments.

    ``snapshots``: ``observed_ms, provider, price``; ``candles`` (finer): ``bar_open_ms, freq,
    open, high, low, close, volume, vwap``; ``native``: bars already stored at ``freq`` from a
    native source (``bar_open_ms, open, high, low, close, volume, vwap``); each may carry an
    ``instrument_id`` column (absent: one instrument). Native bars take part in the series — a
    return after one uses its close, and it closes a gap — but are flagged ``native`` and never
    rewritten. Returns ``[instrument_id,] bar_open_ms, open, high, low, close, volume, vwap,
    log_return, source, status, gap_before, native`` sorted by instrument and time.
    """
    step = FREQ_MS[freq]
    single = "instrument_id" not in snapshots.columns
    frames = [_keyed(frame, single) for frame in (snapshots, candles, native)]
    parts = []
    if len(frames[2]):
        parts.append(frames[2].assign(source="native", status="ok", priority=-1)[list(_COLUMNS)])
    if len(frames[1]):
        parts.append(_from_candles(frames[1], step))
    if len(frames[0]):
        parts.append(_from_snapshots(frames[0], step))
    if not parts:
        out = _empty().drop(columns=["freq"])
        return out.drop(columns=["instrument_id"]) if single else out
    merged = pd.concat(parts, ignore_index=True)
    merged = merged.sort_values(["instrument_id", "bar_open_ms", "priority"], kind="stable")
    merged = merged.drop_duplicates(["instrument_id", "bar_open_ms"], keep="first")
    merged = merged.reset_index(drop=True)
    names = merged["instrument_id"].to_numpy(dtype=object)
    opens = merged["bar_open_ms"].to_numpy(dtype=np.int64)
    close = merged["close"].to_numpy(dtype=np.float64)
    same = np.concatenate([[False], names[1:] == names[:-1]])
    step_back = np.concatenate([[0], np.diff(opens)])
    log_return = np.full(len(merged), np.nan)
    log_return[1:] = np.log(close[1:] / close[:-1])
    merged["log_return"] = np.where(same & (step_back == step), log_return, np.nan)
    merged["gap_before"] = np.where(same, step_back // step - 1, 0).astype(np.int64)
    merged["native"] = merged["priority"].to_numpy() < 0
    merged = merged.drop(columns=["priority"])
    return merged.drop(columns=["instrument_id"]) if single else merged


_COLUMNS = (
    "instrument_id", "bar_open_ms", "open", "high", "low", "close", "volume", "vwap", "source",
    "status", "priority",
)  # fmt: skip


def _keyed(frame: pd.DataFrame, single: bool) -> pd.DataFrame:
    return frame.assign(instrument_id="") if single else frame


# -- sources -------------------------------------------------------------------------------


def _from_candles(candles: pd.DataFrame, step: int) -> pd.DataFrame:
    frame = candles.assign(
        length=candles["freq"].map(dict(FREQ_MS)).to_numpy(dtype=np.int64),
        bucket=candles["bar_open_ms"].to_numpy(dtype=np.int64) // step * step,
    )
    keys = ["instrument_id", "bucket"]
    coarsest = frame.groupby(keys, sort=False)["length"].transform("max")
    frame = frame[frame["length"] == coarsest].sort_values([*keys, "bar_open_ms"], kind="stable")
    frame = frame.assign(weighted=frame["vwap"] * frame["volume"], has_vwap=frame["vwap"].notna())
    grouped = frame.groupby(keys, sort=True)
    out = grouped.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        weighted=("weighted", "sum"),
        all_vwap=("has_vwap", "all"),
        count=("bar_open_ms", "count"),
        length=("length", "first"),
    )
    complete = out["count"] == step // out["length"]
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = out["weighted"] / out["volume"]
    out["vwap"] = vwap.where(out["all_vwap"] & (out["volume"] > 0)).clip(out["low"], out["high"])
    out["source"] = "resampled"
    out["status"] = np.where(complete, "ok", "suspect")
    out["priority"] = 0
    out = out.reset_index().rename(columns={"bucket": "bar_open_ms"})
    return out[list(_COLUMNS)]


def _from_snapshots(snapshots: pd.DataFrame, step: int) -> pd.DataFrame:
    frame = snapshots.sort_values(["instrument_id", "observed_ms", "provider"], kind="stable")
    frame = frame.assign(bar_open_ms=frame["observed_ms"].to_numpy(dtype=np.int64) // step * step)
    out = frame.groupby(["instrument_id", "bar_open_ms"], sort=True).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
    )
    out = out.reset_index()
    out["volume"] = 0.0
    out["vwap"] = np.nan
    out["source"] = "snapshots"
    out["status"] = "ok"
    out["priority"] = 1
    return out[list(_COLUMNS)]


# -- database ------------------------------------------------------------------------------


def _materialize_group(
    engine: Engine,
    tenant_id: str,
    touched: dict[str, Touched],
    freq: str,
    finer: Sequence[str],
    budget: ChunkBudget,
) -> pd.DataFrame:
    """One group of instruments, window by window; each window starts from the bar before it
    (``carry``), so the group's rows are those of one pass over its whole range."""
    step = FREQ_MS[freq]
    window = pd.DataFrame(
        [(name, t.first - step, t.last + 2 * step, t.first) for name, t in touched.items()],
        columns=["instrument_id", "lo", "hi", "first"],
    )
    carry = pd.DataFrame(columns=_CARRIED)
    parts = []
    for lo, hi in time_windows(touched, step, budget):
        built = _materialize_window(engine, tenant_id, window, (lo, hi), carry, freq, finer)
        if len(built):
            last = built.drop_duplicates("instrument_id", keep="last")
            carry = pd.concat(
                [carry[~carry["instrument_id"].isin(last["instrument_id"])],
                 last[_CARRIED]],
                ignore_index=True,
            )  # fmt: skip
            starts = built["instrument_id"].map(
                dict(zip(window["instrument_id"], window["first"], strict=True))
            )
            keep = built["bar_open_ms"].to_numpy() >= np.maximum(starts.to_numpy(), lo)
            parts.append(built[keep])
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["instrument_id", "bar_open_ms"], kind="stable").reset_index(drop=True)
    out.insert(1, "freq", freq)
    return out


def _materialize_window(
    engine: Engine,
    tenant_id: str,
    window: pd.DataFrame,
    bounds: tuple[int, int],
    carry: pd.DataFrame,
    freq: str,
    finer: Sequence[str],
) -> pd.DataFrame:
    """The bars of ``[lo, hi)`` for the instruments of ``window`` (each within its own recompute
    window), with the carried previous bars as context; every bucket computed, context included."""
    lo, hi = bounds
    names = window["instrument_id"].tolist()
    snap, bar = price_snapshots.c, bars.c
    with engine.connect() as connection:
        snaps = fetch_frame(
            connection,
            sa.select(snap.instrument_id, snap.observed_ms, snap.provider, snap.price).where(
                snap.tenant_id == tenant_id, snap.instrument_id.in_(names),
                snap.observed_ms >= lo, snap.observed_ms < hi,
            ),
        )  # fmt: skip
        candles = fetch_frame(
            connection,
            sa.select(bar.instrument_id, bar.bar_open_ms, bar.freq, bar.open, bar.high, bar.low,
                      bar.close, bar.volume, bar.vwap)
            .where(bar.tenant_id == tenant_id, bar.instrument_id.in_(names),
                   bar.freq.in_([*finer, freq]), bar.source.in_(NATIVE_SOURCES),
                   bar.bar_open_ms >= lo, bar.bar_open_ms < hi),
        )  # fmt: skip
    snaps = within(snaps, window, "observed_ms")
    candles = within(candles, window, "bar_open_ms")
    if snaps.empty and candles.empty:
        return _empty().drop(columns=["freq"])
    candles["vwap"] = pd.to_numeric(candles["vwap"], errors="coerce")
    is_native = (candles["freq"] == freq).to_numpy()
    native = candles[is_native].drop(columns=["freq"])
    if len(carry):  # the bar before the window: a context row like a native one, never written
        native = pd.concat([carry, native], ignore_index=True) if len(native) else carry.copy()
    return compute_bars(snaps, candles[~is_native], native, freq)


def _write(writer: ProvenanceWriter, run: IngestRun, built: pd.DataFrame) -> dict[str, int]:
    by_source: dict[str, int] = {}
    for (source, status), group in built.groupby(["source", "status"], sort=True):
        columns = [*_OUT, "log_return"]
        writer.write_bars(run, group.loc[:, columns], source=source, status=status)
        by_source[f"{source}/{status}"] = len(group)
    return by_source


def _empty() -> pd.DataFrame:
    columns = [*_OUT, "log_return", "source", "status", "gap_before", "native"]
    return pd.DataFrame(columns=columns).astype(
        {"bar_open_ms": np.int64, "gap_before": np.int64, "native": bool}
    )
