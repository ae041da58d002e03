"""Policy engine: decisions from rules, thresholds from a policy file, deny-overrides sets.

``Policy.evaluate(candidate, evidence, level, ctx) -> Decision``; :func:`load_policy_set` builds
the one set the governance service uses (default policy + listed plugins + external service).
"""

from __future__ import annotations

from crypto_analyzer.governance.policy.base import (
    ArtifactVerifier,
    Decision,
    EvaluationContext,
    Measurement,
    Policy,
    Reason,
    input_document,
)
from crypto_analyzer.governance.policy.combine import PolicySet, guarded_evaluate
from crypto_analyzer.governance.policy.config import (
    ExternalServiceConfig,
    HistorySettings,
    LevelThresholds,
    PolicyConfig,
    ProvenanceConfig,
    load_policy_config,
    parse_policy_config,
)
from crypto_analyzer.governance.policy.default import DefaultPolicy
from crypto_analyzer.governance.policy.http import HttpDecisionPolicy
from crypto_analyzer.governance.policy.registry import (
    ENTRY_POINT_GROUP,
    PolicyFactory,
    PolicyRegistry,
    build_policy_set,
    load_policy_set,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ArtifactVerifier",
    "Decision",
    "DefaultPolicy",
    "EvaluationContext",
    "ExternalServiceConfig",
    "HistorySettings",
    "HttpDecisionPolicy",
    "LevelThresholds",
    "Measurement",
    "Policy",
    "PolicyConfig",
    "PolicyFactory",
    "PolicyRegistry",
    "PolicySet",
    "ProvenanceConfig",
    "Reason",
    "build_policy_set",
    "guarded_evaluate",
    "input_document",
    "load_policy_config",
    "load_policy_set",
    "parse_policy_config",
]
