"""Registered principals and their API keys: register, list, disable, authenticate, resolve.

A principal is registered per tenant in ``principals`` with a role; each registration issues one
API key. The token (``ca_`` + 43 URL-safe characters, 256 random bits) is shown once; only its
SHA-256 goes into ``api_keys.key_hash``, so the database never holds a usable credential. The
same functions back the CLI (token from ``CRYPTO_ANALYZER_TOKEN``) and, later, the HTTP API
(bearer token).

Managing principals needs an admin token, with one bootstrap exception: the first principal of a
tenant may be registered by whoever can write the database, and it must be an admin. The last
enabled admin cannot be disabled (nobody could manage the tenant afterwards).

:func:`resolve_actor` is the rule for who acts in a governed write: the token's principal when a
token is given; else, in a sandbox, a declared ``--actor``; else the OS account of the process —
but once a governed tenant has registered a principal, it requires a token. A declared
``--actor`` that does not name the resolved principal is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.clock import governed_now, to_iso
from crypto_analyzer.core.errors import AuthenticationError, NotFoundError, ValidationError
from crypto_analyzer.db.schema import api_keys, principals
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode
from crypto_analyzer.governance.chain import governed_transaction
from crypto_analyzer.governance.principals import (
    ROLES,
    Principal,
    authorize,
    normalise_principal,
    same_person,
)

__all__ = [
    "TOKEN_PREFIX",
    "ApiKeyRow",
    "IssuedKey",
    "KeyIdentity",
    "PrincipalRow",
    "authenticate",
    "authenticate_bearer",
    "disable_principal",
    "list_api_keys",
    "list_api_keys_on",
    "list_principals",
    "register_principal",
    "require_key_admin",
    "resolve_actor",
    "revoke_api_key",
    "token_hash",
]

TOKEN_PREFIX = "ca_"
_MAX_TOKEN = 256
_TOKEN_HINT = "ask an admin for a token (`crypto-analyzer principals add NAME --role ROLE`)"


def token_hash(token: str) -> str:
    """SHA-256 hex of the token text: what ``api_keys.key_hash`` stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new principal and its token. The token exists only here: print it once, then drop it."""

    principal: Principal
    key_id: str
    token: str

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "principal": self.principal.to_dict(), "token": self.token}


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    """A registered principal as listed (never with key material)."""

    principal_id: str
    display_name: str
    role: str
    created_at: str
    disabled_at: str | None
    active_keys: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "active_keys": self.active_keys,
            "created_at": self.created_at,
            "disabled_at": self.disabled_at,
            "display_name": self.display_name,
            "principal_id": self.principal_id,
            "role": self.role,
        }


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Who a bearer token is: its tenant, its key id and the principal holding it."""

    tenant_id: str
    key_id: str
    principal: Principal


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """An API key as listed (never the token nor its hash)."""

    key_id: str
    principal_id: str
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "key_id": self.key_id,
            "principal_id": self.principal_id,
            "revoked_at": self.revoked_at,
            "role": self.role,
        }


def authenticate_bearer(connection: Connection, token: str) -> KeyIdentity:
    """The tenant, key and enabled principal of an HTTP bearer token; the tenant comes from the key.

    Key hashes are unique across tenants, so the token alone names its tenant: a caller can never
    choose a tenant by a header or a path. Every refusal reads alike (see :func:`authenticate`).
    """
    refused = AuthenticationError(
        "the bearer token is not a valid API key (unknown, revoked, expired or its principal is "
        "disabled)",
        "send `Authorization: Bearer <token>` with a key from `crypto-analyzer keys create`",
    )
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN:
        raise refused
    row = (
        connection.execute(
            sa.select(
                api_keys.c.tenant_id,
                api_keys.c.key_id,
                principals.c.principal_id,
                principals.c.display_name,
                principals.c.role,
                principals.c.disabled_at,
                api_keys.c.revoked_at,
                api_keys.c.expires_at,
            )
            .select_from(api_keys.join(principals, _principal_of_key()))
            .where(api_keys.c.key_hash == token_hash(token))
        )
        .mappings()
        .first()
    )
    if row is None or row["disabled_at"] is not None or row["revoked_at"] is not None:
        raise refused
    if row["expires_at"] is not None and row["expires_at"] <= to_iso(governed_now()):
        raise refused
    principal = Principal(row["principal_id"], row["display_name"], row["role"], "token")
    return KeyIdentity(row["tenant_id"], row["key_id"], principal)


