"""Random sequences of service calls and hostile SQL never break the promotion invariants.

Invariants, checked after every step against the database itself:

* no candidate is ``candidate``/``accepted`` without a passing report of that level, for itself,
  with its evidence digest — and none is ``accepted`` without such an accepted-level report;
* every status change has exactly one governance event, and the events of a candidate trace an
  allowed path from ``exploratory`` to its current status;
* the tenant's hash chain verifies;
* the statuses match a model that only the service's successful calls may move.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import sqlalchemy as sa
from gov_workspace import make_service, seed_run
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance import verify_chain
from crypto_analyzer.governance.states import ALLOWED_EDGES

ACTORS = ("alice", "bob", "carol")
# (run, horizon): the strong run passes the default policy, the weak one never does.
SLOTS = (("run-strong", 1), ("run-strong", 4), ("run-weak", 4))
HOSTILE = (
    "UPDATE promotion_candidates SET status = '{status}' WHERE candidate_id = '{cand}'",
    "UPDATE promotion_candidates SET status = '{status}', eligibility_report_id = '{report}' "
    "WHERE candidate_id = '{cand}'",
    "UPDATE promotion_candidates SET eligibility_report_id = '{report}' "
    "WHERE candidate_id = '{cand}'",
    "UPDATE promotion_candidates SET status = '{status}', status_reason = 'x', "
    "eligibility_report_id = NULL WHERE candidate_id = '{cand}'",
    "UPDATE promotion_candidates SET evidence_digest = '{digest}' WHERE candidate_id = '{cand}'",
    "DELETE FROM promotion_candidates WHERE candidate_id = '{cand}'",
    "UPDATE eligibility_reports SET passed = 1 WHERE report_id = '{report}'",
    "UPDATE eligibility_reports SET level = '{status}' WHERE report_id = '{report}'",
    "DELETE FROM eligibility_reports WHERE report_id = '{report}'",
    "UPDATE governance_events SET to_status = '{status}' WHERE report_id = '{report}'",
    "DELETE FROM governance_events WHERE candidate_id = '{cand}'",
    "INSERT INTO promotion_candidates (candidate_id, run_instance_id, run_key, dataset_id, "
    "signal, horizon, status, evidence_digest, eligibility_report_id, created_by, created_at, "
    "updated_at) SELECT 'cand_forged', run_instance_id, run_key, dataset_id, signal, 7, "
    "'{status}', evidence_digest, '{report}', 'mallory', 't', 't' FROM promotion_candidates "
    "WHERE candidate_id = '{cand}'",
)
STATUS_TEXT = (
    "exploratory",
    "candidate",
    "accepted",
    "rejected",
    "revoked",
    "ACCEPTED",
    "Accepted ",
)


class GovernanceMachine(RuleBasedStateMachine):
    """One fresh SQLite workspace per example (copied from a migrated template)."""

    template: Path
    store_root: Path

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="governance-machine-"))
        target = self.directory / "machine.sqlite"
        shutil.copyfile(self.template, target)
        self.engine = create_db_engine(f"sqlite:///{target}")
        self.store = open_store(f"file://{self.store_root}")
        self.service = make_service(self.engine, self.store)
        self.model: dict[str, str] = {}
        self.slots: dict[tuple[str, int], str] = {}

    @initialize()
    def seed(self) -> None:
        seed_run(self.engine, self.store, run_instance_id="run-strong")
        seed_run(
            self.engine,
            self.store,
            run_instance_id="run-weak",
            changes={"horizons.1.ic.t_hac": 1.1},
        )
        self.create(SLOTS[1], "alice")

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- service calls -----------------------------------------------------------------------

    @rule(slot=st.sampled_from(SLOTS), actor=st.sampled_from(ACTORS))
    def create(self, slot: tuple[str, int], actor: str) -> None:
        try:
            created = self.service.create(
                run_instance_id=slot[0], signal="momentum", horizon=slot[1], actor=actor
            )
        except CryptoAnalyzerError:
            assert slot in self.slots
            return
        assert slot not in self.slots
        self.slots[slot] = created.candidate_id
        self.model[created.candidate_id] = "exploratory"

    @rule(
        index=st.integers(0, 2),
        level=st.sampled_from(("candidate", "accepted")),
        actor=st.sampled_from(ACTORS),
    )
    def evaluate(self, index: int, level: str, actor: str) -> None:
        candidate = self._pick(index)
        if candidate is None:
            return
        outcome = self.service.evaluate(candidate, target=level, actor=actor)
        before = self.model[candidate]
        if outcome.passed and before != level:
            assert (before, level) in ALLOWED_EDGES
            self.model[candidate] = level
        assert outcome.candidate.status == self.model[candidate]

    @rule(index=st.integers(0, 2))
    def drive_to_accepted(self, index: int) -> None:
        """Two evaluations by distinct principals, so ``accepted`` rows exist to be attacked."""
        candidate = self._pick(index)
        if candidate is None:
            return
        creator = self.service.get(candidate).created_by
        for level, actor in (("candidate", "alice"), ("accepted", "carol")):
            if creator == actor:
                actor = "bob"
            self.evaluate(index, level, actor)

    @rule(index=st.integers(0, 2), actor=st.sampled_from(ACTORS), mismatched=st.booleans())
    def review(self, index: int, actor: str, mismatched: bool) -> None:
        """Reject, or revoke when accepted; ``mismatched`` tries the action that must fail."""
        candidate = self._pick(index)
        if candidate is None:
            return
        revoke = (self.model[candidate] == "accepted") != mismatched
        action = self.service.revoke if revoke else self.service.reject
        try:
            after = action(candidate, reason="reviewer says so", actor=actor)
        except CryptoAnalyzerError:
            return
        assert (self.model[candidate], after.status) in ALLOWED_EDGES
        self.model[candidate] = after.status

    # -- hostile SQL -------------------------------------------------------------------------

    @rule(
        index=st.integers(0, 2),
        template=st.sampled_from(HOSTILE),
        status=st.sampled_from(STATUS_TEXT),
        report_index=st.integers(0, 8),
    )
    def hostile_sql(self, index: int, template: str, status: str, report_index: int) -> None:
        candidate = self._pick(index)
        if candidate is None:
            return
        with self.engine.connect() as connection:
            reports = (
                connection.exec_driver_sql(
                    "SELECT report_id FROM eligibility_reports ORDER BY created_at, report_id"
                )
                .scalars()
                .all()
            )
        report = reports[report_index % len(reports)] if reports else "rep_none"
        statement = template.format(status=status, cand=candidate, report=report, digest="e" * 64)
        try:
            with self.engine.begin() as connection:
                connection.exec_driver_sql(statement)
        except sa.exc.DBAPIError:
            return
        # Whatever got through must be harmless: the invariants below decide.

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def statuses_are_justified_and_recorded(self) -> None:
        with self.engine.connect() as connection:
            candidates = repo.list_candidates(connection, "default")
            events = repo.list_events(connection, "default")
            reports = {
                report.report_id: report
                for candidate in candidates
                for report in repo.list_reports(connection, "default", candidate.candidate_id)
            }
        assert verify_chain(events) == []
        assert {c.candidate_id: c.status for c in candidates} == self.model
        for candidate in candidates:
            if candidate.status in ("candidate", "accepted"):
                linked = reports[candidate.eligibility_report_id or ""]
                assert linked.passed and linked.level == candidate.status
                assert linked.candidate_id == candidate.candidate_id
                assert linked.evidence_digest == candidate.evidence_digest
            own = [e for e in events if e.candidate_id == candidate.candidate_id and e.to_status]
            reached = [event.to_status for event in own]
            assert len(reached) == len(set(reached)), reached
            assert reached[0] == "exploratory" and reached[-1] == candidate.status
            for earlier, later in itertools.pairwise(reached):
                assert (earlier, later) in ALLOWED_EDGES
            assert all(e.from_status == prev for e, prev in zip(own[1:], reached, strict=False))

    def _pick(self, index: int) -> str | None:
        created = sorted(self.model)
        return created[index % len(created)] if created else None


def test_random_service_calls_and_hostile_sql_keep_the_invariants(
    sqlite_template: Path, tmp_path: Path
) -> None:
    GovernanceMachine.template = sqlite_template
    GovernanceMachine.store_root = tmp_path / "artifacts"
    run_state_machine_as_test(
        GovernanceMachine,
        settings=settings(max_examples=50, stateful_step_count=20, deadline=None),
    )
