"""Storing snapshot payloads (spot tickers, DEX pairs): frame → validate → quarantine → write.

Shared by the poll loop and universe discovery so both take the same path; rejects are written
before accepted rows (a crash in between never loses a reason), and instruments before the
snapshots that reference them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from crypto_analyzer.core.clock import to_iso, to_ms
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.ingest.instruments import exchange_instruments
from crypto_analyzer.ingest.parsing import dex_instruments, dex_pairs_frame, ticker_frame
from crypto_analyzer.ingest.validation import Checked, check_snapshots

__all__ = ["SNAPSHOT_COLUMNS", "StoredBatch", "store_dex_pairs", "store_tickers"]

SNAPSHOT_COLUMNS = (
    "instrument_id",
    "observed_ms",
    "price",
    "bid",
    "ask",
    "volume_24h",
    "liquidity_usd",
    "txn_count_24h",
    "payload_sha256",
)


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """What one payload became: the validated batch and the provider stamped on its rows."""

    checked: Checked
    provider: str

    @property
    def accepted(self) -> pd.DataFrame:
        return self.checked.accepted


def store_dex_pairs(
    writer: ProvenanceWriter,
    run: IngestRun,
    payload: Any,
    *,
    provider: str,
    fetched_at: datetime,
) -> StoredBatch:
    """A Dexscreener ``{"pairs": [...]}`` payload, observed at ``fetched_at``."""
    frame = dex_pairs_frame(payload, fetched_ms=to_ms(fetched_at))
    checked = check_snapshots(frame, now_ms=to_ms(fetched_at), data_kind="dex_pair")
    writer.write_rejects(run, checked.rejects)
    if len(checked.accepted):
        writer.upsert_instruments(run, dex_instruments(checked.accepted))
    _write(writer, run, checked.accepted, provider, fetched_at)
    return StoredBatch(checked, provider)


def store_tickers(
    writer: ProvenanceWriter,
    run: IngestRun,
    tickers: Any,
    *,
    venue: str,
    fetched_at: datetime,
) -> StoredBatch:
    """ccxt tickers from ``venue`` (instrument ``<venue>:<symbol>``)."""
    frame = ticker_frame(tickers, venue=venue, fetched_ms=to_ms(fetched_at))
    checked = check_snapshots(frame, now_ms=to_ms(fetched_at), data_kind="ticker")
    writer.write_rejects(run, checked.rejects)
    if len(checked.accepted):
        symbols = list(dict.fromkeys(checked.accepted["symbol"]))
        writer.upsert_instruments(run, exchange_instruments(venue, symbols))
    _write(writer, run, checked.accepted, venue, fetched_at)
    return StoredBatch(checked, venue)


def _write(
    writer: ProvenanceWriter,
    run: IngestRun,
    accepted: pd.DataFrame,
    provider: str,
    fetched_at: datetime,
) -> None:
    columns = [name for name in SNAPSHOT_COLUMNS if name in accepted.columns]
    writer.write_snapshots(
        run, accepted.loc[:, columns], fetched_at=to_iso(fetched_at), provider=provider
    )
