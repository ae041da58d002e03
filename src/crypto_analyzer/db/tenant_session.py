"""The tenant of a PostgreSQL transaction: ``app.tenant_id``, set when the transaction begins.

Row-level security (revision 0011) lets a non-owner role see and write only the rows whose
``tenant_id`` equals ``current_setting('app.tenant_id', true)``. That setting is made
*transaction-local* (``set_config(…, true)``, the function form of ``SET LOCAL``) at the start of
every transaction, from the tenant carried in the engine's (or connection's) execution options:
a pooled connection handed to the next caller keeps no tenant, and a transaction that was begun
without one sees no tenant-scoped row at all.

Why execution options and not a context variable: an engine built for a workspace
(``db.workspace.open_engine``) carries the resolved tenant, so every existing caller that opens
``engine.begin()`` / ``engine.connect()`` is correct without change, and a multi-tenant process
(the API) derives one cheap option engine per request with :func:`with_tenant`, sharing one pool.
The listener writes through the DBAPI cursor because SQLAlchemy's ``begin`` event fires before the
transaction object exists; psycopg opens the server transaction with that very statement.
SQLite has no row-level security: there the tenant filter in every query is the guarantee
(``tests/integration/tenancy/test_sqlite_tenant_predicates.py``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "TENANT_OPTION",
    "TENANT_SETTING",
    "engine_tenant",
    "install_tenant_session",
    "with_tenant",
]

TENANT_OPTION = "crypto_analyzer_tenant"
"""Execution option holding the tenant id of an engine or connection."""

TENANT_SETTING = "app.tenant_id"
"""The PostgreSQL setting the row-level security policies compare ``tenant_id`` with."""

_INSTALLED = "_crypto_analyzer_tenant_session"


def install_tenant_session(engine: Engine) -> None:
    """Set ``app.tenant_id`` at every transaction begin on ``engine`` (PostgreSQL; idempotent)."""
    if engine.dialect.name != "postgresql" or getattr(engine, _INSTALLED, False):
        return
    sa.event.listen(engine, "begin", _set_transaction_tenant)
    setattr(engine, _INSTALLED, True)


def _set_transaction_tenant(connection: Connection) -> None:
    tenant = connection.get_execution_options().get(TENANT_OPTION)
    if tenant is not None:
        _set_config(connection.connection.dbapi_connection, str(tenant))


def _set_config(driver_connection: Any, tenant: str) -> None:
    cursor = driver_connection.cursor()
    try:
        cursor.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, tenant))
    finally:
        cursor.close()


def set_driver_tenant(engine: Engine, driver_connection: Any) -> None:
    """Set ``engine``'s tenant on a raw driver connection (``engine.raw_connection()`` skips the
    ``begin`` event). Transaction-local like the event; a no-op off PostgreSQL or without one."""
    tenant = engine_tenant(engine)
    if engine.dialect.name == "postgresql" and tenant is not None:
        _set_config(driver_connection, tenant)


def with_tenant(engine: Engine, tenant: str) -> Engine:
    """``engine`` (sharing its pool) whose transactions run as ``tenant``."""
    return engine.execution_options(**{TENANT_OPTION: tenant})


def engine_tenant(engine: Engine | Connection) -> str | None:
    """The tenant an engine or connection sets at transaction begin, or None."""
    value = engine.get_execution_options().get(TENANT_OPTION)
    return None if value is None else str(value)
