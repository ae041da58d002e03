"""The research history a candidate is judged against: the trials in its scope, and what they imply.

A run's own family is the wrong denominator for a promotion decision: a researcher who splits a
search into many small runs would otherwise launder it (20 hypotheses → denied; rerun the best one
with one companion → accepted). So the gate recomputes the deflated Sharpe ratio and the multiple
testing correction over every trial of the tenant's ledger in the candidate's research scope:

* **Scope.** ``overlapping_data``: trials on the same frequency whose time range overlaps the
  candidate's and which share at least one instrument with it; ``tenant``: every trial.
* **Counting.** Trials with the same ``trial_key`` (same hypothesis, same data, same results) are
  one trial — re-running something teaches nothing new. The effective number of independent trials
  weights each unique trial by its run's correlation discount, ``family_n_eff / family_size``
  (the Nyholt eigenvalue count of :func:`~crypto_analyzer.stats.effective_number_of_trials`, which
  the report computes from the run's return series), so a run of 20 highly correlated variants
  counts for less than 20 unrelated ideas. Correlation *across* runs cannot be measured from the
  ledger's summaries, so distinct trials of different runs count as independent — the
  conservative direction.
* **Statistics.** DSR from the candidate trial's moments with N = that effective count and the
  cross-trial variance of the unique trials' Sharpe ratios; BH and BY adjusted p over the unique
  trials' p-values (a missing p counts as 1 and is reported); LORD++ over the unique trials in the
  order they were first tested.

For a ledger holding a single run these reproduce the run's own DSR and BH/BY exactly — the ledger
only ever adds trials to the denominator. Everything is computed from the ledger prefix that ends
at the head recorded in the result, so the decision can be re-derived later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.db.trial_ledger import LedgerHead, TrialRecord, ledger_head, read_trials
from crypto_analyzer.stats import (
    adjust_pvalues,
    deflated_sharpe_ratio_from_moments,
    lord_plus_plus,
)

__all__ = [
    "SCOPE_RULES",
    "ResearchHistory",
    "ScopeSummary",
    "research_history",
    "scope_summary",
    "scope_trials",
]

SCOPE_RULES = ("overlapping_data", "tenant")


@dataclass(frozen=True, slots=True)
class ScopeSummary:
    """Which trials are in scope and how many they count for."""

    rule: str
    freq: str | None
    start_ms: int
    end_ms: int
    n_instruments: int
    trials_in_scope: int
    """Ledger rows in scope, duplicates included."""
    unique_trials: int
    """Distinct trials (by ``trial_key``) — the N a reader should quote."""
    this_run: int
    """Distinct trials (by ``trial_key``) that the candidate's own run recorded."""
    effective_trials: float
    sharpe_variance: float | None
    missing_p_values: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "effective_trials": self.effective_trials,
            "end_ms": self.end_ms,
            "freq": self.freq,
            "missing_p_values": self.missing_p_values,
            "n_instruments": self.n_instruments,
            "rule": self.rule,
            "sharpe_variance": self.sharpe_variance,
            "start_ms": self.start_ms,
            "this_run": self.this_run,
            "trials_in_scope": self.trials_in_scope,
            "unique_trials": self.unique_trials,
        }

    def headline(self) -> str:
        """``trials in scope: N (this run: k)`` — what the CLI and the report print."""
        return f"trials in scope: {self.unique_trials} (this run: {self.this_run})"


