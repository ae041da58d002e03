"""Forced row-level security on PostgreSQL, seen from the application role.

The owner migrates; the code under test connects as the non-owner application role, with the
tenant set per transaction by the engine layer. Every check here goes around the code's own
``WHERE tenant_id = …``: raw SQL as the application role, with another tenant, with none.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run
from tenancy_support import as_role

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.settings import DEFAULT_APP_ROLE, load_settings
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.factor_runs import FactorFrames, load_factor_frames, save_factor_frames
from crypto_analyzer.db.schema import (
    APPEND_ONLY_TABLES,
    artifact_edges,
    eligibility_reports,
    metadata,
)
from crypto_analyzer.db.workspace import check_schema, initialize
from crypto_analyzer.governance import verify_workspace
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.research import fit_factor_model

pytestmark = pytest.mark.postgres

TENANT_TABLES = sorted(t.name for t in metadata.sorted_tables if "tenant_id" in t.c)


@pytest.fixture
def deployment(postgres_url: str, app_url: str) -> str:
    """A database migrated by the owner, tenants ``desk-a`` and ``desk-b`` registered."""
    for tenant in ("desk-a", "desk-b"):
        initialize(load_settings(db_url=app_url, admin_db_url=postgres_url, tenant=tenant))
    return app_url


@pytest.fixture
def engines(deployment: str) -> Iterator[dict[str | None, sa.Engine]]:
    made = {tenant: create_db_engine(deployment, tenant=tenant) for tenant in ("desk-a", "desk-b")}
    made[None] = create_db_engine(deployment)
    yield made
    for engine in made.values():
        engine.dispose()


@pytest.fixture
def seeded(engines: dict[str | None, sa.Engine], store: ArtifactStore) -> dict[str, str]:
    """Each desk: a run, lineage, trials and a candidate promoted to ``candidate``."""
    candidates = {}
    for tenant in ("desk-a", "desk-b"):
        engine = engines[tenant]
        run = seed_run(engine, store, run_instance_id=f"run-{tenant}", tenant_id=tenant)
        service = make_service(engine, store, tenant_id=tenant)
        created = service.create(
            run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
        )
        outcome = service.evaluate(created.candidate_id, target="candidate", actor="alice")
        assert outcome.passed and outcome.candidate.status == "candidate"
        candidates[tenant] = created.candidate_id
    return candidates


def test_every_tenant_table_has_forced_rls_and_the_app_role_owns_nothing(
    deployment: str, postgres_url: str
) -> None:
    owner = create_db_engine(postgres_url)
    try:
        with owner.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "pg_get_userbyid(c.relowner) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname"
            ).all()
            role = connection.execute(
                sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                {"r": DEFAULT_APP_ROLE},
            ).one()
            policies = connection.exec_driver_sql(
                "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()"
            ).all()
    finally:
        owner.dispose()
    assert [row[0] for row in rows] == TENANT_TABLES  # the catalog and the schema agree
    assert len(TENANT_TABLES) >= 30
    for name, enabled, forced, table_owner in rows:
        assert enabled and forced, f"{name}: row-level security enabled={enabled} forced={forced}"
        assert table_owner != DEFAULT_APP_ROLE, f"{name} is owned by the application role"
    assert not role.rolsuper and not role.rolbypassrls
    assert {(t, "ca_tenant_isolation") for t in TENANT_TABLES} <= set(policies)


def test_a_connection_without_a_tenant_sees_and_writes_nothing(
    engines: dict[str | None, sa.Engine], seeded: dict[str, str]
) -> None:
    with engines[None].connect() as connection:
        for table in TENANT_TABLES:
            count = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            assert count == 0, f"{table}: {count} rows visible without a tenant"
    with (
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        engines[None].begin() as connection,
    ):
        connection.exec_driver_sql("INSERT INTO tenants (tenant_id, mode) VALUES ('x', 'governed')")


def test_raw_sql_as_the_app_role_stays_inside_its_tenant(
    engines: dict[str | None, sa.Engine], seeded: dict[str, str]
) -> None:
    ours = engines["desk-a"]
    with ours.connect() as connection:
        for table in TENANT_TABLES:
            foreign = connection.exec_driver_sql(
                f"SELECT count(*) FROM {table} WHERE tenant_id <> 'desk-a'"
            ).scalar_one()
            assert foreign == 0, f"{table}: desk-a sees {foreign} rows of another tenant"
        visible = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("runs", "promotion_candidates", "governance_events", "trial_ledger")
        }
    assert all(visible.values()), visible  # its own rows are there
    with ours.begin() as connection:  # an UPDATE aimed at desk-b's rows touches none
        changed = connection.exec_driver_sql(
            "UPDATE promotion_candidates SET status = status WHERE tenant_id = 'desk-b'"
        ).rowcount
        assert changed == 0
        assert (
            connection.exec_driver_sql("DELETE FROM runs WHERE tenant_id = 'desk-b'").rowcount == 0
        )
    with (
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        ours.begin() as connection,
    ):  # writing a row into desk-b
        connection.exec_driver_sql(
            "INSERT INTO run_metrics (tenant_id, run_instance_id, name, value) "
            "VALUES ('desk-b', 'run-desk-b', 'sharpe', 9.9)"
        )
    with (
        pytest.raises(sa.exc.IntegrityError, match="foreign key"),
        ours.begin() as connection,
    ):  # linking to desk-b's run through a foreign key
        connection.exec_driver_sql(
            "INSERT INTO run_metrics (tenant_id, run_instance_id, name, value) "
            "VALUES ('desk-a', 'run-desk-b', 'sharpe', 9.9)"
        )
    # linking through lineage edges and eligibility reports to desk-b's rows: the composite keys
    # would need desk-b's tenant_id (refused by the policy), and with desk-a's there is no target
    for table, changes in (
        (artifact_edges, {"run_instance_id": "run-desk-b"}),
        (eligibility_reports, {"report_id": "rep_forged", "candidate_id": seeded["desk-b"]}),
    ):
        with ours.connect() as connection:
            row = dict(connection.execute(sa.select(table).limit(1)).mappings().one())
        for tenant, error, reason in (
            ("desk-a", sa.exc.IntegrityError, "foreign key"),
            ("desk-b", sa.exc.ProgrammingError, "row-level security"),
        ):
            forged = {**row, **changes, "tenant_id": tenant}
            with (
                pytest.raises(error, match=reason),
                ours.begin() as connection,
            ):
                connection.execute(table.insert().values(**forged))
    with (
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        ours.begin() as connection,
    ):  # moving an own row into desk-b
        connection.exec_driver_sql("UPDATE runs SET tenant_id = 'desk-b'")
    for statement in (
        "TRUNCATE runs CASCADE",
        "UPDATE governance_events SET actor = 'x'",
        "ALTER TABLE runs DISABLE ROW LEVEL SECURITY",
        "DROP POLICY ca_tenant_isolation ON runs",
        "SET session_replication_role = replica",
    ):
        with (
            pytest.raises(sa.exc.ProgrammingError, match=r"permission denied|must be owner"),
            ours.begin() as connection,
        ):
            connection.exec_driver_sql(statement)


def test_services_as_the_app_role_cannot_reach_another_tenant(
    engines: dict[str | None, sa.Engine], seeded: dict[str, str], store: ArtifactStore
) -> None:
    # desk-b's service asks for desk-a's candidate: the code filter says not found …
    theirs = make_service(engines["desk-b"], store, tenant_id="desk-b")
    with pytest.raises(NotFoundError):
        theirs.get(seeded["desk-a"])
    # … and a service that claims desk-a on desk-b's connection sees nothing at all: the
    # database, not the code, refuses the cross-tenant read and the cross-tenant promotion.
    spoofed = make_service(engines["desk-b"], store, tenant_id="desk-a")
    assert spoofed.list_candidates() == []
    with pytest.raises(NotFoundError):
        spoofed.evaluate(seeded["desk-a"], target="accepted", actor="bob")
    with pytest.raises(NotFoundError, match="no run matches"):
        spoofed.create(run_instance_id="run-desk-a", signal="momentum", horizon=1, actor="bob")
    # the chains, guarded by triggers running under forced RLS, are intact per tenant
    for tenant in ("desk-a", "desk-b"):
        report = verify_workspace(engines[tenant], store, tenant)
        assert report.ok, report.to_dict()
        assert report.checked["events"] == 2


def test_trigger_guards_still_fire_for_the_app_role(
    engines: dict[str | None, sa.Engine], seeded: dict[str, str], store: ArtifactStore
) -> None:
    service = make_service(engines["desk-a"], store, tenant_id="desk-a")
    accepted = service.evaluate(seeded["desk-a"], target="accepted", actor="bob")
    assert accepted.passed and accepted.candidate.status == "accepted"
    with (
        pytest.raises(sa.exc.DBAPIError, match=r"promotion_candidates|status"),
        engines["desk-a"].begin() as connection,
    ):  # skipping the service: refused
        connection.exec_driver_sql(
            "UPDATE promotion_candidates SET status = 'exploratory' WHERE tenant_id = 'desk-a'"
        )
    assert "governance_events" in APPEND_ONLY_TABLES


def test_the_dataset_id_as_the_app_role_is_the_tenants_own(
    engines: dict[str | None, sa.Engine], postgres_url: str
) -> None:
    # the dataset-id reader streams through a raw driver connection (no ``begin`` event): it must
    # still read as the engine's tenant, or it would hash an empty table under RLS
    ingest_synthetic(engines["desk-a"], SyntheticMarketConfig(assets=4, days=2), tenant_id="desk-a")
    ingest_synthetic(
        engines["desk-b"], SyntheticMarketConfig(assets=3, days=1, seed=9), tenant_id="desk-b"
    )
    owner = create_db_engine(postgres_url)
    try:
        for tenant in ("desk-a", "desk-b"):
            as_app = compute_dataset_id(engines[tenant], tenant_id=tenant)
            as_owner = compute_dataset_id(owner, tenant_id=tenant)
            assert as_app.dataset_id == as_owner.dataset_id
        empty = compute_dataset_id(owner, tenant_id="nobody").dataset_id
        assert compute_dataset_id(engines["desk-a"], tenant_id="desk-a").dataset_id != empty
        # a tenant's engine asked for another tenant's id sees nothing of it
        assert compute_dataset_id(engines["desk-a"], tenant_id="desk-b").dataset_id == empty
    finally:
        owner.dispose()


def test_stored_factor_runs_round_trip_as_the_app_role(
    engines: dict[str | None, sa.Engine],
) -> None:
    # the factor reader and writer use raw driver cursors (COPY, per-asset reads) inside the
    # tenant's transaction; they must see the tenant's rows under RLS
    rng = np.random.default_rng(3)
    index = pd.Index(1_700_000_000_000 + 3_600_000 * np.arange(200), name="bar_open_ms")
    returns = pd.DataFrame(
        rng.normal(0.0, 0.01, (200, 5)), index=index, columns=["BTC", "ETH", "A", "B", "C"]
    )
    fit = fit_factor_model(returns, factor_ids=["BTC", "ETH"], window=48, lag=1)
    frames = FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals)
    engine = engines["desk-a"]
    save_factor_frames(engine, tenant_id="desk-a", factor_run_id="f1", dataset_id="d" * 64,
                       config=fit.config, fit=frames)  # fmt: skip
    back = load_factor_frames(engine, tenant_id="desk-a", factor_run_id="f1", index=index,
                              assets=fit.residuals.columns, factor_ids=["BTC", "ETH"])  # fmt: skip
    pd.testing.assert_frame_equal(back.residuals, fit.residuals, check_exact=True)
    with engines["desk-b"].connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM factor_betas").scalar() == 0


def test_audit_verify_and_db_check_see_row_security_turned_off_or_widened(
    engines: dict[str | None, sa.Engine],
    seeded: dict[str, str],
    store: ArtifactStore,
    postgres_url: str,
    app_url: str,
) -> None:
    settings = load_settings(db_url=app_url, admin_db_url=postgres_url, tenant="desk-a")
    assert verify_workspace(engines["desk-a"], store, "desk-a").ok
    assert check_schema(settings).ok
    owner = create_db_engine(postgres_url)
    try:
        with owner.begin() as connection:  # what a hostile operator with DDL rights can do
            connection.exec_driver_sql("ALTER TABLE runs NO FORCE ROW LEVEL SECURITY")
            connection.exec_driver_sql(
                "CREATE POLICY open_all ON promotion_candidates USING (true)"
            )
            connection.exec_driver_sql("DROP POLICY ca_tenant_isolation ON trial_ledger")
    finally:
        owner.dispose()
    report = verify_workspace(engines["desk-a"], store, "desk-a")
    messages = [f.message for f in report.findings if f.check == "row_security"]
    assert not report.ok
    assert any(m.startswith("runs: row-level security is not forced") for m in messages)
    assert any(m.startswith("promotion_candidates: policy open_all") for m in messages)
    assert any(
        m.startswith("trial_ledger: policy ca_tenant_isolation is missing") for m in messages
    )
    assert len(messages) == 3
    assert len(check_schema(settings).row_security) == 3


def test_a_custom_app_role_name_is_created_and_granted(postgres_url: str) -> None:
    role = "desk_app_custom"
    initialize(
        load_settings(db_url=as_role(postgres_url, role), admin_db_url=postgres_url, app_role=role)
    )
    engine = create_db_engine(as_role(postgres_url, role), tenant="default")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT current_user").scalar_one() == role
            assert connection.exec_driver_sql("SELECT count(*) FROM tenants").scalar_one() == 1
    finally:
        engine.dispose()
