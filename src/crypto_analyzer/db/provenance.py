"""Provenance writer: the only way market data enters the database.

Every row it writes is stamped with the ingest run, provider, fetch time and status (invariant 3);
rows go in one transaction per batch, so a crash loses at most the batch in flight and a rerun
converges (upserts keyed by the primary key; an identical row is left untouched, keeping its
original provenance, while a changed row takes the new values and the new provenance). The writer
also keeps the run's tallies, so the ingest run row always satisfies accepted + rejected = received.

``bars`` and ``instruments`` are point-in-time (invariant 11): every batch of them is one write
transaction under the tenant's market-revision lock, stamped with the tenant's next revision and
recorded in ``market_revisions`` only if it changed a row (:mod:`.market_revisions`); the database
keeps every replaced version in history. An identical re-import therefore changes nothing at all.

Large writes of bars and snapshots on SQLite (2,000 rows or more) take the bulk path in
:mod:`crypto_analyzer.db.sqlite_bulk`, which keeps exactly these semantics; PostgreSQL and
small writes use one ``executemany`` of the upsert per batch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.db.frame_cells import batches, check_frame, column_lists, plain_row
from crypto_analyzer.db.ingest_liveness import close_dead_runs, process_owner, recorded_revision
from crypto_analyzer.db.market_revisions import RevisionStamp, market_transaction
from crypto_analyzer.db.schema import (
    bars,
    ingest_rejects,
    ingest_runs,
    instruments,
    price_snapshots,
    universe_churn,
    universe_members,
    universe_snapshots,
)
from crypto_analyzer.db.schema.ingest import INGEST_KINDS, INGEST_STATUSES
from crypto_analyzer.db.sqlite_bulk import REVISION_COLUMN, SqliteBulk
from crypto_analyzer.db.upsert_sql import conflict_clause, insert_sql, key_columns

__all__ = ["DEFAULT_BATCH_ROWS", "IngestRun", "ProvenanceWriter", "Reject"]

_LOG = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 200_000
_PROVENANCE = ("ingest_run_id", "provider", "fetched_at")
_BULK_MIN_ROWS = 2_000
"""Below this, staging costs more statements than it saves; the plain upsert is used."""


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
    bulk: bool = False
    """Eligible for the SQLite staging path (large tables)."""
    versioned: bool = False
    """Point-in-time: each batch is stamped with, and records, a market revision."""


_BARS = _Target(
    bars,
    ("open", "high", "low", "close", "volume", "vwap", "log_return", "source", "status"),
    bulk=True,
    versioned=True,
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
    bulk=True,
)
_INSTRUMENTS = _Target(
    instruments,
    ("venue", "symbol", "base", "quote", "kind", "chain", "pair_address"),
    versioned=True,
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
        """Insert the ingest run row (``running``, naming this pid and host) before any data;
        this host's runs whose process is gone are closed first (``db/ingest_liveness.py``)."""
        if kind not in INGEST_KINDS:
            raise ValidationError(
                f"ingest kind {kind!r} is unknown", f"use one of {', '.join(INGEST_KINDS)}"
            )
        started = to_iso(now())
        pid, host = process_owner()
        with self._engine.begin() as connection:
            for closed in close_dead_runs(connection, tenant_id=self._tenant_id):
                _LOG.warning("closed ingest run %s: %s", closed.ingest_run_id, closed.reason)
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
                    pid=pid,
                    host=host,
                )
            )
        self._tallies[run_id] = _Tally()
        return IngestRun(run_id, self._tenant_id, kind, provider, self._actor, started)

    def finish_run(
        self, run: IngestRun, status: str, error: str | None = None
    ) -> Mapping[str, int]:
        """Close the run with its final status and the writer's tallies; returns the counts.

        Also records ``last_revision``, the highest market revision the run wrote (NULL if it
        changed no market data), so a watermark can be named by its ingest run."""
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
                .values(
                    status=status,
                    finished_at=to_iso(now()),
                    error=error,
                    last_revision=recorded_revision(run.tenant_id, run.ingest_run_id),
                    **counts,
                )
            )
        return counts

    # -- market data ------------------------------------------------------------------------

    def upsert_instruments(self, run: IngestRun, frame: pd.DataFrame) -> int:
        """Instruments (``instrument_id, venue, symbol, kind`` + optional metadata columns)."""
        stamps = {"created_at": run.started_at, "ingest_run_id": run.ingest_run_id}
        return self._upsert(
            _INSTRUMENTS, run, frame, stamps, count=False, provenance=("ingest_run_id",)
        )

    def write_bars(
        self,
        run: IngestRun,
        frame: pd.DataFrame,
        *,
        source: str,
        status: str = "ok",
        fetched_at: str | None = None,
        provider: str | None = None,
    ) -> int:
        """OHLCV bars: ``instrument_id, freq, bar_open_ms, open, high, low, close, volume``
        (+ optional ``vwap``, ``log_return``). Returns rows accepted.

        ``provider`` stamps rows with the source that actually served them when a run spans
        several (a fallback chain); it defaults to the run's provider.
        """
        stamps = self._stamps(run, fetched_at, provider, status=status, source=source)
        return self._upsert(_BARS, run, frame, stamps)

    def write_snapshots(
        self,
        run: IngestRun,
        frame: pd.DataFrame,
        *,
        status: str = "ok",
        fetched_at: str | None = None,
        provider: str | None = None,
    ) -> int:
        """Spot / DEX snapshots: ``instrument_id, observed_ms, price`` + optional market fields."""
        stamps = self._stamps(run, fetched_at, provider, status=status)
        return self._upsert(_SNAPSHOTS, run, frame, stamps)

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
                    hashlib.sha256(reject.raw_payload.encode("utf-8", "surrogatepass")).hexdigest(),
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
        sql = insert_sql(ingest_rejects, columns, self._paramstyle, conflict=None)
        for batch in batches(rows, self._batch_rows):
            with self._engine.begin() as connection:
                connection.exec_driver_sql(sql, batch)
        tally.rejected += len(rows)
        return len(rows)

    def write_universe(
        self,
        run: IngestRun,
        snapshot: Mapping[str, Any],
        members: pd.DataFrame,
        churn: pd.DataFrame,
    ) -> None:
        """One universe refresh (snapshot row, members, churn log) in a single transaction."""
        header = {
            **dict(snapshot),
            "tenant_id": run.tenant_id,
            "ingest_run_id": run.ingest_run_id,
            "created_at": snapshot.get("created_at") or to_iso(now()),
        }
        with self._engine.begin() as connection:
            connection.execute(universe_snapshots.insert().values(**header))
            for table, frame in ((universe_members, members), (universe_churn, churn)):
                if frame.empty:
                    continue
                rows = frame.assign(
                    tenant_id=run.tenant_id, snapshot_id=header["snapshot_id"]
                ).to_dict("records")
                connection.execute(table.insert(), [plain_row(row, table) for row in rows])

    # -- internals --------------------------------------------------------------------------

    @property
    def _paramstyle(self) -> str:
        return self._engine.dialect.paramstyle

    def _tally(self, run: IngestRun) -> _Tally:
        try:
            return self._tallies[run.ingest_run_id]
        except KeyError:
            raise NotFoundError(
                f"ingest run {run.ingest_run_id} was not started by this writer",
                "call start_run() first",
            ) from None

    def _stamps(
        self, run: IngestRun, fetched_at: str | None, provider: str | None, **constants: str
    ) -> dict[str, str]:
        return {
            "ingest_run_id": run.ingest_run_id,
            "provider": provider or run.provider,
            "fetched_at": fetched_at or to_iso(now()),
            **constants,
        }

    def _upsert(
        self,
        target: _Target,
        run: IngestRun,
        frame: pd.DataFrame,
        stamps: Mapping[str, Any],
        *,
        count: bool = True,
        provenance: tuple[str, ...] = _PROVENANCE,
    ) -> int:
        tally = self._tally(run)
        table = target.table
        constants = {"tenant_id": run.tenant_id, **stamps}  # a frame cannot cross tenants
        stamp = None
        if target.versioned:  # the value is a placeholder: each batch stamps its own revision
            constants[REVISION_COLUMN] = 0
            provenance = (*provenance, REVISION_COLUMN)  # updated with the values, never compared
            stamp = RevisionStamp(run.tenant_id, run.ingest_run_id)
        varying = [
            column.name
            for column in table.columns
            if column.name in frame.columns and column.name not in constants
        ]
        check_frame(table, frame, varying, constants)
        if frame.empty:
            return 0
        bulk = None
        if target.bulk and len(frame) >= _BULK_MIN_ROWS and self._engine.dialect.name == "sqlite":
            columns = (*varying, *constants)
            conflict = conflict_clause(
                table, columns, key_columns(table), target.values, provenance
            )
            bulk = SqliteBulk.plan(self._engine, table, frame, varying, constants, conflict, stamp)
        if bulk is not None:
            written = bulk.write(self._batch_rows)
        else:
            written = self._plain_upsert(target, frame, varying, constants, provenance, stamp)
        if count:
            tally.accepted += written
        return written

    def _plain_upsert(
        self,
        target: _Target,
        frame: pd.DataFrame,
        varying: Sequence[str],
        constants: Mapping[str, Any],
        provenance: Sequence[str],
        stamp: RevisionStamp | None,
    ) -> int:
        """``executemany`` of the upsert, one transaction per batch (PostgreSQL, small tables);
        with a ``stamp``, each under the market-revision lock with its own revision (the
        ``revision`` constant, last in ``constants``, is replaced per batch)."""
        lists = column_lists(frame, varying)
        columns = (*varying, *constants)
        sql = insert_sql(
            target.table,
            columns,
            self._paramstyle,
            conflict=key_columns(target.table),
            values=target.values,
            stamps=provenance,
        )
        tail = tuple(constants.values())
        written = 0
        for start in range(0, len(frame), self._batch_rows):
            stop = start + self._batch_rows
            parts = (part[start:stop] for part in lists)
            cells = list(zip(*parts, strict=True))
            if stamp is None:
                with self._engine.begin() as connection:
                    connection.exec_driver_sql(sql, [row + tail for row in cells])
            else:
                with market_transaction(self._engine, stamp) as transaction:
                    stamped = (*tail[:-1], transaction.revision)
                    transaction.execute(sql, [row + stamped for row in cells])
            written += len(cells)
        return written