@dataclass(frozen=True, slots=True)
class ResearchHistory:
    """The candidate's trial judged against its scope, as recorded in the eligibility report.

    ``problem`` explains why nothing could be judged (no ledger trial for the candidate); then
    every statistic is ``None`` and the history rules deny.
    """

    ledger: LedgerHead
    hypothesis_id: str
    problem: str | None
    trial: TrialRecord | None
    scope: ScopeSummary | None
    dsr: float | None
    dsr_sr0: float | None
    bh_p: float | None
    by_p: float | None
    online_alpha: float
    online_w0: float
    online_position: int | None
    """1-based position of the candidate's trial among the scope's unique trials, in test order."""
    online_level: float | None
    """The LORD++ test level alpha_t at that position."""
    online_rejected: bool | None

    def to_dict(self) -> dict[str, Any]:
        trial = self.trial
        return {
            "bh_p": self.bh_p,
            "by_p": self.by_p,
            "dsr": self.dsr,
            "dsr_sr0": self.dsr_sr0,
            "hypothesis_id": self.hypothesis_id,
            "ledger": self.ledger.to_dict(),
            "online": {
                "alpha": self.online_alpha,
                "level": self.online_level,
                "method": "lord++",
                "position": self.online_position,
                "rejected": self.online_rejected,
                "w0": self.online_w0,
            },
            "problem": self.problem,
            "scope": None if self.scope is None else self.scope.to_dict(),
            "trial": None
            if trial is None
            else {
                "kurtosis": trial.kurtosis,
                "n_obs": trial.n_obs,
                "n_returns": trial.n_returns,
                "p_value": trial.p_value,
                "run_instance_id": trial.run_instance_id,
                "seq": trial.seq,
                "sharpe": trial.sharpe,
                "skewness": trial.skewness,
                "trial_id": trial.trial_id,
                "trial_key": trial.trial_key,
            },
        }


def _instrument_sets(trials: Sequence[TrialRecord]) -> dict[str, frozenset[str]]:
    """Parsed instrument lists, once per distinct list (most trials share a universe)."""
    parsed: dict[str, frozenset[str]] = {}
    for trial in trials:
        if trial.instruments_json not in parsed:
            parsed[trial.instruments_json] = frozenset(canonical_loads(trial.instruments_json))
    return parsed


def scope_trials(
    connection: Connection,
    tenant_id: str,
    anchor: TrialRecord,
    *,
    rule: str,
    up_to_seq: int,
) -> list[TrialRecord]:
    """The tenant's trials in ``anchor``'s scope among the first ``up_to_seq`` ledger rows."""
    if rule not in SCOPE_RULES:
        raise ValueError(f"scope rule {rule!r} is not one of {', '.join(SCOPE_RULES)}")
    if rule == "tenant":
        return read_trials(connection, tenant_id, up_to_seq=up_to_seq)
    candidates = read_trials(
        connection,
        tenant_id,
        freq=anchor.freq,
        start_ms=anchor.start_ms,
        end_ms=anchor.end_ms,
        up_to_seq=up_to_seq,
    )
    sets = _instrument_sets([anchor, *candidates])
    mine = sets[anchor.instruments_json]
    return [trial for trial in candidates if not mine.isdisjoint(sets[trial.instruments_json])]


