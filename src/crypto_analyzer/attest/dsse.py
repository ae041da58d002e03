"""DSSE v1 envelopes: the pre-authentication encoding, signing, and strict parsing.

Dead Simple Signing Envelope (secure-systems-lab/dsse, protocol v1). A signature never covers the
payload alone but ``PAE(payloadType, payload)``::

    "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

with ``LEN`` the byte length as ASCII decimal without leading zeros and ``SP`` one space. Binding
the type into the signed bytes is what stops a signature over one kind of document from being
replayed as another. The envelope is the JSON object ``{"payload": b64(body), "payloadType": type,
"signatures": [{"keyid": id, "sig": b64(signature)}]}`` — we write standard base64 with padding
and canonical JSON (sorted keys, no spaces), so an envelope has exactly one byte form and its
SHA-256 can stand in the artifact store and in lineage like any other artifact. An unsigned
envelope has an empty ``signatures`` list; it carries the same statement, and a policy that does
not require signatures accepts it.

Parsing is strict and fail-closed: anything that is not exactly this shape is an
:class:`EnvelopeError` naming what was wrong, never a partially read envelope.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_bytes, canonical_loads
from crypto_analyzer.core.errors import ValidationError

if TYPE_CHECKING:
    from crypto_analyzer.attest.keys import SigningKey

__all__ = [
    "INTOTO_PAYLOAD_TYPE",
    "MAX_ENVELOPE_BYTES",
    "Envelope",
    "EnvelopeError",
    "EnvelopeSignature",
    "pae",
    "sign_envelope",
]

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
"""The payload type of an in-toto Statement (in-toto attestation framework, Statement v1)."""
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024
"""Envelopes larger than this are refused before parsing (a bundle envelope is a few kB)."""
_ENVELOPE_FIELDS = frozenset({"payload", "payloadType", "signatures"})
_SIGNATURE_FIELDS = frozenset({"keyid", "sig"})


class EnvelopeError(ValidationError):
    """Bytes that are not a well-formed DSSE envelope."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload`` under ``payload_type``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True, slots=True)
class EnvelopeSignature:
    """One signature: the signer's key id and the raw signature bytes."""

    keyid: str
    sig: bytes

    def to_dict(self) -> dict[str, str]:
        return {"keyid": self.keyid, "sig": base64.b64encode(self.sig).decode("ascii")}


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed (or freshly built) DSSE envelope."""

    payload: bytes
    payload_type: str
    signatures: tuple[EnvelopeSignature, ...]

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    def signing_input(self) -> bytes:
        """The bytes every signature covers: ``PAE(payloadType, payload)``."""
        return pae(self.payload_type, self.payload)

    def to_dict(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [signature.to_dict() for signature in self.signatures],
        }

    def to_bytes(self) -> bytes:
        """Canonical JSON: the bytes stored as the envelope artifact."""
        return canonical_bytes(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "envelope") -> Envelope:
        """Parse ``data``; anything but a DSSE v1 envelope is an :class:`EnvelopeError`."""
        if len(data) > MAX_ENVELOPE_BYTES:
            raise EnvelopeError(
                f"{source} is {len(data):,} bytes, more than the {MAX_ENVELOPE_BYTES:,} allowed"
            )
        try:
            document = canonical_loads(data)
        except (CanonicalJSONError, ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"{source} is not JSON: {exc}", _HINT) from None
        return cls.from_dict(document, source=source)

    @classmethod
    def from_dict(cls, document: Any, *, source: str = "envelope") -> Envelope:
        if not isinstance(document, dict):
            raise EnvelopeError(f"{source} is not a JSON object", _HINT)
        missing = sorted({"payload", "payloadType"} - set(document))
        if missing:
            raise EnvelopeError(f"{source} lacks {', '.join(missing)}", _HINT)
        extra = sorted(set(document) - _ENVELOPE_FIELDS)
        if extra:
            raise EnvelopeError(f"{source} has unexpected fields {', '.join(extra)}", _HINT)
        payload_type = document["payloadType"]
        if not isinstance(payload_type, str) or not payload_type:
            raise EnvelopeError(f"{source}: payloadType must be a non-empty string", _HINT)
        payload = _b64(document["payload"], f"{source}: payload")
        raw = document.get("signatures", [])
        if not isinstance(raw, list):
            raise EnvelopeError(f"{source}: signatures must be a list", _HINT)
        signatures = []
        for index, item in enumerate(raw):
            where = f"{source}: signatures[{index}]"
            if not isinstance(item, dict) or set(item) - _SIGNATURE_FIELDS or "sig" not in item:
                raise EnvelopeError(f"{where} must be an object with keyid and sig", _HINT)
            keyid = item.get("keyid", "")
            if not isinstance(keyid, str):
                raise EnvelopeError(f"{where}.keyid must be a string", _HINT)
            signatures.append(EnvelopeSignature(keyid, _b64(item["sig"], f"{where}.sig")))
        return cls(payload, payload_type, tuple(signatures))


_HINT = "a DSSE envelope is {payload, payloadType, signatures}; rewrite it with crypto-analyzer"


def _b64(value: Any, what: str) -> bytes:
    """Standard or URL-safe base64 (DSSE accepts both), padding optional; else an error."""
    if not isinstance(value, str):
        raise EnvelopeError(f"{what} must be a base64 string", _HINT)
    text = value.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{what} is not valid base64", _HINT) from None


def sign_envelope(payload: bytes, payload_type: str, key: SigningKey | None) -> Envelope:
    """An envelope over ``payload``: signed by ``key``, or unsigned when ``key`` is None."""
    envelope = Envelope(payload, payload_type, ())
    if key is None:
        return envelope
    signature = EnvelopeSignature(key.key_id, key.sign(envelope.signing_input()))
    return Envelope(payload, payload_type, (signature,))
