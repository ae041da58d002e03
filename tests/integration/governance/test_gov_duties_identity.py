"""Separation of duties on both backends: the same person, spelled differently, is still one person.

Review finding 7 (issue 21). The first promoter used to pass as a second reviewer by changing case,
swapping in a Cyrillic letter or appending a zero-width space. Now names are normalised before they
are recorded (invisible and look-alike characters are refused outright) and the duties rule
compares people, so each disguise is either refused or denied — and the denial is on record.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import AuthorizationError, ValidationError
from crypto_analyzer.governance import GovernanceService, Principal, verify_workspace


@pytest.fixture
def at_candidate(backend_engine: sa.Engine, store: ArtifactStore) -> tuple[GovernanceService, str]:
    service = make_service(backend_engine, store)
    run = seed_run(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="Alice"
    ).candidate_id
    service.promote(candidate, target="candidate", actor="alice")
    return service, candidate


@pytest.mark.parametrize(
    "disguise",
    [
        "ALICE",
        Principal("alice", "Alice", "reviewer", "token"),
        Principal("os:alice", "alice", None, "os"),
    ],
    ids=["capitals", "token", "os-account"],
)
def test_the_creator_in_disguise_is_denied(
    at_candidate: tuple[GovernanceService, str], disguise: str | Principal
) -> None:
    service, candidate = at_candidate
    outcome = service.evaluate(candidate, target="accepted", actor=disguise)
    assert not outcome.passed and outcome.candidate.status == "candidate"
    # denied twice over: alice created the candidate and promoted it first
    assert [r.rule for r in outcome.decision.reasons] == ["duties.separation"] * 2
    assert outcome.report.actor == "alice" or outcome.report.actor == "os:alice"


@pytest.mark.parametrize(
    "disguise",
    ["\u0430lice", "alice\u200b", "al\u202eice", "\u0430\u0455\u0441", "os:alice"],
)
def test_invisible_and_look_alike_names_are_refused_before_anything_is_written(
    at_candidate: tuple[GovernanceService, str], backend_engine: sa.Engine, disguise: str
) -> None:
    service, candidate = at_candidate
    with backend_engine.connect() as connection:
        before = connection.exec_driver_sql("SELECT COUNT(*) FROM governance_events").scalar_one()
    with pytest.raises(ValidationError, match="actor"):
        service.evaluate(candidate, target="accepted", actor=disguise)
    with backend_engine.connect() as connection:
        after = connection.exec_driver_sql("SELECT COUNT(*) FROM governance_events").scalar_one()
    assert after == before


def test_a_second_person_accepts_and_roles_are_enforced(
    at_candidate: tuple[GovernanceService, str], backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    service, candidate = at_candidate
    researcher = Principal("bob", "Bob", "researcher", "token")
    with pytest.raises(AuthorizationError, match="researcher"):
        service.evaluate(candidate, target="accepted", actor=researcher)
    reviewer = Principal("bob", "Bob", "reviewer", "token")
    outcome = service.evaluate(candidate, target="accepted", actor=reviewer)
    assert outcome.passed and outcome.candidate.status == "accepted"
    assert outcome.event.payload["actor_source"] == "token"
    with pytest.raises(AuthorizationError, match="may not revoke"):
        service.revoke(candidate, reason="x", actor=researcher)
    assert verify_workspace(backend_engine, store, "default").ok
