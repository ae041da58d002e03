"""Signing-key rows are keyed with the service key (revision 0017): a row written with database
rights only — a key of one's own, an edited window, an erased revocation — verifies nothing.

Each attack uses raw SQL, as someone holding the application's database credentials would, and
expects both halves: ``audit verify`` names the row, and an evaluation that needs a signature is
denied with ``key_record_unverified`` (not ``unknown_key``, not a pass).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gov_workspace import seed_run
from test_gov_signatures import _codes, _envelopes, _evaluate, _register, _service
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.attest import SigningKey
from crypto_analyzer.attest.registry import get_key
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.governance.audit import verify_workspace
from crypto_analyzer.governance.signing_keys import revoke_any_key, seal_signing_keys

_FORGED = (
    "INSERT INTO signing_keys (tenant_id, key_id, algorithm, public_key, owner, valid_from, "
    "valid_until, created_at, mac, mac_key_id) VALUES ('default', :key_id, 'ed25519', :public, "
    "'mallory', '2020-01-01T00:00:00.000000Z', NULL, '2020-01-01T00:00:00.000000Z', :mac, :kid)"
)


def _key() -> SigningKey:
    return SigningKey.from_private(Ed25519PrivateKey.generate(), "test")


def _signing_findings(engine: sa.Engine, store: ArtifactStore) -> list[str]:
    report = verify_workspace(engine, store, "default")
    return [item.message for item in report.findings if item.check == "signing_keys"]


def test_a_registered_key_is_keyed_and_verifies(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    key = _key()
    _register(backend_engine, key)
    with backend_engine.connect() as connection:
        record = get_key(connection, "default", key.key_id)
    assert record is not None and record.mac is not None and record.mac_key_id is not None
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, key)
    outcome = _evaluate(_service(backend_engine, store, required=True), run)
    assert outcome.passed, outcome.decision.reasons
    assert _signing_findings(backend_engine, store) == []


def test_a_key_inserted_by_raw_sql_is_detected_and_denied(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    mallory = _key()
    with backend_engine.begin() as connection:  # a MAC of the attacker's own making
        connection.execute(
            sa.text(_FORGED),
            {"key_id": mallory.key_id, "public": mallory.public.hex, "mac": "ab" * 32,
             "kid": "0123456789abcdef"},
        )  # fmt: skip
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, mallory)
    outcome = _evaluate(_service(backend_engine, store, required=True), run)
    assert not outcome.passed
    assert _codes(outcome) == {"key_record_unverified"} == _codes(outcome, "causality.signature")
    findings = _signing_findings(backend_engine, store)
    assert len(findings) == 1 and mallory.key_id[:16] in findings[0]
    assert "not with the configured service key" in findings[0]


def test_a_key_without_mac_is_detected_and_denied(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    mallory = _key()
    with backend_engine.begin() as connection:
        connection.execute(
            sa.text(_FORGED),
            {"key_id": mallory.key_id, "public": mallory.public.hex, "mac": None, "kid": None},
        )
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, mallory)
    outcome = _evaluate(_service(backend_engine, store, required=True), run)
    assert not outcome.passed and _codes(outcome) == {"key_record_unverified"}
    findings = _signing_findings(backend_engine, store)
    assert len(findings) == 1 and "has no MAC" in findings[0]


def test_an_edited_row_and_a_copied_mac_are_detected(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    honest, mallory = _key(), _key()
    _register(backend_engine, honest)
    with backend_engine.connect() as connection:
        record = get_key(connection, "default", honest.key_id)
    assert record is not None
    with backend_engine.begin() as connection:
        # the honest row's valid MAC copied onto a key of the attacker's
        connection.execute(
            sa.text(_FORGED),
            {"key_id": mallory.key_id, "public": mallory.public.hex, "mac": record.mac,
             "kid": record.mac_key_id},
        )  # fmt: skip
        # and the honest row's validity shortened behind the service's back
        connection.execute(
            sa.text("UPDATE signing_keys SET valid_until = :until WHERE key_id = :k"),
            {"until": "2999-01-01T00:00:00.000000Z", "k": honest.key_id},
        )
    findings = _signing_findings(backend_engine, store)
    assert len(findings) == 2
    assert all("MAC does not match the row" in item for item in findings)
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, honest)
    outcome = _evaluate(_service(backend_engine, store, required=True), run)
    assert not outcome.passed and _codes(outcome) == {"key_record_unverified"}


def test_revocation_rewrites_the_mac_and_legacy_rows_can_be_sealed(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    keyed, legacy, legacy_revoked = _key(), _key(), _key()
    _register(backend_engine, keyed)
    revoke_any_key(backend_engine, "default", keyed.key_id, reason="rotated", at=None, token=None)
    with backend_engine.begin() as connection:  # rows as they stood before revision 0017
        for item in (legacy, legacy_revoked):
            connection.execute(
                sa.text(_FORGED),
                {"key_id": item.key_id, "public": item.public.hex, "mac": None, "kid": None},
            )
        connection.execute(
            sa.text(
                "UPDATE signing_keys SET revoked_at = :at, revocation_reason = 'old' "
                "WHERE key_id = :k"
            ),
            {"at": "2021-01-01T00:00:00.000000Z", "k": legacy_revoked.key_id},
        )
    assert len(_signing_findings(backend_engine, store)) == 2  # the revoked one still MACs
    sealed = seal_signing_keys(backend_engine, "default", token=None)
    assert sorted(sealed) == sorted([legacy.key_id, legacy_revoked.key_id])
    assert _signing_findings(backend_engine, store) == []
    assert seal_signing_keys(backend_engine, "default", token=None) == []
    with backend_engine.connect() as connection:
        revoked = get_key(connection, "default", legacy_revoked.key_id)
    assert revoked is not None and revoked.revoked_at == "2021-01-01T00:00:00.000000Z"


def test_keys_seal_on_the_command_line(
    backend_engine: sa.Engine,
    backend_url: str,
    store: ArtifactStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    legacy = _key()
    with backend_engine.begin() as connection:
        connection.execute(
            sa.text(_FORGED),
            {"key_id": legacy.key_id, "public": legacy.public.hex, "mac": None, "kid": None},
        )
    monkeypatch.setenv("CRYPTO_ANALYZER_DB_URL", backend_url)
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", store.url)
    reset_settings_cache()
    result = CliRunner().invoke(app, ["keys", "seal", "--json"], env={"CRYPTO_ANALYZER_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sealed": [legacy.key_id]}
    assert _signing_findings(backend_engine, store) == []
    # without the service key there is nothing to seal with: a clear error, exit 2
    monkeypatch.delenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE")
    reset_settings_cache()
    refused = CliRunner().invoke(app, ["keys", "seal"], env={"CRYPTO_ANALYZER_TOKEN": ""})
    assert refused.exit_code == 2 and "service key" in refused.output
