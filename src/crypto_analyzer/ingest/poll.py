"""The poll loop: spot tickers, DEX pair snapshots and a universe refresh, cycle after cycle.

Each cycle is one ingest run of kind ``poll`` (its ``provider`` lists the sources it may use); rows
name the provider that actually served them, so a fallback from Coinbase to Kraken is visible per
row. A cycle finishes its batch even when a stop is requested (SIGINT/SIGTERM set the stop event);
the loop then exits instead of sleeping. Provider failures are contained per source: the fallback
chain moves on, the breaker learns, and a degraded (last-known-good) value is reported but never
stored — it is not a new observation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import now
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.ingest.providers.base import DataKind, RateLimit
from crypto_analyzer.ingest.providers.dexscreener import MAX_PAIRS_PER_REQUEST
from crypto_analyzer.ingest.providers.errors import ProviderError
from crypto_analyzer.ingest.providers.registry import build_provider
from crypto_analyzer.ingest.resilience.fallback import FallbackChain
from crypto_analyzer.ingest.resilience.guard import Resilience
from crypto_analyzer.ingest.snapshots import store_dex_pairs, store_tickers
from crypto_analyzer.ingest.universe import (
    UniverseFilters,
    latest_allowlist,
    write_universe_refresh,
)

__all__ = ["CycleReport", "PollConfig", "PollSources", "build_sources", "poll", "run_cycle"]


@dataclass(frozen=True, slots=True)
class PollConfig:
    """What each cycle fetches and how often."""

    symbols: tuple[str, ...] = ("BTC/USD", "ETH/USD")
    dex_queries: tuple[str, ...] = ("WETH", "SOL")
    interval_s: float = 60.0
    max_cycles: int | None = None
    universe_every: int = 1
    filters: UniverseFilters = field(default_factory=UniverseFilters)

    def to_params(self) -> dict[str, Any]:
        params = asdict(self)
        params["filters"] = self.filters.to_dict()
        return params


@dataclass(frozen=True, slots=True)
class PollSources:
    """The fallback chains a cycle draws from (either may be None to skip that data)."""

    spot: FallbackChain[Any] | None
    dex: FallbackChain[Any] | None

    def close(self) -> None:
        for chain in (self.spot, self.dex):
            for member in chain.members if chain else ():
                member.close()

    @property
    def label(self) -> str:
        names = [*(self.spot.names if self.spot else ()), *(self.dex.names if self.dex else ())]
        return ",".join(dict.fromkeys(names)) or "none"


@dataclass(slots=True)
class CycleReport:
    """What one cycle did; ``degraded`` lists keys served from last-known-good (not stored)."""

    cycle: int
    ingest_run_id: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    served_by: dict[str, str] = field(default_factory=dict)
    degraded: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    universe: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "cycle": self.cycle,
            "degraded": list(self.degraded),
            "errors": list(self.errors),
            "ingest_run_id": self.ingest_run_id,
            "served_by": dict(self.served_by),
            "universe": self.universe,
        }


def build_sources(
    exchanges: Sequence[str],
    resilience: Resilience,
    *,
    dex: bool = True,
    api_urls: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    rate_limit: RateLimit | None = None,
) -> PollSources:
    """Fallback chains: spot over ``exchanges`` in order; DEX from Dexscreener."""
    spot: FallbackChain[Any] | None = None
    if exchanges:
        members = [
            resilience.guard(
                build_provider(name, api_urls=api_urls, timeout_s=timeout_s, rate_limit=rate_limit)
            )
            for name in exchanges
        ]
        spot = FallbackChain(DataKind.TICKERS, members, clock=resilience.clock)
    dex_chain: FallbackChain[Any] | None = None
    if dex:
        provider = build_provider(
            "dexscreener", api_urls=api_urls, timeout_s=timeout_s, rate_limit=rate_limit
        )
        dex_chain = FallbackChain(
            DataKind.DEX_PAIRS, [resilience.guard(provider)], clock=resilience.clock
        )
    return PollSources(spot, dex_chain)


def poll(
    engine: Engine,
    sources: PollSources,
    config: PollConfig,
    *,
    stop: threading.Event,
    tenant_id: str = "default",
    actor: str = "cli",
    on_cycle: Callable[[CycleReport], None] | None = None,
) -> list[CycleReport]:
    """Run cycles until ``stop`` is set or ``max_cycles`` is reached; returns their reports."""
    reports: list[CycleReport] = []
    cycle = 0
    while not stop.is_set():
        cycle += 1
        report = run_cycle(engine, sources, config, cycle, tenant_id=tenant_id, actor=actor)
        reports.append(report)
        if on_cycle is not None:
            on_cycle(report)
        if config.max_cycles is not None and cycle >= config.max_cycles:
            break
        stop.wait(config.interval_s)
    return reports


def run_cycle(
    engine: Engine,
    sources: PollSources,
    config: PollConfig,
    cycle: int,
    *,
    tenant_id: str = "default",
    actor: str = "cli",
) -> CycleReport:
    """One cycle as one ingest run. Interrupts mark the run ``interrupted`` and propagate."""
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    run = writer.start_run("poll", sources.label, {**config.to_params(), "cycle": cycle})
    report = CycleReport(cycle, run.ingest_run_id)
    try:
        if sources.dex is not None and (cycle - 1) % config.universe_every == 0:
            _refresh_universe(engine, writer, run, sources.dex, config, report)
        if sources.dex is not None:
            _dex_snapshots(engine, writer, run, sources.dex, report)
        if sources.spot is not None and config.symbols:
            _spot(writer, run, sources.spot, config.symbols, report)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        writer.finish_run(run, status, error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    error = "; ".join(report.errors)[:1000] or None
    report.counts = dict(writer.finish_run(run, "succeeded", error=error))
    return report


def _spot(
    writer: ProvenanceWriter,
    run: IngestRun,
    chain: FallbackChain[Any],
    symbols: Sequence[str],
    report: CycleReport,
) -> None:
    key = "spot:" + ",".join(symbols)
    try:
        served = chain.fetch(key, lambda provider: provider.fetch_tickers(symbols))
    except ProviderError as exc:
        report.errors.append(str(exc))
        return
    report.served_by[key] = served.provider
    if served.degraded:
        report.degraded.append(key)
        return
    store_tickers(writer, run, served.value, venue=served.provider, fetched_at=served.fetched_at)


def _refresh_universe(
    engine: Engine,
    writer: ProvenanceWriter,
    run: IngestRun,
    chain: FallbackChain[Any],
    config: PollConfig,
    report: CycleReport,
) -> None:
    found: list[pd.DataFrame] = []
    served_by = chain.names[0]
    moment: datetime = now()
    for query in config.dex_queries:
        key = f"search:{query}"
        try:
            # mypy cannot infer a lambda whose defaults bind loop variables
            served = chain.fetch(key, lambda provider, q=query: provider.search_dex_pairs(q))  # type: ignore[misc]
        except ProviderError as exc:
            report.errors.append(str(exc))
            continue
        report.served_by[key] = served_by = served.provider
        if served.degraded:
            report.degraded.append(key)
            continue
        moment = served.fetched_at
        stored = store_dex_pairs(
            writer, run, served.value, provider=served.provider, fetched_at=served.fetched_at
        )
        found.append(stored.accepted)
    candidates = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    decision = write_universe_refresh(
        engine, writer, run, candidates, config.filters, provider=served_by, created_at=moment
    )
    if decision is not None:
        report.universe = dict(decision.counts)


def _dex_snapshots(
    engine: Engine,
    writer: ProvenanceWriter,
    run: IngestRun,
    chain: FallbackChain[Any],
    report: CycleReport,
) -> None:
    members = latest_allowlist(engine, run.tenant_id).dropna(subset=["chain", "pair_address"])
    for network, group in members.groupby("chain", sort=True):
        addresses = list(group["pair_address"])
        for start in range(0, len(addresses), MAX_PAIRS_PER_REQUEST):
            batch = addresses[start : start + MAX_PAIRS_PER_REQUEST]
            key = f"pairs:{network}:{','.join(batch)}"
            try:
                served = chain.fetch(
                    key,
                    # mypy cannot infer a lambda whose defaults bind loop variables
                    lambda provider, n=network, b=batch: provider.fetch_dex_pairs(n, b),  # type: ignore[misc]
                )
            except ProviderError as exc:
                report.errors.append(str(exc))
                continue
            report.served_by[f"pairs:{network}"] = served.provider
            if served.degraded:
                report.degraded.append(key)
                continue
            store_dex_pairs(
                writer, run, served.value, provider=served.provider, fetched_at=served.fetched_at
            )
