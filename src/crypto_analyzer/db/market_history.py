"""Point-in-time reads of market data: watermarks, the rows visible at one, and what changed since.

Why it exists (invariant 11). A result is only reproducible if the data it used can be read again
exactly. The writer (:mod:`.market_revisions`) numbers every change of ``bars`` and
``instruments`` per tenant and the database keeps each replaced version in ``*_history``; so the
rows visible at a watermark ``W`` are

* the live rows with ``revision <= W``, plus
* the history rows with ``revision <= W < superseded_revision`` (versions replaced after ``W``).

At most one version of a key satisfies that (a key's versions cover disjoint revision ranges).
When no history row is visible at ``W`` — no restatement since — the live part alone is the
answer, which keeps the plain key-ordered scan of one table (the fast path). A read that takes the
fast path re-checks the history afterwards: history is append-only, so if it is still empty no row
visible at ``W`` was replaced before the read either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.schema import bars, ingest_runs, instruments, market_revisions
from crypto_analyzer.db.schema.history import HISTORY_OF

__all__ = [
    "VERSIONED_TABLES",
    "Restatement",
    "check_watermark",
    "current_watermark",
    "history_visible",
    "ingest_run_watermark",
    "restatements_after",
    "visible_select",
]

VERSIONED_TABLES = tuple(sorted(HISTORY_OF))
"""Live tables whose replaced versions are kept (``bars``, ``instruments``)."""
_LIVE = {table.name: table for table in (bars, instruments)}


def current_watermark(connection: Connection, tenant_id: str) -> int:
    """The tenant's latest market revision: 0 when nothing was written since revisions exist."""
    latest = connection.execute(
        sa.select(sa.func.max(market_revisions.c.revision)).where(
            market_revisions.c.tenant_id == tenant_id
        )
    ).scalar_one()
    return 0 if latest is None else int(latest)


def check_watermark(connection: Connection, tenant_id: str, watermark: int) -> int:
    """``watermark`` if it names data that exists for the tenant; a clear error otherwise.

    A watermark beyond the latest revision would name data that does not exist yet (and would
    change when it is written), so it is refused rather than read as "current".
    """
    if isinstance(watermark, bool) or not isinstance(watermark, int):
        raise ValidationError(
            f"watermark {watermark!r} is not an integer", "give a market revision number"
        )
    latest = current_watermark(connection, tenant_id)
    if not 0 <= watermark <= latest:
        raise ValidationError(
            f"watermark {watermark} is outside the market revisions of tenant {tenant_id!r} "
            f"(0..{latest})",
            "give a recorded watermark, a report run id or an ingest run id",
        )
    return watermark


def ingest_run_watermark(connection: Connection, tenant_id: str, run_id: str) -> tuple[str, int]:
    """``(ingest run id, last revision it recorded)`` for an ingest run id or unique prefix.

    Raises ValidationError when nothing matches, the prefix is ambiguous, or the run recorded no
    market revision (still running, or it changed no market data): it names no watermark then.
    """
    found = connection.execute(
        sa.select(ingest_runs.c.ingest_run_id, ingest_runs.c.status, ingest_runs.c.last_revision)
        .where(
            ingest_runs.c.tenant_id == tenant_id,
            ingest_runs.c.ingest_run_id.startswith(run_id, autoescape=True),
        )
        .limit(2)
    ).all()
    if len(found) != 1:
        raise ValidationError(
            f"{run_id!r} {'is an ambiguous ingest run prefix' if found else 'names no ingest run'}"
            f" of tenant {tenant_id!r}",
            "give the full ingest run id",
        )
    full, status, last = found[0]
    if last is None:
        why = "is still running" if status == "running" else "changed no market data"
        raise ValidationError(
            f"ingest run {full} recorded no market revision (it {why})",
            "name a watermark, a report run, or an ingest run that wrote market data",
        )
    return str(full), int(last)


def history_visible(connection: Connection, table: str, tenant_id: str, watermark: int) -> bool:
    """Whether some replaced version of ``table`` was visible at ``watermark``."""
    history = HISTORY_OF[table]
    found = connection.execute(
        sa.select(sa.literal(1))
        .where(
            history.c.tenant_id == tenant_id,
            history.c.superseded_revision > watermark,
            history.c.revision <= watermark,
        )
        .limit(1)
    ).first()
    return found is not None


