"""The default policy's rules, one module per family; each reports into a shared ``Findings``."""

from __future__ import annotations

from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs, fmt
from crypto_analyzer.governance.policy.rules.causality import check_causality, check_signatures
from crypto_analyzer.governance.policy.rules.duties import check_duties
from crypto_analyzer.governance.policy.rules.effect import check_effect
from crypto_analyzer.governance.policy.rules.execution import check_execution, check_regime
from crypto_analyzer.governance.policy.rules.history import check_history
from crypto_analyzer.governance.policy.rules.lifecycle import check_lifecycle
from crypto_analyzer.governance.policy.rules.power import check_power
from crypto_analyzer.governance.policy.rules.provenance import check_provenance
from crypto_analyzer.governance.policy.rules.sample import check_sample
from crypto_analyzer.governance.policy.rules.snooping import check_snooping

__all__ = [
    "Findings",
    "RuleInputs",
    "check_causality",
    "check_duties",
    "check_effect",
    "check_execution",
    "check_history",
    "check_lifecycle",
    "check_power",
    "check_provenance",
    "check_regime",
    "check_sample",
    "check_signatures",
    "check_snooping",
    "fmt",
]
