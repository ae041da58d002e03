"""A tenant's workspace mode: ``governed`` (the default) or ``sandbox``, chosen once.

A governed workspace is the real record: governed writes are stamped by the real clock and made by
authenticated principals. A sandbox (``crypto-analyzer init --sandbox``, the demo, tests) may pin
the clock and accept declared actor names, which keeps demos reproducible. The mode is stored in
``tenants.mode`` (revision 0008); a tenant without a row is governed, so forgetting to register a
tenant can never loosen anything.

The application never changes a mode: :func:`register_tenant` refuses to, and the triggers of
revision 0008 refuse it to anyone with DML rights. Someone with DDL rights could drop them, which
is why every governance event records the mode it was written in and ``audit verify`` compares.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.core.clock import governed_now, now, to_iso
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.db.schema import governance_events, tenants

__all__ = ["WorkspaceMode", "read_mode", "register_tenant"]


class WorkspaceMode(enum.StrEnum):
    """How governed writes behave in a tenant."""

    GOVERNED = "governed"
    SANDBOX = "sandbox"


def read_mode(connection: Connection, tenant_id: str) -> WorkspaceMode:
    """The tenant's mode; ``governed`` when the tenant has no row (older or unregistered)."""
    value = connection.execute(
        sa.select(tenants.c.mode).where(tenants.c.tenant_id == tenant_id)
    ).scalar_one_or_none()
    if value is None:
        return WorkspaceMode.GOVERNED
    try:
        return WorkspaceMode(value)
    except ValueError:  # the CHECK forbids it; a dropped CHECK must not loosen anything
        return WorkspaceMode.GOVERNED


def register_tenant(
    connection: Connection, tenant_id: str, mode: WorkspaceMode = WorkspaceMode.GOVERNED
) -> WorkspaceMode:
    """Record the tenant in ``mode`` (idempotent); refuse if it already is the other mode.

    A tenant that has governance events but no row was governed all along, so it cannot be
    registered as a sandbox either. Raises :class:`ConfigError` (exit 2) naming both modes.
    """
    mode = WorkspaceMode(mode)
    stored = connection.execute(
        sa.select(tenants.c.mode).where(tenants.c.tenant_id == tenant_id)
    ).scalar_one_or_none()
    if stored is None and mode is WorkspaceMode.SANDBOX and _has_history(connection, tenant_id):
        raise ConfigError(
            f"tenant {tenant_id!r} already has governed history, so it never becomes a sandbox",
            "use another database or --tenant for the sandbox",
        )
    if stored is None:
        stamp = to_iso(now() if mode is WorkspaceMode.SANDBOX else governed_now())
        connection.execute(
            tenants.insert().values(
                tenant_id=tenant_id, name=tenant_id, created_at=stamp, mode=mode.value
            )
        )
        return mode
    current = read_mode(connection, tenant_id)
    if current is not mode:
        target = "a sandbox" if mode is WorkspaceMode.SANDBOX else "governed"
        raise ConfigError(
            f"tenant {tenant_id!r} is a {current.value} workspace; a {current.value} workspace "
            f"never becomes {target}",
            "use another database or --tenant",
        )
    return current


def _has_history(connection: Connection, tenant_id: str) -> bool:
    return (
        connection.execute(
            sa.select(governance_events.c.seq)
            .where(governance_events.c.tenant_id == tenant_id)
            .limit(1)
        ).first()
        is not None
    )
