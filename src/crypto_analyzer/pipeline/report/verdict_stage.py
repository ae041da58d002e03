"""The report's verdict: each hypothesis judged by the workspace's policy, before anything else.

The decision is :func:`crypto_analyzer.governance.verdict.preview` — the governance service's own
procedure (:func:`~crypto_analyzer.governance.verdict.decide`) applied to a candidate as
``promotion create`` would register it, at level ``candidate``, with the research history read from
the trial ledger the run has just appended to. Nothing is written besides ``verdict.json``: no
candidate, report, event or policy document.

The document also says what was tested in total (family size; trials in scope of the trial
ledger) so a reader weighs a pass against everything that was tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.record_keys import engine_key
from crypto_analyzer.governance.bundles import LoadedBundle
from crypto_analyzer.governance.evidence import ValidationBundle, bundle_logical_name
from crypto_analyzer.governance.policy import PolicySet
from crypto_analyzer.governance.verdict import preview, rule_rows
from crypto_analyzer.governance.workspace import workspace_policy_set
from crypto_analyzer.pipeline.report.caveats import rule_caveat
from crypto_analyzer.pipeline.report.figures import hypothesis_label
from crypto_analyzer.pipeline.report.stages import hypothesis_id
from crypto_analyzer.pipeline.report.writer import RunArtifacts

__all__ = ["VERDICT_LEVEL", "VERDICT_NAME", "VerdictJudge", "report_verdict"]

VERDICT_NAME = "verdict.json"
VERDICT_LEVEL = "candidate"
"""The first promotion level: what ``promotion evaluate --to candidate`` would decide."""


@dataclass(frozen=True)
class VerdictJudge:
    """Where and by whom the run's hypotheses are judged."""

    engine: Engine
    store: ArtifactStore
    tenant_id: str
    actor: str
    policy: PolicySet
    policy_source: str
    service_key: ServiceKey | None = None

    @classmethod
    def for_workspace(
        cls,
        engine: Engine,
        store: ArtifactStore,
        *,
        tenant_id: str,
        actor: str,
        policy_path: Path | str | None,
    ) -> VerdictJudge:
        policy = workspace_policy_set(engine, store, tenant_id, policy_path)
        source = "packaged default policy" if policy_path is None else f"policy file {policy_path}"
        return cls(engine, store, tenant_id, actor, policy, source, engine_key(engine))


def report_verdict(
    judge: VerdictJudge,
    bundles: Mapping[str, ValidationBundle],
    written: RunArtifacts,
    history: Mapping[str, Any],
    power: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``verdict.json`` document: one decision per hypothesis plus the totals it sits in.

    ``power`` (``stats/power.json``) adds what the data can detect: each hypothesis' minimum
    detectable mean IC and whether it is underpowered.
    """
    rows = []
    family_size = 0
    detectable = {row["hypothesis"]: row for row in (power or {}).get("hypotheses", [])}
    lineage = {
        record.logical_name: {"artifact_sha256": record.sha256, "uri": record.uri}
        for record in written.records
    }
    with judge.engine.connect() as connection:
        for signal, bundle in bundles.items():
            name = bundle_logical_name(signal)
            ref = written.refs[name]
            loaded = LoadedBundle(bundle=bundle, logical_name=name, uri=ref.uri, sha256=ref.sha256)
            for item in bundle.horizons:
                family_size = max(family_size, item.multiple_testing.family_size)
                seen = preview(
                    connection,
                    judge.store,
                    judge.policy,
                    tenant_id=judge.tenant_id,
                    loaded=loaded,
                    horizon=item.horizon,
                    actor=judge.actor,
                    level=VERDICT_LEVEL,
                    lineage=lineage,
                    service_key=judge.service_key,
                )
                design = detectable.get(hypothesis_id(signal, item.horizon), {})
                decision = seen.decision
                rows.append(
                    {
                        "allowed": decision.allowed,
                        "caption": hypothesis_label(hypothesis_id(signal, item.horizon)),
                        "failed_rules": sorted({reason.rule for reason in decision.reasons}),
                        "horizon": item.horizon,
                        "hypothesis": hypothesis_id(signal, item.horizon),
                        "mde_ic": design.get("mde_ic"),
                        "underpowered": design.get("underpowered"),
                        "reasons": [reason.to_dict() for reason in decision.reasons],
                        "rules": [
                            {**row, "caveat": rule_caveat(row["rule"])}
                            for row in rule_rows(decision)
                        ],
                        "signal": signal,
                        "warnings": [warning.to_dict() for warning in decision.warnings],
                    }
                )
    policy = judge.policy
    return {
        "hypotheses": rows,
        "power": _power_headline(power, rows),
        "level": VERDICT_LEVEL,
        "passing": sum(1 for row in rows if row["allowed"]),
        "policy": {
            "digest": policy.digest(),
            "id": policy.policy_id,
            "members": policy.member_digests(),
            "source": judge.policy_source,
        },
        "schema_version": 1,
        "tested": {
            "family_size": family_size,
            "headline": history.get("headline"),
            "scope_rule": history.get("rule"),
            "this_run": history.get("this_run"),
            "trials_in_scope": history.get("trials_in_scope"),
            "effective_trials": history.get("effective_trials"),
        },
    }


def _power_headline(
    power: Mapping[str, Any] | None, rows: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """What the design can detect, in one sentence plus its numbers (``None`` without power)."""
    if not power:
        return None
    mde = [row["mde_ic"] for row in rows if row.get("mde_ic") is not None]
    under = sum(1 for row in rows if row.get("underpowered"))
    share = f"{float(power['power']) * 100:.0f} %"
    if mde:
        span = f"{min(mde):.4f}" if min(mde) == max(mde) else f"{min(mde):.4f}–{max(mde):.4f}"
        text = (
            f"What the data can detect: with {share} power at α = {power['alpha']} "
            f"({str(power['correction']).upper()} over {power['family_size']}), the smallest true "
            f"mean IC is {span}; {under} of {len(rows)} hypotheses are underpowered for the gate."
        )
    else:
        text = "What the data can detect: no hypothesis had enough OOS IC for a power analysis."
    return {"headline": text, "mde_ic_max": max(mde) if mde else None,
            "mde_ic_min": min(mde) if mde else None, "underpowered": under}  # fmt: skip
