"""Batch validation: every received record is either accepted or quarantined with a reason.

Rules run column-wise over the whole batch frame (numpy/pandas masks), never row by row; only the
reject payloads of failing rows are built in a loop. Each rule writes its reason into rows that have
none yet, so a record carries the *first* rule it broke, in this order:

1. schema drift — a field is missing, or is not a number (``_reason`` may already carry a
   shape problem found while framing the payload);
2. non-finite values; 3. non-positive prices; 4. ``high < low``; 5. open or close outside
   ``[low, high]`` (and VWAP, when given); 6. negative volume (liquidity, transaction counts);
7. a timestamp off the bar grid; 8. a timestamp in the future; 9. a candle not yet closed;
10. duplicate timestamps (the first occurrence wins); 11. out-of-order timestamps (earlier than a
   previous accepted row of the same instrument).

Time rules use ``now_ms`` (from :func:`crypto_analyzer.core.clock.now_ms` unless given); ``None``
switches them off for simulated time axes (the synthetic market).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crypto_analyzer.db.provenance import Reject
from crypto_analyzer.ingest.cells import MISSING, NUMBER, TEXT, floats, kinds, non_empty_text
from crypto_analyzer.ingest.payloads import payload_text

__all__ = [
    "CANDLE_FIELDS",
    "SNAPSHOT_FIELDS",
    "Checked",
    "check_candles",
    "check_snapshots",
]

CANDLE_FIELDS = ("bar_open_ms", "open", "high", "low", "close", "volume")
SNAPSHOT_FIELDS = (
    "observed_ms",
    "price",
    "bid",
    "ask",
    "volume_24h",
    "liquidity_usd",
    "txn_count_24h",
)
_OPTIONAL_SNAPSHOT = ("bid", "ask", "volume_24h", "liquidity_usd", "txn_count_24h")
_PRIVATE = ("_raw", "_reason")
_MAX_COUNT = 2.0**53  # integers a double holds exactly (and far inside INTEGER's range)
DEFAULT_CLOCK_SKEW_MS = 60_000
"""Snapshots stamped up to a minute ahead of our clock are accepted (exchange clock skew)."""


@dataclass(frozen=True, slots=True)
class Checked:
    """One validated batch: the rows to store, the quarantined records, and the count received.

    ``len(accepted) + len(rejects) == received`` always holds; tests check it on fuzzed input.
    """

    accepted: pd.DataFrame
    rejects: tuple[Reject, ...]
    received: int


def check_candles(
    frame: pd.DataFrame,
    *,
    freq_ms: int,
    now_ms: int | None,
    data_kind: str = "ohlcv",
    strings_ok: bool = False,
) -> Checked:
    """Validate OHLCV rows (``instrument_id`` + :data:`CANDLE_FIELDS`, optional ``vwap``).

    ``strings_ok`` accepts numeric text (CSV imports); API payloads must carry numbers.
    """
    reason = _initial_reasons(frame)
    reason = _require_text(frame, "instrument_id", reason)
    ts, reason = _timestamps(frame, "bar_open_ms", reason, strings_ok)
    values: dict[str, np.ndarray] = {}
    for name in CANDLE_FIELDS[1:]:
        values[name], reason = _number(frame, name, reason, strings_ok, required=True)
    vwap = None
    if "vwap" in frame.columns:
        vwap, reason = _number(frame, "vwap", reason, strings_ok, required=False)
    o, h, lo, c, v = (values[name] for name in CANDLE_FIELDS[1:])
    finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)
    if vwap is not None:
        finite &= np.isfinite(vwap) | np.isnan(vwap)  # NULL VWAP is allowed, ±inf is not
    reason = _flag(reason, ~finite, "non_finite_value: a price or the volume is NaN or infinite")
    reason = _flag(
        reason,
        (o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0),
        "non_positive_price: open, high, low and close must be > 0",
    )
    reason = _flag(reason, h < lo, "high_below_low: high < low")
    reason = _flag(reason, (o < lo) | (o > h), "open_outside_range: open not in [low, high]")
    reason = _flag(reason, (c < lo) | (c > h), "close_outside_range: close not in [low, high]")
    if vwap is not None:
        reason = _flag(
            reason, (vwap < lo) | (vwap > h), "vwap_outside_range: vwap not in [low, high]"
        )
    reason = _flag(reason, v < 0, "negative_volume: volume < 0")
    reason = _flag(
        reason, ts % freq_ms != 0, f"misaligned_timestamp: bar open not on the {freq_ms} ms grid"
    )
    if now_ms is not None:
        reason = _flag(reason, ts > now_ms, "future_timestamp: bar opens after the fetch time")
        reason = _flag(reason, ts + freq_ms > now_ms, "open_candle: bar not closed at fetch time")
    reason = _order_rules(frame["instrument_id"], ts, reason, "bar_open_ms")
    accepted = _accepted(
        frame, reason, {"bar_open_ms": ts, **values, **({"vwap": vwap} if vwap is not None else {})}
    )
    return Checked(accepted, _rejects(frame, reason, data_kind), len(frame))


def check_snapshots(
    frame: pd.DataFrame,
    *,
    now_ms: int | None,
    data_kind: str,
    skew_ms: int = DEFAULT_CLOCK_SKEW_MS,
) -> Checked:
    """Validate snapshot rows: ``instrument_id`` + :data:`SNAPSHOT_FIELDS` (only price required)."""
    reason = _initial_reasons(frame)
    reason = _require_text(frame, "instrument_id", reason)
    ts, reason = _timestamps(frame, "observed_ms", reason, strings_ok=False)
    price, reason = _number(frame, "price", reason, False, required=True)
    extra: dict[str, np.ndarray] = {}
    for name in _OPTIONAL_SNAPSHOT:
        if name in frame.columns:
            extra[name], reason = _number(frame, name, reason, False, required=False)
    finite = np.isfinite(price)
    for column in extra.values():
        finite &= ~np.isinf(column)
    reason = _flag(reason, ~finite, "non_finite_value: a price or amount is NaN or infinite")
    non_positive = price <= 0
    for name in ("bid", "ask"):
        if name in extra:
            non_positive |= extra[name] <= 0
    reason = _flag(reason, non_positive, "non_positive_price: price, bid and ask must be > 0")
    if "bid" in extra and "ask" in extra:
        reason = _flag(reason, extra["bid"] > extra["ask"], "crossed_book: bid above ask")
    for name, code in (
        ("volume_24h", "negative_volume"),
        ("liquidity_usd", "negative_liquidity"),
        ("txn_count_24h", "negative_txn_count"),
    ):
        if name in extra:
            reason = _flag(reason, extra[name] < 0, f"{code}: {name} < 0")
    if "txn_count_24h" in extra:
        counts = extra["txn_count_24h"]
        with np.errstate(invalid="ignore"):
            whole = np.isnan(counts) | ((counts == np.floor(counts)) & (counts < _MAX_COUNT))
        reason = _flag(
            reason, ~whole, "schema_drift: txn_count_24h is not a whole number below 2^53"
        )
    if now_ms is not None:
        reason = _flag(
            reason, ts > now_ms + skew_ms, "future_timestamp: observed after the fetch time"
        )
    reason = _order_rules(frame["instrument_id"], ts, reason, "observed_ms")
    typed = {"observed_ms": ts, "price": price, **extra}
    accepted = _accepted(frame, reason, typed)
    if "txn_count_24h" in accepted.columns:
        accepted["txn_count_24h"] = accepted["txn_count_24h"].astype("Int64")
    return Checked(accepted, _rejects(frame, reason, data_kind), len(frame))


# -- rule helpers (all vectorised) ---------------------------------------------------------


def _initial_reasons(frame: pd.DataFrame) -> np.ndarray:
    if "_reason" in frame.columns:
        reason = frame["_reason"].to_numpy(dtype=object).copy()
        reason[kinds(reason) != TEXT] = None
        return reason
    return np.full(len(frame), None, dtype=object)


def _flag(reason: np.ndarray, mask: np.ndarray | pd.Series, text: str) -> np.ndarray:
    hit = np.asarray(mask, dtype=bool) & _open(reason)
    if hit.any():
        reason = reason.copy()
        reason[hit] = text
    return reason


def _open(reason: np.ndarray) -> np.ndarray:
    # numpy's stubs reject None as an operand; object arrays compare it elementwise.
    return np.equal(reason, None)  # type: ignore[call-overload]


def _require_text(frame: pd.DataFrame, name: str, reason: np.ndarray) -> np.ndarray:
    if name not in frame.columns:
        return _flag(reason, np.ones(len(frame), dtype=bool), f"schema_drift: {name} is missing")
    is_text = non_empty_text(frame[name].to_numpy(dtype=object))
    return _flag(reason, ~is_text, f"schema_drift: {name} is missing or not text")


def _number(
    frame: pd.DataFrame, name: str, reason: np.ndarray, strings_ok: bool, *, required: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Float values of ``name`` (NaN where unusable) and the updated reasons."""
    n = len(frame)
    if name not in frame.columns:
        if required:
            reason = _flag(reason, np.ones(n, dtype=bool), f"schema_drift: {name} is missing")
        return np.full(n, np.nan), reason
    column = frame[name]
    if pd.api.types.is_bool_dtype(column.dtype):
        return np.full(n, np.nan), _flag(
            reason, np.ones(n, dtype=bool), f"schema_drift: {name} is not a number"
        )
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        if required:
            reason = _flag(reason, np.isnan(values), f"schema_drift: {name} is missing")
        return values, reason
    cells = column.to_numpy(dtype=object)
    codes = kinds(cells)
    values = np.full(n, np.nan)
    is_number = codes == NUMBER
    if is_number.any():
        values[is_number] = floats(cells[is_number])
    if strings_ok:
        is_text = codes == TEXT
        if is_text.any():
            parsed = pd.to_numeric(pd.Series(cells[is_text]), errors="coerce")
            parsed = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
            values[is_text] = parsed
            is_number = is_number.copy()
            is_number[is_text] = ~np.isnan(parsed)
    missing = codes == MISSING
    if required:
        reason = _flag(reason, missing, f"schema_drift: {name} is missing")
    reason = _flag(reason, ~is_number & ~missing, f"schema_drift: {name} is not a number")
    return values, reason


