"""Bypass suite: direct SQL that would skip the governance service is refused by the database.

Each test starts from a governed workspace built through the service (one accepted candidate, one
at ``candidate``, one ``exploratory``, one with a failed report), tries one forbidden statement on
SQLite and on PostgreSQL, and checks both the refusal message and that nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from gov_workspace import count_rows, make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.governance import GovernanceService


@dataclass(frozen=True)
class Governed:
    engine: sa.Engine
    accepted: str
    accepted_report: str
    accepted_candidate_report: str
    at_candidate: str
    at_candidate_report: str
    exploratory: str
    failed: str
    failed_report: str


def _report_of(service: GovernanceService, candidate_id: str, level: str, passed: bool) -> str:
    reports = [r for r in service.reports(candidate_id) if r.level == level and r.passed is passed]
    return reports[-1].report_id


@pytest.fixture
def governed(backend_engine: sa.Engine, store: ArtifactStore) -> Governed:
    strong = seed_run(backend_engine, store, run_instance_id="run-strong")
    other = seed_run(backend_engine, store, run_instance_id="run-other", signal="carry")
    weak = seed_run(
        backend_engine, store, run_instance_id="run-weak", changes={"horizons.1.ic.mean_ic": 0.001}
    )
    service = make_service(backend_engine, store)
    accepted = service.create(
        run_instance_id=strong.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.promote(accepted, target="candidate", actor="alice")
    service.promote(accepted, target="accepted", actor="bob")
    at_candidate = service.create(
        run_instance_id=strong.run_instance_id, signal="momentum", horizon=1, actor="alice"
    ).candidate_id
    service.promote(at_candidate, target="candidate", actor="alice")
    exploratory = service.create(
        run_instance_id=other.run_instance_id, signal="carry", horizon=4, actor="alice"
    ).candidate_id
    failed = service.create(
        run_instance_id=weak.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    assert not service.evaluate(failed, target="candidate", actor="alice").passed
    return Governed(
        engine=backend_engine,
        accepted=accepted,
        accepted_report=_report_of(service, accepted, "accepted", True),
        accepted_candidate_report=_report_of(service, accepted, "candidate", True),
        at_candidate=at_candidate,
        at_candidate_report=_report_of(service, at_candidate, "candidate", True),
        exploratory=exploratory,
        failed=failed,
        failed_report=_report_of(service, failed, "candidate", False),
    )


def _refused(governed: Governed, statement: str, fragment: str) -> None:
    before = count_rows(governed.engine)
    with pytest.raises(sa.exc.DBAPIError) as caught, governed.engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert fragment in str(caught.value), str(caught.value)
    assert count_rows(governed.engine) == before


def _set(candidate: str, assignments: str) -> str:
    return f"UPDATE promotion_candidates SET {assignments} WHERE candidate_id = '{candidate}'"


def test_direct_update_to_candidate_without_report(governed: Governed) -> None:
    _refused(governed, _set(governed.exploratory, "status = 'candidate'"), "need a linked report")


def test_direct_update_to_accepted_without_report(governed: Governed) -> None:
    _refused(
        governed,
        _set(governed.at_candidate, "status = 'accepted', eligibility_report_id = NULL"),
        "need a linked report",
    )


def test_direct_update_with_a_report_id_that_does_not_exist(governed: Governed) -> None:
    statement = _set(governed.exploratory, "status = 'candidate', eligibility_report_id = 'rep_x'")
    _refused(governed, statement, "need a linked report")


def test_linking_another_candidates_passing_report(governed: Governed) -> None:
    statement = _set(
        governed.exploratory,
        f"status = 'candidate', eligibility_report_id = '{governed.at_candidate_report}'",
    )
    _refused(governed, statement, "belongs to another candidate")


def test_linking_a_failed_report(governed: Governed) -> None:
    statement = _set(
        governed.failed, f"status = 'candidate', eligibility_report_id = '{governed.failed_report}'"
    )
    _refused(governed, statement, "did not pass")


def test_linking_a_lower_level_report(governed: Governed) -> None:
    statement = _set(
        governed.at_candidate,
        f"status = 'accepted', eligibility_report_id = '{governed.at_candidate_report}'",
    )
    _refused(governed, statement, "another level")


def test_status_case_and_padding_variants(governed: Governed) -> None:
    for variant in ("ACCEPTED", "Accepted ", "accepted ", "Candidate"):
        statement = _set(
            governed.at_candidate,
            f"status = '{variant}', eligibility_report_id = '{governed.accepted_report}'",
        )
        _refused(governed, statement, "status transition is not allowed")
    for variant in ("ACCEPTED", "Accepted "):
        statement = _set(governed.accepted, f"status = '{variant}'")
        _refused(governed, statement, "changes only to revoked")


def test_exploratory_straight_to_accepted(governed: Governed) -> None:
    statement = _set(
        governed.exploratory,
        f"status = 'accepted', eligibility_report_id = '{governed.accepted_report}'",
    )
    _refused(governed, statement, "status transition is not allowed")


def test_demoting_an_accepted_row(governed: Governed) -> None:
    for target in ("exploratory", "candidate", "rejected"):
        statement = _set(
            governed.accepted,
            f"status = '{target}', eligibility_report_id = NULL, status_reason = 'demote'",
        )
        _refused(governed, statement, "changes only to revoked")


def test_swapping_the_evidence_digest_of_an_accepted_row(governed: Governed) -> None:
    _refused(governed, _set(governed.accepted, f"evidence_digest = '{'e' * 64}'"), "immutable")


def test_revoking_without_a_reason(governed: Governed) -> None:
    _refused(governed, _set(governed.accepted, "status = 'revoked'"), "need a reason")


def test_a_forged_passing_report_still_needs_its_event(governed: Governed) -> None:
    # Reports accept INSERT (they are append-only, not read-only); a hand-made passing report with
    # the right digest gets past every report check, and the missing governance event stops it.
    with governed.engine.begin() as connection:
        digest = connection.exec_driver_sql(
            "SELECT evidence_digest FROM promotion_candidates "
            f"WHERE candidate_id = '{governed.exploratory}'"
        ).scalar_one()
        connection.exec_driver_sql(
            "INSERT INTO eligibility_reports (report_id, candidate_id, level, passed, "
            "evidence_digest, policy_id, policy_digest, reasons_json, warnings_json, actor, "
            f"created_at) VALUES ('rep_forged', '{governed.exploratory}', 'candidate', 1, "
            f"'{digest}', 'hand', 'hand', '[]', '[]', 'mallory', 't')"
        )
    statement = _set(
        governed.exploratory, "status = 'candidate', eligibility_report_id = 'rep_forged'"
    )
    _refused(governed, statement, "governance event first")


def test_editing_or_deleting_a_referenced_report(governed: Governed) -> None:
    for statement in (
        f"UPDATE eligibility_reports SET passed = 1 WHERE report_id = '{governed.failed_report}'",
        "UPDATE eligibility_reports SET evidence_digest = 'x' "
        f"WHERE report_id = '{governed.accepted_report}'",
        "UPDATE eligibility_reports SET level = 'candidate' "
        f"WHERE report_id = '{governed.accepted_report}'",
        f"DELETE FROM eligibility_reports WHERE report_id = '{governed.accepted_report}'",
    ):
        _refused(governed, statement, "eligibility_reports is append-only")


APPEND_ONLY = {
    "governance_events": (
        "UPDATE governance_events SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM governance_events WHERE seq = 1",
    ),
    "artifact_lineage": (
        "UPDATE artifact_lineage SET artifact_sha256 = 'x'",
        "DELETE FROM artifact_lineage",
    ),
    "artifact_edges": (
        "UPDATE artifact_edges SET dst_ref = 'elsewhere'",
        "DELETE FROM artifact_edges",
    ),
}


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_events_lineage_and_edges_are_append_only(governed: Governed, table: str) -> None:
    for statement in APPEND_ONLY[table]:
        _refused(governed, statement, f"{table} is append-only")


def test_deleting_a_candidate(governed: Governed) -> None:
    for candidate in (governed.accepted, governed.exploratory):
        statement = f"DELETE FROM promotion_candidates WHERE candidate_id = '{candidate}'"
        _refused(governed, statement, "promotion_candidates rows cannot be deleted")


def test_inserting_a_row_directly_as_promoted(governed: Governed) -> None:
    for status in ("accepted", "candidate"):
        statement = (
            "INSERT INTO promotion_candidates (candidate_id, run_instance_id, run_key, "
            "dataset_id, signal, horizon, status, evidence_digest, eligibility_report_id, "
            "created_by, created_at, updated_at) SELECT 'cand_forged', run_instance_id, run_key, "
            f"dataset_id, signal, 2, '{status}', evidence_digest, '{governed.accepted_report}', "
            "'mallory', 't', 't' FROM promotion_candidates "
            f"WHERE candidate_id = '{governed.accepted}'"
        )
        _refused(governed, statement, "must be inserted as exploratory")


def test_terminal_rows_stay_terminal(governed: Governed) -> None:
    service = make_service(governed.engine, None)
    service.reject(governed.exploratory, reason="weak idea", actor="reviewer")
    service.revoke(governed.accepted, reason="decayed", actor="reviewer")
    for candidate, back in ((governed.exploratory, "exploratory"), (governed.accepted, "accepted")):
        _refused(governed, _set(candidate, f"status = '{back}'"), "terminal")
        _refused(governed, _set(candidate, "status_reason = 'edited'"), "terminal")


def test_an_event_that_does_not_extend_the_chain(governed: Governed) -> None:
    # Copies of the head event with the link broken: a gap in seq, and a forked prev_hash.
    template = (
        "INSERT INTO governance_events (event_id, seq, candidate_id, event_type, from_status, "
        "to_status, report_id, actor, payload_json, created_at, prev_hash, hash) "
        "SELECT 'evt_forged', {seq}, candidate_id, 'evaluated', NULL, NULL, NULL, 'mallory', "
        "'{{}}', 't', {prev}, 'h' FROM governance_events "
        "WHERE seq = (SELECT MAX(seq) FROM governance_events)"
    )
    gap = template.format(seq="seq + 6", prev="hash")
    _refused(governed, gap, "seq must extend the tenant chain")
    fork = template.format(seq="seq + 1", prev=f"'{'0' * 64}'")
    _refused(governed, fork, "prev_hash must equal the hash of the chain head")
