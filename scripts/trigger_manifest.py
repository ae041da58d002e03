"""Generate (or check) ``src/crypto_analyzer/db/trigger_manifest.py`` from fresh databases.

Migrates a fresh SQLite file and a fresh PostgreSQL database to head, reads their triggers and
trigger functions (``crypto_analyzer.db.trigger_catalog``) and writes the manifest module that
``db check``, ``doctor`` and ``audit verify`` compare every database with.

    python scripts/trigger_manifest.py                 # rewrite the module
    python scripts/trigger_manifest.py --check         # exit 1 if the module is stale
    python scripts/trigger_manifest.py --postgres-url postgresql://user@host:5432/postgres

Without ``--postgres-url`` a throwaway PostgreSQL cluster is started from the server binaries on
this machine (initdb/pg_ctl, as the test suite does), bound to 127.0.0.1, and removed afterwards.
Run it from the repository root with ``PYTHONPATH=src`` (or the package installed).
"""

from __future__ import annotations

import argparse
import difflib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.trigger_catalog import CatalogSnapshot, render_manifest, snapshot_catalog

__all__ = ["MANIFEST_PATH", "fresh_snapshot", "main"]

MANIFEST_PATH = (
    Path(__file__).resolve().parents[1] / "src" / "crypto_analyzer" / "db" / "trigger_manifest.py"
)


def fresh_snapshot(url: str) -> CatalogSnapshot:
    """Migrate the (empty) database at ``url`` to head and read its trigger catalog."""
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            return snapshot_catalog(connection)
    finally:
        engine.dispose()


@contextmanager
def _postgres_database(server: str | None) -> Iterator[str]:
    with _postgres_server(server) as base:
        admin = sa.create_engine(
            base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        name = f"trigger_manifest_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


@contextmanager
def _postgres_server(server: str | None) -> Iterator[str]:
    if server is not None:
        yield server
        return
    bins = [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = next((b for b in bins if (b / "initdb").exists()), None)
    if found is None and shutil.which("initdb"):
        found = Path(str(shutil.which("initdb"))).parent
    if found is None:
        raise SystemExit("no PostgreSQL server binaries found; pass --postgres-url")
    base = Path(tempfile.mkdtemp(prefix="trigger-manifest-pg-"))
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(base, "postgres", "postgres")
    base.chmod(0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    data = base / "data"
    subprocess.run(
        [*prefix, str(found / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    subprocess.run(
        [*prefix, str(found / "pg_ctl"), "-D", str(data), "-o", options,
         "-l", str(base / "server.log"), "-w", "-t", "60", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(found / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the module is stale")
    parser.add_argument(
        "--postgres-url",
        help="PostgreSQL server URL of a user who may CREATE DATABASE (default: throwaway cluster)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trigger-manifest-") as folder:
        sqlite = fresh_snapshot(f"sqlite:///{Path(folder) / 'fresh.sqlite'}")
    with _postgres_database(args.postgres_url) as url:
        postgres = fresh_snapshot(url)
    text = render_manifest({"postgresql": postgres, "sqlite": sqlite})
    current = MANIFEST_PATH.read_text(encoding="utf-8") if MANIFEST_PATH.exists() else ""
    if args.check:
        if text == current:
            print(f"{MANIFEST_PATH.name} is up to date")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                "trigger_manifest.py (committed)",
                "trigger_manifest.py (from the migrations)",
            )
        )
        print(f"{MANIFEST_PATH} is stale: run python scripts/trigger_manifest.py", file=sys.stderr)
        return 1
    MANIFEST_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MANIFEST_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