def authenticate(connection: Connection, tenant_id: str, token: str) -> Principal:
    """The enabled principal holding ``token`` in ``tenant_id``; anything else is refused alike.

    Unknown, malformed, revoked, expired and disabled tokens give the same message, so a probe
    learns nothing about which keys exist; the token itself is never echoed.
    """
    refused = AuthenticationError(
        f"CRYPTO_ANALYZER_TOKEN is not a valid token for tenant {tenant_id!r} (unknown, revoked, "
        "expired or its principal is disabled)",
        _TOKEN_HINT,
    )
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN:
        raise refused
    row = (
        connection.execute(
            sa.select(
                principals.c.principal_id,
                principals.c.display_name,
                principals.c.role,
                principals.c.disabled_at,
                api_keys.c.revoked_at,
                api_keys.c.expires_at,
            )
            .select_from(api_keys.join(principals, _principal_of_key()))
            .where(api_keys.c.tenant_id == tenant_id, api_keys.c.key_hash == token_hash(token))
        )
        .mappings()
        .first()
    )
    stamp = to_iso(governed_now())
    if row is None or row["disabled_at"] is not None or row["revoked_at"] is not None:
        raise refused
    if row["expires_at"] is not None and row["expires_at"] <= stamp:
        raise refused
    return Principal(row["principal_id"], row["display_name"], row["role"], "token")


def resolve_actor(
    connection: Connection,
    tenant_id: str,
    *,
    token: str | None,
    declared: str | None,
    os_account: Callable[[], str],
) -> Principal:
    """Who performs a governed write (the rule in the module docstring)."""
    mode = read_mode(connection, tenant_id)
    if token:
        principal = authenticate(connection, tenant_id, token)
    elif mode is WorkspaceMode.SANDBOX and declared is not None:
        return Principal.declared(declared, what="--actor")
    elif mode is WorkspaceMode.GOVERNED and _count(connection, tenant_id, enabled_only=False):
        raise AuthenticationError(
            f"tenant {tenant_id!r} is a governed workspace with registered principals; governed "
            "writes need a principal token in CRYPTO_ANALYZER_TOKEN",
            "set CRYPTO_ANALYZER_TOKEN in the environment to the token you were issued",
        )
    else:
        principal = Principal.from_os(os_account())
    if declared is not None and not principal.names(declared):
        raise AuthenticationError(
            f"--actor {declared!r} is not the authenticated principal {principal.principal_id!r}",
            "drop --actor: the actor is who you authenticate as (your token, or your OS account "
            "while no principal is registered); only a sandbox takes declared names",
        )
    return principal


def register_principal(
    engine: Engine,
    tenant_id: str,
    name: str,
    role: str,
    *,
    token: str | None,
    display_name: str | None = None,
) -> IssuedKey:
    """Register ``name`` with ``role`` and issue its first API key (admin token required)."""
    if role not in ROLES:
        raise ValidationError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    principal_id = normalise_principal(name)
    shown = name if display_name is None else display_name
    _check_display(shown)
    with governed_transaction(engine, tenant_id) as connection:
        if _count(connection, tenant_id, enabled_only=False) == 0:
            if role != "admin":
                raise ValidationError(
                    f"the first principal of a tenant must be an admin, not a {role}",
                    f"register one with `crypto-analyzer principals add NAME --role admin` first "
                    f"(tenant {tenant_id!r})",
                )
        else:
            _require_admin(connection, tenant_id, token)
        for existing in _ids(connection, tenant_id):
            if same_person(existing, principal_id):
                relation = "is" if existing == principal_id else "looks like"
                raise ValidationError(
                    f"principal {principal_id!r} {relation} the existing principal {existing!r}",
                    "choose a name nobody can mistake for another principal",
                )
        stamp = to_iso(governed_now())
        connection.execute(
            principals.insert().values(
                tenant_id=tenant_id,
                principal_id=principal_id,
                display_name=shown,
                role=role,
                created_at=stamp,
            )
        )
        issued = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key_id = "key_" + secrets.token_hex(8)
        connection.execute(
            api_keys.insert().values(
                tenant_id=tenant_id,
                key_id=key_id,
                principal_id=principal_id,
                key_hash=token_hash(issued),
                created_at=stamp,
            )
        )
    return IssuedKey(Principal(principal_id, shown, role, "token"), key_id, issued)


