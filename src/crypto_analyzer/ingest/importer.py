"""OHLCV import from CSV or Parquet files, through the same validation and writer as live data.

An import is prepared in memory first (:func:`prepare_import`: read, file checks, row rules,
outlier flags), then written (:func:`write_import`) as one ingest run of kind ``import``
(provider ``file:<name>``). Problems with the *file* (see :mod:`.file_reader` and
:mod:`.file_checks`) stop it before anything is written. Problems with *values* quarantine the
rows; when more than ``max_reject_share`` of the file is quarantined the file as a whole is
refused: the run is recorded as failed with its quarantined rows (so ``ingest rejects --run`` can
show them) and no bar of it is stored, unless ``keep_partial`` asks for the good rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import now, to_iso, to_ms
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.provenance import ProvenanceWriter, Reject
from crypto_analyzer.ingest.file_checks import (
    check_spacing,
    jump_rows,
    reason_code,
    top_reasons,
    zero_volume_rows,
)
from crypto_analyzer.ingest.file_reader import (
    FIELDS,
    TIME_UNITS,
    ReadOptions,
    parse_column_map,
    read_ohlcv_file,
)
from crypto_analyzer.ingest.frequencies import FREQ_MS, parse_freq
from crypto_analyzer.ingest.instruments import exchange_instruments, instrument_id, parse_symbols
from crypto_analyzer.ingest.payloads import payload_text
from crypto_analyzer.ingest.validation import Checked, check_candles

__all__ = [
    "TIME_UNITS",
    "ImportOptions",
    "ImportResult",
    "PreparedImport",
    "import_ohlcv",
    "parse_column_map",
    "prepare_import",
    "read_ohlcv_file",
    "write_import",
]

Outliers = Literal["warn", "quarantine"]


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the import refuses, flags and keeps (the reading options are in ``read``)."""

    read: ReadOptions = field(default_factory=ReadOptions)
    max_reject_share: float = 0.5
    """A file with more than this share of quarantined rows is refused as a whole."""
    keep_partial: bool = False
    outliers: Outliers = "warn"
    """Flagged spikes and zero-volume stretches: ``warn`` keeps them, ``quarantine`` rejects."""
    jump_mads: float = 15.0
    zero_volume_bars: int = 24


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The import run, its counts, its reasons and warnings."""

    ingest_run_id: str
    instrument_id: str
    rows: int
    counts: Mapping[str, int]
    reasons: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "ingest_run_id": self.ingest_run_id,
            "instrument_id": self.instrument_id,
            "reasons": dict(sorted(self.reasons.items())),
            "rows": self.rows,
            "warnings": list(self.warnings),
            **dict(self.counts),
        }


@dataclass(frozen=True)
class PreparedImport:
    """One file (or one symbol of a file) validated in memory, ready to write."""

    file: str
    venue: str
    symbol: str
    freq: str
    checked: Checked
    warnings: tuple[str, ...]
    refusal: str | None
    """Why the file is refused as a whole (too many quarantined rows), or ``None``."""

    @property
    def instrument_id(self) -> str:
        return instrument_id(self.venue, self.symbol)

    @property
    def reasons(self) -> dict[str, int]:
        return dict(Counter(reason_code(reject.reason) for reject in self.checked.rejects))


def prepare_import(
    frame: pd.DataFrame,
    *,
    file: str,
    venue: str,
    symbol: str,
    freq: str,
    options: ImportOptions | None = None,
    now_ms: int | None = None,
) -> PreparedImport:
    """File checks, row rules and flags over a frame from :func:`read_ohlcv_file` (pure)."""
    opts = options or ImportOptions()
    label = parse_freq(freq)
    (symbol,) = parse_symbols(symbol)
    check_spacing(frame["bar_open_ms"].to_numpy(), FREQ_MS[label], label, file)
    rows = frame.copy()
    rows.insert(0, "instrument_id", instrument_id(venue, symbol))
    rows.insert(1, "freq", label)
    stamp = now_ms if now_ms is not None else to_ms(now())
    checked = check_candles(rows, freq_ms=FREQ_MS[label], now_ms=stamp, strings_ok=True)
    checked, warnings = _flag_outliers(checked, opts, file)
    refusal = None
    share = len(checked.rejects) / max(checked.received, 1)
    if share > opts.max_reject_share and not opts.keep_partial:
        tops = ", ".join(
            f"{code} {count}" for code, count in top_reasons(r.reason for r in checked.rejects)
        )
        refusal = (
            f"{file}: {len(checked.rejects):,} of {checked.received:,} rows ({share:.0%}) were "
            f"quarantined, more than --max-rejected {opts.max_reject_share:.0%}; "
            f"top reasons: {tops}; no bar of it was stored"
        )
    return PreparedImport(file, venue, symbol, label, checked, tuple(warnings), refusal)


def write_import(
    engine: Engine, prepared: PreparedImport, *, tenant_id: str = "default", actor: str = "cli"
) -> ImportResult:
    """Write one prepared import as one ingest run; a refused file raises after recording."""
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    params = {
        "file": prepared.file,
        "freq": prepared.freq,
        "symbol": prepared.symbol,
        "venue": prepared.venue,
    }
    run = writer.start_run("import", f"file:{prepared.file}", params)
    checked = prepared.checked
    try:
        writer.upsert_instruments(run, exchange_instruments(prepared.venue, [prepared.symbol]))
        writer.write_rejects(run, checked.rejects)
        if prepared.refusal is None:
            columns = ["instrument_id", "freq", "bar_open_ms", *FIELDS]
            if "vwap" in checked.accepted.columns:
                columns.append("vwap")
            writer.write_bars(
                run,
                checked.accepted.loc[:, columns],
                source="import",
                fetched_at=to_iso(now()),
            )
    except BaseException as exc:
        writer.finish_run(run, "failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    if prepared.refusal is not None:
        writer.finish_run(run, "failed", error=prepared.refusal[:1000])
        raise ValidationError(
            f"{prepared.refusal} (run {run.ingest_run_id})",
            f"see them with `ingest rejects --run {run.ingest_run_id}`; fix the file, or pass "
            "--keep-partial to store the good rows",
        )
    counts = writer.finish_run(run, "succeeded")
    return ImportResult(
        run.ingest_run_id,
        prepared.instrument_id,
        checked.received,
        counts,
        prepared.reasons,
        prepared.warnings,
        prepared.file,
    )


def import_ohlcv(
    engine: Engine,
    path: Path,
    *,
    venue: str,
    symbol: str,
    freq: str,
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "auto",
    options: ImportOptions | None = None,
    tenant_id: str = "default",
    actor: str = "cli",
) -> ImportResult:
    """Import one file of one instrument as one ingest run."""
    opts = options or ImportOptions()
    parse_freq(freq)
    parse_symbols(symbol)
    frame = read_ohlcv_file(path, mapping, time_unit=time_unit, options=opts.read)
    prepared = prepare_import(
        frame, file=path.name, venue=venue, symbol=symbol, freq=freq, options=opts
    )
    return write_import(engine, prepared, tenant_id=tenant_id, actor=actor)


def _flag_outliers(checked: Checked, opts: ImportOptions, file: str) -> tuple[Checked, list[str]]:
    accepted = checked.accepted
    if accepted.empty:
        return checked, []
    close = accepted["close"].to_numpy(dtype=np.float64)
    volume = accepted["volume"].to_numpy(dtype=np.float64)
    flags = (
        (
            jump_rows(close, mads=opts.jump_mads),
            f"price_spike: close jumps more than {opts.jump_mads:g} MADs and reverts next bar",
            "reverting price spike(s)",
        ),
        (
            zero_volume_rows(volume, min_run=opts.zero_volume_bars),
            f"zero_volume_stretch: at least {opts.zero_volume_bars} consecutive bars "
            "with zero volume",
            f"bar(s) in zero-volume stretches of {opts.zero_volume_bars}+ bars",
        ),
    )
    warnings: list[str] = []
    reject_mask = np.zeros(len(accepted), dtype=bool)
    reasons = np.full(len(accepted), None, dtype=object)
    lines = accepted["line"].to_numpy() if "line" in accepted.columns else None
    for mask, reason, what in flags:
        if not mask.any():
            continue
        first = int(np.flatnonzero(mask)[0])
        where = f"first at line {int(lines[first])}" if lines is not None else ""
        if opts.outliers == "quarantine":
            fresh = mask & ~reject_mask
            reasons[fresh] = reason
            reject_mask |= mask
        else:
            warnings.append(
                f"{file}: {int(mask.sum())} {what} ({where}) kept; "
                "--outliers quarantine would quarantine them"
            )
    if not reject_mask.any():
        return checked, warnings
    moved = accepted.loc[reject_mask]
    public = [name for name in moved.columns if not name.startswith("_")]
    extra = tuple(
        Reject("ohlcv", str(text), payload_text(record))
        for text, record in zip(
            reasons[reject_mask], moved.loc[:, public].to_dict("records"), strict=True
        )
    )
    kept = accepted.loc[~reject_mask].reset_index(drop=True)
    return Checked(kept, (*checked.rejects, *extra), checked.received), warnings
