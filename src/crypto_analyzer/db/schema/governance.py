"""Governance: promotion candidates, eligibility reports, the governance event log, signing keys.

Eligibility reports and governance events are append-only (database triggers); events form a
per-tenant hash chain (``prev_hash`` -> ``hash``) so that edits made with DDL rights are detectable.
Revision 0002 adds the promotion state machine as triggers on ``promotion_candidates`` and the
chain-extension check on ``governance_events``; the ``(tenant_id, candidate_id)`` indexes serve
those triggers and ``audit trace``. Revision 0009 refuses replacing inserts and upserts on all four
tables and guards ``signing_keys`` (key material immutable, validity only shortened, revocation
final and with a reason, never deleted). Revision 0010 adds ``mac``/``mac_key_id`` (HMAC with
the service key, ``core.service_key``) to reports and events, and ``context_json`` to reports
(what an evaluation saw, so ``audit verify`` can re-derive it). Revision 0012 refuses a new signing
key whose id is not the SHA-256 of its 64-hex public key, or whose validity window is empty.
"""

from __future__ import annotations

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import (
    INT64,
    TABLE_OPTIONS,
    metadata,
    status_check,
    tenant_column,
    text_enum_check,
)

__all__ = [
    "CANDIDATE_STATUSES",
    "ELIGIBILITY_LEVELS",
    "EVENT_TYPES",
    "SIGNING_ALGORITHMS",
    "eligibility_reports",
    "governance_events",
    "promotion_candidates",
    "signing_keys",
]

CANDIDATE_STATUSES = ("exploratory", "candidate", "accepted", "rejected", "revoked")
ELIGIBILITY_LEVELS = ("candidate", "accepted")
EVENT_TYPES = (
    "created",
    "evaluated",
    "promoted",
    "rejected",
    "revoked",
    "restated",
    "reproduced",
)
SIGNING_ALGORITHMS = ("ed25519",)

promotion_candidates = sa.Table(
    "promotion_candidates",
    metadata,
    tenant_column(),
    sa.Column("candidate_id", sa.Text(), nullable=False),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("run_key", sa.Text(), nullable=False),
    sa.Column("dataset_id", sa.Text(), nullable=False),
    sa.Column("signal", sa.Text(), nullable=False),
    sa.Column("horizon", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False, server_default="exploratory"),
    sa.Column("evidence_digest", sa.Text(), nullable=False),
    sa.Column("eligibility_report_id", sa.Text(), nullable=True),
    sa.Column("status_reason", sa.Text(), nullable=True),
    sa.Column("created_by", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "candidate_id"),
    status_check(CANDIDATE_STATUSES),
    sa.CheckConstraint("horizon >= 1", name="horizon_positive"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "run_instance_id"], ["runs.tenant_id", "runs.run_instance_id"]
    ),
    **TABLE_OPTIONS,
)

eligibility_reports = sa.Table(
    "eligibility_reports",
    metadata,
    tenant_column(),
    sa.Column("report_id", sa.Text(), nullable=False),
    sa.Column("candidate_id", sa.Text(), nullable=False),
    sa.Column("level", sa.Text(), nullable=False),
    sa.Column("passed", sa.Integer(), nullable=False),
    sa.Column("evidence_digest", sa.Text(), nullable=False),
    sa.Column("policy_id", sa.Text(), nullable=False),
    sa.Column("policy_digest", sa.Text(), nullable=False),
    sa.Column("reasons_json", sa.Text(), nullable=False),
    sa.Column("warnings_json", sa.Text(), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("history_json", sa.Text(), nullable=True),
    sa.Column("context_json", sa.Text(), nullable=True),
    sa.Column("mac", sa.Text(), nullable=True),
    sa.Column("mac_key_id", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "report_id"),
    sa.Index(None, "tenant_id", "candidate_id"),
    text_enum_check("level", ELIGIBILITY_LEVELS, "level"),
    sa.CheckConstraint("passed IN (0, 1)", name="passed_flag"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "candidate_id"],
        ["promotion_candidates.tenant_id", "promotion_candidates.candidate_id"],
    ),
    **TABLE_OPTIONS,
)

governance_events = sa.Table(
    "governance_events",
    metadata,
    tenant_column(),
    sa.Column("event_id", sa.Text(), nullable=False),
    sa.Column("seq", INT64, nullable=False),
    sa.Column("candidate_id", sa.Text(), nullable=True),
    sa.Column("event_type", sa.Text(), nullable=False),
    sa.Column("from_status", sa.Text(), nullable=True),
    sa.Column("to_status", sa.Text(), nullable=True),
    sa.Column("report_id", sa.Text(), nullable=True),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("payload_json", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.Text(), nullable=False),
    sa.Column("hash", sa.Text(), nullable=False),
    sa.Column("mac", sa.Text(), nullable=True),
    sa.Column("mac_key_id", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "event_id"),
    sa.UniqueConstraint("tenant_id", "seq"),
    sa.Index(None, "tenant_id", "candidate_id"),
    text_enum_check("event_type", EVENT_TYPES, "event_type"),
    sa.CheckConstraint("seq >= 0", name="seq_non_negative"),
    **TABLE_OPTIONS,
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    tenant_column(),
    sa.Column("key_id", sa.Text(), nullable=False),
    sa.Column("algorithm", sa.Text(), nullable=False),
    sa.Column("public_key", sa.Text(), nullable=False),
    sa.Column("owner", sa.Text(), nullable=False),
    sa.Column("valid_from", sa.Text(), nullable=False),
    sa.Column("valid_until", sa.Text(), nullable=True),
    sa.Column("revoked_at", sa.Text(), nullable=True),
    sa.Column("revocation_reason", sa.Text(), nullable=True),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "key_id"),
    text_enum_check("algorithm", SIGNING_ALGORITHMS, "algorithm"),
    sa.CheckConstraint(
        "revoked_at IS NULL OR revocation_reason IS NOT NULL", name="revocation_has_reason"
    ),
    **TABLE_OPTIONS,
)
