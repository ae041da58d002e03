"""Reading OHLCV files into checked frames: structure and timestamps, not values.

Problems with the *file* stop the import before anything is written, with a message naming what
is wrong and where (the file line): a mapped column that is missing, an empty file, a file that
does not decode, timestamps that do not parse or do not fit ``--time-unit``, timestamps outside a
plausible range, rows out of time order, duplicate timestamps. Value problems are left to the row
rules of :mod:`crypto_analyzer.ingest.validation`.

Columns are found by name, case-insensitively (:data:`COLUMN_NAMES`); ``--map FIELD=COLUMN``
overrides any of them. Timestamps may be epoch numbers (unit from ``--time-unit`` or inferred from
magnitude), ISO-8601 text, or text in ``--date-format``; text without an offset is UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from crypto_analyzer.core.clock import now_ms
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.ingest.file_checks import (
    CRYPTO_EARLIEST_MS,
    DEFAULT_FUTURE_TOLERANCE_MS,
    check_plausible_times,
    check_unit,
    unit_by_magnitude,
)

__all__ = [
    "COLUMN_NAMES",
    "FIELDS",
    "TIME_UNITS",
    "ReadOptions",
    "column_help",
    "parse_column_map",
    "read_frames_by_symbol",
    "read_ohlcv_file",
]

TIME_UNITS = ("auto", "s", "ms", "us", "ns", "iso")
FIELDS = ("open", "high", "low", "close", "volume")
COLUMN_NAMES: Mapping[str, tuple[str, ...]] = {
    "time": ("timestamp", "time", "date", "datetime", "open_time", "bar_open_ms"),
    **{name: (name,) for name in FIELDS},
    "vwap": ("vwap",),
    "symbol": ("symbol",),
}
"""Our field → the column names accepted for it (case-insensitive), in order of preference;
``vwap`` is optional, ``symbol`` is read only with ``--symbol-from column``."""
_UNIT_MS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
_SHOWN = 3


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a file: parsing options and the plausible time range."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    time_unit: str = "auto"
    delimiter: str = ","
    encoding: str = "utf-8"
    date_format: str | None = None
    earliest_ms: int | None = CRYPTO_EARLIEST_MS
    """Refuse bars before this (crypto: 2009); ``None`` allows any date."""
    future_tolerance_ms: int = DEFAULT_FUTURE_TOLERANCE_MS


def column_help() -> str:
    """The accepted column names, one field per clause (for ``--help`` and the README)."""
    return "; ".join(f"{ours}: {'/'.join(names)}" for ours, names in COLUMN_NAMES.items())


def parse_column_map(items: list[str] | None) -> dict[str, str]:
    """``["time=ts", "close=last"]`` → ``{"time": "ts", "close": "last"}``."""
    mapping: dict[str, str] = {}
    allowed = tuple(COLUMN_NAMES)
    for item in items or ():
        for part in item.split(","):
            ours, sep, theirs = part.partition("=")
            if not sep or ours.strip() not in allowed or not theirs.strip():
                raise ValidationError(
                    f"--map {part!r} is not FIELD=COLUMN with FIELD in {', '.join(allowed)}",
                    "e.g. --map time=open_time,volume=base_volume",
                )
            mapping[ours.strip()] = theirs.strip()
    return mapping


def read_ohlcv_file(
    path: Path,
    mapping: Mapping[str, str] | None = None,
    *,
    time_unit: str = "auto",
    options: ReadOptions | None = None,
) -> pd.DataFrame:
    """Read and check one instrument's file: ``bar_open_ms``, raw OHLCV cells and ``line``."""
    opts = _merged(options, mapping, time_unit)
    raw = _read(path, opts)
    columns = _resolve_columns(raw, dict(opts.mapping), path, symbol=False)
    return _frame(raw, columns, opts, path.name)


