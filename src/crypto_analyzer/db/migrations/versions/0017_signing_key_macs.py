"""Keyed signing keys (a service-key MAC on every ``signing_keys`` row) and a candidate page index.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03

**Signing-key MACs** (issue 13 part 1, DESIGN §3 invariant 12). A row in ``signing_keys`` is what
makes an Ed25519 signature count at evaluation, and nothing tied the row to the service: anyone
with INSERT rights could register a key of their own and sign attestations that then verified.
Each row now carries ``mac`` (HMAC-SHA256 with the service key — a secret the database never
holds — over the key id, the public key, algorithm, owner, validity window, revocation time and
reason, and creation time) and ``mac_key_id``, like the keyed records of revision 0010. Both are
nullable: this revision cannot make MACs (a migration never reads the service key), so rows that
exist when it runs stay unkeyed until ``crypto-analyzer keys seal`` (run with the service key)
MACs them; until then ``audit verify`` names each and evaluation refuses their signatures in a
governed tenant (``key_record_unverified``).

The update guard of revision 0009 makes a revoked key terminal — no UPDATE at all — which would
leave a key revoked before this revision unsealable forever. ``trg_signing_keys_guard_update`` is
recreated with one exception: a revoked row whose ``mac`` is NULL may receive ``mac`` and
``mac_key_id`` once, with every other column unchanged. (A row's MAC columns may otherwise change
with it: a revocation writes the new MAC in the same UPDATE.) Anyone can write those columns; only
the service key can make them verify.

**Candidate page index.** ``GET /promotion/candidates`` pages by ``(created_at DESC,
candidate_id)`` within a tenant; without an index in that order every page sorted all of the
tenant's candidates. ``ix_promotion_candidates_page`` is ``(tenant_id, created_at DESC,
candidate_id)`` on both dialects.

Self-contained and idempotent (columns added when missing, triggers and the function replaced,
the index created IF NOT EXISTS). The downgrade restores revision 0009's update guard, drops the
index and the columns (and with them every signing-key MAC).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("mac", "mac_key_id")
INDEX = "ix_promotion_candidates_page"
TRIGGER = "trg_signing_keys_guard_update"
FUNCTION = "ca_guard_signing_key_update"
_SEARCH_PATH = "SET search_path = pg_catalog, pg_temp"

_IDENTITY = ("tenant_id", "key_id", "algorithm", "public_key", "owner", "valid_from", "created_at")
_REST = ("valid_until", "revoked_at", "revocation_reason")


def _sqlite_update(*, sealable: bool) -> str:
    terminal = "WHERE OLD.revoked_at IS NOT NULL"
    if sealable:
        unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (*_IDENTITY, *_REST))
        terminal += f"\n        AND NOT (OLD.mac IS NULL AND {unchanged})"
    return f"""
CREATE TRIGGER {TRIGGER}
BEFORE UPDATE ON signing_keys
BEGIN
    SELECT RAISE(ABORT, 'signing_keys: key identity and material are immutable')
    WHERE {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _IDENTITY)};
    SELECT RAISE(ABORT, 'signing_keys: a revoked key is terminal')
    {terminal};
    SELECT RAISE(ABORT, 'signing_keys: validity can only be shortened')
    WHERE NEW.valid_until IS NOT OLD.valid_until AND (NEW.valid_until IS NULL
        OR (OLD.valid_until IS NOT NULL AND NEW.valid_until > OLD.valid_until));
    SELECT RAISE(ABORT, 'signing_keys: a revocation needs a reason')
    WHERE NEW.revoked_at IS NOT NULL
        AND (NEW.revocation_reason IS NULL OR trim(NEW.revocation_reason) = '');
END
"""


def _pg_update(*, sealable: bool) -> str:
    terminal = "OLD.revoked_at IS NOT NULL"
    if sealable:
        unchanged = " AND ".join(
            f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in (*_IDENTITY, *_REST)
        )
        terminal += f"\n            AND NOT (OLD.mac IS NULL AND {unchanged})"
    return f"""
BEGIN
    IF {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _IDENTITY)} THEN
        RAISE EXCEPTION 'signing_keys: key identity and material are immutable (key %)',
            OLD.key_id USING ERRCODE = 'check_violation';
    END IF;
    IF {terminal} THEN
        RAISE EXCEPTION 'signing_keys: a revoked key is terminal (key %)', OLD.key_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.valid_until IS DISTINCT FROM OLD.valid_until AND (NEW.valid_until IS NULL
            OR (OLD.valid_until IS NOT NULL
                AND NEW.valid_until COLLATE "C" > OLD.valid_until COLLATE "C")) THEN
        RAISE EXCEPTION 'signing_keys: validity can only be shortened (key %)', OLD.key_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.revoked_at IS NOT NULL
            AND (NEW.revocation_reason IS NULL OR btrim(NEW.revocation_reason) = '') THEN
        RAISE EXCEPTION 'signing_keys: a revocation needs a reason (key %)', OLD.key_id
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


def _present() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("signing_keys")}


def _set_guard(*, sealable: bool) -> None:
    """Replace the update guard (0009 shape, or the one that lets a revoked row be sealed once)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        op.execute(_sqlite_update(sealable=sealable))
        return
    prefix = _pg_prefix()
    op.execute(
        f"CREATE OR REPLACE FUNCTION {prefix}{FUNCTION}() RETURNS trigger\n"
        f"LANGUAGE plpgsql\n{_SEARCH_PATH} AS $${_pg_update(sealable=sealable)}$$"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - settings allow only these
        raise NotImplementedError(f"signing-key MACs are not written for {dialect!r}")
    present = _present()
    for name in COLUMNS:
        if name not in present:
            op.add_column("signing_keys", sa.Column(name, sa.Text(), nullable=True))
    _set_guard(sealable=True)
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON promotion_candidates "
        "(tenant_id, created_at DESC, candidate_id)"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    present = _present()
    if "mac" in present:
        _set_guard(sealable=False)  # the 0009 guard names no MAC column
    for name in reversed(COLUMNS):
        if name in present:
            # Plain DROP COLUMN on both dialects (SQLite >= 3.35): no trigger names the columns
            # once the 0009 guard is back.
            op.execute(f"ALTER TABLE signing_keys DROP COLUMN {name}")
