"""Key management for ``keys generate | list | revoke | export-public``: who may, and both kinds.

Two kinds of key live in a tenant and one command group manages both, so their ids never overlap:

* a **signing key id** is 64 lowercase hex characters — the SHA-256 of the raw Ed25519 public key
  (``signing_keys``; the private key never enters the database);
* an **API key id** starts with ``key_`` (``api_keys``; issued with a principal's token).

Registering or revoking a signing key, and revoking an API key, take an admin's token once the
tenant has registered principals (before that, whoever can write the database: a fresh or
single-user workspace). A signing key's revocation time may be given (a compromise discovered
late is revoked from when it happened); evaluations at or after that time deny, earlier ones
stood.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Engine

from crypto_analyzer.attest.keys import PublicKey, is_signing_key_id
from crypto_analyzer.attest.registry import (
    KeyRecord,
    get_key,
    insert_key,
    key_time,
    list_keys,
    revoke_key,
)
from crypto_analyzer.core.clock import to_iso
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.governance import principal_store
from crypto_analyzer.governance.chain import governed_transaction

__all__ = [
    "ID_KINDS_HELP",
    "KeyKind",
    "KeyListing",
    "key_kind",
    "list_all_keys",
    "public_key_of",
    "register_signing_key",
    "revoke_any_key",
]

KeyKind = Literal["signing", "api"]
ID_KINDS_HELP = (
    "Signing key ids are 64 lowercase hex characters (SHA-256 of the public key); API key ids "
    "start with key_."
)


def key_kind(key_id: str) -> KeyKind:
    """Which kind of key ``key_id`` names; anything else is refused."""
    if is_signing_key_id(key_id):
        return "signing"
    if key_id.startswith("key_") and len(key_id) > 4:
        return "api"
    raise ValidationError(
        f"{key_id!r} is neither a signing key id nor an API key id", ID_KINDS_HELP
    )


@dataclass(frozen=True, slots=True)
class KeyListing:
    """One row of ``keys list``: either kind, the same columns."""

    kind: KeyKind
    key_id: str
    owner: str
    created_at: str
    valid_from: str | None
    valid_until: str | None
    revoked_at: str | None
    revocation_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "key_id": self.key_id,
            "kind": self.kind,
            "owner": self.owner,
            "revocation_reason": self.revocation_reason,
            "revoked_at": self.revoked_at,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


def register_signing_key(
    engine: Engine,
    tenant_id: str,
    public: PublicKey,
    *,
    owner: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    token: str | None,
) -> KeyRecord:
    """Register the public half of a signing key (admin once principals exist)."""
    if not owner.strip() or len(owner) > 200 or not owner.isprintable():
        raise ValidationError(f"key name {owner!r} must be 1-200 printable characters")
    with governed_transaction(engine, tenant_id) as connection:
        principal_store.require_key_admin(connection, tenant_id, token)
        stamp = to_iso(key_time(connection, tenant_id))
        return insert_key(
            connection,
            tenant_id,
            public,
            owner=owner,
            valid_from=stamp if valid_from is None else to_iso(valid_from),
            valid_until=None if valid_until is None else to_iso(valid_until),
            created_at=stamp,
        )


def revoke_any_key(
    engine: Engine,
    tenant_id: str,
    key_id: str,
    *,
    reason: str,
    at: datetime | None,
    token: str | None,
) -> KeyListing:
    """Revoke a signing key (from ``at``, default now) or an API key (now), told apart by id."""
    kind = key_kind(key_id)
    if kind == "api":
        if at is not None:
            raise ValidationError(
                "--at applies to signing keys only; an API key is revoked from now"
            )
        row = principal_store.revoke_api_key(engine, tenant_id, key_id, token=token)
        return _api_listing(row)
    with governed_transaction(engine, tenant_id) as connection:
        principal_store.require_key_admin(connection, tenant_id, token)
        record = revoke_key(
            connection,
            tenant_id,
            key_id,
            at=to_iso(key_time(connection, tenant_id) if at is None else at),
            reason=reason,
        )
    return _signing_listing(record)


def list_all_keys(engine: Engine, tenant_id: str) -> list[KeyListing]:
    """Signing keys, then API keys, each oldest first. Never any key material."""
    with engine.connect() as connection:
        signing = [_signing_listing(record) for record in list_keys(connection, tenant_id)]
        api = [_api_listing(row) for row in principal_store.list_api_keys_on(connection, tenant_id)]
    return [*signing, *api]


def public_key_of(engine: Engine, tenant_id: str, key_id: str) -> KeyRecord:
    """The registered signing key ``key_id`` (for ``export-public``)."""
    if key_kind(key_id) != "signing":
        raise ValidationError(
            f"{key_id} is an API key id; API keys have no public half", ID_KINDS_HELP
        )
    with engine.connect() as connection:
        record = get_key(connection, tenant_id, key_id)
    if record is None:
        raise NotFoundError(f"no signing key {key_id} in tenant {tenant_id!r}")
    return record


def _signing_listing(record: KeyRecord) -> KeyListing:
    return KeyListing(
        kind="signing",
        key_id=record.key_id,
        owner=record.owner,
        created_at=record.created_at,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        revoked_at=record.revoked_at,
        revocation_reason=record.revocation_reason,
    )


def _api_listing(row: principal_store.ApiKeyRow) -> KeyListing:
    return KeyListing(
        kind="api",
        key_id=row.key_id,
        owner=row.principal_id,
        created_at=row.created_at,
        valid_from=row.created_at,
        valid_until=row.expires_at,
        revoked_at=row.revoked_at,
        revocation_reason=None,
    )
