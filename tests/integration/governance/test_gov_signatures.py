"""Evaluation verifies the run's envelopes against ``signing_keys``; ``require_signature`` decides.

Each run here is seeded like a report run and then gets the report's envelopes (a DSSE envelope
over an in-toto Statement about the attestation and about the bundle, with lineage). Tampering
happens where an attacker would do it: in the artifact store's files, or by signing with a key the
tenant does not trust. Every case is denied under its own code; an unsigned envelope passes where
signatures are not required; a revoked key denies evaluations from its revocation time on, and an
evaluation made before it still re-derives in ``audit verify`` afterwards.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gov_workspace import SeededRun, make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.attest import (
    BUNDLE_PREDICATE,
    FOLD_CAUSALITY_PREDICATE,
    INTOTO_PAYLOAD_TYPE,
    SigningKey,
    sign_envelope,
    statement_bytes,
)
from crypto_analyzer.attest.statement import envelope_name
from crypto_analyzer.attest.verify import INTEGRITY_CODES
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.db.lineage import LineageEdge, LineageRecord, record_lineage
from crypto_analyzer.governance import GovernanceService, bundle_logical_name
from crypto_analyzer.governance.audit import verify_workspace
from crypto_analyzer.governance.policy import build_policy_set, load_policy_config
from crypto_analyzer.governance.repository import lineage_rows
from crypto_analyzer.governance.service import Evaluation
from crypto_analyzer.governance.signing_keys import register_signing_key, revoke_any_key
from crypto_analyzer.pipeline.ci import ci_policy


def _key() -> SigningKey:
    return SigningKey.from_private(Ed25519PrivateKey.generate(), "test")


def _register(engine: sa.Engine, key: SigningKey, **window: datetime | None) -> None:
    register_signing_key(
        engine,
        "default",
        key.public,
        owner="ci-signer",
        valid_from=window.get("valid_from"),
        valid_until=window.get("valid_until"),
        token=None,
    )


def _envelopes(
    engine: sa.Engine,
    store: ArtifactStore,
    run: SeededRun,
    key: SigningKey | None,
    *,
    payload_type: str = INTOTO_PAYLOAD_TYPE,
    subject: str | None = None,
) -> dict[str, str]:
    """Write the report's two envelopes for ``run``; {artifact name: store key of its envelope}."""
    with engine.connect() as connection:
        found = lineage_rows(connection, "default", run.run_instance_id)
    rows = {row["logical_name"]: row for row in found}
    written: dict[str, str] = {}
    records, edges = [], []
    attestation = run.bundle.attestation.name
    assert attestation is not None
    for name, predicate_type in (
        (attestation, FOLD_CAUSALITY_PREDICATE),
        (bundle_logical_name(run.signal), BUNDLE_PREDICATE),
    ):
        row = rows[name]
        data = store.get(row["uri"][len(store.url) + 1 :])
        try:
            predicate = canonical_loads(data)
        except ValueError:  # the seeded attestation is text; the report's is JSON
            predicate = {"text": data.decode()}
        payload = statement_bytes(
            name, subject or row["artifact_sha256"], predicate_type, predicate
        )
        envelope = sign_envelope(payload, payload_type, key)
        store_key = f"runs/{run.run_instance_id}/{envelope_name(name)}"
        ref = store.put(store_key, envelope.to_bytes())
        written[name] = store_key
        records.append(
            LineageRecord(envelope_name(name), ref.sha256, ref.uri, ref.size, "dsse_envelope", "1")
        )
        edges.append(LineageEdge(envelope_name(name), "attests", name))
    with engine.begin() as connection:
        record_lineage(
            connection,
            tenant_id="default",
            run_instance_id=run.run_instance_id,
            records=records,
            edges=edges,
        )
    return written


def _service(engine: sa.Engine, store: ArtifactStore, *, required: bool) -> GovernanceService:
    config = load_policy_config()
    policy = build_policy_set(ci_policy(config) if required else config)
    return make_service(engine, store, policy=policy)


def _evaluate(service: GovernanceService, run: SeededRun) -> Evaluation:
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    )
    return service.evaluate(candidate.candidate_id, target="candidate", actor="alice")


def _codes(outcome: Evaluation, rule: str = "evidence.signature") -> set[str]:
    return {
        str(reason.message).split(":", 1)[0]
        for reason in outcome.decision.reasons
        if reason.rule == rule
    }


def _overwrite(store_root: Path, key: str, data: bytes) -> None:
    (store_root / key).write_bytes(data)


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


def test_signed_envelopes_pass_where_signatures_are_required(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    key = _key()
    _register(backend_engine, key)
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, key)
    outcome = _evaluate(_service(backend_engine, store, required=True), run)
    assert outcome.passed, outcome.decision.reasons
    assert {"causality.signature", "evidence.signature"} <= set(outcome.decision.rules)
    assert outcome.report.context is not None and outcome.report.context["signatures_at"]


