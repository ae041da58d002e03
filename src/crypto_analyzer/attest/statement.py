"""in-toto Statement v1: what an envelope says, about which artifact.

A Statement binds a *predicate* (here: the fold-causality attestation, or a validation bundle) to
its *subjects* by digest: ``{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": …,
"digest": {"sha256": …}}], "predicateType": URI, "predicate": {…}}``. The subject is the artifact
as stored (its logical name and the SHA-256 of its bytes — the artifact id), and the predicate is
that artifact's own JSON document, so a verifier holding the artifact can rebuild the exact
payload (:func:`build_statement` over canonical JSON) and any difference is an edit.

The predicate type URIs are this project's; they change only with the meaning of the predicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_bytes, canonical_loads
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.hashing import is_hex_digest

__all__ = [
    "BUNDLE_PREDICATE",
    "ENVELOPE_PREFIX",
    "FOLD_CAUSALITY_PREDICATE",
    "PREDICATE_TYPES",
    "STATEMENT_TYPE",
    "Statement",
    "StatementError",
    "build_statement",
    "envelope_name",
    "parse_statement",
    "statement_bytes",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
FOLD_CAUSALITY_PREDICATE = "https://crypto-analyzer.dev/attestation/fold-causality/v1"
"""Predicate: a fold-causality attestation (``research.attestation``, schema version 1)."""
BUNDLE_PREDICATE = "https://crypto-analyzer.dev/attestation/validation-bundle/v1"
"""Predicate: a validation bundle (``governance.evidence.ValidationBundle``, schema version 1)."""
PREDICATE_TYPES = (FOLD_CAUSALITY_PREDICATE, BUNDLE_PREDICATE)
_FIELDS = frozenset({"_type", "subject", "predicateType", "predicate"})


ENVELOPE_PREFIX = "envelopes/"


def envelope_name(artifact_name: str) -> str:
    """Logical name of the envelope about ``artifact_name``: ``envelopes/<name>.dsse.json``.

    A prefix of its own, so no artifact name can ever collide with an envelope name.
    """
    stem = artifact_name.removesuffix(".json")
    return f"{ENVELOPE_PREFIX}{stem}.dsse.json"


class StatementError(ValidationError):
    """A payload that is not an in-toto Statement v1 as this project writes them."""


@dataclass(frozen=True, slots=True)
class Statement:
    """A parsed statement with exactly one subject (the project never writes more)."""

    subject_name: str
    subject_sha256: str
    predicate_type: str
    predicate: dict[str, Any]


def build_statement(
    subject_name: str, subject_sha256: str, predicate_type: str, predicate: dict[str, Any]
) -> dict[str, Any]:
    """The statement document about one artifact."""
    if not is_hex_digest(subject_sha256):
        raise ValueError(f"subject_sha256 must be 64 lowercase hex, got {subject_sha256!r}")
    return {
        "_type": STATEMENT_TYPE,
        "predicate": predicate,
        "predicateType": predicate_type,
        "subject": [{"digest": {"sha256": subject_sha256}, "name": subject_name}],
    }


def statement_bytes(
    subject_name: str, subject_sha256: str, predicate_type: str, predicate: dict[str, Any]
) -> bytes:
    """Canonical JSON of :func:`build_statement`: the exact payload bytes an envelope signs."""
    return canonical_bytes(build_statement(subject_name, subject_sha256, predicate_type, predicate))


def parse_statement(payload: bytes, *, source: str = "payload") -> Statement:
    """Parse and check a statement; anything else is a :class:`StatementError`."""
    try:
        document = canonical_loads(payload)
    except (CanonicalJSONError, ValueError, UnicodeDecodeError) as exc:
        raise StatementError(f"{source} is not JSON: {exc}") from None
    if not isinstance(document, dict) or set(document) != _FIELDS:
        raise StatementError(f"{source} is not an in-toto Statement (fields {sorted(_FIELDS)})")
    if document["_type"] != STATEMENT_TYPE:
        raise StatementError(f"{source}: _type is {document['_type']!r}, not {STATEMENT_TYPE}")
    subjects = document["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise StatementError(f"{source}: expected exactly one subject")
    subject = subjects[0]
    digest = subject.get("digest")
    name = subject.get("name")
    sha = digest.get("sha256") if isinstance(digest, dict) else None
    if not isinstance(name, str) or not isinstance(sha, str) or not is_hex_digest(sha):
        raise StatementError(f"{source}: the subject needs a name and a sha256 digest")
    predicate_type = document["predicateType"]
    predicate = document["predicate"]
    if not isinstance(predicate_type, str) or not isinstance(predicate, dict):
        raise StatementError(f"{source}: predicateType must be a string, predicate an object")
    return Statement(name, sha, predicate_type, predicate)
