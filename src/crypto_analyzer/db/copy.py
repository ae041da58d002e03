"""Copy a workspace's rows into an empty database at head, on any pair of backends.

This is how a laptop workspace (SQLite) moves onto the team server (PostgreSQL) and back. The
target keeps every database guard switched on: nothing is disabled, so the rows must arrive the
way the application would have written them. Most tables are plain copies in dependency order, in
batches, primary-key order. Three families are *replayed* because their triggers accept only the
history as it happened:

* **Point-in-time market data** (``instruments``, ``bars``, their ``*_history`` tables and
  ``market_revisions``, revision 0004): for each revision ``R`` in order, the versions first written
  in ``R`` are inserted (a new key) or written over the live row (a restatement, which the
  ``keep_history`` trigger moves into history exactly as it did on the source), then the
  ``market_revisions`` row ``R`` extends the log.
* **Hash chains** (``governance_events``, ``trial_ledger``): in ``seq`` order, so each row extends
  the chain its guard expects; hashes and MACs are copied verbatim, so the same service key
  verifies them on the target.
* **Promotion candidates**: inserted as ``exploratory`` (the insert guard), then moved along their
  recorded transitions once the reports and events they cite exist (the update guard checks both).

Every row is copied as stored, with its ``tenant_id``; the dataset id is a function of those rows,
so it is identical on both sides (the orchestration in ``pipeline.db_copy`` checks it). The whole
copy is one target transaction: a failure leaves the target empty. On PostgreSQL the copy sets
``app.tenant_id`` per tenant inside that transaction, so it also works under row-level security.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.db.schema import (
    governance_events,
    market_revisions,
    metadata,
    promotion_candidates,
    tenants,
    trial_ledger,
)
from crypto_analyzer.db.schema.history import HISTORY_OF as HISTORY_OF_TABLES
from crypto_analyzer.db.tenant_session import TENANT_SETTING

__all__ = ["DEFAULT_BATCH_ROWS", "CopyCounts", "copy_rows", "source_tenants", "target_is_empty"]

DEFAULT_BATCH_ROWS = 5_000
_VERSIONED = ("instruments", "bars")
_REPLAYED = frozenset(
    {*_VERSIONED, *(f"{name}_history" for name in _VERSIONED), "market_revisions"}
)
_ORDER_BY = {governance_events.name: ("seq",), trial_ledger.name: ("seq",)}

Progress = Callable[[str], None]


@dataclass
class CopyCounts:
    """Rows written per table (history rows the target's triggers wrote included)."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, count: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + count


def _tenant_tables() -> list[sa.Table]:
    ordered = [table for table in metadata.sorted_tables if "tenant_id" in table.c]
    return [tenants, *(table for table in ordered if table is not tenants)]


def source_tenants(connection: Connection) -> list[str]:
    """Every tenant with at least one row anywhere."""
    found: set[str] = set()
    for table in _tenant_tables():
        found.update(connection.execute(sa.select(table.c.tenant_id).distinct()).scalars())
    return sorted(found)


def target_is_empty(connection: Connection) -> list[str]:
    """Names of the tenant-scoped tables that already hold rows (empty list: empty)."""
    return [
        table.name
        for table in _tenant_tables()
        if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    ]


def _rows(
    connection: Connection, query: sa.Select[Any], batch: int
) -> Iterator[list[dict[str, Any]]]:
    result = connection.execution_options(yield_per=batch).execute(query).mappings()
    for part in result.partitions(batch):
        yield [dict(row) for row in part]


def _ordered(table: sa.Table, tenant: str) -> sa.Select[Any]:
    names = _ORDER_BY.get(table.name) or tuple(column.name for column in table.primary_key)
    return (
        sa.select(table)
        .where(table.c.tenant_id == tenant)
        .order_by(*(table.c[name] for name in names))
    )


def _insert(target: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    if rows:
        target.execute(table.insert(), rows)
    return len(rows)


def copy_rows(
    source: Connection,
    target: Connection,
    tenant_ids: Sequence[str],
    *,
    batch: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
) -> CopyCounts:
    """Copy every row of ``tenant_ids`` from ``source`` into the (empty, at head) ``target``."""
    if batch < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch}")
    step = progress or (lambda _message: None)
    counts = CopyCounts()
    for tenant in tenant_ids:
        if target.dialect.name == "postgresql":
            target.execute(
                sa.text("SELECT set_config(:name, :tenant, true)"),
                {"name": TENANT_SETTING, "tenant": tenant},
            )
        for table in _tenant_tables():
            if table.name in _REPLAYED and table.name != "instruments":
                continue
            if table.name == "instruments":
                step(f"{tenant}: market data (point-in-time replay)")
                _replay_market(source, target, tenant, batch, counts)
                continue
            step(f"{tenant}: {table.name}")
            for rows in _rows(source, _ordered(table, tenant), batch):
                if table is promotion_candidates:
                    rows = [_as_new_candidate(row) for row in rows]
                counts.add(table.name, _insert(target, table, rows))
        _replay_transitions(source, target, tenant)
    return counts


# -- promotion candidates ----------------------------------------------------------------------


def _as_new_candidate(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "status": "exploratory", "eligibility_report_id": None, "status_reason": None}


def _replay_transitions(source: Connection, target: Connection, tenant: str) -> None:
    """Move each copied candidate along its recorded status changes to its final row."""
    events = source.execute(
        sa.select(
            governance_events.c.candidate_id,
            governance_events.c.to_status,
            governance_events.c.report_id,
        )
        .where(
            governance_events.c.tenant_id == tenant,
            governance_events.c.to_status.is_not(None),
            governance_events.c.event_type != "created",
        )
        .order_by(governance_events.c.seq)
    ).all()
    steps: dict[str, list[tuple[str, str | None]]] = {}
    for candidate_id, to_status, report_id in events:
        steps.setdefault(candidate_id, []).append((to_status, report_id))
    finals = {
        row["candidate_id"]: dict(row)
        for row in source.execute(
            sa.select(promotion_candidates).where(promotion_candidates.c.tenant_id == tenant)
        ).mappings()
    }
    key = (promotion_candidates.c.tenant_id == tenant,)
    for candidate_id, final in finals.items():
        moves = steps.get(candidate_id, [])
        where = (*key, promotion_candidates.c.candidate_id == candidate_id)
        for to_status, report_id in moves[:-1]:
            values: dict[str, Any] = {"status": to_status}
            if to_status in ("candidate", "accepted"):
                values["eligibility_report_id"] = report_id
            target.execute(promotion_candidates.update().where(*where).values(**values))
        columns = ("status", "eligibility_report_id", "status_reason", "updated_at")
        target.execute(
            promotion_candidates.update()
            .where(*where)
            .values(**{name: final[name] for name in columns})
        )


# -- point-in-time market data -----------------------------------------------------------------


def _replay_market(
    source: Connection, target: Connection, tenant: str, batch: int, counts: CopyCounts
) -> None:
    revisions = {
        row["revision"]: dict(row)
        for row in source.execute(
            sa.select(market_revisions)
            .where(market_revisions.c.tenant_id == tenant)
            .order_by(market_revisions.c.revision)
        ).mappings()
    }
    seen: set[int] = set(revisions)
    for name in _VERSIONED:
        live, history = metadata.tables[name], HISTORY_OF_TABLES[name]
        for table in (live, history):
            seen.update(
                source.execute(
                    sa.select(table.c.revision).where(table.c.tenant_id == tenant).distinct()
                ).scalars()
            )
    for revision in sorted(seen):
        for name in _VERSIONED:
            _write_versions(source, target, tenant, name, revision, batch, counts)
        if revision in revisions:
            counts.add("market_revisions", _insert(target, market_revisions, [revisions[revision]]))


def _write_versions(
    source: Connection,
    target: Connection,
    tenant: str,
    name: str,
    revision: int,
    batch: int,
    counts: CopyCounts,
) -> None:
    """The versions of ``name`` first stored in ``revision``: new keys inserted, restated keys
    written over the live row (the target's trigger keeps the old version in history)."""
    live, history = metadata.tables[name], HISTORY_OF_TABLES[name]
    key = [column.name for column in live.primary_key.columns]
    columns = [column.name for column in live.columns]
    restated = {
        tuple(row)
        for row in source.execute(
            sa.select(*(history.c[c] for c in key)).where(
                history.c.tenant_id == tenant, history.c.superseded_revision == revision
            )
        )
    }
    versions = sa.union_all(
        sa.select(*(live.c[c] for c in columns)).where(
            live.c.tenant_id == tenant, live.c.revision == revision
        ),
        sa.select(*(history.c[c] for c in columns)).where(
            history.c.tenant_id == tenant, history.c.revision == revision
        ),
    ).subquery()
    query = sa.select(versions).order_by(*(versions.c[c] for c in key))
    update = (
        live.update()
        .where(*(live.c[c] == sa.bindparam(f"k_{c}") for c in key))
        .values({c: sa.bindparam(f"v_{c}") for c in columns if c not in key})
    )
    for rows in _rows(source, query, batch):
        fresh = [row for row in rows if tuple(row[c] for c in key) not in restated]
        counts.add(name, _insert(target, live, fresh))
        changed = [
            {
                **{f"k_{c}": row[c] for c in key},
                **{f"v_{c}": row[c] for c in columns if c not in key},
            }
            for row in rows
            if tuple(row[c] for c in key) in restated
        ]
        if changed:
            target.execute(update, changed)
            counts.add(history.name, len(changed))
