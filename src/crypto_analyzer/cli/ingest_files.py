"""``crypto-analyzer ingest import`` (one file, a directory or a glob) and ``ingest rejects``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.ingest.file_checks import CRYPTO_EARLIEST_MS
from crypto_analyzer.ingest.file_reader import TIME_UNITS, ReadOptions, column_help
from crypto_analyzer.ingest.frequencies import FREQ_MS
from crypto_analyzer.ingest.importer import ImportOptions, ImportResult, parse_column_map
from crypto_analyzer.ingest.service import parse_instant, run_import, run_import_many, run_rejects

__all__ = ["IMPORT_HELP", "register"]

IMPORT_HELP = (
    "Import OHLCV candles from a CSV/Parquet file, a directory or a quoted glob. "
    "File problems (columns, spacing vs --freq, implausible or unparseable times) stop the "
    "import before anything is written; bad rows are quarantined, and a file with more than "
    "--max-rejected of its rows quarantined is refused as a whole. "
    f"Accepted column names (case-insensitive) — {column_help()}; "
    "override any with --map FIELD=COLUMN."
)


class _Bar:
    """Per-phase progress on stderr (checking files, then importing)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}

    def start(self, task: str, total: int) -> None:
        self._tasks[task] = self._progress.add_task(task, total=max(total, 1))

    def advance(self, task: str, amount: int) -> None:
        self._progress.advance(self._tasks[task], amount)


def import_command(
    source: Annotated[
        str, typer.Argument(help="A CSV/Parquet file, a directory, or a quoted glob ('d/*.csv').")
    ],
    *,
    venue: Annotated[str, typer.Option("--venue", help="Venue the candles come from.")],
    freq: Annotated[str, typer.Option("--freq", help=f"Bar frequency: {', '.join(FREQ_MS)}.")],
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="Unified symbol of a one-instrument file.")
    ] = None,
    symbol_from: Annotated[
        Literal["filename", "column"] | None,
        typer.Option(
            "--symbol-from",
            help="Many instruments: symbol from each file's name (BTC-USD.csv) or its "
            "'symbol' column.",
        ),
    ] = None,
    quote: Annotated[
        str, typer.Option("--quote", help="Quote for bare symbols (AAPL → AAPL/USD).")
    ] = "USD",
    column_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN, e.g. time=open_time (repeatable)."),
    ] = None,
    time_unit: Annotated[
        str, typer.Option("--time-unit", help=f"Epoch unit: {', '.join(TIME_UNITS)}.")
    ] = "auto",
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help="strptime format of text times, e.g. %d/%m/%Y."),
    ] = None,
    delimiter: Annotated[
        str, typer.Option("--delimiter", help="CSV field separator (',', ';', tab).")
    ] = ",",
    encoding: Annotated[
        str, typer.Option("--encoding", help="File encoding, e.g. utf-8, latin-1.")
    ] = "utf-8",
    earliest: Annotated[
        str,
        typer.Option(
            "--earliest",
            help="Refuse bars before this date (crypto: 2009-01-01); 'any' allows all.",
        ),
    ] = "2009-01-01",
    max_rejected: Annotated[
        float,
        typer.Option(
            "--max-rejected", help="Refuse a file above this quarantined share.", min=0.0, max=1.0
        ),
    ] = 0.5,
    keep_partial: Annotated[
        bool, typer.Option("--keep-partial", help="Store the good rows of a refused file.")
    ] = False,
    outliers: Annotated[
        Literal["warn", "quarantine"],
        typer.Option("--outliers", help="Reverting spikes and zero-volume stretches."),
    ] = "warn",
    jump_mads: Annotated[
        float, typer.Option("--jump-mads", help="Spike threshold in robust deviations.", min=1.0)
    ] = 15.0,
    zero_volume_bars: Annotated[
        int, typer.Option("--zero-volume-bars", help="Flag zero-volume runs this long.", min=1)
    ] = 24,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    if (symbol is None) == (symbol_from is None):
        raise ValidationError(
            "pass exactly one of --symbol (one instrument) or --symbol-from filename|column",
            "e.g. --symbol BTC/USD, or --symbol-from filename for a directory",
        )
    options = ImportOptions(
        read=ReadOptions(
            mapping=parse_column_map(column_map),
            time_unit=time_unit,
            delimiter=delimiter,
            encoding=encoding,
            date_format=date_format,
            earliest_ms=None
            if earliest.strip().lower() == "any"
            else (
                CRYPTO_EARLIEST_MS
                if earliest == "2009-01-01"
                else parse_instant(earliest, name="--earliest")
            ),
        ),
        max_reject_share=max_rejected,
        keep_partial=keep_partial,
        outliers=outliers,
        jump_mads=jump_mads,
        zero_volume_bars=zero_volume_bars,
    )
    settings = resolve_settings(db, tenant)
    if symbol is not None:
        result = run_import(
            settings, Path(source), venue=venue, symbol=symbol, freq=freq, options=options
        )
        note_restatements(settings)
        _warn(result)
        if json:
            emit_json(result.to_dict())
        else:
            _print_result(result)
        return
    assert symbol_from is not None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=stderr, transient=json) as progress:
        many = run_import_many(
            settings, source, venue=venue, freq=freq, symbol_from=symbol_from, quote=quote,
            options=options, progress=_Bar(progress),
        )  # fmt: skip
    note_restatements(settings)
    for result in many.results:
        _warn(result)
    if json:
        emit_json(many.to_dict())
    else:
        for result in many.results:
            _print_result(result)
    if many.refused:
        raise ValidationError(
            f"{len(many.refused)} file(s) refused, the others were imported: "
            + "; ".join(many.refused),
            "see `ingest rejects --run RUN`; fix those files or pass --keep-partial",
        )


