"""Ingest services for the interfaces: open the workspace, wire providers and resilience, run.

Each function is what one CLI command (and later an API route) calls: it resolves the database from
settings, builds providers with the per-provider rate limit, retry policy and circuit breakers whose
state is persisted in ``provider_health``, runs the job, and closes what it opened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import to_ms
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.ingest.backfill import BackfillRequest, BackfillResult, ProgressSink, backfill
from crypto_analyzer.ingest.importer import ImportOptions, ImportResult, import_ohlcv
from crypto_analyzer.ingest.instruments import parse_symbols
from crypto_analyzer.ingest.multi_import import (
    ManyResult,
    Progress,
    SymbolFrom,
    expand_sources,
    import_many,
    prepare_many,
)
from crypto_analyzer.ingest.poll import CycleReport, PollConfig, build_sources, poll
from crypto_analyzer.ingest.providers.base import RateLimit
from crypto_analyzer.ingest.providers.registry import build_provider
from crypto_analyzer.ingest.rejects import RejectsPage, list_rejects
from crypto_analyzer.ingest.resilience.breaker import DatabaseHealthStore, HealthRecord
from crypto_analyzer.ingest.resilience.guard import Resilience
from crypto_analyzer.ingest.status import provider_status
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic

__all__ = [
    "ProviderOptions",
    "parse_instant",
    "run_backfill",
    "run_import",
    "run_import_many",
    "run_poll",
    "run_rejects",
    "run_synthetic",
    "status_report",
]


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    """How to reach providers: base URL overrides, timeout, optional rate override."""

    api_urls: Mapping[str, str] | None = None
    timeout_s: float = 10.0
    max_rps: float | None = None

    @property
    def rate_limit(self) -> RateLimit | None:
        if self.max_rps is None:
            return None
        return RateLimit(per_second=self.max_rps, burst=max(1, int(self.max_rps)))


def parse_instant(text: str, *, name: str = "--since") -> int:
    """``2024-01-01`` or ``2024-01-01T06:00:00Z`` → epoch ms (no offset means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{name} {text!r} is not a date or ISO-8601 time",
            "e.g. 2024-01-01 or 2024-01-01T00:00Z",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_ms(moment)


def _resilience(engine: Engine, tenant: str) -> Resilience:
    return Resilience(store=DatabaseHealthStore(engine, tenant_id=tenant))


def run_backfill(
    settings: Settings,
    *,
    exchange: str,
    symbols: str | Sequence[str],
    freq: str,
    since: str,
    until: str | None = None,
    page_limit: int = 300,
    options: ProviderOptions | None = None,
    progress: ProgressSink | None = None,
) -> BackfillResult:
    """``ingest backfill``: resumable exchange OHLCV backfill."""
    chosen = options or ProviderOptions()
    request = BackfillRequest(
        exchange=exchange,
        symbols=parse_symbols(symbols),
        freq=freq,
        since_ms=parse_instant(since),
        until_ms=parse_instant(until, name="--until") if until else None,
        page_limit=page_limit,
    )
    provider = build_provider(
        exchange,
        api_urls=chosen.api_urls,
        timeout_s=chosen.timeout_s,
        rate_limit=chosen.rate_limit,
    )
    try:
        with open_engine(settings, read_only=False) as engine:
            return backfill(
                engine,
                request,
                provider,
                tenant_id=settings.tenant,
                resilience=_resilience(engine, settings.tenant),
                progress=progress,
            )
    finally:
        provider.close()


def run_poll(
    settings: Settings,
    config: PollConfig,
    *,
    exchanges: Sequence[str],
    dex: bool = True,
    options: ProviderOptions | None = None,
    stop: threading.Event | None = None,
    on_cycle: Callable[[CycleReport], None] | None = None,
) -> list[CycleReport]:
    """``ingest poll``: cycles until ``stop`` is set (signals) or ``max_cycles``."""
    chosen = options or ProviderOptions()
    with open_engine(settings, read_only=False) as engine:
        sources = build_sources(
            exchanges,
            _resilience(engine, settings.tenant),
            dex=dex,
            api_urls=chosen.api_urls,
            timeout_s=chosen.timeout_s,
            rate_limit=chosen.rate_limit,
        )
        try:
            return poll(
                engine,
                sources,
                config,
                stop=stop or threading.Event(),
                tenant_id=settings.tenant,
                on_cycle=on_cycle,
            )
        finally:
            sources.close()


def run_import(
    settings: Settings,
    path: Path,
    *,
    venue: str,
    symbol: str,
    freq: str,
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "auto",
    options: ImportOptions | None = None,
) -> ImportResult:
    """``ingest import FILE --symbol S``: one CSV/Parquet file as one ingest run."""
    with open_engine(settings, read_only=False) as engine:
        return import_ohlcv(
            engine,
            path,
            venue=venue,
            symbol=symbol,
            freq=freq,
            mapping=mapping,
            time_unit=time_unit,
            options=options,
            tenant_id=settings.tenant,
        )


def run_import_many(
    settings: Settings,
    source: str | Path,
    *,
    venue: str,
    freq: str,
    symbol_from: SymbolFrom,
    quote: str = "USD",
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ManyResult:
    """``ingest import DIR_OR_GLOB --symbol-from …``: every file checked, then one run each."""
    paths = expand_sources(source)
    prepared = prepare_many(
        paths, venue=venue, freq=freq, symbol_from=symbol_from, quote=quote,
        options=options, progress=progress,
    )  # fmt: skip
    with open_engine(settings, read_only=False) as engine:
        return import_many(engine, prepared, tenant_id=settings.tenant, progress=progress)


def run_rejects(
    settings: Settings, *, run_id: str | None = None, reason: str | None = None, limit: int = 100
) -> RejectsPage:
    """``ingest rejects``: the quarantine, filtered (read-only)."""
    with open_engine(settings, read_only=True) as engine:
        return list_rejects(
            engine, tenant_id=settings.tenant, run_id=run_id, reason=reason, limit=limit
        )


def run_synthetic(
    settings: Settings, config: SyntheticMarketConfig, *, snapshots_every: int | None = None
) -> dict[str, Any]:
    """``ingest synthetic``: the seeded market through the ingest path."""
    with open_engine(settings, read_only=False) as engine:
        return ingest_synthetic(
            engine, config, tenant_id=settings.tenant, snapshots_every=snapshots_every
        )


def status_report(settings: Settings) -> list[HealthRecord]:
    """``providers status``: breaker state per provider and data kind (read-only)."""
    with open_engine(settings, read_only=True) as engine:
        return provider_status(engine, settings.tenant)
