"""The public half of signing keys, per tenant, in ``signing_keys``.

Rows hold the raw public key (hex), its id (SHA-256 of the raw key), an owner name, a validity
window and, once revoked, when and why. The database guards the rows (revision 0009: material
immutable, validity only shortened, revocation final with a reason, never deleted; revision 0012:
a new row's id must be the SHA-256 of its key, and its window must not be empty). Nothing here
authorises: callers (``governance.signing_keys``) decide who may register or revoke.

Every row is keyed (revision 0017): ``mac`` is an HMAC with the service key over every other
column (:func:`key_mac_body`), written at registration and rewritten by the revocation's own
UPDATE. A row someone wrote with database rights only — a key of their own, a stretched window,
an erased revocation — cannot carry a MAC that verifies; :func:`key_record_problem` says why a row
cannot be trusted, and :func:`key_lookup` hands that to the verifier, which then refuses the
key's signatures (``key_record_unverified``). In a sandbox a row without a MAC is accepted (a
sandbox may run without a service key); a MAC that is present must verify there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.attest.keys import PublicKey, is_signing_key_id
from crypto_analyzer.attest.verify import KeyLookup, TrustedKey
from crypto_analyzer.core.clock import governed_now, now
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.record_keys import SIGNING_KEY_MAC, seal
from crypto_analyzer.db.schema import signing_keys
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode

__all__ = [
    "KEY_MAC_COLUMNS",
    "KeyRecord",
    "get_key",
    "insert_key",
    "key_lookup",
    "key_mac_body",
    "key_record_problem",
    "key_time",
    "list_keys",
    "revoke_key",
    "seal_key",
]

KEY_MAC_COLUMNS = (
    "tenant_id",
    "key_id",
    "algorithm",
    "public_key",
    "owner",
    "valid_from",
    "valid_until",
    "revoked_at",
    "revocation_reason",
    "created_at",
)
"""Every column of a signing key except the MAC itself: what the MAC covers, as stored."""


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
    mac: str | None = None
    mac_key_id: str | None = None

    @property
    def public(self) -> PublicKey:
        return PublicKey(bytes.fromhex(self.public_key))

    def trusted(self, record_problem: str | None = None) -> TrustedKey:
        return TrustedKey(
            public=self.public,
            owner=self.owner,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            revoked_at=self.revoked_at,
            revocation_reason=self.revocation_reason,
            record_problem=record_problem,
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


def key_mac_body(record: KeyRecord | Mapping[str, Any]) -> dict[str, Any]:
    """The columns the MAC of a signing-key row covers (:data:`KEY_MAC_COLUMNS`)."""
    values = record.to_dict() if isinstance(record, KeyRecord) else record
    return {name: values[name] for name in KEY_MAC_COLUMNS}


def key_record_problem(
    record: KeyRecord, key: ServiceKey | None, mode: WorkspaceMode
) -> str | None:
    """Why the row ``record`` cannot be trusted as the service registered it, or None.

    Governed tenants need a MAC made with the configured service key that matches the row; a
    sandbox accepts a row without a MAC (and one it cannot check for lack of a key).
    """
    name = f"signing key {record.key_id[:16]}… ({record.owner})"
    if record.mac is None:
        if mode is WorkspaceMode.SANDBOX:
            return None
        return (
            f"{name} has no MAC: it was not registered by the service with the service key "
            "(registered before revision 0017 and not yet sealed with `crypto-analyzer keys seal`, "
            "or inserted directly into the database)"
        )
    if key is None:
        if mode is WorkspaceMode.SANDBOX:
            return None
        return f"{name}: no service key is configured, so its MAC cannot be checked"
    if record.mac_key_id != key.key_id:
        return (
            f"{name}: MAC made with key {record.mac_key_id!r}, not with the configured service "
            f"key {key.key_id!r}"
        )
    if not key.check(SIGNING_KEY_MAC, key_mac_body(record), record.mac):
        return (
            f"{name}: MAC does not match the row — it was forged or changed without the service key"
        )
    return None


def insert_key(
    connection: Connection,
    tenant_id: str,
    public: PublicKey,
    *,
    owner: str,
    valid_from: str,
    valid_until: str | None,
    created_at: str,
    service_key: ServiceKey | None,
) -> KeyRecord:
    """Register ``public``, keyed with ``service_key``; a key already registered is refused."""
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
    sealed = seal(service_key, SIGNING_KEY_MAC, key_mac_body(record))
    connection.execute(signing_keys.insert().values(**record.to_dict(), **sealed))
    return replace(record, mac=sealed["mac"], mac_key_id=sealed["mac_key_id"])


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
    connection: Connection,
    tenant_id: str,
    key_id: str,
    *,
    at: str,
    reason: str,
    service_key: ServiceKey | None,
) -> KeyRecord:
    """Record that ``key_id`` vouches for nothing from ``at`` on (final; needs a reason); the
    row's MAC is rewritten with ``service_key`` in the same UPDATE."""
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
    revoked = replace(current, revoked_at=at, revocation_reason=reason)
    sealed = seal(service_key, SIGNING_KEY_MAC, key_mac_body(revoked))
    connection.execute(
        signing_keys.update()
        .where(signing_keys.c.tenant_id == tenant_id)
        .where(signing_keys.c.key_id == key_id)
        .values(revoked_at=at, revocation_reason=reason, **sealed)
    )
    updated = get_key(connection, tenant_id, key_id)
    assert updated is not None  # it existed a moment ago in the same transaction
    return updated


def seal_key(connection: Connection, record: KeyRecord, service_key: ServiceKey) -> KeyRecord:
    """MAC a row that has none (registered before revision 0017), nothing else changed.

    Sealing vouches for the row as it stands: run it only on keys you know you registered
    (``keys list`` first). A row that already has a MAC is left alone.
    """
    if record.mac is not None:
        return record
    sealed = seal(service_key, SIGNING_KEY_MAC, key_mac_body(record))
    connection.execute(
        signing_keys.update()
        .where(signing_keys.c.tenant_id == record.tenant_id)
        .where(signing_keys.c.key_id == record.key_id)
        .where(signing_keys.c.mac.is_(None))
        .values(**sealed)
    )
    return replace(record, mac=sealed["mac"], mac_key_id=sealed["mac_key_id"])


def key_lookup(connection: Connection, tenant_id: str, service_key: ServiceKey | None) -> KeyLookup:
    """A lookup over the tenant's keys as they are now (read once); a row whose MAC does not
    vouch for it comes with its problem, so its signatures are refused."""
    mode = read_mode(connection, tenant_id)
    known = {
        record.key_id: record.trusted(key_record_problem(record, service_key, mode))
        for record in list_keys(connection, tenant_id)
    }
    return known.get