def disable_principal(
    engine: Engine, tenant_id: str, name: str, *, token: str | None
) -> PrincipalRow:
    """Disable a principal and revoke its keys (admin token required; idempotent)."""
    principal_id = normalise_principal(name)
    with governed_transaction(engine, tenant_id) as connection:
        _require_admin(connection, tenant_id, token)
        row = _row(connection, tenant_id, principal_id)
        if row is None:
            raise NotFoundError(f"no principal {principal_id!r} in tenant {tenant_id!r}")
        if row.disabled_at is None:
            admins = [
                item
                for item in _rows(connection, tenant_id)
                if item.role == "admin" and item.disabled_at is None
            ]
            if row.role == "admin" and len(admins) == 1:
                raise ValidationError(
                    f"{principal_id!r} is the last admin of tenant {tenant_id!r}",
                    "register another admin first",
                )
            stamp = to_iso(governed_now())
            connection.execute(
                principals.update()
                .where(principals.c.tenant_id == tenant_id)
                .where(principals.c.principal_id == principal_id)
                .values(disabled_at=stamp)
            )
            connection.execute(
                api_keys.update()
                .where(api_keys.c.tenant_id == tenant_id)
                .where(api_keys.c.principal_id == principal_id)
                .where(api_keys.c.revoked_at.is_(None))
                .values(revoked_at=stamp)
            )
        updated = _row(connection, tenant_id, principal_id)
    assert updated is not None  # it existed a moment ago inside the same transaction
    return updated


def revoke_api_key(engine: Engine, tenant_id: str, key_id: str, *, token: str | None) -> ApiKeyRow:
    """Revoke one API key by its key id (admin token required; idempotent). The principal stays
    enabled, so it can be issued a new key; a revoked key is refused from the next request on."""
    with governed_transaction(engine, tenant_id) as connection:
        acting = _require_admin(connection, tenant_id, token)
        found = _key_rows(connection, tenant_id, key_id)
        if not found:
            raise NotFoundError(f"no API key {key_id!r} in tenant {tenant_id!r}")
        if found[0].revoked_at is not None:
            return found[0]
        admins = {
            p.principal_id
            for p in _rows(connection, tenant_id)
            if p.role == "admin" and p.disabled_at is None
        }
        usable = [
            row.key_id
            for row in _key_rows(connection, tenant_id)
            if row.revoked_at is None and row.principal_id in admins
        ]
        if usable == [key_id]:
            raise ValidationError(
                f"API key {key_id} is the last usable key of an admin in tenant {tenant_id!r} "
                f"(you are {acting.principal_id!r})",
                "register another admin first",
            )
        connection.execute(
            api_keys.update()
            .where(api_keys.c.tenant_id == tenant_id)
            .where(api_keys.c.key_id == key_id)
            .where(api_keys.c.revoked_at.is_(None))
            .values(revoked_at=to_iso(governed_now()))
        )
        return _key_rows(connection, tenant_id, key_id)[0]


def list_api_keys(engine: Engine, tenant_id: str) -> list[ApiKeyRow]:
    """Every API key of the tenant with its principal and role, oldest first (read-only)."""
    with engine.connect() as connection:
        return _key_rows(connection, tenant_id)


def list_api_keys_on(connection: Connection, tenant_id: str) -> list[ApiKeyRow]:
    """:func:`list_api_keys` inside a caller's transaction (the key listing joins it)."""
    return _key_rows(connection, tenant_id)


