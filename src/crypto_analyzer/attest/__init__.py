"""Signed attestations: DSSE v1 envelopes over in-toto Statements v1, signed with Ed25519.

``dsse`` (pre-authentication encoding, envelopes), ``statement`` (in-toto Statement v1 about one
artifact), ``keys`` (key files, public keys, key ids) and ``verify`` (every check with its own
code) need no database; ``registry`` keeps the public keys in ``signing_keys``.
"""

from __future__ import annotations

from crypto_analyzer.attest.dsse import (
    INTOTO_PAYLOAD_TYPE,
    Envelope,
    EnvelopeError,
    EnvelopeSignature,
    pae,
    sign_envelope,
)
from crypto_analyzer.attest.keys import (
    PublicKey,
    SigningKey,
    configured_signing_key,
    create_key_file,
    is_signing_key_id,
    key_id_of,
    load_key_file,
    load_public_key,
)
from crypto_analyzer.attest.statement import (
    BUNDLE_PREDICATE,
    FOLD_CAUSALITY_PREDICATE,
    STATEMENT_TYPE,
    Statement,
    StatementError,
    build_statement,
    parse_statement,
    statement_bytes,
)
from crypto_analyzer.attest.verify import (
    INTEGRITY_CODES,
    TRUST_CODES,
    EnvelopeCheck,
    Finding,
    TrustedKey,
    verify_envelope,
    verify_offline,
)

__all__ = [
    "BUNDLE_PREDICATE",
    "FOLD_CAUSALITY_PREDICATE",
    "INTEGRITY_CODES",
    "INTOTO_PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "TRUST_CODES",
    "Envelope",
    "EnvelopeCheck",
    "EnvelopeError",
    "EnvelopeSignature",
    "Finding",
    "PublicKey",
    "SigningKey",
    "Statement",
    "StatementError",
    "TrustedKey",
    "build_statement",
    "configured_signing_key",
    "create_key_file",
    "is_signing_key_id",
    "key_id_of",
    "load_key_file",
    "load_public_key",
    "pae",
    "parse_statement",
    "sign_envelope",
    "statement_bytes",
    "verify_envelope",
    "verify_offline",
]
