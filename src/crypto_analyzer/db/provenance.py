"""Provenance writer: the only way market data enters the database.

Every row it writes is stamped with the ingest run, provider, fetch time and status (invariant 3);
rows go in with ``executemany`` in one transaction per batch, so a crash loses at most the batch in
flight and a rerun converges (upserts keyed by the primary key; an identical row is left untouched,
keeping its original provenance). The writer also keeps the run's tallies, so the ingest run row
always satisfies accepted + rejected = received.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.db.schema import (
    bars,
    ingest_rejects,
    ingest_runs,
    instruments,
    price_snapshots,
)
from crypto_analyzer.db.schema.ingest import INGEST_KINDS, INGEST_STATUSES

__all__ = ["DEFAULT_BATCH_ROWS", "IngestRun", "ProvenanceWriter", "Reject"]

DEFAULT_BATCH_ROWS = 50_000
_PROVENANCE = ("ingest_run_id", "provider", "fetched_at")


@dataclass(frozen=True, slots=True)
class IngestRun:
    """Handle for an open ingest run; pass it to every write of that run."""

    ingest_run_id: str
    tenant_id: str
    kind: str
    provider: str
    actor: str
    started_at: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A received record that failed validation: kept with its reason and raw payload."""

    data_kind: str
    reason: str
    raw_payload: str


@dataclass(slots=True)
class _Tally:
    accepted: int = 0
    rejected: int = 0
    next_reject_seq: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Target:
    table: sa.Table
    values: tuple[str, ...]
    """Columns compared and updated on conflict; provenance columns follow a changed value."""


_BARS = _Target(
    bars,
    ("open", "high", "low", "close", "volume", "vwap", "log_return", "source", "status"),
)
_SNAPSHOTS = _Target(
    price_snapshots,
    (
        "price",
        "bid",
        "ask",
        "volume_24h",
        "liquidity_usd",
        "txn_count_24h",
        "payload_sha256",
        "status",
    ),
)
_INSTRUMENTS = _Target(
    instruments, ("venue", "symbol", "base", "quote", "kind", "chain", "pair_address")
)