def _key_rows(connection: Connection, tenant_id: str, key_id: str | None = None) -> list[ApiKeyRow]:
    query = (
        sa.select(api_keys, principals.c.role)
        .select_from(api_keys.join(principals, _principal_of_key()))
        .where(api_keys.c.tenant_id == tenant_id)
        .order_by(api_keys.c.created_at, api_keys.c.key_id)
    )
    if key_id is not None:
        query = query.where(api_keys.c.key_id == key_id)
    return [
        ApiKeyRow(
            row["key_id"],
            row["principal_id"],
            row["role"],
            row["created_at"],
            row["expires_at"],
            row["revoked_at"],
        )
        for row in connection.execute(query).mappings()
    ]


def list_principals(engine: Engine, tenant_id: str) -> list[PrincipalRow]:
    """Every principal of the tenant with its number of usable keys, oldest first."""
    with engine.connect() as connection:
        return _rows(connection, tenant_id)


def _check_display(text: str) -> str:
    """A display name is free text, but never hides characters (control, format, bidi)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 200:
        raise ValidationError(f"display name {text!r} must be 1-200 characters of text")
    for char in text:
        if not char.isprintable() and char != " ":
            raise ValidationError(
                f"display name {text!r} contains U+{ord(char):04X}, which does not print",
                "remove invisible and control characters",
            )
    return text


def _require_admin(connection: Connection, tenant_id: str, token: str | None) -> Principal:
    if not token:
        raise AuthenticationError(
            f"managing the principals of tenant {tenant_id!r} needs an admin's token in "
            "CRYPTO_ANALYZER_TOKEN",
            "set CRYPTO_ANALYZER_TOKEN in the environment to an admin token",
        )
    acting = authenticate(connection, tenant_id, token)
    authorize(acting, "principals")
    return acting


def _principal_of_key() -> sa.ColumnElement[bool]:
    return sa.and_(
        principals.c.tenant_id == api_keys.c.tenant_id,
        principals.c.principal_id == api_keys.c.principal_id,
    )


def _count(connection: Connection, tenant_id: str, *, enabled_only: bool) -> int:
    query = sa.select(sa.func.count()).where(principals.c.tenant_id == tenant_id)
    if enabled_only:
        query = query.where(principals.c.disabled_at.is_(None))
    return int(connection.execute(query).scalar_one())


def _ids(connection: Connection, tenant_id: str) -> list[str]:
    query = sa.select(principals.c.principal_id).where(principals.c.tenant_id == tenant_id)
    return [str(value) for value in connection.execute(query).scalars()]


def _rows(
    connection: Connection, tenant_id: str, principal_id: str | None = None
) -> list[PrincipalRow]:
    active = (
        sa.select(sa.func.count())
        .where(api_keys.c.tenant_id == principals.c.tenant_id)
        .where(api_keys.c.principal_id == principals.c.principal_id)
        .where(api_keys.c.revoked_at.is_(None))
        .scalar_subquery()
    )
    query = (
        sa.select(principals, active.label("active_keys"))
        .where(principals.c.tenant_id == tenant_id)
        .order_by(principals.c.created_at, principals.c.principal_id)
    )
    if principal_id is not None:
        query = query.where(principals.c.principal_id == principal_id)
    return [
        PrincipalRow(
            principal_id=row["principal_id"],
            display_name=row["display_name"],
            role=row["role"],
            created_at=row["created_at"],
            disabled_at=row["disabled_at"],
            active_keys=int(row["active_keys"]),
        )
        for row in connection.execute(query).mappings()
    ]


def _row(connection: Connection, tenant_id: str, principal_id: str) -> PrincipalRow | None:
    found = _rows(connection, tenant_id, principal_id)
    return found[0] if found else None


def require_key_admin(
    connection: Connection, tenant_id: str, token: str | None
) -> Principal | None:
    """Who may manage keys: an admin's token once the tenant has principals; before the first
    principal is registered, whoever can write the database (returns None then)."""
    if token or _count(connection, tenant_id, enabled_only=False):
        return _require_admin(connection, tenant_id, token)
    return None
