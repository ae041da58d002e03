"""The report's envelopes: a DSSE envelope over an in-toto Statement about an artifact just written.

Written for the fold-causality attestation and for each validation bundle, under
``envelopes/<name>.dsse.json`` with an ``attests`` lineage edge to the artifact. Signed when a
signing key is configured (``CRYPTO_ANALYZER_SIGNING_KEY_FILE`` or ``…_SIGNING_KEY``), unsigned
otherwise; the artifacts themselves are unchanged either way, so a run without a key produces the
same attestation and bundles as before and decides the same.

The predicate is the artifact's own JSON read back from the bytes stored, so a verifier holding the
artifact rebuilds the identical payload. A configured key must be registered, valid and unrevoked
in the tenant, or the run refuses before any work: it would write envelopes every signature rule
denies.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts.store import ArtifactRef
from crypto_analyzer.attest.dsse import INTOTO_PAYLOAD_TYPE, Envelope, sign_envelope
from crypto_analyzer.attest.keys import SigningKey, configured_signing_key
from crypto_analyzer.attest.registry import get_key, key_time
from crypto_analyzer.attest.statement import envelope_name, statement_bytes
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.pipeline.report.writer import RunArtifacts

__all__ = ["ENVELOPE_ARTIFACT_TYPE", "put_envelope", "report_signing_key"]

ENVELOPE_ARTIFACT_TYPE = "dsse_envelope"


def report_signing_key(engine: Engine, tenant_id: str) -> SigningKey | None:
    """The configured signing key, once it is known to be registered and usable; else None."""
    key = configured_signing_key()
    if key is None:
        return None
    with engine.connect() as connection:
        record = get_key(connection, tenant_id, key.key_id)
        moment = key_time(connection, tenant_id)
    if record is None:
        raise ConfigError(
            f"signing key {key.key_id} ({key.source}) is not registered in tenant {tenant_id!r}",
            "register it with `crypto-analyzer keys generate --name NAME --private-key PATH`",
        )
    problem = record.trusted().problem(moment)
    if problem is not None:
        raise ConfigError(
            f"signing key {key.key_id[:16]}… cannot sign now: {problem.message}",
            "configure another key (CRYPTO_ANALYZER_SIGNING_KEY_FILE) or unset it",
        )
    return key


def put_envelope(
    written: RunArtifacts,
    name: str,
    ref: ArtifactRef,
    predicate_type: str,
    key: SigningKey | None,
) -> Envelope:
    """Write the envelope about artifact ``name`` (already stored as ``ref``)."""
    predicate = canonical_loads(written.store.get(ref.key))
    payload = statement_bytes(name, ref.sha256, predicate_type, predicate)
    envelope = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key)
    written.put(
        envelope_name(name),
        envelope.to_bytes(),
        artifact_type=ENVELOPE_ARTIFACT_TYPE,
        schema_version="1",
        edges=(("attests", name),),
    )
    return envelope
