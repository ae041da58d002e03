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

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.progress import NO_PROGRESS, ProgressSink
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.db.schema import bars, ingest_runs, price_snapshots
from crypto_analyzer.ingest.frequencies import FREQ_MS, MATERIALIZE_FREQS, parse_freq

__all__ = ["NATIVE_SOURCES", "MaterializeResult", "compute_bars", "materialize_bars"]

NATIVE_SOURCES = ("exchange", "import", "synthetic")
_CHUNK = 500
_OUT = ("instrument_id", "freq", "bar_open_ms", "open", "high", "low", "close", "volume", "vwap")


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
) -> MaterializeResult:
    """Materialize ``freq`` bars for everything new since the last run (or everything: ``full``).

    ``progress`` counts instruments as their bars are built (then one step for the write).
    """
    sink = progress or NO_PROGRESS
    label = parse_freq(freq, allowed=MATERIALIZE_FREQS)
    step = FREQ_MS[label]
    finer = tuple(f for f in FREQ_MS if FREQ_MS[f] < step and step % FREQ_MS[f] == 0)
    finished, running = _source_runs(engine, tenant_id, label)
    scope = None if full else [*finished, *running]
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    params = {"freq": label, "full": full, "source_runs": sorted(finished)}
    run = writer.start_run("materialize", "materialize", params)
    try:
        ranges = _touched_ranges(engine, tenant_id, scope, (*finer, label), step)
        names = sorted(ranges)
        task = f"materialize {label} bars (instruments)"
        sink.start(task, len(names))
        frames = []
        for chunk in (names[i : i + _CHUNK] for i in range(0, len(names), _CHUNK)):
            frames.append(
                _materialize_ranges(engine, tenant_id, {n: ranges[n] for n in chunk}, label, finer)
            )
            sink.advance(task, len(chunk))
        built = pd.concat(frames, ignore_index=True) if frames else _empty()
        gaps = int(built["gap_before"].sum()) if len(built) else 0
        built = built[~built["native"].to_numpy(dtype=bool)]
        sink.start(f"materialize {label} bars: write", 1)
        by_source = _write(writer, run, built)
        sink.advance(f"materialize {label} bars: write", 1)
    except BaseException as exc:
        writer.finish_run(run, "failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    counts = dict(writer.finish_run(run, "succeeded"))
    return MaterializeResult(
        run.ingest_run_id, label, len(ranges), len(built), gaps, by_source, counts
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


def _source_runs(engine: Engine, tenant_id: str, freq: str) -> tuple[list[str], list[str]]:
    """(finished but not yet consumed, still running) source ingest runs for this frequency."""
    runs = ingest_runs
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(runs.c.ingest_run_id, runs.c.kind, runs.c.status, runs.c.params_json).where(
                runs.c.tenant_id == tenant_id
            )
        ).all()
    consumed: set[str] = set()
    for _, kind, status, params_json in rows:
        if kind == "materialize" and status == "succeeded":
            params = json.loads(params_json)
            if params.get("freq") == freq:
                consumed.update(params.get("source_runs", []))
    finished = sorted(
        run_id
        for run_id, kind, status, _ in rows
        if kind != "materialize" and status != "running" and run_id not in consumed
    )
    running = sorted(
        run_id for run_id, kind, status, _ in rows if kind != "materialize" and status == "running"
    )
    return finished, running


def _touched_ranges(
    engine: Engine,
    tenant_id: str,
    scope: Sequence[str] | None,
    freqs: Sequence[str],
    step: int,
) -> dict[str, tuple[int, int]]:
    """Per instrument, the bucket range [first touched, last touched] (``scope`` None: all).

    Touches come from snapshots and from native bars at ``freqs``: the finer ones and the target
    itself (a new native bar changes the next bucket's log return)."""
    queries = []
    snaps = price_snapshots
    candle = bars
    base_snap = sa.select(
        snaps.c.instrument_id, sa.func.min(snaps.c.observed_ms), sa.func.max(snaps.c.observed_ms)
    ).where(snaps.c.tenant_id == tenant_id)
    base_bar = sa.select(
        candle.c.instrument_id,
        sa.func.min(candle.c.bar_open_ms),
        sa.func.max(candle.c.bar_open_ms),
    ).where(
        candle.c.tenant_id == tenant_id,
        candle.c.freq.in_(list(freqs)),
        candle.c.source.in_(NATIVE_SOURCES),
    )
    chunks = (
        [None] if scope is None else [scope[i : i + _CHUNK] for i in range(0, len(scope), _CHUNK)]
    )
    for chunk in chunks:
        snap_q, bar_q = base_snap, base_bar
        if chunk is not None:
            snap_q = snap_q.where(snaps.c.ingest_run_id.in_(chunk))
            bar_q = bar_q.where(candle.c.ingest_run_id.in_(chunk))
        queries += [snap_q.group_by(snaps.c.instrument_id), bar_q.group_by(candle.c.instrument_id)]
    ranges: dict[str, tuple[int, int]] = {}
    with engine.connect() as connection:
        for query in queries:
            for instrument, low, high in connection.execute(query):
                lo, hi = low // step * step, high // step * step
                if instrument in ranges:
                    lo, hi = min(lo, ranges[instrument][0]), max(hi, ranges[instrument][1])
                ranges[instrument] = (lo, hi)
    return ranges


def _materialize_ranges(
    engine: Engine,
    tenant_id: str,
    ranges: dict[str, tuple[int, int]],
    freq: str,
    finer: Sequence[str],
) -> pd.DataFrame:
    """For each instrument, recompute buckets ``first - 1 … last + 1`` and return ``first …``."""
    step = FREQ_MS[freq]
    window = pd.DataFrame(
        [(name, first - step, last + 2 * step, first) for name, (first, last) in ranges.items()],
        columns=["instrument_id", "lo", "hi", "first"],
    )
    lo, hi = int(window["lo"].min()), int(window["hi"].max())
    names = list(ranges)
    snap, bar = price_snapshots.c, bars.c
    with engine.connect() as connection:
        snaps = _frame(
            connection,
            sa.select(snap.instrument_id, snap.observed_ms, snap.provider, snap.price).where(
                snap.tenant_id == tenant_id, snap.instrument_id.in_(names),
                snap.observed_ms >= lo, snap.observed_ms < hi,
            ),
        )  # fmt: skip
        candles = _frame(
            connection,
            sa.select(bar.instrument_id, bar.bar_open_ms, bar.freq, bar.open, bar.high, bar.low,
                      bar.close, bar.volume, bar.vwap)
            .where(bar.tenant_id == tenant_id, bar.instrument_id.in_(names),
                   bar.freq.in_([*finer, freq]), bar.source.in_(NATIVE_SOURCES),
                   bar.bar_open_ms >= lo, bar.bar_open_ms < hi),
        )  # fmt: skip
    snaps = _within(snaps, window, "observed_ms")
    candles = _within(candles, window, "bar_open_ms")
    candles["vwap"] = pd.to_numeric(candles["vwap"], errors="coerce")
    is_native = (candles["freq"] == freq).to_numpy()
    native = candles[is_native].drop(columns=["freq"])
    built = compute_bars(snaps, candles[~is_native], native, freq)
    starts = built["instrument_id"].map(
        dict(zip(window["instrument_id"], window["first"], strict=True))
    )
    built = built[built["bar_open_ms"].to_numpy() >= starts.to_numpy()].reset_index(drop=True)
    built.insert(1, "freq", freq)
    return built


def _frame(connection: sa.Connection, query: sa.Select) -> pd.DataFrame:
    """Run a read on the DBAPI cursor: plain tuples straight into a frame.

    The bound values (tenant, instrument ids, bounds) are rendered as literals by the dialect's own
    quoting, so the statement needs no driver-specific placeholders.
    """
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled))
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame(rows, columns=names)


def _within(frame: pd.DataFrame, window: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows inside their instrument's recompute window."""
    if frame.empty:
        return frame
    merged = frame.merge(window[["instrument_id", "lo", "hi"]], on="instrument_id", how="left")
    keep = (merged[column] >= merged["lo"]) & (merged[column] < merged["hi"])
    return merged.loc[keep.to_numpy()].drop(columns=["lo", "hi"]).reset_index(drop=True)


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