def _timestamps(
    frame: pd.DataFrame, name: str, reason: np.ndarray, strings_ok: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Integer epoch milliseconds (0 where unusable) and the updated reasons."""
    values, reason = _number(frame, name, reason, strings_ok, required=True)
    with np.errstate(invalid="ignore"):
        integral = np.isfinite(values) & (values == np.floor(values))
        in_range = integral & (values >= 0) & (values < _MAX_MS)
    reason = _flag(reason, ~integral, f"schema_drift: {name} is not an integer millisecond time")
    reason = _flag(reason, ~in_range, f"timestamp_out_of_range: {name} outside 1970..2286")
    return np.where(in_range, values, 0).astype(np.int64), reason


_MAX_MS = 10_000_000_000_000  # year 2286: anything later is a unit mistake, not a bar


def _order_rules(
    instruments: pd.Series, ts: np.ndarray, reason: np.ndarray, name: str
) -> np.ndarray:
    """Duplicates (first wins), then out-of-order rows, among rows that passed so far."""
    rows = np.flatnonzero(_open(reason))
    if rows.size == 0:
        return reason
    codes = pd.factorize(instruments.to_numpy(dtype=object)[rows])[0].astype(np.int64)
    times = ts[rows]
    order = np.lexsort((np.arange(rows.size), times, codes))  # by instrument, time, position
    same = (np.diff(codes[order]) == 0) & (np.diff(times[order]) == 0)
    duplicate = np.zeros(rows.size, dtype=bool)
    duplicate[order[1:][same]] = True
    reason = reason.copy()
    reason[rows[duplicate]] = f"duplicate_timestamp: {name} repeats an earlier row"
    kept = np.flatnonzero(~duplicate)
    # Segmented running maximum in arrival order: offset each instrument far above the previous
    # one (times < 2^44 ms), group rows by instrument keeping arrival order, accumulate.
    by_instrument = kept[np.argsort(codes[kept], kind="stable")]
    shifted = codes[by_instrument] * (1 << 44) + times[by_instrument]
    running = np.maximum.accumulate(shifted)
    first = np.concatenate([[True], np.diff(codes[by_instrument]) != 0])
    behind = ~first & (shifted < np.concatenate([[0], running[:-1]]))
    reason[rows[by_instrument[behind]]] = (
        f"out_of_order_timestamp: {name} earlier than a previous row"
    )
    return reason


def _accepted(
    frame: pd.DataFrame, reason: np.ndarray, typed: dict[str, np.ndarray]
) -> pd.DataFrame:
    keep = _open(reason)
    columns = [name for name in frame.columns if name not in _PRIVATE and name not in typed]
    out = frame.loc[keep, columns].reset_index(drop=True)
    for name, values in typed.items():
        out[name] = values[keep]
    if "instrument_id" in out.columns:
        out["instrument_id"] = out["instrument_id"].astype(object)
    return out


def _rejects(frame: pd.DataFrame, reason: np.ndarray, data_kind: str) -> tuple[Reject, ...]:
    failed = ~_open(reason)
    if not failed.any():
        return ()
    if "_raw" in frame.columns:
        raws: Sequence[object] = frame.loc[failed, "_raw"].tolist()
    else:
        public = [name for name in frame.columns if name not in _PRIVATE]
        raws = frame.loc[failed, public].to_dict("records")
    return tuple(
        Reject(data_kind, str(text), payload_text(raw))
        for text, raw in zip(reason[failed], raws, strict=True)
    )
