"""``crypto-analyzer report`` (alias ``reportv2``): the research run."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.progress import progress_bars
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.governance.outcomes import check_actor
from crypto_analyzer.pipeline.report.config import load_report_config
from crypto_analyzer.pipeline.report.run import ReportResult, run_report

__all__ = ["report_command"]


def _csv(value: str | None, kind: type = str) -> list | None:
    if value is None:
        return None
    try:
        return [kind(item.strip()) for item in value.split(",") if item.strip()]
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a comma-separated list of {kind.__name__}"
        ) from None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _render(result: ReportResult) -> None:
    family = result.summary["family"]
    table = Table(title=f"report {printable(result.run_instance_id)}")
    for column in ("signal", "h", "mean IC", "HAC t", "BH p", "RW p", "DSR", "net Sharpe"):
        table.add_column(column, justify="right" if column != "signal" else "left")
    for row in result.summary["hypotheses"]:
        table.add_row(
            printable(row["signal"]), printable(row["horizon"]), _fmt(row["mean_ic"], 4),
            _fmt(row["t_hac"], 2), _fmt(row["bh_p"]), _fmt(row["rw_p"]), _fmt(row["dsr"]),
            _fmt(row["net_sharpe"], 2),
        )  # fmt: skip
    stdout.print(table)
    stdout.print(
        f"family of {family['size']}: Reality Check p {_fmt(family['rc_p'])}, "
        f"SPA p {_fmt(family['spa_p'])}, PBO {_fmt(family['pbo'])}",
        highlight=False,
    )
    history = result.summary.get("research_history") or {}
    if history.get("headline"):
        stdout.print(
            f"research history: {printable(history['headline'])} (the promotion gate counts them "
            "all)",
            highlight=False,
        )
    stdout.print(
        f"dataset {printable(result.dataset.dataset_id.short)}  "
        f"run_key {printable(result.run_key[:16])}"
    )
    stdout.print(f"report  {printable(result.html_uri)}", highlight=False)


@command_boundary
def report_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Report config TOML (see docs/report.md).")
    ] = None,
    signals: Annotated[str | None, typer.Option(help="Comma-separated signal names.")] = None,
    horizons: Annotated[str | None, typer.Option(help="Comma-separated horizons in bars.")] = None,
    freq: Annotated[str | None, typer.Option(help="Bar frequency (5min, 15min, 1h, 1D).")] = None,
    bootstrap_reps: Annotated[
        int | None, typer.Option("--bootstrap-reps", help="Bootstrap draws (B) for RC/SPA/RW.")
    ] = None,
    splits: Annotated[str | None, typer.Option(help="walk_forward or cpcv.")] = None,
    test_size: Annotated[int | None, typer.Option(help="Bars per test block.")] = None,
    min_train_size: Annotated[int | None, typer.Option(help="Bars before the first test.")] = None,
    embargo: Annotated[int | None, typer.Option(help="Embargo bars after each test block.")] = None,
    capital: Annotated[float | None, typer.Option(help="Target capital for execution.")] = None,
    hypothesis: Annotated[str | None, typer.Option(help="What this run is testing.")] = None,
    actor: Annotated[str | None, typer.Option(help="Who runs it (default: OS user).")] = None,
    policy: Annotated[
        Path | None,
        typer.Option(help="Policy file the verdict judges with (default: the workspace's)."),
    ] = None,
) -> None:
    """Run signals → walk-forward → OOS IC, portfolios, family statistics → bundles and report."""
    overrides = {
        "signals": _csv(signals),
        "horizons": _csv(horizons, int),
        "freq": freq,
        "procedures.bootstrap_reps": bootstrap_reps,
        "splits.kind": splits,
        "splits.test_size": test_size,
        "splits.min_train_size": min_train_size,
        "splits.embargo": embargo,
        "portfolio.target_capital": capital,
        "hypothesis": hypothesis,
    }
    report_config = load_report_config(config, overrides)
    principal = check_actor(actor or getpass.getuser())  # the same rules as governance events
    settings = resolve_settings(db, tenant)
    with progress_bars(json=json) as progress:  # the report's stages, counted, on a terminal
        result = run_report(
            settings, report_config, actor=principal, sink=progress, policy_path=policy
        )
    if json:
        emit_json(result.to_dict())
        return
    _render(result)