def read_frames_by_symbol(path: Path, options: ReadOptions) -> dict[str, pd.DataFrame]:
    """Read a file holding several instruments, split by its ``symbol`` column (file order)."""
    raw = _read(path, options)
    columns = _resolve_columns(raw, dict(options.mapping), path, symbol=True)
    names = raw[columns["symbol"]].astype("string").str.strip()
    if names.isna().any() or (names == "").any():
        line = int(np.flatnonzero((names.isna() | (names == "")).to_numpy())[0])
        raise ValidationError(
            f"{path.name}: line {_lines(raw)[line]} has no symbol",
            "every row needs a value in the symbol column",
        )
    return {
        str(symbol): _frame(group, columns, options, f"{path.name} [{symbol}]")
        for symbol, group in raw.groupby(names, sort=True)
    }


def _merged(
    options: ReadOptions | None, mapping: Mapping[str, str] | None, unit: str
) -> ReadOptions:
    opts = options or ReadOptions()
    if unit not in TIME_UNITS:
        raise ValidationError(f"--time-unit {unit!r} is unknown", f"use {', '.join(TIME_UNITS)}")
    if opts.time_unit not in TIME_UNITS:
        raise ValidationError(
            f"--time-unit {opts.time_unit!r} is unknown", f"use {', '.join(TIME_UNITS)}"
        )
    changes: dict[str, object] = {}
    if mapping:
        changes["mapping"] = {**opts.mapping, **mapping}
    if unit != "auto":
        changes["time_unit"] = unit
    if not changes:
        return opts
    return replace(opts, **changes)  # type: ignore[arg-type]


def _frame(
    raw: pd.DataFrame, columns: dict[str, str], opts: ReadOptions, name: str
) -> pd.DataFrame:
    lines = _lines(raw)
    times = _parse_times(raw[columns["time"]], opts, name, lines)
    check_plausible_times(
        times,
        name=name,
        lines=lines,
        earliest_ms=opts.earliest_ms,
        now_ms=now_ms(),
        tolerance_ms=opts.future_tolerance_ms,
        raw=raw[columns["time"]],
    )
    frame = pd.DataFrame({"bar_open_ms": times})
    for field_name in (*FIELDS, "vwap"):
        if field_name in columns:
            frame[field_name] = raw[columns[field_name]].to_numpy(dtype=object)
    frame["line"] = lines
    _check_order(frame["bar_open_ms"].to_numpy(), lines, name)
    return frame


def _lines(raw: pd.DataFrame) -> np.ndarray:
    """File line of each row: header is line 1 for CSV; Parquet rows count from 1."""
    offset = int(raw.attrs.get("line_offset", 2))
    return raw.index.to_numpy(dtype=np.int64) + offset


def _read(path: Path, opts: ReadOptions) -> pd.DataFrame:
    if not path.is_file():
        raise NotFoundError(f"file {path} does not exist", "check the path")
    suffix = path.suffix.lower()
    delimiter = {"\\t": "\t", "tab": "\t"}.get(opts.delimiter, opts.delimiter)
    try:
        if suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            raw.attrs["line_offset"] = 1
        elif suffix in (".csv", ".txt", ".gz", ".tsv"):
            raw = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                sep=delimiter,
                encoding=opts.encoding,
            )
            raw.attrs["line_offset"] = 2
        else:
            raise ValidationError(
                f"{path.name} has suffix {suffix or '(none)'!r}", "import .csv or .parquet files"
            )
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"cannot read {path.name} as {opts.encoding}: byte {exc.object[exc.start]:#04x} at "
            f"offset {exc.start}",
            "pass the file's encoding, e.g. --encoding latin-1 or --encoding utf-16",
        ) from exc
    except LookupError as exc:
        raise ValidationError(
            f"--encoding {opts.encoding!r} is unknown", "e.g. utf-8, latin-1, cp1252"
        ) from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ValidationError(
            f"cannot read {path.name}: {exc}", "is it a valid CSV/Parquet file (--delimiter)?"
        ) from exc
    raw = raw.reset_index(drop=True) if raw.attrs.get("line_offset") == 1 else raw
    if raw.empty:
        raise ValidationError(f"{path.name} has no data rows", "export at least one candle")
    if raw.shape[1] == 1 and delimiter == ",":
        only = str(raw.columns[0])
        for other in (";", "\t", "|"):
            if other in only:
                raise ValidationError(
                    f"{path.name} has one column {only[:60]!r}: it looks {other!r}-delimited",
                    f"pass --delimiter {'tab' if other == chr(9) else repr(other)}",
                )
    return raw


