"""Checking a candidate's envelopes at evaluation: the attestation's and the bundle's.

The report run writes, next to the fold-causality attestation and each validation bundle, a DSSE
envelope over an in-toto Statement about it (``envelopes/<name>.dsse.json``, lineage edge
``attests``). Evaluation reads both through lineage (database → store, like the bundle itself) and
verifies them against the tenant's registered signing keys as they stand at the time of the
evaluation (``attest.verify``). The subject digest must be the SHA-256 lineage recorded for the
artifact, and the payload must be exactly the statement rebuilt from the stored artifact, so an
edit anywhere surfaces under its own code; envelope bytes that differ from lineage add
``envelope_changed``.

The findings go to the policy (``EvaluationContext.signatures``); the causality rules decide what
denies at which level. The time they were judged at is recorded in the eligibility report's
context, so ``audit verify`` re-derives the same answer later (a key revoked afterwards does not
change a decision taken before its revocation).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.attest.registry import key_lookup
from crypto_analyzer.attest.statement import (
    BUNDLE_PREDICATE,
    FOLD_CAUSALITY_PREDICATE,
    envelope_name,
    statement_bytes,
)
from crypto_analyzer.attest.verify import EnvelopeCheck, Finding, KeyLookup, verify_envelope
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.governance.bundles import LoadedBundle, store_key
from crypto_analyzer.governance.repository import lineage_rows

__all__ = ["ATTESTATION", "BUNDLE", "signature_checks"]

ATTESTATION = "attestation"
BUNDLE = "bundle"


def signature_checks(
    connection: Connection,
    store: ArtifactStore,
    tenant_id: str,
    loaded: LoadedBundle,
    at: datetime,
) -> dict[str, EnvelopeCheck]:
    """``{"attestation": …, "bundle": …}`` for the run and signal of ``loaded``, as of ``at``."""
    run = loaded.bundle.run_instance_id
    rows = {row["logical_name"]: row for row in lineage_rows(connection, tenant_id, run)}
    lookup = key_lookup(connection, tenant_id)
    checks = {BUNDLE: _check(rows, store, loaded.logical_name, BUNDLE_PREDICATE, lookup, at)}
    attestation = loaded.bundle.attestation
    if attestation.present and attestation.name is not None:
        checks[ATTESTATION] = _check(
            rows, store, attestation.name, FOLD_CAUSALITY_PREDICATE, lookup, at
        )
    return checks


def _read(store: ArtifactStore, uri: str) -> bytes | None:
    try:
        return store.get(store_key(store, uri))
    except Exception:  # unreadable is judged like missing evidence: never a pass
        return None


def _check(
    rows: Mapping[str, Mapping[str, Any]],
    store: ArtifactStore,
    name: str,
    predicate_type: str,
    lookup: KeyLookup,
    at: datetime,
) -> EnvelopeCheck:
    wrapper = envelope_name(name)
    artifact_row = rows.get(name)
    envelope_row = rows.get(wrapper)
    if artifact_row is None:
        return EnvelopeCheck.missing(wrapper, f"the run has no lineage row for {name!r}")
    if envelope_row is None:
        return EnvelopeCheck.missing(wrapper, f"the run wrote no envelope for {name!r}")
    data = _read(store, envelope_row["uri"])
    if data is None:
        return EnvelopeCheck(
            wrapper,
            True,
            False,
            None,
            (Finding("envelope_changed", f"{wrapper} cannot be read from {store.url}"),),
        )
    extra: tuple[Finding, ...] = ()
    digest = sha256_bytes(data)
    if digest != envelope_row["artifact_sha256"]:
        extra = (
            Finding(
                "envelope_changed",
                f"{wrapper} hashes to {digest[:16]}…, lineage recorded "
                f"{str(envelope_row['artifact_sha256'])[:16]}…",
            ),
        )
    subject = str(artifact_row["artifact_sha256"])
    expected = None
    artifact = _read(store, artifact_row["uri"])
    if artifact is not None and sha256_bytes(artifact) == subject:
        try:
            expected = statement_bytes(name, subject, predicate_type, canonical_loads(artifact))
        except ValueError:
            expected = None
    return verify_envelope(
        data,
        name=wrapper,
        keys=lookup,
        at=at,
        predicate_type=predicate_type,
        subject_sha256=subject,
        expected_payload=expected,
        extra=extra,
    )
