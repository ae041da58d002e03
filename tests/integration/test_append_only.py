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
    # Market data written at revision 1, then restated at revision 2: the updates' triggers put
    # one replaced version of the instrument and of the bar into history.
    "INSERT INTO ingest_runs (ingest_run_id, kind, provider, actor, params_json, started_at, "
    "status) VALUES ('ir1', 'import', 'x', 'me', '{}', 't', 'succeeded')",
    "INSERT INTO instruments (instrument_id, venue, symbol, kind, created_at, ingest_run_id, "
    "revision) VALUES ('x:A', 'x', 'A', 'spot', 't', 'ir1', 1)",
    "INSERT INTO bars (instrument_id, freq, bar_open_ms, open, high, low, close, volume, source, "
    "ingest_run_id, provider, fetched_at, revision) "
    "VALUES ('x:A', '1h', 0, 10, 11, 9, 10, 1, 'import', 'ir1', 'x', 't', 1)",
    "INSERT INTO market_revisions (revision, ingest_run_id, created_at) VALUES (1, 'ir1', 't')",
    "UPDATE instruments SET symbol = 'A2', revision = 2 WHERE instrument_id = 'x:A'",
    "UPDATE bars SET close = 10.5, revision = 2 WHERE instrument_id = 'x:A'",
    "INSERT INTO market_revisions (revision, ingest_run_id, created_at) VALUES (2, 'ir1', 't')",
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
    "market_revisions": (
        "UPDATE market_revisions SET ingest_run_id = 'ir1', created_at = 'later'",
        "DELETE FROM market_revisions",
    ),
    "bars_history": ("UPDATE bars_history SET close = 10.25", "DELETE FROM bars_history"),
    "instruments_history": (
        "UPDATE instruments_history SET symbol = 'forged'",
        "DELETE FROM instruments_history",
    ),
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
    with backend_engine.connect() as connection:
        before = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
    assert before >= 1
    with pytest.raises(sa.exc.DBAPIError) as caught, backend_engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert f"{table} is append-only" in str(caught.value)
    assert action in str(caught.value)
    with backend_engine.connect() as connection:
        count = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
    assert count == before
