"""Exchange OHLCV backfill: resumable, idempotent, one ingest run per invocation.

For each symbol the cursor starts after the last candle already stored for that instrument and
frequency (or at ``since`` on a first run), and pages forward with ``since``/``limit`` until the
last *closed* bar before the end — there is no page cap, so a long range is fetched completely. An
empty page means a gap in trading (some venues return nothing for quiet windows), so the cursor
jumps one page ahead rather than stopping. Each page is validated as a batch; its rejects are
written before its bars, so a crash between the two never loses the reason for a dropped record (a
rerun refetches the page). Every write is an upsert keyed by the bar, so an interrupted run followed
by a rerun ends with exactly the rows of an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import now, now_ms, to_iso, to_ms
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.progress import ProgressSink
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.db.schema import bars
from crypto_analyzer.ingest.frequencies import FREQ_MS, parse_freq
from crypto_analyzer.ingest.instruments import (
    exchange_instruments,
    instrument_id,
    parse_symbols,
)
from crypto_analyzer.ingest.parsing import candle_rows_frame
from crypto_analyzer.ingest.providers.base import DataKind, MarketDataProvider
from crypto_analyzer.ingest.resilience.guard import GuardedProvider, Resilience
from crypto_analyzer.ingest.validation import check_candles

__all__ = [
    "BAR_COLUMNS",
    "BackfillRequest",
    "BackfillResult",
    "ProgressSink",
    "backfill",
    "last_stored_bar",
]

BAR_COLUMNS = ("instrument_id", "freq", "bar_open_ms", "open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class BackfillRequest:
    """What to fetch: one exchange, some symbols, one frequency, from ``since_ms`` on."""

    exchange: str
    symbols: tuple[str, ...]
    freq: str
    since_ms: int
    until_ms: int | None = None
    page_limit: int = 300

    def __post_init__(self) -> None:
        object.__setattr__(self, "freq", parse_freq(self.freq))
        object.__setattr__(self, "symbols", parse_symbols(self.symbols))
        if self.page_limit < 1:
            raise ValidationError(f"page limit must be >= 1, got {self.page_limit}")
        if self.until_ms is not None and self.until_ms <= self.since_ms:
            raise ValidationError("--until must be after --since")


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """Outcome: the run, its counts, and per symbol where the cursor started and ended."""

    ingest_run_id: str
    status: str
    counts: Mapping[str, int]
    symbols: Mapping[str, Mapping[str, int | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingest_run_id": self.ingest_run_id,
            "status": self.status,
            **dict(self.counts),
            "symbols": {symbol: dict(detail) for symbol, detail in self.symbols.items()},
        }


def last_stored_bar(engine: Engine, tenant_id: str, instrument: str, freq: str) -> int | None:
    """Open time (ms) of the newest stored bar of ``instrument`` at ``freq``, if any."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.max(bars.c.bar_open_ms)).where(
                bars.c.tenant_id == tenant_id,
                bars.c.instrument_id == instrument,
                bars.c.freq == freq,
            )
        ).scalar_one()


def backfill(
    engine: Engine,
    request: BackfillRequest,
    provider: MarketDataProvider,
    *,
    tenant_id: str = "default",
    actor: str = "cli",
    resilience: Resilience | None = None,
    progress: ProgressSink | None = None,
) -> BackfillResult:
    """Fetch and store candles for every symbol of ``request``; see the module docstring."""
    guard = (resilience or Resilience()).guard(provider)
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    run = writer.start_run("backfill", provider.name, asdict(request))
    detail: dict[str, dict[str, int | None]] = {}
    try:
        writer.upsert_instruments(run, exchange_instruments(provider.name, request.symbols))
        for symbol in request.symbols:
            detail[symbol] = _backfill_symbol(engine, writer, run, guard, request, symbol, progress)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        writer.finish_run(run, status, error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    counts = writer.finish_run(run, "succeeded")
    return BackfillResult(run.ingest_run_id, "succeeded", counts, detail)


def _backfill_symbol(
    engine: Engine,
    writer: ProvenanceWriter,
    run: IngestRun,
    guard: GuardedProvider,
    request: BackfillRequest,
    symbol: str,
    progress: ProgressSink | None,
) -> dict[str, int | None]:
    step = FREQ_MS[request.freq]
    instrument = instrument_id(guard.name, symbol)
    stored = last_stored_bar(engine, run.tenant_id, instrument, request.freq)
    first = -(-request.since_ms // step) * step  # first bar open at or after since
    cursor = max(first, stored + step) if stored is not None else first
    end = request.until_ms if request.until_ms is not None else now_ms()
    last_open = (end // step) * step - step  # newest bar that has closed by `end`
    if progress is not None:
        progress.start(symbol, max(0, (last_open - cursor) // step + 1))
    start = cursor
    while cursor <= last_open:
        since = cursor
        limit = min(request.page_limit, (last_open - since) // step + 1)  # never past the end
        page = guard.call(
            DataKind.CANDLES,
            # mypy cannot infer a lambda whose defaults bind loop variables
            lambda p, since=since, limit=limit: p.fetch_candles(symbol, request.freq, since, limit),  # type: ignore[misc]
        )
        fetched_at = now()
        frame = candle_rows_frame(page, instrument_id=instrument, freq=request.freq)
        checked = check_candles(frame, freq_ms=step, now_ms=to_ms(fetched_at))
        writer.write_rejects(run, checked.rejects)
        writer.write_bars(
            run,
            checked.accepted.loc[:, list(BAR_COLUMNS)],
            source="exchange",
            fetched_at=to_iso(fetched_at),
        )
        newest = _newest_open(frame, since, last_open)
        cursor = newest + step if newest is not None else since + limit * step
        if progress is not None:
            progress.advance(symbol, (min(cursor, last_open + step) - since) // step)
    return {"from_ms": start, "to_ms": cursor - step if cursor > start else None}


def _newest_open(frame: pd.DataFrame, since: int, last_open: int) -> int | None:
    """Newest bar time in the page within ``[since, last_open]`` (None: nothing new).

    Clipping at ``last_open`` keeps one bogus far-future timestamp from ending the backfill early.
    """
    times = pd.to_numeric(frame["bar_open_ms"].where(_plain_numbers(frame["bar_open_ms"])))
    times = times[(times >= since) & (times <= last_open)]
    return int(times.max()) if len(times) else None


def _plain_numbers(column: pd.Series) -> pd.Series:
    return column.map(type).isin((int, float))