def _resolve_columns(
    raw: pd.DataFrame, mapping: dict[str, str], path: Path, *, symbol: bool
) -> dict[str, str]:
    by_lower = {str(name).strip().lower(): str(name) for name in raw.columns}
    resolved: dict[str, str] = {}
    missing = []
    for ours, names in COLUMN_NAMES.items():
        if ours == "symbol" and not symbol:
            continue
        given = mapping.get(ours)
        if given is not None:
            if given in raw.columns:
                resolved[ours] = given
            else:
                missing.append(f"{ours} (mapped to {given!r})")
            continue
        found = next((by_lower[name] for name in names if name in by_lower), None)
        if found is not None:
            resolved[ours] = found
        elif ours != "vwap":
            missing.append(ours)
    if missing:
        raise ValidationError(
            f"{path.name} lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, raw.columns))}",
            "rename them or map them with --map FIELD=COLUMN (see --help for accepted names)",
        )
    return resolved


def _parse_times(column: pd.Series, opts: ReadOptions, name: str, lines: np.ndarray) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        parsed = pd.to_datetime(column, utc=True)
        return _finish_times(parsed, parsed.isna().to_numpy(), column, name, lines)
    text = column.astype("string").str.strip()
    if opts.date_format is not None:
        parsed = pd.to_datetime(text, utc=True, errors="coerce", format=opts.date_format)
        bad = parsed.isna().to_numpy()
        if bad.any():
            _bad_times(column, bad, name, lines, f"not in --date-format {opts.date_format!r}")
        return _finish_times(parsed, bad, column, name, lines)
    numbers = pd.to_numeric(text, errors="coerce")
    unit = opts.time_unit
    if unit != "iso" and (unit != "auto" or numbers.notna().all()):
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        if unit != "auto" and not np.isnan(values).all():
            check_unit(values, unit, name)
        chosen = unit if unit != "auto" else unit_by_magnitude(values)
        ms = numbers * _UNIT_MS[chosen]
        bad = (ms.isna() | (ms != np.floor(ms))).to_numpy()
        if bad.any():
            _bad_times(column, bad, name, lines, f"not integer epoch {chosen} values")
        return ms.to_numpy(dtype=np.int64)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    return _finish_times(parsed, parsed.isna().to_numpy(), column, name, lines)


def _finish_times(
    parsed: pd.Series, bad: np.ndarray, column: pd.Series, name: str, lines: np.ndarray
) -> np.ndarray:
    if bad.any():
        _bad_times(column, bad, name, lines, "not parseable as times")
    return (parsed.astype("datetime64[ms, UTC]").astype("int64")).to_numpy()


def _bad_times(column: pd.Series, bad: np.ndarray, name: str, lines: np.ndarray, what: str) -> None:
    rows = np.flatnonzero(bad)
    shown = ", ".join(f"line {lines[row]}: {column.iloc[row]!r}" for row in rows[:_SHOWN])
    raise ValidationError(
        f"{name}: {len(rows)} timestamp(s) {what} ({shown})",
        "fix those rows, or pass --time-unit s|ms|us|ns|iso or --date-format",
    )


def _check_order(values: np.ndarray, lines: np.ndarray, name: str) -> None:
    duplicate = pd.Series(values).duplicated().to_numpy()
    if duplicate.any():
        rows = np.flatnonzero(duplicate)
        shown = ", ".join(f"line {lines[row]}" for row in rows[:_SHOWN])
        raise ValidationError(
            f"{name}: {len(rows)} duplicate timestamp row(s) ({shown})",
            "remove the duplicates; each bar may appear once",
        )
    backwards = np.flatnonzero(np.diff(values) < 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        raise ValidationError(
            f"{name}: rows are not sorted by time "
            f"(line {lines[row]} is earlier than line {lines[row - 1]})",
            "sort the file by timestamp, oldest first",
        )
