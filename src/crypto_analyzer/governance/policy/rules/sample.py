"""Sample rules: enough out-of-sample observations and a wide enough cross-section."""

from __future__ import annotations

from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs

__all__ = ["check_sample"]


def check_sample(inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
    """``sample.min_oos_obs`` and ``sample.min_assets`` at the candidate's horizon."""
    ic = horizon.ic
    h = horizon.horizon
    out.at_least(
        "sample.min_oos_obs",
        f"OOS observations at horizon {h}",
        ic.n_obs,
        inputs.limits.min_oos_obs,
    )
    out.at_least(
        "sample.min_assets",
        f"assets in the OOS cross-sections at horizon {h}",
        ic.n_assets,
        inputs.limits.min_assets,
    )
