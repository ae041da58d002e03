"""Many files in one process: ``ingest import DIR_OR_GLOB --symbol-from filename|column``.

Twenty files through twenty CLI calls pay twenty interpreter starts and twenty migrations checks;
one process pays once. Every file is read and checked in memory first, so a file with a structural
problem (missing column, wrong spacing, implausible times…) stops the whole import before anything
is written and the message lists every such file. Then each file (or each symbol of a file) is
written as its own ingest run; a file refused for too many quarantined rows is recorded as a
failed run without bars and the others go on — each file is all or nothing, and the caller exits
non-zero naming the refused ones.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import now_ms
from crypto_analyzer.core.errors import CryptoAnalyzerError, ValidationError
from crypto_analyzer.ingest.file_reader import read_frames_by_symbol, read_ohlcv_file
from crypto_analyzer.ingest.importer import (
    ImportOptions,
    ImportResult,
    PreparedImport,
    prepare_import,
    write_import,
)

__all__ = [
    "FILE_SUFFIXES",
    "ManyResult",
    "Progress",
    "SymbolFrom",
    "expand_sources",
    "import_many",
    "prepare_many",
    "symbol_of",
]

SymbolFrom = Literal["filename", "column"]
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".parquet", ".pq")
_SHOWN = 5


class Progress(Protocol):
    """Where per-file progress goes (a rich progress bar in the CLI)."""

    def start(self, task: str, total: int) -> None: ...

    def advance(self, task: str, amount: int) -> None: ...


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


def prepare_many(
    paths: Sequence[Path],
    *,
    venue: str,
    freq: str,
    symbol_from: SymbolFrom,
    quote: str = "USD",
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> list[PreparedImport]:
    """Read and check every file; raise once, listing every file with a structural problem."""
    opts = options or ImportOptions()
    stamp = now_ms()
    prepared: list[PreparedImport] = []
    problems: list[str] = []
    if progress is not None:
        progress.start("checking files", len(paths))
    for path in paths:
        try:
            if symbol_from == "column":
                frames = read_frames_by_symbol(path, opts.read)
                items = [(path.name, symbol_of(sym, quote), f) for sym, f in frames.items()]
            else:
                frame = read_ohlcv_file(path, options=opts.read)
                stem = path.name.split(".")[0]
                items = [(path.name, symbol_of(stem, quote), frame)]
            for name, symbol, frame in items:
                prepared.append(
                    prepare_import(
                        frame, file=name, venue=venue, symbol=symbol, freq=freq,
                        options=opts, now_ms=stamp,
                    )
                )  # fmt: skip
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
    return prepared


def import_many(
    engine: Engine,
    prepared: Sequence[PreparedImport],
    *,
    tenant_id: str = "default",
    actor: str = "cli",
    progress: Progress | None = None,
) -> ManyResult:
    """Write each prepared import as its own run (one process, one engine)."""
    results: list[ImportResult] = []
    refused: list[str] = []
    if progress is not None:
        progress.start("importing", len(prepared))
    for item in prepared:
        try:
            results.append(write_import(engine, item, tenant_id=tenant_id, actor=actor))
        except ValidationError as exc:
            if item.refusal is None:
                raise
            refused.append(exc.problem)
        if progress is not None:
            progress.advance("importing", 1)
    return ManyResult(tuple(results), tuple(refused))
