"""Governance: evidence contract, policy engine, promotion service, event chain and audit.

The research report run hands over a :class:`ValidationBundle` per signal; the
:class:`GovernanceService` turns it into candidates, eligibility reports and hash-chained
governance events under one transaction per action; ``audit`` reconstructs and verifies the record
from the database. See DESIGN.md §3 (invariants 4–6), §7 and §8.
"""

from __future__ import annotations

from crypto_analyzer.governance.audit import (
    AuditFinding,
    VerifyReport,
    trace_candidate,
    verify_workspace,
)
from crypto_analyzer.governance.chain import GENESIS_HASH, event_hash, verify_chain
from crypto_analyzer.governance.errors import (
    CandidateExistsError,
    ConcurrentChangeError,
    EvidenceError,
    GovernanceError,
    GovernanceIntegrityError,
    InvalidTransitionError,
    PolicyConfigError,
    PromotionDenied,
)
from crypto_analyzer.governance.evidence import (
    BUNDLE_SCHEMA_VERSION,
    ValidationBundle,
    bundle_logical_name,
)
from crypto_analyzer.governance.principal_store import IssuedKey, PrincipalRow
from crypto_analyzer.governance.principals import Principal, normalise_principal, same_person
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.service import Evaluation, GovernanceService
from crypto_analyzer.governance.staleness import Staleness
from crypto_analyzer.governance.states import ALLOWED_EDGES, LEVELS, STATUSES
from crypto_analyzer.governance.workspace import (
    add_principal,
    audit_checkpoint,
    audit_stale,
    audit_trace,
    audit_verify,
    disable_principal,
    init_service_key,
    list_principals,
    open_governed,
    open_service,
    record_restatements,
)

__all__ = [
    "ALLOWED_EDGES",
    "BUNDLE_SCHEMA_VERSION",
    "GENESIS_HASH",
    "LEVELS",
    "STATUSES",
    "AuditFinding",
    "CandidateExistsError",
    "CandidateRecord",
    "ConcurrentChangeError",
    "Evaluation",
    "EventRecord",
    "EvidenceError",
    "GovernanceError",
    "GovernanceIntegrityError",
    "GovernanceService",
    "InvalidTransitionError",
    "IssuedKey",
    "PolicyConfigError",
    "Principal",
    "PrincipalRow",
    "PromotionDenied",
    "ReportRecord",
    "Staleness",
    "ValidationBundle",
    "VerifyReport",
    "add_principal",
    "audit_checkpoint",
    "audit_stale",
    "audit_trace",
    "audit_verify",
    "bundle_logical_name",
    "disable_principal",
    "event_hash",
    "init_service_key",
    "list_principals",
    "normalise_principal",
    "open_governed",
    "open_service",
    "record_restatements",
    "same_person",
    "trace_candidate",
    "verify_chain",
    "verify_workspace",
]
