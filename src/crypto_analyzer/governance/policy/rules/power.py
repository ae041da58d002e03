"""Power rule: is the run's design able to detect the smallest effect the policy accepts?

A candidate that fails the effect rules on a short or narrow history has not shown that there is
no effect — only that this design could not have seen one. ``power.underpowered`` says so: it
computes, from the bundle's own evidence at the candidate's horizon (standard error of the mean
IC = mean IC / HAC t, which carries the observations, the cross-section width, the IC dispersion
and the HAC variance), the probability that the HAC t reaches ``min_hac_t`` if the true mean IC
were ``min_mean_ic`` (:func:`crypto_analyzer.stats.power.hac_t_power`). Below ``min_power`` it
*warns*; it never denies and never allows.
"""

from __future__ import annotations

import math

from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs, fmt
from crypto_analyzer.stats.power import hac_t_power

__all__ = ["RULE", "check_power"]

RULE = "power.underpowered"


def check_power(inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
    """``power.underpowered`` at the candidate's horizon (informational)."""
    limits = inputs.limits
    if limits.min_power is None:
        return
    out.check(RULE)
    ic = horizon.ic
    h = horizon.horizon
    se = abs(ic.mean_ic / ic.t_hac) if ic.t_hac and ic.mean_ic is not None else math.nan
    if not (math.isfinite(se) and se > 0):
        out.warn(RULE, f"power at horizon {h} cannot be computed: no HAC t of the mean IC")
        return
    power = hac_t_power(limits.min_mean_ic, se=se, min_t=limits.min_hac_t)
    if power < limits.min_power:
        out.warn(
            RULE,
            f"underpowered at horizon {h}: if the true mean IC were {fmt(limits.min_mean_ic)}, "
            f"this design ({ic.n_obs} OOS observations, {ic.n_assets} assets, standard error "
            f"{fmt(se)}) would reach HAC t ≥ {fmt(limits.min_hac_t)} with probability "
            f"{fmt(power)} < {fmt(limits.min_power)}; a failed effect rule here is not evidence "
            "of no effect",
        )
