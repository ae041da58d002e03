"""Policy documents: every policy a decision used, content-addressed in the artifact store.

An eligibility report records the digest of its policy (``PolicyConfig.digest``: SHA-256 of the
validated file as canonical JSON). For ``audit verify`` to re-derive the decision under exactly that
policy, the evaluation first stores the same canonical JSON under ``policies/<digest>.json``
(create-only: the same policy is stored once, a different document under that key is refused), and
the audit loads it back by digest. The bytes must hash to the digest and validate to a config with
that digest, or the document is a finding.
"""

from __future__ import annotations

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_bytes, canonical_loads
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.hashing import is_hex_digest, sha256_bytes
from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.policy.config import PolicyConfig, lists_to_tuples

__all__ = [
    "POLICY_PREFIX",
    "load_policy_document",
    "policy_document_bytes",
    "policy_document_key",
    "store_policy_document",
]

POLICY_PREFIX = "policies"


def policy_document_key(digest: str) -> str:
    """Store key of the policy document with ``digest``."""
    if not is_hex_digest(digest):
        raise PolicyConfigError(f"policy digest {digest!r} is not a SHA-256 hex digest")
    return f"{POLICY_PREFIX}/{digest}.json"


def policy_document_bytes(config: PolicyConfig) -> bytes:
    """The canonical JSON whose SHA-256 is ``config.digest()``."""
    return canonical_bytes(config.canonical_dict())


def store_policy_document(store: ArtifactStore, config: PolicyConfig) -> str:
    """Store ``config`` under its digest (a no-op when already there); returns the key."""
    key = policy_document_key(config.digest())
    store.put(key, policy_document_bytes(config))
    return key


def load_policy_document(store: ArtifactStore, key: str, digest: str) -> PolicyConfig:
    """The policy stored at ``key``, checked to be exactly the one with ``digest``."""
    try:
        data = store.get(key)
    except CryptoAnalyzerError as exc:
        raise PolicyConfigError(f"policy document {key} cannot be read: {exc}") from None
    found = sha256_bytes(data)
    if found != digest:
        raise PolicyConfigError(
            f"policy document {key} hashes to {found[:16]}…, the report recorded {digest[:16]}…"
        )
    try:
        config = PolicyConfig.model_validate(lists_to_tuples(canonical_loads(data.decode())))
    except (CanonicalJSONError, UnicodeDecodeError, ValueError) as exc:
        raise PolicyConfigError(f"policy document {key} is not a valid policy: {exc}") from None
    if config.digest() != digest:
        raise PolicyConfigError(f"policy document {key} validates to another digest")
    return config
