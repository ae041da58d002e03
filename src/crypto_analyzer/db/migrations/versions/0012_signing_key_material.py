"""Signing keys: a new row must carry a real Ed25519 public key under its own id.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02

``signing_keys`` (0001) already has its tenant in the primary key and (0009) guards against
material changes, un-revocation, longer validity, deletion and replacement. What it accepted was
any text as key id and key: a row registered under an id that is not the digest of its key would
let an envelope's ``keyid`` name one key while another verifies it, and an empty validity window is
a key that can never have signed anything. This revision adds ``trg_signing_keys_guard_insert``:

* ``public_key`` is the raw 32-byte key as 64 lowercase hex characters;
* ``key_id`` is 64 lowercase hex characters and, on PostgreSQL, exactly
  ``encode(sha256(decode(public_key, 'hex')), 'hex')`` (SQLite has no SHA-256 in SQL: there the
  application checks it, and ``attest.registry`` never writes anything else);
* ``valid_until`` is NULL or later than ``valid_from``.

Written like 0009: the PostgreSQL function pins ``search_path = pg_catalog, pg_temp``, is not
SECURITY DEFINER, and its trigger fires ``ENABLE ALWAYS`` (also in replica mode). Idempotent (the
trigger is dropped and recreated, the function replaced); the downgrade removes both.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "trg_signing_keys_guard_insert"
FUNCTION = "ca_guard_signing_key_insert"

_SQLITE_TRIGGER = f"""
CREATE TRIGGER {TRIGGER}
BEFORE INSERT ON signing_keys
BEGIN
    SELECT RAISE(ABORT, 'signing_keys: public_key must be the raw Ed25519 key as 64 lowercase hex')
    WHERE length(NEW.public_key) != 64 OR NEW.public_key GLOB '*[^0-9a-f]*';
    SELECT RAISE(ABORT, 'signing_keys: key_id must be the SHA-256 of the public key (64 hex)')
    WHERE length(NEW.key_id) != 64 OR NEW.key_id GLOB '*[^0-9a-f]*';
    SELECT RAISE(ABORT, 'signing_keys: the validity window is empty')
    WHERE NEW.valid_until IS NOT NULL AND NEW.valid_until <= NEW.valid_from;
END
"""

_PG_BODY = """
BEGIN
    IF NEW.public_key IS NULL OR NEW.public_key !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'signing_keys: public_key must be the raw Ed25519 key as 64 lowercase hex'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.key_id IS DISTINCT FROM encode(sha256(decode(NEW.public_key, 'hex')), 'hex') THEN
        RAISE EXCEPTION 'signing_keys: key_id must be the SHA-256 of the public key (64 hex)'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.valid_until IS NOT NULL
            AND NEW.valid_until COLLATE "C" <= NEW.valid_from COLLATE "C" THEN
        RAISE EXCEPTION 'signing_keys: the validity window is empty'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
"""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _pg_prefix() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    if schema is None:
        raise RuntimeError("no current schema: set search_path before migrating")
    return f"{_quote(str(schema))}."


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        op.execute(_SQLITE_TRIGGER)
    elif dialect == "postgresql":
        prefix = _pg_prefix()
        op.execute(
            f"CREATE OR REPLACE FUNCTION {prefix}{FUNCTION}() RETURNS trigger\n"
            f"LANGUAGE plpgsql\nSET search_path = pg_catalog, pg_temp AS $${_PG_BODY}$$"
        )
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {prefix}signing_keys")
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {prefix}signing_keys FOR EACH ROW "
            f"EXECUTE FUNCTION {prefix}{FUNCTION}()"
        )
        op.execute(f"ALTER TABLE {prefix}signing_keys ENABLE ALWAYS TRIGGER {TRIGGER}")
    else:  # pragma: no cover - settings accept only these two backends
        raise NotImplementedError(f"signing key guards are not written for {dialect!r}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    elif dialect == "postgresql":
        prefix = _pg_prefix()
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {prefix}signing_keys")
        op.execute(f"DROP FUNCTION IF EXISTS {prefix}{FUNCTION}()")
    else:  # pragma: no cover
        raise NotImplementedError(f"signing key guards are not written for {dialect!r}")
