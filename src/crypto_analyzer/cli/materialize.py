"""``crypto-analyzer materialize bars|factors``."""

from __future__ import annotations

from typing import Annotated

import typer

from crypto_analyzer.cli.context import command_boundary, emit_json, resolve_settings, stdout
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.progress import progress_bars
from crypto_analyzer.cli.restatements import note_restatements
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.ingest.frequencies import MATERIALIZE_FREQS
from crypto_analyzer.materialize.service import run_materialize_bars
from crypto_analyzer.pipeline.factor_runs import run_materialize_factors

__all__ = ["app"]

app = typer.Typer(
    name="materialize",
    help="Build derived tables: research-grid bars and factor runs.",
    no_args_is_help=True,
)


@app.callback()
def group() -> None:
    """Build derived tables: research-grid bars and factor runs."""


@app.command("bars")
@command_boundary
def bars_command(
    *,
    freq: Annotated[str, typer.Option("--freq", help=f"One of {', '.join(MATERIALIZE_FREQS)}.")],
    full: Annotated[
        bool, typer.Option("--full", help="Recompute every bucket, not only those touched.")
    ] = False,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Bars from snapshots and finer candles: incremental, idempotent, gaps left as gaps."""
    settings = resolve_settings(db, tenant)
    with progress_bars(json=json) as progress:
        result = run_materialize_bars(settings, freq, full=full, progress=progress)
    note_restatements(settings)
    if json:
        emit_json(result.to_dict())
        return
    sources = (
        ", ".join(f"{printable(key)} {value:,}" for key, value in result.by_source.items())
        or "nothing"
    )
    stdout.print(
        f"materialized {result.buckets:,} {printable(result.freq)} bar(s) over "
        f"{result.instruments} instrument(s) ({sources}); {result.gaps:,} gap bucket(s) left "
        f"empty; run {printable(result.ingest_run_id)}",
        highlight=False,
    )


@app.command("factors")
@command_boundary
def factors_command(
    *,
    freq: Annotated[str, typer.Option("--freq", help="Bar frequency to fit on.")] = "1h",
    window: Annotated[int, typer.Option("--window", min=3, help="Rolling window in bars.")] = 720,
    lag: Annotated[
        int, typer.Option("--lag", min=0, help="As-of lag in bars (betas at t use data <= t-lag).")
    ] = 1,
    factors: Annotated[
        str | None,
        typer.Option("--factors", help="Comma-separated factor instrument ids (default BTC, ETH)."),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Rolling factor betas and residuals of every asset, stored once per dataset and config."""
    ids = [item.strip() for item in factors.split(",") if item.strip()] if factors else None
    settings = resolve_settings(db, tenant)
    with progress_bars(json=json) as progress:
        result = run_materialize_factors(
            settings, freq=freq, window=window, lag=lag, factor_ids=ids, progress=progress
        )
    if json:
        emit_json(result)
        return
    verb = "reused" if result["reused"] else "stored"
    stdout.print(
        f"{verb} factor run {printable(result['factor_run_id'])} ({printable(result['freq'])}, "
        f"window {result['window']}, lag {result['lag']}) on "
        f"{printable(', '.join(result['factor_ids']))} for "
        f"{result['n_assets']} asset(s) of dataset {printable(result['dataset_id'])}",
        highlight=False,
    )
