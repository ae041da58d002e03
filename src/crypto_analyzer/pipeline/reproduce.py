"""``crypto-analyzer reproduce``: re-execute a recorded run from the audit trail and compare bytes.

An auditor picks an accepted candidate (or any run) and asks: does the record still stand? Order
of work, each step able to stop the next:

1. **Data.** The run's STRICT dataset id is recomputed *as of the run's recorded watermark*
   (point-in-time market data keeps restated values, so later restatements do not matter); a run
   without a watermark is compared with the current data. A different id stops the reproduction
   before anything runs, naming the tables whose digests differ from the ones the run recorded.
2. **Engine.** A different running engine version - or seed scheme (``SEED_VERSION``: how the
   random streams are drawn; the run records its own) - is refused, unless
   ``allow_engine_change``: then the run is re-executed and every differing artifact listed.
3. **Re-execution** in a scratch sandbox workspace (:mod:`.reproduce_scratch`) with the clock
   pinned to the run's recorded start, through the report's public entry point ``run_report``;
   nothing is written to the governed workspace.
4. **Comparison** of every artifact, by logical name, with the SHA-256 the run recorded.
5. **Record** a ``reproduced`` governance event (who, when, result) on the candidate — or on
   every candidate of the run — which changes no status.

A run executed without a pinned clock took its run instance id from the operating system's
entropy; the artifacts that name the instance (manifest, overview, bundles, reports) then cannot
be byte-identical, and the result says so (``instance_reproducible``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crypto_analyzer.core import versions
from crypto_analyzer.core.clock import from_iso
from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.identities import run_instance_id
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.dataset_id import DatasetIdentity, compute_dataset_id
from crypto_analyzer.db.market_history import current_watermark
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.registry import RunRecord, get_run
from crypto_analyzer.db.schema import run_artifacts
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.principals import Principal
from crypto_analyzer.governance.workspace import open_service
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.reproduce_scratch import build_scratch, pinned_clock

__all__ = ["ArtifactCheck", "Reproduction", "TableCheck", "reproduce"]

MAX_ATTEMPTS_SEARCHED = 64
"""Pinned attempts tried when matching the recorded run instance id (reruns at one instant)."""

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ArtifactCheck:
    """One artifact: the SHA-256 recorded for the run and the one reproduced (None: missing)."""

    name: str
    recorded: str | None
    reproduced: str | None

    @property
    def equal(self) -> bool:
        return self.recorded is not None and self.recorded == self.reproduced

    def to_dict(self) -> dict[str, Any]:
        return {
            "equal": self.equal,
            "name": self.name,
            "recorded": self.recorded,
            "reproduced": self.reproduced,
        }


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table of the dataset scope: recorded digest (None: not recorded) and digest now."""

    table: str
    recorded: str | None
    current: str

    @property
    def equal(self) -> bool | None:
        return None if self.recorded is None else self.recorded == self.current

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "equal": self.equal,
            "recorded": self.recorded,
            "table": self.table,
        }


@dataclass(frozen=True)
class Reproduction:
    """What a reproduction found. ``status``: ``reproduced`` (every artifact equal), ``differs``
    (re-executed, some artifact differs) or ``refused`` (stopped before running: ``reason``)."""

    status: str
    run_instance_id: str
    run_key: str
    candidate_ids: tuple[str, ...]
    recorded_engine: str
    running_engine: str
    dataset_id: str
    watermark: int | None
    dataset_reproduced: bool
    tables: tuple[TableCheck, ...]
    reason: str | None = None
    reproduced_run_key: str | None = None
    instance_reproducible: bool | None = None
    artifacts: tuple[ArtifactCheck, ...] = ()
    event_ids: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == "reproduced"

    @property
    def differing(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.artifacts if not item.equal)

    def event_payload(self) -> dict[str, Any]:
        """What the ``reproduced`` event records (the table itself stays in the CLI output)."""
        return {
            "artifacts": {"differing": list(self.differing), "total": len(self.artifacts)},
            "dataset": {"dataset_id": self.dataset_id, "reproduced": self.dataset_reproduced,
                        "watermark": self.watermark},
            "engine": {"recorded": self.recorded_engine, "running": self.running_engine},
            "reason": self.reason,
            "result": self.status,
            "run_instance_id": self.run_instance_id,
            "run_key": self.run_key,
        }  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.event_payload(),
            "artifacts": [item.to_dict() for item in self.artifacts],
            "candidate_ids": list(self.candidate_ids),
            "event_ids": list(self.event_ids),
            "instance_reproducible": self.instance_reproducible,
            "reproduced_run_key": self.reproduced_run_key,
            "tables": [item.to_dict() for item in self.tables],
        }


