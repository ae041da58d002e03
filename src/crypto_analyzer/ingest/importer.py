"""OHLCV import from CSV or Parquet files, through the same validation and writer as live data.

A file is one instrument at one frequency. Problems with the *file* stop the import before anything
is written, with a message naming what is wrong and where: a mapped column that is missing, an
empty file, timestamps that do not parse, rows out of time order, duplicate timestamps. Problems
with *values* in otherwise well-formed rows (non-positive prices, high below low, negative volume,
unparseable numbers) quarantine those rows and the import goes on.

Columns are found by name, case-insensitively: ``timestamp``/``time``/``date``/``datetime``/
``open_time``/``bar_open_ms`` for the bar open time, and ``open``, ``high``, ``low``, ``close``,
``volume`` (plus an optional ``vwap``); ``--map time=ts,close=last`` overrides any of them.
Timestamps may be epoch numbers (unit given by ``--time-unit``, or inferred from magnitude) or
ISO-8601 text; text without an offset is taken as UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import now, to_iso, to_ms
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.frequencies import FREQ_MS, parse_freq
from crypto_analyzer.ingest.instruments import exchange_instruments, instrument_id, parse_symbols
from crypto_analyzer.ingest.validation import check_candles

__all__ = ["TIME_UNITS", "ImportResult", "import_ohlcv", "parse_column_map", "read_ohlcv_file"]

TIME_UNITS = ("auto", "s", "ms", "us", "ns", "iso")
_TIME_NAMES = ("timestamp", "time", "date", "datetime", "open_time", "bar_open_ms")
_FIELDS = ("open", "high", "low", "close", "volume")
_UNIT_MS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
_SHOWN = 3


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The import run and its counts."""

    ingest_run_id: str
    instrument_id: str
    rows: int
    counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingest_run_id": self.ingest_run_id,
            "instrument_id": self.instrument_id,
            "rows": self.rows,
            **dict(self.counts),
        }


def parse_column_map(items: list[str] | None) -> dict[str, str]:
    """``["time=ts", "close=last"]`` → ``{"time": "ts", "close": "last"}``."""
    mapping: dict[str, str] = {}
    allowed = ("time", *_FIELDS, "vwap")
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
    path: Path, mapping: Mapping[str, str] | None = None, *, time_unit: str = "auto"
) -> pd.DataFrame:
    """Read and check the file's structure: ``bar_open_ms`` + raw OHLCV columns, in file order."""
    if time_unit not in TIME_UNITS:
        raise ValidationError(
            f"--time-unit {time_unit!r} is unknown", f"use {', '.join(TIME_UNITS)}"
        )
    raw = _read(path)
    if raw.empty:
        raise ValidationError(f"{path.name} has no data rows", "export at least one candle")
    columns = _resolve_columns(raw, dict(mapping or {}), path)
    times = _parse_times(raw[columns["time"]], time_unit, path)
    frame = pd.DataFrame({"bar_open_ms": times})
    for name in (*_FIELDS, "vwap"):
        if name in columns:
            frame[name] = raw[columns[name]].to_numpy(dtype=object)
    _check_order(frame["bar_open_ms"], path)
    return frame