def test_unsigned_passes_unless_required(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, None)
    relaxed = _evaluate(_service(backend_engine, store, required=False), run)
    assert relaxed.passed, relaxed.decision.reasons
    strict = _service(backend_engine, store, required=True)
    outcome = strict.evaluate(relaxed.candidate.candidate_id, target="candidate", actor="alice")
    assert not outcome.passed
    assert _codes(outcome) == {"unsigned"} and _codes(outcome, "causality.signature") == {
        "unsigned"
    }


def test_a_run_without_envelopes_is_denied_only_where_required(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    run = seed_run(backend_engine, store)
    relaxed = _evaluate(_service(backend_engine, store, required=False), run)
    assert relaxed.passed
    strict = _service(backend_engine, store, required=True)
    outcome = strict.evaluate(relaxed.candidate.candidate_id, target="candidate", actor="alice")
    assert _codes(outcome) == {"missing"}


def _flip_signature(data: bytes) -> bytes:
    document = json.loads(data)
    raw = bytearray(base64.b64decode(document["signatures"][0]["sig"]))
    raw[-1] ^= 0x01
    document["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(document).encode()


def _edit_predicate(data: bytes) -> bytes:
    document = json.loads(data)
    statement = json.loads(base64.b64decode(document["payload"]))
    statement["predicate"]["walk_forward_used"] = not statement["predicate"]["walk_forward_used"]
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    document["payload"] = base64.b64encode(payload).decode()
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "case",
    [
        "unknown_key",
        "wrong_payload_type",
        "payload_edited",
        "bad_signature",
        "subject_mismatch",
        "key_expired",
        "key_not_yet_valid",
    ],
)
def test_each_tamper_case_is_denied_with_its_own_reason(
    backend_engine: sa.Engine, store: ArtifactStore, store_root: Path, case: str
) -> None:
    key = _key()
    now = datetime.now(UTC)
    window: dict[str, datetime | None] = {}
    if case == "key_expired":
        window = {"valid_from": now - timedelta(days=30), "valid_until": now - timedelta(days=1)}
    if case == "key_not_yet_valid":
        window = {"valid_from": now + timedelta(days=1), "valid_until": None}
    _register(backend_engine, key, **window)
    run = seed_run(backend_engine, store)
    bundle = bundle_logical_name(run.signal)
    signer = _key() if case == "unknown_key" else key
    payload_type = "application/json" if case == "wrong_payload_type" else INTOTO_PAYLOAD_TYPE
    subject = "e" * 64 if case == "subject_mismatch" else None
    written = _envelopes(
        backend_engine, store, run, signer, payload_type=payload_type, subject=subject
    )
    expected = {case}
    if case in ("payload_edited", "bad_signature"):  # edited in the store after the run
        edit = _edit_predicate if case == "payload_edited" else _flip_signature
        _overwrite(store_root, written[bundle], edit(store.get(written[bundle])))
        expected.add("envelope_changed")
    strict = _evaluate(_service(backend_engine, store, required=True), run)
    assert not strict.passed
    assert _codes(strict) == expected, strict.decision.reasons
    relaxed = _service(backend_engine, store, required=False).evaluate(
        strict.candidate.candidate_id, target="candidate", actor="alice"
    )
    if case in INTEGRITY_CODES:  # an altered envelope denies whether or not signatures are required
        assert not relaxed.passed
        assert _codes(relaxed) == expected, relaxed.decision.reasons
    else:  # an intact envelope by an untrusted key only warns where signatures are not required
        assert relaxed.passed, relaxed.decision.reasons
        warned = {
            item.message.split(":", 1)[0]
            for item in relaxed.decision.warnings
            if item.rule == "evidence.signature"
        }
        assert warned == expected


def test_a_revoked_key_denies_from_its_revocation_time_and_not_before(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    key = _key()
    _register(backend_engine, key)
    run = seed_run(backend_engine, store)
    _envelopes(backend_engine, store, run, key)
    service = _service(backend_engine, store, required=True)
    revoked_at = datetime.now(UTC) + timedelta(seconds=3)
    revoke_any_key(
        backend_engine, "default", key.key_id, reason="laptop stolen", at=revoked_at, token=None
    )
    before = _evaluate(service, run)
    assert before.passed, before.decision.reasons
    time.sleep(max(0.0, (revoked_at - datetime.now(UTC)).total_seconds()) + 0.05)
    after = service.evaluate(before.candidate.candidate_id, target="candidate", actor="alice")
    assert not after.passed
    assert _codes(after) == {"key_revoked"} == _codes(after, "causality.signature")
    assert "laptop stolen" in str(after.decision.reasons)
    # The audit re-derives both decisions as they were taken: the earlier one still passes.
    report = verify_workspace(backend_engine, store, "default")
    rederived = [item for item in report.findings if "re-deriv" in str(item)]
    assert not rederived, rederived
