"""Verifying an envelope: every way it can fail has its own code, and any failure is a failure.

:func:`verify_envelope` is used by governance (keys from ``signing_keys``, evaluated at the time of
the evaluation) and by ``attest verify`` (a key file given by a third party, no database). The order
of the checks makes each tamper case name itself:

1. ``malformed_envelope`` — not a DSSE v1 envelope;
2. ``wrong_payload_type`` — ``payloadType`` is not ``application/vnd.in-toto+json``;
3. ``malformed_statement`` / ``wrong_predicate_type`` — the payload is not the Statement expected;
4. ``subject_mismatch`` — the subject digest is not the artifact's SHA-256;
5. ``payload_edited`` — the payload differs from the statement rebuilt from the artifact (only
   when the caller holds the artifact); the signatures are then not tried: the bytes they would
   cover are already known to be wrong;
6. per signature: ``unknown_key`` (no trusted key with that id), ``bad_signature`` (Ed25519 over
   ``PAE(payloadType, payload)`` fails — an edited signature, or a payload edited where the
   artifact is not at hand), then the key's status at the time ``at``: ``key_not_yet_valid``,
   ``key_expired`` (``valid_until`` is exclusive), ``key_revoked`` (from ``revoked_at`` on; a key
   revoked later still verifies evaluations made before);
7. ``unsigned`` — no signatures at all (only a problem where a signature is required).

An envelope is *verified* when steps 1–5 found nothing and at least one signature passed step 6.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crypto_analyzer.attest.dsse import INTOTO_PAYLOAD_TYPE, Envelope, EnvelopeError
from crypto_analyzer.attest.keys import PublicKey
from crypto_analyzer.attest.statement import (
    Statement,
    StatementError,
    parse_statement,
    statement_bytes,
)
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.core.clock import from_iso
from crypto_analyzer.core.hashing import sha256_bytes

__all__ = [
    "INTEGRITY_CODES",
    "TRUST_CODES",
    "EnvelopeCheck",
    "Finding",
    "KeyLookup",
    "TrustedKey",
    "verify_envelope",
    "verify_offline",
]

INTEGRITY_CODES = frozenset(
    {
        "malformed_envelope",
        "wrong_payload_type",
        "malformed_statement",
        "wrong_predicate_type",
        "subject_mismatch",
        "payload_edited",
        "bad_signature",
        "envelope_changed",
    }
)
"""The envelope or what it covers was altered: a denial whether or not signatures are required."""
TRUST_CODES = frozenset(
    {"unsigned", "unknown_key", "key_revoked", "key_not_yet_valid", "key_expired", "missing"}
)
"""The envelope is intact but not (validly) signed: a denial only where signatures are required."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: a stable code and a message naming the values involved."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key a verifier trusts, with its validity window and revocation (ISO UTC text)."""

    public: PublicKey
    owner: str = ""
    valid_from: str | None = None
    valid_until: str | None = None
    revoked_at: str | None = None
    revocation_reason: str | None = None

    def problem(self, at: datetime) -> Finding | None:
        """Why this key may not vouch for anything at ``at``, or None."""
        key = self.public.key_id[:16]
        if self.revoked_at is not None and at >= from_iso(self.revoked_at):
            return Finding(
                "key_revoked",
                f"key {key}… ({self.owner}) was revoked at {self.revoked_at}: "
                f"{self.revocation_reason or 'no reason recorded'}",
            )
        if self.valid_from is not None and at < from_iso(self.valid_from):
            return Finding(
                "key_not_yet_valid", f"key {key}… ({self.owner}) is valid from {self.valid_from}"
            )
        if self.valid_until is not None and at >= from_iso(self.valid_until):
            return Finding(
                "key_expired", f"key {key}… ({self.owner}) was valid until {self.valid_until}"
            )
        return None


KeyLookup = Callable[[str], TrustedKey | None]


@dataclass(frozen=True, slots=True)
class EnvelopeCheck:
    """What verifying one envelope found."""

    name: str
    present: bool
    signed: bool
    key_id: str | None
    """The key whose signature verified, when one did."""
    problems: tuple[Finding, ...]
    statement: Statement | None = None

    @property
    def verified(self) -> bool:
        return self.present and self.key_id is not None and not self.problems

    def integrity_problems(self) -> tuple[Finding, ...]:
        return tuple(item for item in self.problems if item.code in INTEGRITY_CODES)

    def trust_problems(self) -> tuple[Finding, ...]:
        return tuple(item for item in self.problems if item.code not in INTEGRITY_CODES)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "present": self.present,
            "problems": [item.to_dict() for item in self.problems],
            "signed": self.signed,
            "subject": None
            if self.statement is None
            else {"name": self.statement.subject_name, "sha256": self.statement.subject_sha256},
            "verified": self.verified,
        }

    @classmethod
    def missing(cls, name: str, message: str) -> EnvelopeCheck:
        return cls(name, False, False, None, (Finding("missing", message),))


def verify_envelope(
    data: bytes,
    *,
    name: str,
    keys: KeyLookup,
    at: datetime,
    predicate_type: str | None = None,
    subject_sha256: str | None = None,
    expected_payload: bytes | None = None,
    extra: tuple[Finding, ...] = (),
) -> EnvelopeCheck:
    """Check the envelope ``data`` (see the module docstring for the order and the codes).

    ``extra`` are findings the caller already made (e.g. the bytes differ from lineage); they are
    reported alongside and make the envelope unverified, without hiding the specific cause.
    """

    def done(
        signed: bool, key_id: str | None, found: list[Finding], statement: Statement | None = None
    ) -> EnvelopeCheck:
        return EnvelopeCheck(name, True, signed, key_id, (*extra, *found), statement)

    try:
        envelope = Envelope.from_bytes(data, source=name)
    except EnvelopeError as exc:
        return done(False, None, [Finding("malformed_envelope", str(exc))])
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE:
        message = f"payloadType is {envelope.payload_type!r}, not {INTOTO_PAYLOAD_TYPE!r}"
        return done(envelope.signed, None, [Finding("wrong_payload_type", message)])
    try:
        statement = parse_statement(envelope.payload, source=f"{name} payload")
    except StatementError as exc:
        return done(envelope.signed, None, [Finding("malformed_statement", exc.problem)])
    problems: list[Finding] = []
    if predicate_type is not None and statement.predicate_type != predicate_type:
        problems.append(
            Finding(
                "wrong_predicate_type",
                f"predicateType is {statement.predicate_type!r}, expected {predicate_type!r}",
            )
        )
    if subject_sha256 is not None and statement.subject_sha256 != subject_sha256:
        problems.append(
            Finding(
                "subject_mismatch",
                f"subject {statement.subject_name!r} has sha256 {statement.subject_sha256[:16]}…, "
                f"the artifact is {subject_sha256[:16]}…",
            )
        )
    if not problems and expected_payload is not None and envelope.payload != expected_payload:
        problems.append(
            Finding(
                "payload_edited",
                "the signed statement differs from the statement of the stored artifact "
                "(the predicate was edited)",
            )
        )
    if problems:
        return done(envelope.signed, None, problems, statement)
    if not envelope.signed:
        return done(False, None, [Finding("unsigned", f"{name} carries no signature")], statement)
    signing_input = envelope.signing_input()
    failures: list[Finding] = []
    for signature in envelope.signatures:
        trusted = keys(signature.keyid)
        if trusted is None or trusted.public.key_id != signature.keyid:
            failures.append(
                Finding("unknown_key", f"signature by key {signature.keyid[:16]}… is not trusted")
            )
            continue
        if not trusted.public.verify(signature.sig, signing_input):
            failures.append(
                Finding(
                    "bad_signature",
                    f"the Ed25519 signature of key {signature.keyid[:16]}… does not verify over "
                    "PAE(payloadType, payload)",
                )
            )
            continue
        status = trusted.problem(at)
        if status is not None:
            failures.append(status)
            continue
        return done(True, signature.keyid, [], statement)
    return done(True, None, failures, statement)


def verify_offline(
    data: bytes,
    *,
    name: str,
    public_keys: tuple[PublicKey, ...],
    at: datetime,
    artifact: bytes | None = None,
) -> EnvelopeCheck:
    """Verify without a database (``attest verify``): trust exactly ``public_keys``.

    With ``artifact`` (the subject's bytes) the subject digest is checked and the payload must be
    the statement rebuilt from it, so an edited predicate is named ``payload_edited``.
    """
    trusted = {key.key_id: TrustedKey(key, owner="--key") for key in public_keys}
    subject = expected = None
    if artifact is not None:
        subject = sha256_bytes(artifact)
        try:
            statement = parse_statement(Envelope.from_bytes(data, source=name).payload)
            expected = statement_bytes(
                statement.subject_name,
                subject,
                statement.predicate_type,
                canonical_loads(artifact),
            )
        except (EnvelopeError, StatementError, ValueError):
            expected = None  # verify_envelope names what is wrong with the envelope itself
    return verify_envelope(
        data,
        name=name,
        keys=trusted.get,
        at=at,
        subject_sha256=subject,
        expected_payload=expected,
    )
