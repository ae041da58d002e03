"""``crypto-analyzer ingest backfill | poll | import | rejects | synthetic``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from crypto_analyzer.cli import ingest_files
from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.restatements import note_restatements
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.ingest.frequencies import FREQ_MS
from crypto_analyzer.ingest.instruments import parse_symbols
from crypto_analyzer.ingest.poll import CycleReport, PollConfig
from crypto_analyzer.ingest.providers.ccxt_exchange import DEFAULT_EXCHANGES
from crypto_analyzer.ingest.providers.registry import parse_api_urls
from crypto_analyzer.ingest.service import (
    ProviderOptions,
    run_backfill,
    run_poll,
    run_synthetic,
)
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig
from crypto_analyzer.ingest.universe import UniverseFilters

__all__ = ["app"]

app = typer.Typer(
    name="ingest",
    help="Bring market data in: exchanges, DEX, files, synthetic.",
    no_args_is_help=True,
)
ingest_files.register(app)  # import (files, directories, globs) and rejects

_FREQS = ", ".join(FREQ_MS)
FreqOpt = Annotated[str, typer.Option("--freq", help=f"Bar frequency: {_FREQS}.")]
SymbolsOpt = Annotated[
    str, typer.Option("--symbols", help="Comma-separated unified symbols, e.g. BTC/USD,ETH/USD.")
]
ApiUrlOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--api-url",
        help="Override a provider's base URL: NAME=URL (repeatable), e.g. kraken=http://127.0.0.1:9000.",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Per-request timeout, seconds.", min=0.1)
]
RpsOpt = Annotated[
    float | None,
    typer.Option(
        "--max-rps", help="Override every provider's request rate (requests/second).", min=0.01
    ),
]


def _options(api_url: list[str] | None, timeout: float, max_rps: float | None) -> ProviderOptions:
    return ProviderOptions(api_urls=parse_api_urls(api_url), timeout_s=timeout, max_rps=max_rps)


class _RichProgress:
    """Backfill progress on stderr, one bar per symbol."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}

    def start(self, task: str, total: int) -> None:
        self._tasks[task] = self._progress.add_task(printable(task), total=max(total, 1))

    def advance(self, task: str, amount: int) -> None:
        self._progress.advance(self._tasks[task], amount)


