"""Stale evidence: results whose market data was restated after the run that produced them.

A run records the market watermark its dataset id was taken at. Point-in-time storage keeps every
replaced value with the revision that replaced it, so "was anything this run saw replaced later?"
is a query: history rows visible at the run's watermark and superseded after it, inside the run's
footprint (its frequency, the instruments and the time range its trials record in the ledger).

A stale result is not tampering: the run is still reproducible as of its watermark. It is evidence
about data that is no longer current, so the policy decides (``on_restatement``): ``warn`` records
it, ``require_reevaluation`` denies promotion and makes ``audit verify`` fail until the research is
rerun on the current data. Either way each restatement is recorded once as a ``restated`` event on
every affected candidate, so the audit trail says when the data under a decision moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.market_history import Restatement, restatements_after
from crypto_analyzer.db.trial_ledger import read_trials
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.chain import NewEvent, append_event
from crypto_analyzer.governance.records import CandidateRecord, EventRecord

__all__ = [
    "AFFECTED_STATUSES",
    "Staleness",
    "candidate_staleness",
    "record_restatement_events",
    "restatement_key",
    "stale_candidates",
]

AFFECTED_STATUSES = ("exploratory", "candidate", "accepted")
"""Statuses whose evidence still matters; rejected and revoked results are closed."""


@dataclass(frozen=True, slots=True)
class Staleness:
    """What was restated under one candidate's run since the run read its data.

    ``watermark`` is the market watermark the run's dataset id was taken at; ``None`` means the
    run predates point-in-time data, so restatements cannot be checked (``problem`` says so).
    """

    candidate: CandidateRecord
    watermark: int | None
    footprint: dict[str, Any]
    restatements: tuple[Restatement, ...]
    problem: str | None = None

    @property
    def stale(self) -> bool:
        return bool(self.restatements)

    def describe(self) -> str:
        """One line per restatement: table, range, rows, the revision and ingest run."""
        if self.problem:
            return self.problem
        parts = []
        for item in self.restatements:
            where = item.table if item.freq is None else f"{item.table} {item.freq}"
            span = (
                ""
                if item.start_ms is None
                else f" bar opens {_iso(item.start_ms)} – {_iso(item.end_ms)}"
            )
            parts.append(
                f"{where}: {item.rows} row(s) of {item.instruments} instrument(s){span} restated "
                f"at revision {item.superseded_revision} by ingest run "
                f"{item.superseded_by_ingest_run_id}"
            )
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_id": self.candidate.candidate_id,
            "footprint": self.footprint,
            "problem": self.problem,
            "restatements": [item.to_dict() for item in self.restatements],
            "run_instance_id": self.candidate.run_instance_id,
            "signal": self.candidate.signal,
            "stale": self.stale,
            "status": self.candidate.status,
            "watermark": self.watermark,
        }


def _iso(ms: int | None) -> str:
    if ms is None:
        return "?"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def candidate_staleness(
    connection: Connection,
    tenant_id: str,
    candidate: CandidateRecord,
    *,
    as_of: int | None = None,
) -> Staleness:
    """Restatements under ``candidate``'s run since its watermark, within the run's footprint.

    ``as_of`` counts only restatements made up to that market watermark (``None``: all of them):
    an evaluation records the watermark it judged at, so the audit can judge the same way.
    """
    run = repo.run_row(connection, tenant_id, candidate.run_instance_id)
    raw = None if run is None else run.get("data_watermark")
    if raw is None:
        return Staleness(
            candidate,
            None,
            {},
            (),
            problem=(
                f"run {candidate.run_instance_id} recorded no data watermark (it predates "
                "point-in-time market data), so restatements under it cannot be checked"
            ),
        )
    watermark = int(raw)
    trials = read_trials(connection, tenant_id, run_instance_id=candidate.run_instance_id)
    own = next(
        (t for t in trials if t.hypothesis_id == f"{candidate.signal}@{candidate.horizon}"),
        trials[0] if trials else None,
    )
    if own is None:  # no ledger footprint: judge the whole market (conservative)
        footprint: dict[str, Any] = {"freq": None, "instruments": None, "range": None}
        found = restatements_after(connection, tenant_id, watermark, until=as_of)
    else:
        instruments = own.instruments()
        footprint = {
            "freq": own.freq,
            "instruments": len(instruments),
            "range": [own.start_ms, own.end_ms],
        }
        found = restatements_after(
            connection,
            tenant_id,
            watermark,
            freq=own.freq,
            instrument_ids=instruments or None,
            start_ms=own.start_ms,
            end_ms=own.end_ms + 1,
            until=as_of,
        )
    return Staleness(candidate, watermark, footprint, tuple(found))


def restatement_key(item: Restatement | dict[str, Any]) -> tuple[str, int, str]:
    """Identity of one restatement as recorded in a ``restated`` event (table, revision, freq)."""
    data = item.to_dict() if isinstance(item, Restatement) else item
    return (str(data["table"]), int(data["superseded_revision"]), str(data.get("freq") or ""))


def stale_candidates(
    connection: Connection,
    tenant_id: str,
    *,
    statuses: Sequence[str] = AFFECTED_STATUSES,
) -> list[Staleness]:
    """Staleness of every candidate of the tenant in ``statuses`` (stale or not), newest first."""
    return [
        candidate_staleness(connection, tenant_id, candidate)
        for candidate in repo.list_candidates(connection, tenant_id)
        if candidate.status in statuses
    ]


def record_restatement_events(
    connection: Connection,
    tenant_id: str,
    staleness: Staleness,
    actor: str,
    created_at: str,
    decorate: Callable[[dict[str, Any]], dict[str, Any]] = dict,
    *,
    key: ServiceKey | None,
) -> list[EventRecord]:
    """Append one ``restated`` event per restatement not yet recorded on the candidate.

    Call inside a governed transaction (the chain lock is held); changes no status. ``decorate``
    adds what the service records on every payload (workspace mode, how the actor is known).
    """
    if not staleness.stale:
        return []
    candidate = staleness.candidate
    seen = {
        restatement_key(event.payload["restatement"])
        for event in repo.list_events(connection, tenant_id, candidate.candidate_id)
        if event.event_type == "restated" and isinstance(event.payload, dict)
    }
    events = []
    for item in staleness.restatements:
        if restatement_key(item) in seen:
            continue
        payload = {
            "restatement": item.to_dict(),
            "run_instance_id": candidate.run_instance_id,
            "watermark": staleness.watermark,
        }
        event = NewEvent(candidate.candidate_id, "restated", actor, decorate(payload))
        events.append(append_event(connection, tenant_id, event, created_at=created_at, key=key))
    return events
