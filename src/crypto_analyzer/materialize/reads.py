"""The reads of a materialization: which source runs are new, what they touched, the rows.

Kept apart from the folding in :mod:`.bars` so each module stays one job: these functions only
read the database (cursor rows straight into frames) and never decide what a bar is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.db.schema import bars, ingest_runs, price_snapshots
from crypto_analyzer.materialize.chunks import Touched

__all__ = ["NATIVE_SOURCES", "fetch_frame", "source_runs", "touched_ranges", "within"]

NATIVE_SOURCES = ("exchange", "import", "synthetic")
_CHUNK = 500


def source_runs(engine: Engine, tenant_id: str, freq: str) -> tuple[list[str], list[str]]:
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


def touched_ranges(
    engine: Engine,
    tenant_id: str,
    scope: Sequence[str] | None,
    freqs: Sequence[str],
    step: int,
) -> dict[str, Touched]:
    """Per instrument, the bucket range [first touched, last touched] and the rows touching it
    (``scope`` None: all).

    Touches come from snapshots and from native bars at ``freqs``: the finer ones and the target
    itself (a new native bar changes the next bucket's log return)."""
    queries = []
    snaps = price_snapshots
    candle = bars
    base_snap = sa.select(
        snaps.c.instrument_id,
        sa.func.min(snaps.c.observed_ms),
        sa.func.max(snaps.c.observed_ms),
        sa.func.count(),
    ).where(snaps.c.tenant_id == tenant_id)
    base_bar = sa.select(
        candle.c.instrument_id,
        sa.func.min(candle.c.bar_open_ms),
        sa.func.max(candle.c.bar_open_ms),
        sa.func.count(),
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
    ranges: dict[str, Touched] = {}
    with engine.connect() as connection:
        for query in queries:
            for instrument, low, high, count in connection.execute(query):
                lo, hi, n = low // step * step, high // step * step, int(count)
                if instrument in ranges:
                    seen = ranges[instrument]
                    lo, hi, n = min(lo, seen.first), max(hi, seen.last), n + seen.rows
                ranges[instrument] = Touched(lo, hi, n)
    return ranges


def fetch_frame(connection: sa.Connection, query: sa.Select) -> pd.DataFrame:
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


def within(frame: pd.DataFrame, window: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows inside their instrument's recompute window."""
    if frame.empty:
        return frame
    merged = frame.merge(window[["instrument_id", "lo", "hi"]], on="instrument_id", how="left")
    keep = (merged[column] >= merged["lo"]) & (merged[column] < merged["hi"])
    return merged.loc[keep.to_numpy()].drop(columns=["lo", "hi"]).reset_index(drop=True)