def reproduce(
    settings: Settings,
    target: str,
    *,
    actor: str | Principal,
    allow_engine_change: bool = False,
    record: bool = True,
    scratch_dir: Path | None = None,
    progress: Progress | None = None,
) -> Reproduction:
    """Reproduce the run of candidate or run ``target`` (id or unique prefix); see the module.

    ``record=False`` skips the governance event (a dry check); ``scratch_dir`` keeps the scratch
    workspace there instead of a temporary directory that is removed afterwards.
    """
    step = progress or (lambda _message: None)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        run, candidates = _resolve(engine, settings.tenant, target)
        recorded = _recorded_artifacts(engine, settings.tenant, run.run_instance_id)
        step("dataset identity")
        with engine.connect() as connection:
            watermark = (
                run.data_watermark
                if run.data_watermark is not None
                else current_watermark(connection, settings.tenant)
            )
        identity = compute_dataset_id(engine, tenant_id=settings.tenant, as_of=run.data_watermark)
        base = Reproduction(
            status="refused",
            run_instance_id=run.run_instance_id,
            run_key=run.run_key,
            candidate_ids=candidates,
            recorded_engine=run.engine_version,
            running_engine=versions.ENGINE_VERSION,
            dataset_id=run.dataset_id,
            watermark=run.data_watermark,
            dataset_reproduced=identity.dataset_id.value == run.dataset_id,
            tables=_table_checks(run, identity),
        )
        if not base.dataset_reproduced:
            outcome = replace(base, reason=_dataset_reason(run, base.tables))
        elif run.seed_version != versions.SEED_VERSION and not allow_engine_change:
            outcome = replace(
                base,
                reason=f"run {run.run_instance_id} drew its random numbers with seed scheme "
                f"{run.seed_version}; this engine uses seed scheme {versions.SEED_VERSION}, so its "
                "bootstrap draws differ (pass --allow-engine-change to re-execute it anyway and "
                "list every artifact that differs)",
            )
        elif run.engine_version != versions.ENGINE_VERSION and not allow_engine_change:
            outcome = replace(
                base,
                reason=f"run {run.run_instance_id} was made by engine {run.engine_version}; this "
                f"is engine {versions.ENGINE_VERSION} (pass --allow-engine-change to re-execute "
                "it anyway and list every artifact that differs)",
            )
        else:
            outcome = _execute(engine, settings, run, watermark, recorded, base, scratch_dir, step)
    if record and candidates:
        step("governance event")
        outcome = replace(outcome, event_ids=_record(settings, outcome, actor))
    return outcome


def _resolve(engine: sa.Engine, tenant: str, target: str) -> tuple[RunRecord, tuple[str, ...]]:
    given = target.strip()
    with engine.connect() as connection:
        if given.startswith("cand_"):
            full = repo.resolve_candidate_id(connection, tenant, given)
            candidate = repo.get_candidate(connection, tenant, full)
            if candidate is None:  # pragma: no cover - resolved a moment ago
                raise NotFoundError(f"candidate {full} does not exist in tenant {tenant!r}")
            return get_run(engine, tenant, candidate.run_instance_id), (full,)
    run = get_run(engine, tenant, given)
    with engine.connect() as connection:
        of_run = tuple(
            sorted(
                item.candidate_id
                for item in repo.list_candidates(connection, tenant)
                if item.run_instance_id == run.run_instance_id
            )
        )
    if run.status != "succeeded":
        raise NotFoundError(
            f"run {run.run_instance_id} is {run.status}: only a succeeded run has a complete "
            "set of recorded artifacts to reproduce",
            "list runs with `crypto-analyzer runs list`",
        )
    return run, of_run


def _recorded_artifacts(engine: sa.Engine, tenant: str, run_id: str) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(run_artifacts.c.name, run_artifacts.c.artifact_sha256).where(
                run_artifacts.c.tenant_id == tenant, run_artifacts.c.run_instance_id == run_id
            )
        ).all()
    return {str(name): str(sha) for name, sha in rows}