def import_ohlcv(
    engine: Engine,
    path: Path,
    *,
    venue: str,
    symbol: str,
    freq: str,
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "auto",
    tenant_id: str = "default",
    actor: str = "cli",
) -> ImportResult:
    """Import one file as one ingest run of kind ``import`` (provider ``file:<name>``)."""
    label = parse_freq(freq)
    (symbol,) = parse_symbols(symbol)
    frame = read_ohlcv_file(path, mapping, time_unit=time_unit)
    instrument = instrument_id(venue, symbol)
    frame.insert(0, "instrument_id", instrument)
    frame.insert(1, "freq", label)
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    params = {"file": path.name, "freq": label, "symbol": symbol, "venue": venue}
    run = writer.start_run("import", f"file:{path.name}", params)
    try:
        fetched = now()
        checked = check_candles(
            frame, freq_ms=FREQ_MS[label], now_ms=to_ms(fetched), strings_ok=True
        )
        writer.upsert_instruments(run, exchange_instruments(venue, [symbol]))
        writer.write_rejects(run, checked.rejects)
        columns = ["instrument_id", "freq", "bar_open_ms", *_FIELDS]
        if "vwap" in checked.accepted.columns:
            columns.append("vwap")
        writer.write_bars(
            run, checked.accepted.loc[:, columns], source="import", fetched_at=to_iso(fetched)
        )
    except BaseException as exc:
        writer.finish_run(run, "failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    counts = writer.finish_run(run, "succeeded")
    return ImportResult(run.ingest_run_id, instrument, len(frame), counts)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise NotFoundError(f"file {path} does not exist", "check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt", ".gz"):
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ValidationError(
            f"cannot read {path.name}: {exc}", "is it a valid CSV/Parquet file?"
        ) from exc
    raise ValidationError(
        f"{path.name} has suffix {suffix or '(none)'!r}", "import .csv or .parquet files"
    )


def _resolve_columns(raw: pd.DataFrame, mapping: dict[str, str], path: Path) -> dict[str, str]:
    by_lower = {str(name).lower(): str(name) for name in raw.columns}
    resolved: dict[str, str] = {}
    wanted = {
        "time": mapping.get("time"),
        **{name: mapping.get(name) for name in (*_FIELDS, "vwap")},
    }
    missing = []
    for ours, given in wanted.items():
        if given is not None:
            if given in raw.columns:
                resolved[ours] = given
            else:
                missing.append(f"{ours} (mapped to {given!r})")
            continue
        candidates = _TIME_NAMES if ours == "time" else (ours,)
        found = next((by_lower[name] for name in candidates if name in by_lower), None)
        if found is not None:
            resolved[ours] = found
        elif ours != "vwap":
            missing.append(ours)
    if missing:
        raise ValidationError(
            f"{path.name} lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, raw.columns))}",
            "rename them or map them with --map FIELD=COLUMN",
        )
    return resolved


def _parse_times(column: pd.Series, unit: str, path: Path) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        parsed = pd.to_datetime(column, utc=True)
        bad = parsed.isna().to_numpy()
        return _finish_times(parsed, bad, column, path)
    text = column.astype("string")
    numbers = pd.to_numeric(text, errors="coerce")
    if unit != "iso" and (unit != "auto" or numbers.notna().all()):
        chosen = unit if unit != "auto" else _unit_by_magnitude(numbers)
        ms = numbers * _UNIT_MS[chosen]
        bad = (ms.isna() | (ms != np.floor(ms))).to_numpy()
        if bad.any():
            _bad_times(column, bad, path, f"not integer epoch {chosen} values")
        return ms.to_numpy(dtype=np.int64)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    return _finish_times(parsed, parsed.isna().to_numpy(), column, path)


def _finish_times(parsed: pd.Series, bad: np.ndarray, column: pd.Series, path: Path) -> np.ndarray:
    if bad.any():
        _bad_times(column, bad, path, "not parseable as times")
    return (parsed.astype("datetime64[ms, UTC]").astype("int64")).to_numpy()


def _unit_by_magnitude(numbers: pd.Series) -> str:
    top = float(numbers.abs().max())
    if top >= 1e17:
        return "ns"
    if top >= 1e14:
        return "us"
    if top >= 1e11:
        return "ms"
    return "s"


def _bad_times(column: pd.Series, bad: np.ndarray, path: Path, what: str) -> None:
    rows = np.flatnonzero(bad)
    shown = ", ".join(f"line {row + 2}: {column.iloc[row]!r}" for row in rows[:_SHOWN])
    raise ValidationError(
        f"{path.name}: {len(rows)} timestamp(s) {what} ({shown})",
        "fix those rows or pass --time-unit s|ms|us|ns|iso",
    )


def _check_order(times: pd.Series, path: Path) -> None:
    values = times.to_numpy()
    duplicate = pd.Series(values).duplicated().to_numpy()
    if duplicate.any():
        rows = np.flatnonzero(duplicate)
        shown = ", ".join(f"line {row + 2}" for row in rows[:_SHOWN])
        raise ValidationError(
            f"{path.name}: {len(rows)} duplicate timestamp row(s) ({shown})",
            "remove the duplicates; each bar may appear once",
        )
    backwards = np.flatnonzero(np.diff(values) < 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        raise ValidationError(
            f"{path.name}: rows are not sorted by time "
            f"(line {row + 2} is earlier than line {row + 1})",
            "sort the file by timestamp, oldest first",
        )
