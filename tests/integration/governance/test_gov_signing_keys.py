"""``signing_keys`` are governed, not append-only: revocation is an UPDATE, and nothing else is.

Attestation signatures are checked against these rows, so un-revoking a leaked key, swapping a
key's material, stretching its validity or deleting it would let old or forged signatures pass.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from gov_attacks import refused, table_rows

INSERT = (
    "INSERT INTO signing_keys (key_id, algorithm, public_key, owner, valid_from, valid_until, "
    "created_at) VALUES ('key-1', 'ed25519', 'pk-1', 'alice', '2025-01-01T00:00:00Z', "
    "'2026-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
)


def _update(assignments: str) -> str:
    return f"UPDATE signing_keys SET {assignments} WHERE key_id = 'key-1'"


@pytest.fixture
def engine(backend_engine: sa.Engine) -> sa.Engine:
    with backend_engine.begin() as connection:
        connection.exec_driver_sql(INSERT)
    return backend_engine


@pytest.mark.parametrize(
    ("assignments", "fragment"),
    [
        ("public_key = 'pk-mallory'", "key identity and material are immutable"),
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