class ProvenanceWriter:
    """Writes market data for one tenant, batch by batch, with provenance on every row."""

    def __init__(
        self,
        engine: Engine,
        *,
        tenant_id: str = "default",
        actor: str = "cli",
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
        self._engine = engine
        self._tenant_id = tenant_id
        self._actor = actor
        self._batch_rows = batch_rows
        self._tallies: dict[str, _Tally] = {}

    # -- ingest runs ------------------------------------------------------------------------

    def start_run(self, kind: str, provider: str, params: Mapping[str, Any]) -> IngestRun:
        """Insert the ingest run row (status ``running``) and commit it before any data."""
        if kind not in INGEST_KINDS:
            raise ValidationError(
                f"ingest kind {kind!r} is unknown", f"use one of {', '.join(INGEST_KINDS)}"
            )
        started = to_iso(now())
        with self._engine.begin() as connection:
            existing = connection.execute(
                sa.select(sa.func.count())
                .select_from(ingest_runs)
                .where(ingest_runs.c.tenant_id == self._tenant_id)
            ).scalar_one()
            run_id = (
                "ir_"
                + sha256_json(
                    {
                        "kind": kind,
                        "params": dict(params),
                        "provider": provider,
                        "sequence": existing,
                        "started_at": started,
                        "tenant_id": self._tenant_id,
                    }
                )[:24]
            )
            connection.execute(
                ingest_runs.insert().values(
                    tenant_id=self._tenant_id,
                    ingest_run_id=run_id,
                    kind=kind,
                    provider=provider,
                    actor=self._actor,
                    params_json=canonical_dumps(dict(params)),
                    started_at=started,
                    status="running",
                )
            )
        self._tallies[run_id] = _Tally()
        return IngestRun(run_id, self._tenant_id, kind, provider, self._actor, started)

    def finish_run(
        self, run: IngestRun, status: str, error: str | None = None
    ) -> Mapping[str, int]:
        """Close the run with its final status and the writer's tallies; returns the counts."""
        if status not in INGEST_STATUSES or status == "running":
            raise ValidationError(f"final ingest status {status!r} is not allowed")
        tally = self._tally(run)
        counts = {
            "n_accepted": tally.accepted,
            "n_received": tally.accepted + tally.rejected,
            "n_rejected": tally.rejected,
        }
        with self._engine.begin() as connection:
            connection.execute(
                ingest_runs.update()
                .where(
                    ingest_runs.c.tenant_id == run.tenant_id,
                    ingest_runs.c.ingest_run_id == run.ingest_run_id,
                )
                .values(status=status, finished_at=to_iso(now()), error=error, **counts)
            )
        return counts

    # -- market data ------------------------------------------------------------------------

    def upsert_instruments(self, run: IngestRun, frame: pd.DataFrame) -> int:
        """Instruments (``instrument_id, venue, symbol, kind`` + optional metadata columns)."""
        stamped = frame.assign(created_at=run.started_at, ingest_run_id=run.ingest_run_id)
        return self._upsert(_INSTRUMENTS, run, stamped, count=False, provenance=("ingest_run_id",))

    def write_bars(
        self,
        run: IngestRun,
        frame: pd.DataFrame,
        *,
        source: str,
        status: str = "ok",
        fetched_at: str | None = None,
    ) -> int:
        """OHLCV bars: ``instrument_id, freq, bar_open_ms, open, high, low, close, volume``
        (+ optional ``vwap``, ``log_return``). Returns rows accepted."""
        stamped = self._stamp(run, frame, fetched_at, status=status, source=source)
        return self._upsert(_BARS, run, stamped)

    def write_snapshots(
        self,
        run: IngestRun,
        frame: pd.DataFrame,
        *,
        status: str = "ok",
        fetched_at: str | None = None,
    ) -> int:
        """Spot / DEX snapshots: ``instrument_id, observed_ms, price`` + optional market fields."""
        stamped = self._stamp(run, frame, fetched_at, status=status)
        return self._upsert(_SNAPSHOTS, run, stamped)

    def write_rejects(self, run: IngestRun, rejects: Sequence[Reject]) -> int:
        """Quarantine records with their reason and raw payload (one transaction per batch)."""
        tally = self._tally(run)
        created = to_iso(now())
        rows = []
        for reject in rejects:
            rows.append(
                (
                    run.tenant_id,
                    run.ingest_run_id,
                    tally.next_reject_seq,
                    reject.data_kind,
                    reject.reason,
                    reject.raw_payload,
                    hashlib.sha256(reject.raw_payload.encode("utf-8")).hexdigest(),
                    created,
                )
            )
            tally.next_reject_seq += 1
        columns = (
            "tenant_id",
            "ingest_run_id",
            "seq",
            "data_kind",
            "reason",
            "raw_payload",
            "payload_sha256",
            "created_at",
        )
        sql = self._insert_sql(ingest_rejects, columns, conflict=None)
        for batch in _batches(rows, self._batch_rows):
            with self._engine.begin() as connection:
                connection.exec_driver_sql(sql, batch)
        tally.rejected += len(rows)
        return len(rows)

    # -- internals --------------------------------------------------------------------------

    def _tally(self, run: IngestRun) -> _Tally:
        try:
            return self._tallies[run.ingest_run_id]
        except KeyError:
            raise NotFoundError(
                f"ingest run {run.ingest_run_id} was not started by this writer",
                "call start_run() first",
            ) from None

    def _stamp(
        self, run: IngestRun, frame: pd.DataFrame, fetched_at: str | None, **constants: str
    ) -> pd.DataFrame:
        return frame.assign(
            ingest_run_id=run.ingest_run_id,
            provider=run.provider,
            fetched_at=fetched_at or to_iso(now()),
            **constants,
        )

    def _upsert(
        self,
        target: _Target,
        run: IngestRun,
        frame: pd.DataFrame,
        *,
        count: bool = True,
        provenance: tuple[str, ...] = _PROVENANCE,
    ) -> int:
        tally = self._tally(run)
        table = target.table
        key = tuple(column.name for column in table.primary_key.columns)
        columns = tuple(
            column.name
            for column in table.columns
            if column.name in frame.columns or column.name == "tenant_id"
        )
        _check_frame(table, frame, columns)
        sql = self._insert_sql(
            table, columns, conflict=key, values=target.values, stamps=provenance
        )
        written = 0
        for batch in _batches(_row_tuples(frame, columns, run.tenant_id), self._batch_rows):
            with self._engine.begin() as connection:
                connection.exec_driver_sql(sql, batch)
            written += len(batch)
        if count:
            tally.accepted += written
        return written

    def _insert_sql(
        self,
        table: sa.Table,
        columns: Sequence[str],
        *,
        conflict: Sequence[str] | None,
        values: Sequence[str] = (),
        stamps: Sequence[str] = (),
    ) -> str:
        placeholder = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join([placeholder] * len(columns))})"
        )
        if conflict is None:
            return sql
        updates = [name for name in (*values, *stamps) if name in columns]
        compared = [name for name in values if name in columns]
        if not updates or not compared:
            return f"{sql} ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
        differs = " OR ".join(
            f"{table.name}.{name} IS DISTINCT FROM excluded.{name}" for name in compared
        )
        assignments = ", ".join(f"{name} = excluded.{name}" for name in updates)
        return (
            f"{sql} ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {assignments} WHERE {differs}"
        )


def _check_frame(table: sa.Table, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    required = [
        column.name
        for column in table.columns
        if not column.nullable and column.server_default is None and column.name != "tenant_id"
    ]
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValidationError(
            f"{table.name} rows lack required column(s) {', '.join(missing)}",
            "add them to the frame before writing",
        )
    for name in required:
        if frame[name].isna().any():
            raise ValidationError(
                f"{table.name}.{name} has missing values in {int(frame[name].isna().sum())} row(s)",
                "validate and quarantine those records before writing",
            )


def _row_tuples(frame: pd.DataFrame, columns: Sequence[str], tenant_id: str) -> list[tuple]:
    """Rows as tuples of plain Python scalars (``tolist`` per column), NaN turned into NULL."""
    n = len(frame)
    lists: list[list[Any]] = []
    for name in columns:
        if name == "tenant_id":  # always the writer's tenant: a frame cannot cross tenants
            lists.append([tenant_id] * n)
            continue
        series = frame[name]
        if series.isna().any():
            lists.append(series.astype(object).where(series.notna(), None).tolist())
        else:
            lists.append(series.tolist())
    return list(zip(*lists, strict=True))


def _batches(rows: Sequence[tuple], size: int) -> Iterator[Sequence[tuple]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
