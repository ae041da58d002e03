"""Alembic environment: runs revisions on a connection handed over by ``db.migrate``.

Migrations run only through ``crypto-analyzer db upgrade`` / ``init`` / ``demo``; there is no
``alembic.ini`` and no URL lookup here, so Alembic can never be pointed at a database by accident.
SQLite runs in batch mode (it cannot ALTER most constraints in place) with one transaction per
revision, following Alembic's batch documentation.
"""

from __future__ import annotations

from alembic import context

from crypto_analyzer.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "crypto-analyzer migrations run only through `crypto-analyzer db upgrade` (no alembic.ini)"
    )

is_sqlite = connection.dialect.name == "sqlite"
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=is_sqlite,
    transaction_per_migration=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
