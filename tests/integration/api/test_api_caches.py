"""The per-worker caches of the read path: verified API keys and the /health probe.

Both exist for latency (``api.keycache``, ``AppState.health``); these tests hold them to their
promises: a key revoked in this process is refused at once, one revoked behind the service's back
(raw SQL, as another process would) at the latest after the cache interval, a refused token is
never cached, the cache holds neither the token nor its stored hash, and ``/health`` probes the
database at most once per interval.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import sqlalchemy as sa
from api_server import ApiWorkspace, admin_token, serve

from crypto_analyzer.api import ApiConfig
from crypto_analyzer.api.keycache import KeyCache
from crypto_analyzer.governance.principal_store import (
    KeyIdentity,
    register_principal,
    revoke_api_key,
    token_hash,
)
from crypto_analyzer.governance.principals import Principal

_LIMITS = {"rate_per_minute": 100_000, "burst": 10_000}


def test_revocation_in_this_process_is_immediate(workspace: ApiWorkspace) -> None:
    issued = register_principal(
        workspace.engine, "default", "carol", "researcher", token=admin_token(workspace)
    )
    auth = {"Authorization": f"Bearer {issued.token}"}
    config = ApiConfig(key_cache_seconds=60, **_LIMITS)
    with serve(workspace.settings, config) as (base, app), httpx.Client(base_url=base) as api:
        assert api.get("/experiments", headers=auth).status_code == 200
        assert api.get("/experiments", headers=auth).status_code == 200
        assert len(app.state.api.keys) == 1  # served from the cache now
        revoke_api_key(workspace.engine, "default", issued.key_id, token=admin_token(workspace))
        refused = api.get("/experiments", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"


def test_revocation_elsewhere_takes_effect_within_the_interval(workspace: ApiWorkspace) -> None:
    issued = register_principal(
        workspace.engine, "default", "dave", "researcher", token=admin_token(workspace)
    )
    auth = {"Authorization": f"Bearer {issued.token}"}
    interval = 0.6
    config = ApiConfig(key_cache_seconds=interval, **_LIMITS)
    with serve(workspace.settings, config) as (base, _app), httpx.Client(base_url=base) as api:
        assert api.get("/experiments", headers=auth).status_code == 200
        with workspace.engine.begin() as connection:  # no listener sees this one
            connection.execute(
                sa.text("UPDATE api_keys SET revoked_at = :at WHERE key_id = :k"),
                {"at": "2020-01-01T00:00:00.000000Z", "k": issued.key_id},
            )
        cached = api.get("/experiments", headers=auth).status_code
        time.sleep(interval + 0.1)
        later = api.get("/experiments", headers=auth).status_code
    assert cached == 200  # the documented bound: up to one interval
    assert later == 401


def test_no_cache_means_every_request_is_checked(workspace: ApiWorkspace) -> None:
    issued = register_principal(
        workspace.engine, "default", "erin", "researcher", token=admin_token(workspace)
    )
    auth = {"Authorization": f"Bearer {issued.token}"}
    config = ApiConfig(key_cache_seconds=0, **_LIMITS)
    with serve(workspace.settings, config) as (base, app), httpx.Client(base_url=base) as api:
        assert api.get("/experiments", headers=auth).status_code == 200
        with workspace.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE api_keys SET revoked_at = :at WHERE key_id = :k"),
                {"at": "2020-01-01T00:00:00.000000Z", "k": issued.key_id},
            )
        assert api.get("/experiments", headers=auth).status_code == 401
        assert len(app.state.api.keys) == 0


def test_cache_holds_no_token_and_no_refusal(workspace: ApiWorkspace) -> None:
    token = workspace.tokens[("default", "researcher")]
    with serve(workspace.settings) as (base, app), httpx.Client(base_url=base) as api:
        bad = {"Authorization": "Bearer ca_" + "x" * 43}
        for _ in range(3):
            assert api.get("/experiments", headers=bad).status_code == 401
        revoked = {"Authorization": f"Bearer {workspace.revoked}"}
        assert api.get("/experiments", headers=revoked).status_code == 401
        keys = app.state.api.keys
        assert len(keys) == 0  # refusals are never remembered
        good = workspace.headers("default", "researcher")
        assert api.get("/experiments", headers=good).status_code == 200
        assert len(keys) == 1
        slots = list(keys._slots)
    stored = token_hash(token)
    assert all(
        slot not in (token.encode(), stored.encode(), bytes.fromhex(stored)) for slot in slots
    )


def test_health_probes_at_most_once_per_interval(workspace: ApiWorkspace) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    config = ApiConfig(health_cache_seconds=30, **_LIMITS)
    with serve(workspace.settings, config) as (base, app), httpx.Client(base_url=base) as api:
        sa.event.listen(app.state.api.reader, "before_cursor_execute", record)
        bodies = [api.get("/health") for _ in range(20)]
    assert all(item.status_code == 200 and item.json()["ok"] for item in bodies)
    assert sum(1 for text in statements if text.strip() == "SELECT 1") == 1


def test_key_cache_expiry_reset_and_forgetting_a_principal() -> None:
    now = [100.0]
    cache = KeyCache(2.0, clock=lambda: now[0], max_entries=3)
    alice = Principal("alice", "Alice", "researcher", "token")
    bob = Principal("bob", "Bob", "reviewer", "token")
    cache.put("ca_a1", KeyIdentity("default", "key_a1", alice))
    cache.put("ca_a2", KeyIdentity("default", "key_a2", alice))
    cache.put("ca_b", KeyIdentity("default", "key_b", bob))
    assert cache.get("ca_a1") is not None and cache.get("ca_unknown") is None
    cache.forget("other", principal_id="alice")  # another tenant's alice: nothing dropped
    assert len(cache) == 3
    cache.forget("default", principal_id="alice")
    assert cache.get("ca_a1") is None and cache.get("ca_a2") is None
    assert cache.get("ca_b") is not None
    now[0] += 2.0  # the interval is over: looked up again
    assert cache.get("ca_b") is None and len(cache) == 0
    expired = KeyIdentity("default", "key_x", bob, expires_at="2000-01-01T00:00:00.000000Z")
    cache.put("ca_x", expired)
    assert cache.get("ca_x") is None  # its own expiry is checked on every hit
    for index in range(4):  # over max_entries: emptied, never unbounded
        cache.put(f"ca_{index}", KeyIdentity("default", f"key_{index}", bob))
    assert len(cache) <= 3
    off = KeyCache(0)
    off.put("ca_b", KeyIdentity("default", "key_b", bob))
    assert off.get("ca_b") is None and len(off) == 0