def rejects_command(
    *,
    run: Annotated[str | None, typer.Option("--run", help="Only this ingest run.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only this reason code, e.g. high_below_low.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown.", min=1)] = 100,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Quarantined records with their reason, file line / payload and ingest run."""
    page = run_rejects(resolve_settings(db, tenant), run_id=run, reason=reason, limit=limit)
    if json:
        emit_json(page.to_dict())
        return
    ranked = sorted(page.reason_counts.items(), key=lambda item: (-item[1], item[0]))
    counts = ", ".join(f"{code} {n:,}" for code, n in ranked)
    stdout.print(
        f"{page.total:,} quarantined record(s){': ' + printable(counts) if counts else ''}",
        highlight=False,
    )
    for row in page.rows:
        where = f"line {row.line}" if row.line is not None else f"#{row.seq}"
        stdout.print(
            f"{printable(row.ingest_run_id)} {printable(row.provider)} {where}: "
            f"{printable(row.reason)} | {printable(row.raw_payload[:200])}",
            highlight=False,
        )
    if page.total > len(page.rows):
        stdout.print(f"… {page.total - len(page.rows):,} more (--limit)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``rejects`` to the ``ingest`` group."""
    app.command("import", help=IMPORT_HELP)(command_boundary(import_command))
    app.command("rejects")(command_boundary(rejects_command))


def _warn(result: ImportResult) -> None:
    for warning in result.warnings:
        stderr.print(f"warning: {printable(warning)}", highlight=False)


def _print_result(result: ImportResult) -> None:
    counts = result.counts
    reasons = ", ".join(f"{code} {n}" for code, n in sorted(result.reasons.items()))
    stdout.print(
        f"imported {printable(result.file)} as {printable(result.instrument_id)}: "
        f"{counts['n_accepted']:,} accepted, {counts['n_rejected']:,} quarantined"
        f"{' (' + printable(reasons) + ')' if reasons else ''} "
        f"(run {printable(result.ingest_run_id)})",
        highlight=False,
    )
