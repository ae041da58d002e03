"""``crypto-analyzer demo``: the main job end to end in a throwaway workspace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from crypto_analyzer.cli.context import command_boundary, emit_json, stderr
from crypto_analyzer.cli.options import JsonOpt

__all__ = ["demo_command"]


@command_boundary
def demo_command(
    *,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Workspace directory (default: a new temporary directory)."),
    ] = None,
    assets: Annotated[int, typer.Option("--assets", help="Synthetic assets.", min=12)] = 50,
    days: Annotated[
        int, typer.Option("--days", help="Days of hourly bars (the splits need 150).", min=150)
    ] = 365,
    seed: Annotated[int, typer.Option("--seed", help="Synthetic market seed.", min=0)] = 7,
    json: JsonOpt = False,
) -> None:
    """Run the main job end to end: data → report → candidates → promotion → audit."""
    from crypto_analyzer.cli.demo_view import render_demo
    from crypto_analyzer.pipeline.demo import DEMO_MARKET, run_demo

    market = replace(DEMO_MARKET, assets=assets, days=days, seed=seed)
    with stderr.status("running the demo (ingest, report, promotion, audit)…"):
        result = run_demo(directory, market)
    if json:
        emit_json(result.to_dict())
    else:
        render_demo(result)
    if not result.ok:
        raise typer.Exit(code=1)
