"""DSSE v1 envelopes checked by an independent verifier written here, not by our own code.

The pre-authentication encoding is rebuilt by hand from the protocol's definition and the Ed25519
signature is checked with ``cryptography`` directly; ``securesystemslib``'s DSSE implementation is
a second, external oracle for the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto_analyzer.attest import (
    FOLD_CAUSALITY_PREDICATE,
    INTOTO_PAYLOAD_TYPE,
    STATEMENT_TYPE,
    Envelope,
    EnvelopeError,
    SigningKey,
    pae,
    sign_envelope,
    statement_bytes,
)


def _hand_pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode("utf-8")
    return b" ".join(
        [b"DSSEv1", str(len(kind)).encode(), kind, str(len(payload)).encode(), payload]
    )


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_private(Ed25519PrivateKey.generate(), "test")


def test_pae_is_the_protocol_encoding() -> None:
    assert pae("a/b", b"xyz") == b"DSSEv1 3 a/b 3 xyz"
    assert pae("", b"") == b"DSSEv1 0  0 "
    body = "é €".encode()  # lengths count bytes, not characters
    assert pae("t", body) == _hand_pae("t", body) == b"DSSEv1 1 t 6 " + body


def test_an_envelope_verifies_with_an_independent_dsse_check(key: SigningKey) -> None:
    subject = hashlib.sha256(b"artifact bytes").hexdigest()
    payload = statement_bytes("attestation/x.json", subject, FOLD_CAUSALITY_PREDICATE, {"n": 1})
    data = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key).to_bytes()

    document = json.loads(data)
    assert set(document) == {"payload", "payloadType", "signatures"}
    assert document["payloadType"] == "application/vnd.in-toto+json"
    body = base64.b64decode(document["payload"], validate=True)
    [signature] = document["signatures"]
    raw_public = key.public.raw
    assert signature["keyid"] == hashlib.sha256(raw_public).hexdigest()
    # raises InvalidSignature when the envelope is not a valid DSSE signature
    Ed25519PublicKey.from_public_bytes(raw_public).verify(
        base64.b64decode(signature["sig"]), _hand_pae(document["payloadType"], body)
    )
    statement = json.loads(body)
    assert statement["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"digest": {"sha256": subject}, "name": "attestation/x.json"}]
    assert statement["predicateType"] == FOLD_CAUSALITY_PREDICATE
    assert statement["predicate"] == {"n": 1}
    assert data == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def test_securesystemslib_accepts_the_same_envelope(key: SigningKey) -> None:
    from securesystemslib.dsse import Envelope as SslibEnvelope
    from securesystemslib.signer import SSlibKey

    payload = statement_bytes("b.json", "0" * 64, FOLD_CAUSALITY_PREDICATE, {})
    envelope = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key)
    theirs = SslibEnvelope.from_dict(json.loads(envelope.to_bytes()))
    assert theirs.pae() == envelope.signing_input()
    public = SSlibKey(key.key_id, "ed25519", "ed25519", {"public": key.public.hex})
    accepted = theirs.verify([public], 1)
    assert set(accepted) == {key.key_id}


def test_a_signature_over_another_payload_type_does_not_verify(key: SigningKey) -> None:
    envelope = sign_envelope(b"{}", INTOTO_PAYLOAD_TYPE, key)
    raw = key.public.raw
    public = Ed25519PublicKey.from_public_bytes(raw)
    public.verify(envelope.signatures[0].sig, _hand_pae(INTOTO_PAYLOAD_TYPE, b"{}"))
    with pytest.raises(InvalidSignature):
        public.verify(envelope.signatures[0].sig, _hand_pae("application/json", b"{}"))
    assert raw == public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_unsigned_envelopes_round_trip() -> None:
    envelope = sign_envelope(b'{"a":1}', INTOTO_PAYLOAD_TYPE, None)
    assert not envelope.signed
    assert json.loads(envelope.to_bytes())["signatures"] == []
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"not json", "is not JSON"),
        (b"[]", "is not a JSON object"),
        (b'{"payloadType": "t"}', "lacks payload"),
        (b'{"payload": "", "payloadType": "t", "x": 1}', "unexpected fields x"),
        (b'{"payload": "%%%", "payloadType": "t"}', "payload is not valid base64"),
        (b'{"payload": "", "payloadType": ""}', "payloadType must be a non-empty string"),
        (b'{"payload": "", "payloadType": "t", "signatures": {}}', "signatures must be a list"),
        (b'{"payload": "", "payloadType": "t", "signatures": [{"keyid": "k"}]}', "keyid and sig"),
    ],
)
def test_malformed_envelopes_are_refused_with_a_reason(text: bytes, fragment: str) -> None:
    with pytest.raises(EnvelopeError, match=fragment):
        Envelope.from_bytes(text)


def test_url_safe_base64_is_accepted_on_input(key: SigningKey) -> None:
    envelope = sign_envelope(b"\xfb\xff" * 5, INTOTO_PAYLOAD_TYPE, key)
    document = envelope.to_dict()
    document["payload"] = base64.urlsafe_b64encode(envelope.payload).decode().rstrip("=")
    assert Envelope.from_dict(document).payload == envelope.payload
