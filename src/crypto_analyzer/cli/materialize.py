"""``crypto-analyzer materialize bars``."""

from __future__ import annotations

from typing import Annotated

import typer

from crypto_analyzer.cli.context import command_boundary, emit_json, resolve_settings, stdout
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.ingest.frequencies import MATERIALIZE_FREQS
from crypto_analyzer.materialize.service import run_materialize_bars

__all__ = ["app"]

app = typer.Typer(
    name="materialize",
    help="Build derived market tables (research-grid bars).",
    no_args_is_help=True,
)


@app.callback()
def group() -> None:
    """Build derived market tables (research-grid bars)."""


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
    result = run_materialize_bars(resolve_settings(db, tenant), freq, full=full)
    if json:
        emit_json(result.to_dict())
        return
    sources = ", ".join(f"{key} {value:,}" for key, value in result.by_source.items()) or "nothing"
    stdout.print(
        f"materialized {result.buckets:,} {result.freq} bar(s) over {result.instruments} "
        f"instrument(s) ({sources}); {result.gaps:,} gap bucket(s) left empty; "
        f"run {result.ingest_run_id}",
        highlight=False,
    )
