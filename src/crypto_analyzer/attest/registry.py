"""The public half of signing keys, per tenant, in ``signing_keys``.

Rows hold the raw public key (hex), its id (SHA-256 of the raw key), an owner name, a validity
window and, once revoked, when and why. The database guards the rows (revision 0009: material
immutable, validity only shortened, revocation final with a reason, never deleted; revision 0012:
a new row's id must be the SHA-256 of its key, and its window must not be empty). Nothing here
authorises: callers (``governance.signing_keys``) decide who may register or revoke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.attest.keys import PublicKey, is_signing_key_id
from crypto_analyzer.attest.verify import KeyLookup, TrustedKey
from crypto_analyzer.core.clock import governed_now, now
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.db.schema import signing_keys
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode

__all__ = [
    "KeyRecord",
    "get_key",
    "insert_key",
    "key_lookup",
    "key_time",
    "list_keys",
    "revoke_key",
]


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One registered signing key (public material only)."""

    tenant_id: str
    key_id: str
    algorithm: str
    public_key: str
    owner: str
    valid_from: str
    valid_until: str | None
    revoked_at: str | None
    revocation_reason: str | None
    created_at: str

    @property
    def public(self) -> PublicKey:
        return PublicKey(bytes.fromhex(self.public_key))

    def trusted(self) -> TrustedKey:
        return TrustedKey(
            public=self.public,
            owner=self.owner,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            revoked_at=self.revoked_at,
            revocation_reason=self.revocation_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "created_at": self.created_at,
            "key_id": self.key_id,
            "owner": self.owner,
            "public_key": self.public_key,
            "revocation_reason": self.revocation_reason,
            "revoked_at": self.revoked_at,
            "tenant_id": self.tenant_id,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


def key_time(connection: Connection, tenant_id: str) -> datetime:
    """The clock key registration, revocation and verification go by: the real clock in a
    governed tenant, the project clock (which ``CRYPTO_ANALYZER_FIXED_TIME`` may pin) in a
    sandbox — the same rule as every governed stamp (``governance.timeline``)."""
    sandbox = read_mode(connection, tenant_id) is WorkspaceMode.SANDBOX
    return now() if sandbox else governed_now()


def _record(row: Any) -> KeyRecord:
    return KeyRecord(**{name: row[name] for name in KeyRecord.__dataclass_fields__})


def insert_key(
    connection: Connection,
    tenant_id: str,
    public: PublicKey,
    *,
    owner: str,
    valid_from: str,
    valid_until: str | None,
    created_at: str,
) -> KeyRecord:
    """Register ``public``; a key already registered in the tenant is refused."""
    if valid_until is not None and valid_until <= valid_from:
        raise ValidationError(
            f"the validity window is empty: valid until {valid_until} is not after {valid_from}",
            "pass a --valid-until later than --valid-from",
        )
    if get_key(connection, tenant_id, public.key_id) is not None:
        raise ValidationError(
            f"signing key {public.key_id} is already registered in tenant {tenant_id!r}",
            "a key is registered once; see `crypto-analyzer keys list`",
        )
    record = KeyRecord(
        tenant_id=tenant_id,
        key_id=public.key_id,
        algorithm="ed25519",
        public_key=public.hex,
        owner=owner,
        valid_from=valid_from,
        valid_until=valid_until,
        revoked_at=None,
        revocation_reason=None,
        created_at=created_at,
    )
    connection.execute(signing_keys.insert().values(**record.to_dict()))
    return record


def get_key(connection: Connection, tenant_id: str, key_id: str) -> KeyRecord | None:
    """The key with exactly this id in the tenant, or None."""
    row = (
        connection.execute(
            sa.select(signing_keys)
            .where(signing_keys.c.tenant_id == tenant_id)
            .where(signing_keys.c.key_id == key_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else _record(row)


def list_keys(connection: Connection, tenant_id: str) -> list[KeyRecord]:
    """Every signing key of the tenant, oldest first."""
    rows = connection.execute(
        sa.select(signing_keys)
        .where(signing_keys.c.tenant_id == tenant_id)
        .order_by(signing_keys.c.created_at, signing_keys.c.key_id)
    ).mappings()
    return [_record(row) for row in rows]


def revoke_key(
    connection: Connection, tenant_id: str, key_id: str, *, at: str, reason: str
) -> KeyRecord:
    """Record that ``key_id`` vouches for nothing from ``at`` on (final; needs a reason)."""
    if not is_signing_key_id(key_id):
        raise ValidationError(f"{key_id!r} is not a signing key id (64 lowercase hex)")
    if not reason.strip():
        raise ValidationError("a revocation needs a reason", "pass --reason TEXT")
    current = get_key(connection, tenant_id, key_id)
    if current is None:
        raise NotFoundError(f"no signing key {key_id} in tenant {tenant_id!r}")
    if current.revoked_at is not None:
        raise ValidationError(
            f"signing key {key_id} was already revoked at {current.revoked_at}",
            "a revocation is final",
        )
    connection.execute(
        signing_keys.update()
        .where(signing_keys.c.tenant_id == tenant_id)
        .where(signing_keys.c.key_id == key_id)
        .values(revoked_at=at, revocation_reason=reason)
    )
    updated = get_key(connection, tenant_id, key_id)
    assert updated is not None  # it existed a moment ago in the same transaction
    return updated


def key_lookup(connection: Connection, tenant_id: str) -> KeyLookup:
    """A lookup over the tenant's keys as they are now (read once)."""
    known = {record.key_id: record.trusted() for record in list_keys(connection, tenant_id)}
    return known.get
