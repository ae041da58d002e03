"""UPDATE and DELETE on each append-only table fail in the database itself, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crypto_analyzer.db.schema import APPEND_ONLY_TABLES

SEED_ROWS = [
    "INSERT INTO runs (run_instance_id, run_key, dataset_id, dataset_mode, config_json, "
    "config_digest, engine_version, spec_version, seed_version, actor, status, started_at) "
    "VALUES ('r1', 'k', 'd', 'strict', '{}', 'c', '0.1.0', '1', 1, 'me', 'succeeded', 't')",
    "INSERT INTO promotion_candidates (candidate_id, run_instance_id, run_key, dataset_id, signal, "
    "horizon, evidence_digest, created_by, created_at, updated_at) "
    "VALUES ('c1', 'r1', 'k', 'd', 's', 1, 'e', 'me', 't', 't')",
    "INSERT INTO eligibility_reports (report_id, candidate_id, level, passed, evidence_digest, "
    "policy_id, policy_digest, reasons_json, warnings_json, actor, created_at) "
    "VALUES ('rep1', 'c1', 'candidate', 0, 'e', 'p', 'pd', '[]', '[]', 'me', 't')",
    "INSERT INTO governance_events (event_id, seq, candidate_id, event_type, actor, payload_json, "
    "created_at, prev_hash, hash) VALUES ('e1', 0, 'c1', 'created', 'me', '{}', 't', '', 'h')",
    "INSERT INTO artifact_lineage (run_instance_id, logical_name, artifact_sha256, uri, "
    "artifact_type, size_bytes, created_at) "
    "VALUES ('r1', 'bundle', 'sha', 'file://x', 'json', 1, 't')",
    "INSERT INTO artifact_edges (run_instance_id, src_name, edge_type, dst_ref, created_at) "
    "VALUES ('r1', 'bundle', 'uses_dataset', 'd', 't')",
    "INSERT INTO trial_ledger (seq, trial_id, trial_key, run_instance_id, run_key, dataset_id, "
    "hypothesis_id, signal, params_json, horizon, freq, instruments_json, n_instruments, start_ms, "
    "end_ms, n_returns, n_obs, family_size, family_n_eff, created_at, prev_hash, hash) "
    "VALUES (0, 't1', 'tk', 'r1', 'k', 'd', 's@1', 's', '{}', 1, '1h', '[]', 0, 0, 1, 0, 0, 1, "
    f"1.0, 't', '{'0' * 64}', 'h')",
]

MUTATIONS = {
    "governance_events": (
        "UPDATE governance_events SET actor = 'mallory'",
        "DELETE FROM governance_events",
    ),
    "eligibility_reports": (
        "UPDATE eligibility_reports SET passed = 1",
        "DELETE FROM eligibility_reports",
    ),
    "artifact_lineage": (
        "UPDATE artifact_lineage SET uri = 'file://y'",
        "DELETE FROM artifact_lineage",
    ),
    "artifact_edges": ("UPDATE artifact_edges SET dst_ref = 'other'", "DELETE FROM artifact_edges"),
    "trial_ledger": ("UPDATE trial_ledger SET p_value = 0.0", "DELETE FROM trial_ledger"),
}


def test_every_append_only_table_is_covered() -> None:
    assert set(MUTATIONS) == set(APPEND_ONLY_TABLES)


@pytest.mark.parametrize("table", sorted(MUTATIONS))
@pytest.mark.parametrize("action", ["UPDATE", "DELETE"])
def test_mutation_is_refused_with_a_clear_error(
    backend_engine: sa.Engine, table: str, action: str
) -> None:
    with backend_engine.begin() as connection:
        for statement in SEED_ROWS:
            connection.exec_driver_sql(statement)
    statement = MUTATIONS[table][0 if action == "UPDATE" else 1]
    with pytest.raises(sa.exc.DBAPIError) as caught, backend_engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert f"{table} is append-only" in str(caught.value)
    assert action in str(caught.value)
    with backend_engine.connect() as connection:
        count = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
    assert count == 1