@app.command("backfill")
@command_boundary
def backfill_command(
    *,
    exchange: Annotated[
        str, typer.Option("--exchange", help="Any ccxt exchange id.")
    ] = DEFAULT_EXCHANGES[0],
    symbols: SymbolsOpt,
    freq: FreqOpt = "1h",
    since: Annotated[str, typer.Option("--since", help="First bar: date or ISO time (UTC).")],
    until: Annotated[
        str | None, typer.Option("--until", help="Stop before this time (default: now).")
    ] = None,
    page_limit: Annotated[
        int, typer.Option("--page-limit", help="Candles per request.", min=1)
    ] = 300,
    api_url: ApiUrlOpt = None,
    timeout: TimeoutOpt = 10.0,
    max_rps: RpsOpt = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Fetch OHLCV candles; a rerun continues after the last stored candle (idempotent)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=json) as progress:
        settings = resolve_settings(db, tenant)
        result = run_backfill(
            settings, exchange=exchange, symbols=symbols, freq=freq,
            since=since, until=until, page_limit=page_limit,
            options=_options(api_url, timeout, max_rps),
            progress=_RichProgress(progress),
        )  # fmt: skip
    note_restatements(settings)
    if json:
        emit_json(result.to_dict())
        return
    counts = result.counts
    stdout.print(
        f"backfill {printable(result.ingest_run_id)}: {counts['n_accepted']:,} accepted, "
        f"{counts['n_rejected']:,} rejected of {counts['n_received']:,} received",
        highlight=False,
    )


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM ask the loop to stop after the current batch instead of killing it."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stderr.print(f"{signal.Signals(signum).name}: finishing the current cycle, then stopping")
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command("poll")
@command_boundary
def poll_command(
    *,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between cycles.", min=0.0)
    ] = 60.0,
    max_cycles: Annotated[
        int | None, typer.Option("--max-cycles", help="Stop after N cycles.", min=1)
    ] = None,
    exchanges: Annotated[
        str, typer.Option("--exchanges", help="Spot fallback chain, in order.")
    ] = ",".join(DEFAULT_EXCHANGES),
    symbols: SymbolsOpt = "BTC/USD,ETH/USD",
    dex_query: Annotated[
        list[str] | None, typer.Option("--dex-query", help="Universe search text (repeatable).")
    ] = None,
    no_dex: Annotated[
        bool, typer.Option("--no-dex", help="Skip DEX snapshots and universe refresh.")
    ] = False,
    min_liquidity: Annotated[
        float, typer.Option("--min-liquidity", help="Universe: min pool liquidity, USD.")
    ] = 250_000.0,
    min_volume: Annotated[
        float, typer.Option("--min-volume", help="Universe: min 24h volume, USD.")
    ] = 100_000.0,
    quotes: Annotated[
        str, typer.Option("--quotes", help="Universe: allowed quote symbols.")
    ] = "USDC,USDT,WETH,SOL",
    max_churn: Annotated[
        int, typer.Option("--max-churn", help="Universe: adds+removals per refresh.", min=0)
    ] = 5,
    api_url: ApiUrlOpt = None,
    timeout: TimeoutOpt = 10.0,
    max_rps: RpsOpt = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Spot tickers, DEX snapshots and universe refresh each cycle; SIGINT/SIGTERM stop cleanly."""
    filters = UniverseFilters(
        min_liquidity,
        min_volume,
        tuple(_names(quotes)),
        max_churn=max_churn,
    )
    config = PollConfig(
        symbols=parse_symbols(symbols),
        dex_queries=tuple(dex_query or ("WETH", "SOL")),
        interval_s=interval,
        max_cycles=max_cycles,
        filters=filters,
    )
    with _stop_on_signals() as stop:
        reports = run_poll(
            resolve_settings(db, tenant), config, exchanges=_names(exchanges), dex=not no_dex,
            options=_options(api_url, timeout, max_rps), stop=stop,
            on_cycle=None if json else _print_cycle,
        )  # fmt: skip
    if json:
        emit_json([report.to_dict() for report in reports])


def _names(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _print_cycle(report: CycleReport) -> None:
    counts = report.counts
    degraded = printable(", ".join(report.degraded))
    extra = f"; degraded (not stored): {degraded}" if report.degraded else ""
    served = printable(", ".join(sorted(set(report.served_by.values()))) or "nobody")
    stdout.print(
        f"cycle {report.cycle} {printable(report.ingest_run_id)}: "
        f"{counts.get('n_accepted', 0):,} accepted, "
        f"{counts.get('n_rejected', 0):,} rejected; served by {served}{extra}",
        highlight=False,
    )
    for error in report.errors:
        stderr.print(f"warning: {printable(error)}", highlight=False)


@app.command("synthetic")
@command_boundary
def synthetic_command(
    *,
    assets: Annotated[int, typer.Option("--assets", help="Number of assets (>= 3).", min=3)] = 50,
    days: Annotated[int, typer.Option("--days", help="Days of bars.", min=1)] = 365,
    freq: FreqOpt = "1h",
    seed: Annotated[int, typer.Option("--seed", help="Market seed.", min=0)] = 7,
    planted_ic: Annotated[
        float | None, typer.Option("--planted-ic", help="Plant a signal with this rank IC.")
    ] = None,
    snapshots_every: Annotated[
        int | None,
        typer.Option("--snapshots-every", help="Also store a snapshot every N bars.", min=1),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """The seeded synthetic market (BTC/ETH factors, GARCH, fat tails) through the ingest path."""
    config = SyntheticMarketConfig(
        assets=assets, days=days, freq=freq, seed=seed, planted_ic=planted_ic
    )
    settings = resolve_settings(db, tenant)
    result = run_synthetic(settings, config, snapshots_every=snapshots_every)
    note_restatements(settings)
    if json:
        emit_json(result)
        return
    stdout.print(
        f"synthetic market {printable(result['ingest_run_id'])}: "
        f"{result['n_accepted']:,} rows accepted, "
        f"{result['n_rejected']:,} rejected",
        highlight=False,
    )