def _table_checks(run: RunRecord, identity: DatasetIdentity) -> tuple[TableCheck, ...]:
    recorded = {str(item["table"]): str(item["digest"]) for item in run.dataset_tables or ()}
    return tuple(
        TableCheck(item.table, recorded.get(item.table), item.digest) for item in identity.tables
    )


def _dataset_reason(run: RunRecord, tables: tuple[TableCheck, ...]) -> str:
    at = "now" if run.data_watermark is None else f"as of watermark {run.data_watermark}"
    changed = [item.table for item in tables if item.equal is False]
    if changed:
        named = f"table(s) whose digest differs: {', '.join(changed)}"
    else:
        named = (
            "the run recorded no per-table digests, so the changed table cannot be named "
            f"(tables in scope: {', '.join(item.table for item in tables)})"
        )
    return (
        f"the data {at} no longer has run {run.run_instance_id}'s dataset id "
        f"{run.dataset_id[:16]}…; {named}; nothing was re-executed"
    )


def _execute(
    engine: sa.Engine,
    settings: Settings,
    run: RunRecord,
    watermark: int,
    recorded: dict[str, str],
    base: Reproduction,
    scratch_dir: Path | None,
    step: Progress,
) -> Reproduction:
    attempt = _pinned_attempt(run)
    placeholders = tuple(_instance_at(run, number) for number in range(attempt or 0))
    directory = scratch_dir or Path(tempfile.mkdtemp(prefix="crypto-analyzer-reproduce-"))
    try:
        step("scratch workspace")
        scratch = build_scratch(
            engine, settings.tenant, run, watermark, directory / "workspace",
            placeholders=placeholders,
        )  # fmt: skip
        config = ReportConfig.model_validate(
            {**run.config, "hypothesis": run.hypothesis, "tags": tuple(run.tags)}
        )
        step("report (scratch)")
        with pinned_clock(run.started_at):
            result = run_report(scratch.settings, config, actor=run.actor, progress=step)
        reproduced = {item["name"]: item["sha256"] for item in result.manifest["artifacts"]}
        with open_engine(scratch.settings, read_only=True) as scratch_engine:
            reproduced.update(_recorded_artifacts(scratch_engine, settings.tenant,
                                                  result.run_instance_id))  # fmt: skip
    finally:
        if scratch_dir is None:
            shutil.rmtree(directory, ignore_errors=True)
    checks = tuple(
        ArtifactCheck(name, recorded.get(name), reproduced.get(name))
        for name in sorted(set(recorded) | set(reproduced))
    )
    status = "reproduced" if checks and all(item.equal for item in checks) else "differs"
    return replace(
        base,
        status=status,
        reproduced_run_key=result.run_key,
        instance_reproducible=attempt is not None,
        artifacts=checks,
        reason=None if status == "reproduced" else _differs_reason(checks, attempt),
    )


def _instance_at(run: RunRecord, attempt: int) -> str:
    with pinned_clock(run.started_at):
        return run_instance_id(run.run_key, attempt=attempt)


def _pinned_attempt(run: RunRecord) -> int | None:
    """The attempt whose pinned instance id is the recorded one (None: not a pinned run)."""
    try:
        from_iso(run.started_at)
    except ValueError:
        return None
    with pinned_clock(run.started_at):
        for attempt in range(MAX_ATTEMPTS_SEARCHED):
            if run_instance_id(run.run_key, attempt=attempt) == run.run_instance_id:
                return attempt
    return None


def _differs_reason(checks: tuple[ArtifactCheck, ...], attempt: int | None) -> str:
    differing = [item.name for item in checks if not item.equal]
    reason = f"{len(differing)} of {len(checks)} artifact(s) differ: {', '.join(differing)}"
    if attempt is None:
        reason += (
            "; the run was not executed under a pinned clock (its run instance id came from "
            "entropy), so artifacts that name the run instance cannot be byte-identical"
        )
    return reason


def _record(settings: Settings, outcome: Reproduction, actor: str | Principal) -> tuple[str, ...]:
    payload = outcome.event_payload()
    with open_service(settings, read_only=False) as service:
        return tuple(
            service.record_reproduction(candidate_id, result=payload, actor=actor).event_id
            for candidate_id in outcome.candidate_ids
        )
