"""Every way an envelope can be wrong is found, under its own code, and never passes."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto_analyzer.attest import (
    BUNDLE_PREDICATE,
    INTOTO_PAYLOAD_TYPE,
    SigningKey,
    TrustedKey,
    create_key_file,
    is_signing_key_id,
    load_key_file,
    load_public_key,
    sign_envelope,
    statement_bytes,
    verify_envelope,
)
from crypto_analyzer.attest.verify import verify_offline
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.hashing import sha256_bytes

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DOCUMENT = {"ic": 0.05, "signal": "momentum"}
ARTIFACT = canonical_bytes(DOCUMENT)
SUBJECT = sha256_bytes(ARTIFACT)
PAYLOAD = statement_bytes("bundle/momentum.json", SUBJECT, BUNDLE_PREDICATE, DOCUMENT)


def _key() -> SigningKey:
    return SigningKey.from_private(Ed25519PrivateKey.generate(), "test")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check(data: bytes, trusted: TrustedKey | None, **kwargs: object) -> set[str]:
    known = {} if trusted is None else {trusted.public.key_id: trusted}
    check = verify_envelope(
        data,
        name="envelopes/bundle/momentum.dsse.json",
        keys=known.get,
        at=kwargs.pop("at", NOW),  # type: ignore[arg-type]
        predicate_type=BUNDLE_PREDICATE,
        subject_sha256=SUBJECT,
        expected_payload=PAYLOAD,
    )
    assert not check.verified or not check.problems
    return {finding.code for finding in check.problems} or ({"ok"} if check.verified else set())


def _edit(data: bytes, **changes: object) -> bytes:
    document = json.loads(data)
    document.update(changes)
    return json.dumps(document).encode()


def test_an_intact_signed_envelope_verifies() -> None:
    key = _key()
    data = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, key).to_bytes()
    assert _check(data, TrustedKey(key.public)) == {"ok"}


def test_each_tamper_case_has_its_own_code() -> None:
    key, other = _key(), _key()
    trusted = TrustedKey(key.public, owner="ci")
    good = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, key)
    edited_predicate = PAYLOAD.replace(b"0.05", b"0.09")
    wrong_subject = statement_bytes("bundle/momentum.json", "f" * 64, BUNDLE_PREDICATE, {})
    flipped = bytearray(good.signatures[0].sig)
    flipped[0] ^= 1
    cases = {
        "unknown_key": sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, other).to_bytes(),
        "wrong_payload_type": sign_envelope(PAYLOAD, "application/json", key).to_bytes(),
        "payload_edited": _edit(
            good.to_bytes(), payload=base64.b64encode(edited_predicate).decode()
        ),
        "bad_signature": _edit(
            good.to_bytes(),
            signatures=[{"keyid": key.key_id, "sig": base64.b64encode(bytes(flipped)).decode()}],
        ),
        "subject_mismatch": sign_envelope(wrong_subject, INTOTO_PAYLOAD_TYPE, key).to_bytes(),
        "malformed_envelope": b'{"payload": 1}',
        "malformed_statement": sign_envelope(b'{"a": 1}', INTOTO_PAYLOAD_TYPE, key).to_bytes(),
        "unsigned": sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, None).to_bytes(),
    }
    for code, data in cases.items():
        assert _check(data, trusted) == {code}, code


def test_revocation_counts_from_its_time_not_before() -> None:
    key = _key()
    data = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, key).to_bytes()
    revoked = TrustedKey(key.public, revoked_at=_iso(NOW), revocation_reason="leaked laptop")
    assert _check(data, revoked, at=NOW - timedelta(microseconds=1)) == {"ok"}
    assert _check(data, revoked, at=NOW) == {"key_revoked"}
    assert _check(data, revoked, at=NOW + timedelta(days=1)) == {"key_revoked"}


def test_the_validity_window_is_from_inclusive_until_exclusive() -> None:
    key = _key()
    data = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, key).to_bytes()
    window = TrustedKey(key.public, valid_from=_iso(NOW), valid_until=_iso(NOW + timedelta(days=1)))
    assert _check(data, window, at=NOW - timedelta(seconds=1)) == {"key_not_yet_valid"}
    assert _check(data, window, at=NOW) == {"ok"}
    assert _check(data, window, at=NOW + timedelta(days=1)) == {"key_expired"}


def test_offline_verification_names_an_edited_predicate_only_with_the_artifact() -> None:
    key = _key()
    good = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, key)
    edited = _edit(
        good.to_bytes(), payload=base64.b64encode(PAYLOAD.replace(b"0.05", b"0.09")).decode()
    )
    keys = (key.public,)

    def codes(data: bytes, artifact: bytes | None) -> set[str]:
        check = verify_offline(data, name="e", public_keys=keys, at=NOW, artifact=artifact)
        return {item.code for item in check.problems} or {"ok"}

    assert codes(good.to_bytes(), ARTIFACT) == {"ok"}
    assert codes(edited, None) == {"bad_signature"}
    assert codes(edited, ARTIFACT) == {"payload_edited"}
    assert codes(good.to_bytes(), ARTIFACT + b" ") == {"subject_mismatch"}
    assert codes(good.to_bytes(), None) == {"ok"}
    assert verify_offline(good.to_bytes(), name="e", public_keys=(), at=NOW).problems[0].code == (
        "unknown_key"
    )


def test_key_files_are_private_exclusive_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "signer.pem"
    key = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert is_signing_key_id(key.key_id) and len(key.key_id) == 64
    assert not is_signing_key_id("key_0123456789abcdef")
    assert load_key_file(path).key_id == key.key_id
    with pytest.raises(ConfigError, match="never overwritten"):
        create_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="group or others"):
        load_key_file(path)
    pem = key.public.pem().encode()
    assert load_public_key(pem).key_id == key.key_id
    assert load_public_key(key.public.hex.encode()).key_id == key.key_id
    assert b"PRIVATE" not in pem
