"""``signing_keys`` are governed, not append-only: revocation is an UPDATE, and nothing else is.

Attestation signatures are checked against these rows, so un-revoking a leaked key, swapping a
key's material, stretching its validity or deleting it would let old or forged signatures pass.
"""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from gov_attacks import KEY_1, MALLORY_PUBLIC, PUBLIC_1, refused, table_rows

INSERT = (
    "INSERT INTO signing_keys (key_id, algorithm, public_key, owner, valid_from, valid_until, "
    f"created_at) VALUES ('{KEY_1}', 'ed25519', '{PUBLIC_1}', 'alice', '2025-01-01T00:00:00Z', "
    "'2026-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
)


def _update(assignments: str) -> str:
    return f"UPDATE signing_keys SET {assignments} WHERE key_id = '{KEY_1}'"


@pytest.fixture
def engine(backend_engine: sa.Engine) -> sa.Engine:
    with backend_engine.begin() as connection:
        connection.exec_driver_sql(INSERT)
    return backend_engine


@pytest.mark.parametrize(
    ("assignments", "fragment"),
    [
        (f"public_key = '{MALLORY_PUBLIC}'", "key identity and material are immutable"),
        ("owner = 'mallory'", "key identity and material are immutable"),
        ("valid_from = '2020-01-01T00:00:00Z'", "key identity and material are immutable"),
        ("valid_until = '2030-01-01T00:00:00Z'", "validity can only be shortened"),
        ("valid_until = NULL", "validity can only be shortened"),
        (
            "revoked_at = '2025-06-01T00:00:00Z', revocation_reason = ' '",
            "a revocation needs a reason",
        ),
    ],
)
def test_forbidden_changes_are_refused(engine: sa.Engine, assignments: str, fragment: str) -> None:
    refused(engine, _update(assignments), f"signing_keys: {fragment}")


def test_validity_can_be_shortened_and_a_revocation_is_final(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(_update("valid_until = '2025-07-01T00:00:00Z'"))
        connection.exec_driver_sql(
            _update("revoked_at = '2025-06-01T00:00:00Z', revocation_reason = 'leaked'")
        )
    for assignments in (
        "revoked_at = NULL, revocation_reason = NULL",
        "revocation_reason = 'a nicer story'",
        "valid_until = '2025-06-15T00:00:00Z'",
    ):
        refused(engine, _update(assignments), "signing_keys: a revoked key is terminal")
    rows = table_rows(engine, "signing_keys")
    assert len(rows) == 1 and "leaked" in rows[0]


def test_keys_are_never_deleted(engine: sa.Engine) -> None:
    refused(engine, "DELETE FROM signing_keys", "signing_keys rows cannot be deleted")
    if engine.dialect.name == "postgresql":
        refused(engine, "TRUNCATE signing_keys", "signing_keys rows cannot be deleted")


def _insert(key_id: str, public: str, valid_until: str = "'2026-01-01T00:00:00Z'") -> str:
    return (
        "INSERT INTO signing_keys (key_id, algorithm, public_key, owner, valid_from, valid_until, "
        f"created_at) VALUES ('{key_id}', 'ed25519', '{public}', 'bob', '2025-01-01T00:00:00Z', "
        f"{valid_until}, '2025-01-01T00:00:00Z')"
    )


@pytest.mark.parametrize(
    ("key_id", "public", "valid_until", "fragment"),
    [
        ("0" * 64, "pk-2", "NULL", "public_key must be the raw Ed25519 key"),
        ("0" * 64, MALLORY_PUBLIC.upper(), "NULL", "public_key must be the raw Ed25519 key"),
        ("key-2", MALLORY_PUBLIC, "NULL", "key_id must be the SHA-256 of the public key"),
        ("AB" * 32, MALLORY_PUBLIC, "NULL", "key_id must be the SHA-256 of the public key"),
        (
            hashlib.sha256(bytes.fromhex(MALLORY_PUBLIC)).hexdigest(),
            MALLORY_PUBLIC,
            "'2024-06-01T00:00:00Z'",
            "the validity window is empty",
        ),
    ],
)
def test_a_new_key_must_carry_real_material_and_a_window(
    engine: sa.Engine, key_id: str, public: str, valid_until: str, fragment: str
) -> None:
    """Revision 0012: 64-hex key under its own SHA-256 id (the id is recomputed on PostgreSQL)."""
    refused(engine, _insert(key_id, public, valid_until), f"signing_keys: {fragment}")


def test_an_id_that_is_not_the_digest_of_its_key_is_refused_on_postgres(engine: sa.Engine) -> None:
    """Well-formed hex under someone else's id: PostgreSQL recomputes SHA-256 and refuses it;
    SQLite has no SHA-256 in SQL, so there the application's registry is the check."""
    statement = _insert("1" * 64, MALLORY_PUBLIC, "NULL")
    if engine.dialect.name == "postgresql":
        refused(engine, statement, "signing_keys: key_id must be the SHA-256 of the public key")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
        assert len(table_rows(engine, "signing_keys")) == 2