def _unique(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
    seen: set[str] = set()
    out = []
    for trial in trials:
        if trial.trial_key not in seen:
            seen.add(trial.trial_key)
            out.append(trial)
    return out


def scope_summary(
    anchor: TrialRecord, in_scope: Sequence[TrialRecord], *, rule: str
) -> tuple[ScopeSummary, list[TrialRecord]]:
    """Counts and cross-trial statistics of a scope; also returns its unique trials in order."""
    unique = _unique(in_scope)
    effective = sum(trial.family_n_eff / trial.family_size for trial in unique)
    sharpes = np.array([t.sharpe for t in unique if t.sharpe is not None], dtype=float)
    variance = float(np.var(sharpes, ddof=1)) if sharpes.size >= 2 else None
    summary = ScopeSummary(
        rule=rule,
        freq=None if rule == "tenant" else anchor.freq,
        start_ms=anchor.start_ms,
        end_ms=anchor.end_ms,
        n_instruments=anchor.n_instruments,
        trials_in_scope=len(in_scope),
        unique_trials=len(unique),
        this_run=len(
            {t.trial_key for t in in_scope if t.run_instance_id == anchor.run_instance_id}
        ),
        effective_trials=max(1.0, effective),
        sharpe_variance=variance,
        missing_p_values=sum(1 for t in unique if t.p_value is None),
    )
    return summary, unique


def _dsr(trial: TrialRecord, summary: ScopeSummary) -> tuple[float | None, float | None]:
    moments = (trial.sharpe, trial.skewness, trial.kurtosis)
    if any(value is None for value in moments) or trial.n_returns < 2:
        return None, None
    if summary.effective_trials > 1.0 and summary.sharpe_variance is None:
        return None, None
    sharpe, skewness, kurtosis = (float(value) for value in moments)  # type: ignore[arg-type]
    if kurtosis < 1.0:
        return None, None
    result = deflated_sharpe_ratio_from_moments(
        sharpe,
        n_obs=trial.n_returns,
        skewness=skewness,
        kurtosis=kurtosis,
        trial_sharpe_variance=summary.sharpe_variance or 0.0,
        n_trials=summary.effective_trials,
        periods_per_year=None,  # the ledger records per-period (per-bar) Sharpe ratios
    )
    return float(result.dsr), float(result.sr0)


def research_history(
    connection: Connection,
    tenant_id: str,
    *,
    run_instance_id: str,
    hypothesis_id: str,
    scope: str = "overlapping_data",
    online_alpha: float = 0.05,
    online_w0: float = 0.025,
    up_to_seq: int | None = None,
) -> ResearchHistory:
    """Judge the trial ``hypothesis_id`` of ``run_instance_id`` against the ledger as it is now.

    ``up_to_seq`` judges against the ledger prefix of its first ``up_to_seq`` rows instead — the
    ledger as an earlier decision saw it (the size its eligibility report recorded), which is how
    ``audit verify`` re-derives that decision.
    """
    head = ledger_head(connection, tenant_id, up_to_seq=up_to_seq)
    own = read_trials(connection, tenant_id, run_instance_id=run_instance_id, up_to_seq=head.size)
    trial = next((item for item in own if item.hypothesis_id == hypothesis_id), None)
    if trial is None:
        return ResearchHistory(
            ledger=head,
            hypothesis_id=hypothesis_id,
            problem=(
                f"the trial ledger has no trial {hypothesis_id} of run {run_instance_id}: the run "
                "did not record what it tested, so the research history cannot be judged"
            ),
            trial=None,
            scope=None,
            dsr=None,
            dsr_sr0=None,
            bh_p=None,
            by_p=None,
            online_alpha=online_alpha,
            online_w0=online_w0,
            online_position=None,
            online_level=None,
            online_rejected=None,
        )
    in_scope = scope_trials(connection, tenant_id, trial, rule=scope, up_to_seq=head.size)
    summary, unique = scope_summary(trial, in_scope, rule=scope)
    # The candidate's trial is represented by the first trial with its key (a rerun of an
    # identical trial is the same trial, tested when it was first tested).
    position = next(i for i, item in enumerate(unique) if item.trial_key == trial.trial_key)
    pvalues = np.array([1.0 if t.p_value is None else t.p_value for t in unique], dtype=float)
    bh = adjust_pvalues(pvalues, method="bh").adjusted[position]
    by = adjust_pvalues(pvalues, method="by").adjusted[position]
    online = lord_plus_plus(pvalues[: position + 1], alpha=online_alpha, w0=online_w0)
    dsr, sr0 = _dsr(trial, summary)
    return ResearchHistory(
        ledger=head,
        hypothesis_id=hypothesis_id,
        problem=None,
        trial=trial,
        scope=summary,
        dsr=dsr,
        dsr_sr0=sr0,
        bh_p=float(bh),
        by_p=float(by),
        online_alpha=online_alpha,
        online_w0=online_w0,
        online_position=position + 1,
        online_level=float(online.alpha_levels[position]),
        online_rejected=bool(online.rejected[position]),
    )
