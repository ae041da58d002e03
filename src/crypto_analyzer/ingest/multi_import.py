"""Many files in one process: ``ingest import DIR_OR_GLOB --symbol-from filename|column``.

Twenty files through twenty CLI calls pay twenty interpreter starts and twenty migrations checks;
one process pays once. Every file is read and checked first, so a file with a structural problem
(missing column, wrong spacing, implausible times…) stops the whole import before anything is
written and the message lists every such file. The check keeps no rows: each file is read again
when it is written, so memory is one file's worth however many files there are (the second read
costs less than the writes; a file that changes between the two reads is checked again and stops
the import at that file). Then each file (or each symbol of a file) is written as its own ingest
run; a file refused for too many quarantined rows is recorded as a
failed run without bars and the others go on — each file is all or nothing, and the caller exits
non-zero naming the refused ones.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import now_ms
from crypto_analyzer.core.errors import CryptoAnalyzerError, ValidationError
from crypto_analyzer.core.progress import ProgressSink
from crypto_analyzer.ingest.file_checks import check_spacing
from crypto_analyzer.ingest.file_reader import (
    check_ohlcv_file,
    read_frames_by_symbol,
    read_ohlcv_file,
)
from crypto_analyzer.ingest.frequencies import FREQ_MS, parse_freq
from crypto_analyzer.ingest.importer import (
    ImportOptions,
    ImportResult,
    PreparedImport,
    prepare_import,
    write_import,
)
from crypto_analyzer.ingest.instruments import parse_symbols

__all__ = [
    "FILE_SUFFIXES",
    "ManyResult",
    "PlannedFile",
    "Progress",
    "SymbolFrom",
    "expand_sources",
    "import_many",
    "plan_many",
    "prepare_file",
    "symbol_of",
]

SymbolFrom = Literal["filename", "column"]
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".parquet", ".pq")
_SHOWN = 5


Progress = ProgressSink
"""Where per-file progress goes (the shared protocol of :mod:`crypto_analyzer.core.progress`)."""


@dataclass(frozen=True)
class ManyResult:
    """The runs written and the files refused for too many quarantined rows."""

    results: tuple[ImportResult, ...]
    refused: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        totals = {
            name: sum(int(result.counts[name]) for result in self.results)
            for name in ("n_accepted", "n_received", "n_rejected")
        }
        return {
            "files": [r.to_dict() for r in self.results],
            "refused": list(self.refused),
            **totals,
        }


def expand_sources(source: str | Path) -> list[Path]:
    """A directory (its data files), a glob pattern, or one file → sorted file paths."""
    text = str(source)
    path = Path(text)
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES]
    elif any(char in text for char in "*?["):
        files = [Path(p) for p in glob.glob(text) if Path(p).is_file()]
    else:
        files = [path]
    if not files:
        raise ValidationError(
            f"{text} matches no data file ({', '.join(FILE_SUFFIXES)})",
            "pass a directory, a quoted glob such as 'data/*.csv', or a file",
        )
    return sorted(files)


def symbol_of(text: str, quote: str) -> str:
    """``BTC-USDT`` / ``BTC_USDT`` / ``BTC/USDT`` → ``BTC/USDT``; ``AAPL`` → ``AAPL/<quote>``."""
    name = text.strip()
    if "/" in name:
        return name
    for separator in ("-", "_"):
        parts = name.split(separator)
        if len(parts) == 2 and all(parts):
            return "/".join(parts)
    return f"{name}/{quote}"


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """A file that passed every structural check, with what it is imported as; it is read and
    prepared again when written (see :func:`import_many`)."""

    path: Path
    venue: str
    freq: str
    symbol_from: SymbolFrom
    quote: str
    stamp: int
    """The instant the rows are checked against (the same in both passes)."""


def plan_many(
    paths: Sequence[Path],
    *,
    venue: str,
    freq: str,
    symbol_from: SymbolFrom,
    quote: str = "USD",
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> list[PlannedFile]:
    """Check every file's structure; raise once, listing every file with a problem.

    Nothing is kept but the plan: memory stays one file's worth however many files there are
    (issue 20: a directory of 500 four-year files is 17.5 M rows)."""
    opts = options or ImportOptions()
    stamp = now_ms()
    plans = [PlannedFile(path, venue, freq, symbol_from, quote, stamp) for path in paths]
    problems: list[str] = []
    if progress is not None:
        progress.start("checking files", len(paths))
    for plan in plans:
        try:
            _check_structure(plan, opts)
        except CryptoAnalyzerError as exc:
            problems.append(str(exc))
        if progress is not None:
            progress.advance("checking files", 1)
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise ValidationError(
            f"{len(problems)} of {len(paths)} file(s) cannot be imported, nothing was written: "
            f"{shown}{more}",
            "fix or remove those files and run the import again",
        )
    return plans


def _check_structure(plan: PlannedFile, opts: ImportOptions) -> None:
    """What :func:`prepare_import` could refuse a file for — symbol, frequency, columns, times,
    spacing — without keeping its rows (row values are quarantined, never refused here)."""
    if plan.symbol_from == "column":
        by_symbol = read_frames_by_symbol(plan.path, opts.read)
        items = [(sym, frame["bar_open_ms"].to_numpy()) for sym, frame in by_symbol.items()]
    else:
        items = [(plan.path.name.split(".")[0], check_ohlcv_file(plan.path, opts.read))]
    for symbol, times in items:  # the order of prepare_import's own checks
        label = parse_freq(plan.freq)
        parse_symbols(symbol_of(symbol, plan.quote))
        check_spacing(times, FREQ_MS[label], label, plan.path.name)


def prepare_file(plan: PlannedFile, options: ImportOptions | None = None) -> list[PreparedImport]:
    """Read one planned file and prepare it (one import per symbol of a ``column`` file)."""
    opts = options or ImportOptions()
    if plan.symbol_from == "column":
        frames = read_frames_by_symbol(plan.path, opts.read)
        items = [(symbol_of(sym, plan.quote), frame) for sym, frame in frames.items()]
    else:
        frame = read_ohlcv_file(plan.path, options=opts.read)
        items = [(symbol_of(plan.path.name.split(".")[0], plan.quote), frame)]
    return [
        prepare_import(
            frame, file=plan.path.name, venue=plan.venue, symbol=symbol, freq=plan.freq,
            options=opts, now_ms=plan.stamp,
        )
        for symbol, frame in items
    ]  # fmt: skip


def import_many(
    engine: Engine,
    plans: Sequence[PlannedFile],
    *,
    options: ImportOptions | None = None,
    tenant_id: str = "default",
    actor: str = "cli",
    progress: Progress | None = None,
) -> ManyResult:
    """Read, prepare and write each planned file in turn, each symbol as its own run (one
    process, one engine, one file in memory at a time)."""
    results: list[ImportResult] = []
    refused: list[str] = []
    if progress is not None:
        progress.start("importing", len(plans))
    for plan in plans:
        for item in prepare_file(plan, options):
            try:
                results.append(write_import(engine, item, tenant_id=tenant_id, actor=actor))
            except ValidationError as exc:
                if item.refusal is None:
                    raise
                refused.append(exc.problem)
        if progress is not None:
            progress.advance("importing", 1)
    return ManyResult(tuple(results), tuple(refused))
