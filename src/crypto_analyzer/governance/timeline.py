"""When governed writes happen, and what ``audit verify`` checks about it.

A governed write (candidate, eligibility report, governance event) is stamped once per action,
inside the action's locked transaction, by :func:`action_stamp`: the real clock in a governed
tenant, the project clock (which ``CRYPTO_ANALYZER_FIXED_TIME`` may pin) only in a sandbox. The
stamp never runs behind the chain head by a small clock step (several writers, NTP adjustments),
so an honest chain is non-decreasing; a larger step is written as it is and reported.

:func:`timeline_findings` is the audit side: along ``seq``, every ``created_at`` is fixed-width UTC
text, inside the accepted range, not earlier than the event before it, not in the future for
events written in governed mode, and written in the tenant's current mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.core.clock import from_iso, governed_now, now, to_iso, wall_now
from crypto_analyzer.core.instants import MAX_INSTANT, MIN_INSTANT
from crypto_analyzer.db.schema import governance_events
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode
from crypto_analyzer.governance.records import EventRecord

__all__ = ["MAX_SKEW", "action_stamp", "action_time", "recorded_mode", "timeline_findings"]

MAX_SKEW = timedelta(minutes=5)
"""Clock disagreement tolerated between writers before a step back is left visible."""


def action_stamp(connection: Connection, tenant_id: str, mode: WorkspaceMode) -> str:
    """The ``created_at`` text of one governed action. Call with the chain lock held."""
    moment = now() if mode is WorkspaceMode.SANDBOX else governed_now()
    head = connection.execute(
        sa.select(governance_events.c.created_at)
        .where(governance_events.c.tenant_id == tenant_id)
        .order_by(governance_events.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    try:
        latest = None if head is None else from_iso(head)
    except ValueError:  # a malformed head is an audit finding, not a reason to copy it
        latest = None
    behind = latest is not None and moment < latest < MAX_INSTANT
    if behind and (mode is WorkspaceMode.SANDBOX or cast(datetime, latest) - moment <= MAX_SKEW):
        return to_iso(cast(datetime, latest))  # `behind` implies latest is not None
    return to_iso(moment)


def action_time(connection: Connection, tenant_id: str) -> tuple[WorkspaceMode, str]:
    """The tenant's mode and the stamp of one governed action (with the chain lock held)."""
    mode = read_mode(connection, tenant_id)
    return mode, action_stamp(connection, tenant_id, mode)


def recorded_mode(event: EventRecord) -> str | None:
    """The workspace mode an event says it was written in (None before revision 0008)."""
    payload = event.payload
    if isinstance(payload, dict):
        value = payload.get("workspace_mode")
        return None if value is None else str(value)
    return None


def timeline_findings(
    events: Sequence[EventRecord], tenant_mode: WorkspaceMode, *, at: datetime | None = None
) -> list[tuple[str, str]]:
    """(check, message) pairs for one tenant's events in ``seq`` order; empty when all hold."""
    findings: list[tuple[str, str]] = []
    current = at or wall_now()
    previous: tuple[datetime, EventRecord] | None = None
    for event in events:
        label = f"event {event.event_id} (seq {event.seq})"
        mode = recorded_mode(event)
        if mode is not None and mode != tenant_mode.value:
            findings.append(
                (
                    "mode",
                    f"{label} was written in {mode} mode but tenant {event.tenant_id!r} is "
                    f"{tenant_mode.value}: the workspace mode was changed outside the application",
                )
            )
        try:
            moment = from_iso(event.created_at)
        except ValueError:
            findings.append(
                (
                    "time",
                    f"{label}: created_at {event.created_at!r} is not fixed-width UTC text "
                    "(YYYY-MM-DDTHH:MM:SS.ffffffZ), so the chain cannot be ordered by time",
                )
            )
            continue
        if not MIN_INSTANT <= moment < MAX_INSTANT:
            findings.append(
                ("time", f"{label}: created_at {event.created_at} is outside 1970-01-01 … 2099")
            )
            continue
        if mode != WorkspaceMode.SANDBOX.value and moment > current + MAX_SKEW:
            findings.append(
                (
                    "time",
                    f"{label}: created_at {event.created_at} is in the future (now "
                    f"{to_iso(current)}) although it was written in governed mode",
                )
            )
        if previous is not None and moment < previous[0]:
            findings.append(
                (
                    "time",
                    f"{label}: created_at {event.created_at} is earlier than "
                    f"{previous[1].created_at} of seq {previous[1].seq}: time goes backwards "
                    "along the chain",
                )
            )
        previous = (moment, event)
    return findings
