"""Engine factory: one place that turns a database URL into a configured SQLAlchemy engine.

SQLite gets WAL journaling (set once, by writers), foreign keys on, a busy timeout and recursive
triggers on every connection (so a row that ``INSERT OR REPLACE`` deletes fires the table's DELETE
trigger: point-in-time market data and the append-only tables then refuse it instead of losing
the row silently). Read-only engines open the file with ``mode=ro`` and ``query_only`` so a read
command cannot change the database even by mistake — not even its journal mode. PostgreSQL URLs
are routed through psycopg 3 with a pre-pinged pool.

The PostgreSQL pool is SQLAlchemy's ``QueuePool``, sized explicitly, rather than ``psycopg_pool``
underneath it: SQLAlchemy pools connections itself, so a psycopg pool handed in as ``creator``
would be a second pool whose connections SQLAlchemy closes instead of returning. One pool means
one place that resets a connection on return — a rollback, which also discards the
transaction-local ``app.tenant_id`` (``db.tenant_session``), so no tenant survives into the next
checkout. ``PG_POOL_SIZE`` connections stay open, up to ``PG_MAX_OVERFLOW`` more under load, and a
caller waits at most ``PG_POOL_TIMEOUT_S`` for one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from crypto_analyzer.core.errors import ConfigError, DatabaseError, NotFoundError
from crypto_analyzer.db.tenant_session import install_tenant_session, with_tenant

__all__ = [
    "BUSY_TIMEOUT_MS",
    "PG_MAX_OVERFLOW",
    "PG_POOL_SIZE",
    "PG_POOL_TIMEOUT_S",
    "create_db_engine",
    "describe_url",
    "sqlite_path",
    "sqlite_uri",
]

BUSY_TIMEOUT_MS = 10_000
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 15
PG_POOL_TIMEOUT_S = 30.0


def sqlite_path(url: str | URL) -> Path | None:
    """Filesystem path of a SQLite URL, or None for other backends."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).expanduser()


def sqlite_uri(path: Path, *, read_only: bool) -> str:
    """SQLite URI filename for ``path``.

    Read-only opens use ``mode=ro``. When the file itself carries no write permission and no
    write-ahead log is pending, they add ``immutable=1``: SQLite then reads the file as a plain
    file and creates no ``-wal``/``-shm`` companions, so a read on a read-only database leaves the
    filesystem exactly as it found it. A pending WAL means committed data lives outside the main
    file, and immutable mode would not see it, so that case keeps the normal shared-memory read.
    """
    resolved = path.resolve()
    if not read_only:
        return f"file:{quote(str(resolved))}?mode=rwc"
    wal = resolved.with_name(resolved.name + "-wal")
    frozen = not (resolved.stat().st_mode & 0o222) and not (wal.exists() and wal.stat().st_size)
    return f"file:{quote(str(resolved))}?mode=ro" + ("&immutable=1" if frozen else "")


def describe_url(url: str) -> str:
    """The URL with any password masked, for messages and ``doctor`` output."""
    return make_url(url).render_as_string(hide_password=True)


def create_db_engine(
    url: str, *, read_only: bool = False, must_exist: bool = False, tenant: str | None = None
) -> Engine:
    """Build an engine for ``url``.

    Parameters
    ----------
    url : str
        ``sqlite:///PATH`` or ``postgresql://…`` (validated by settings).
    read_only : bool
        Open so that no statement can write (SQLite ``mode=ro`` + ``query_only``; PostgreSQL
        ``default_transaction_read_only``). Read commands use this.
    must_exist : bool
        For SQLite, refuse to create a new file: a read on a missing database is a user error, not
        a reason to leave an empty file behind.
    tenant : str or None
        The tenant every transaction runs as (``db.tenant_session``): on PostgreSQL it is set as
        ``app.tenant_id`` at transaction begin, which row-level security compares every row
        with. None: no tenant is set, and a non-owner role then sees no tenant-scoped row.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    engine: Engine
    if backend == "sqlite":
        engine = _sqlite_engine(parsed, read_only=read_only, must_exist=must_exist or read_only)
    elif backend == "postgresql":
        engine = _postgres_engine(parsed, read_only=read_only)
        install_tenant_session(engine)
    else:
        raise ConfigError(
            f"database backend {backend!r} is not supported", "use sqlite:///PATH or postgresql://…"
        )
    return engine if tenant is None else with_tenant(engine, tenant)


def _sqlite_engine(url: URL, *, read_only: bool, must_exist: bool) -> Engine:
    path = sqlite_path(url)
    if path is None:
        raise ConfigError(f"{url} names no SQLite file", "use sqlite:///PATH")
    if must_exist and not path.is_file():
        raise NotFoundError(
            f"database {path} does not exist", "create it with `crypto-analyzer init`"
        )
    if not path.parent.is_dir():
        raise NotFoundError(
            f"directory {path.parent} for database {path.name} does not exist",
            "create the directory or point CRYPTO_ANALYZER_DB_URL elsewhere",
        )
    resolved = path.resolve()
    target = sqlite_uri(resolved, read_only=read_only)

    def connect() -> sqlite3.Connection:
        try:
            # The pool hands a connection to one thread at a time (the API's worker threads
            # share an engine), which is what SQLAlchemy itself sets for file databases.
            return sqlite3.connect(
                target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        except sqlite3.OperationalError as exc:
            raise DatabaseError(f"cannot open database {resolved}: {exc}") from exc

    engine = sa.create_engine(f"sqlite:///{resolved}", creator=connect)

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA recursive_triggers=ON")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            else:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return engine


def _postgres_engine(url: URL, *, read_only: bool) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "PostgreSQL support needs psycopg 3",
            "install the extra: pip install 'crypto-analyzer[postgres]'",
        ) from exc
    driver_url = url.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if read_only:
        connect_args["options"] = "-c default_transaction_read_only=on"
    return sa.create_engine(
        driver_url,
        poolclass=sa.pool.QueuePool,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=PG_POOL_TIMEOUT_S,
        pool_pre_ping=True,
        pool_reset_on_return="rollback",
        connect_args=connect_args,
    )