def visible_select(
    table: str,
    columns: Sequence[str],
    tenant_id: str,
    watermark: int,
    *,
    with_history: bool,
    where: Any = None,
) -> sa.Select[Any] | sa.CompoundSelect:
    """``columns`` of the tenant's rows of ``table`` visible at ``watermark`` (unordered).

    ``where(t)`` may add conditions on a table ``t`` (live or history, same column names). Without
    history it is one ``SELECT`` on the live table; with it, a ``UNION ALL`` with the history rows.
    """
    live = _LIVE[table]
    parts = [(live, live.c.revision <= watermark)]
    if with_history:
        history = HISTORY_OF[table]
        replaced = history.c.superseded_revision > watermark
        parts.append((history, sa.and_(history.c.revision <= watermark, replaced)))
    selects = []
    for source, visible in parts:
        query = sa.select(*(source.c[name] for name in columns)).where(
            source.c.tenant_id == tenant_id, visible
        )
        if where is not None:
            query = query.where(where(source))
        selects.append(query)
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


@dataclass(frozen=True, slots=True)
class Restatement:
    """Values visible at a watermark that one later revision replaced, within a footprint.

    ``start_ms``/``end_ms`` are the first and last replaced ``bar_open_ms`` (both inclusive;
    None for instruments);
    ``freq`` is None for instruments; ``instruments`` counts distinct instruments touched.
    """

    table: str
    superseded_revision: int
    superseded_by_ingest_run_id: str
    freq: str | None
    instruments: int
    start_ms: int | None
    end_ms: int | None
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "end_ms": self.end_ms,
            "freq": self.freq,
            "instruments": self.instruments,
            "rows": self.rows,
            "start_ms": self.start_ms,
            "superseded_by_ingest_run_id": self.superseded_by_ingest_run_id,
            "superseded_revision": self.superseded_revision,
            "table": self.table,
        }


def restatements_after(
    connection: Connection,
    tenant_id: str,
    watermark: int,
    *,
    freq: str | None = None,
    instrument_ids: Sequence[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    until: int | None = None,
) -> list[Restatement]:
    """Every replacement, after ``watermark``, of a value that was visible at ``watermark``.

    ``until`` keeps only replacements made at or before that revision: what was known to be
    restated when the market stood at watermark ``until`` (how an audit re-derives an old
    decision).

    Grouped by (table, superseded revision, replacing ingest run) and, for bars, frequency; ordered
    by revision. The filters restrict bars to a footprint (frequency, instruments, bar open times
    in ``[start_ms, end_ms)``); an instrument's restatement counts when the instrument is in the
    footprint (all instruments when ``instrument_ids`` is None).
    """
    if instrument_ids is not None and not instrument_ids:
        raise ValidationError("instrument_ids is empty", "pass None for every instrument")
    found: list[Restatement] = []
    for table in VERSIONED_TABLES:
        history = HISTORY_OF[table]
        visible = sa.and_(
            history.c.tenant_id == tenant_id,
            history.c.revision <= watermark,
            history.c.superseded_revision > watermark,
        )
        conditions = [visible]
        if until is not None:
            conditions.append(history.c.superseded_revision <= until)
        if instrument_ids is not None:
            conditions.append(history.c.instrument_id.in_(list(instrument_ids)))
        groups = [history.c.superseded_revision, history.c.superseded_by_ingest_run_id]
        measures: list[sa.ColumnElement[Any]] = [
            sa.func.count(sa.distinct(history.c.instrument_id)),
            sa.func.count(),
        ]
        if table == bars.name:
            if freq is not None:
                conditions.append(history.c.freq == freq)
            if start_ms is not None:
                conditions.append(history.c.bar_open_ms >= start_ms)
            if end_ms is not None:
                conditions.append(history.c.bar_open_ms < end_ms)
            groups.append(history.c.freq)
            measures += [sa.func.min(history.c.bar_open_ms), sa.func.max(history.c.bar_open_ms)]
        rows = connection.execute(
            sa.select(*groups, *measures).where(*conditions).group_by(*groups)
        ).all()
        for row in rows:
            is_bars = table == bars.name
            found.append(
                Restatement(
                    table=table,
                    superseded_revision=int(row[0]),
                    superseded_by_ingest_run_id=str(row[1]),
                    freq=str(row[2]) if is_bars else None,
                    instruments=int(row[3] if is_bars else row[2]),
                    rows=int(row[4] if is_bars else row[3]),
                    start_ms=int(row[5]) if is_bars else None,
                    end_ms=int(row[6]) if is_bars else None,
                )
            )
    return sorted(found, key=lambda item: (item.superseded_revision, item.table, item.freq or ""))
