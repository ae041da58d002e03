"""``keys create`` (prints the secret once; only its hash is stored) and ``serve`` (uvicorn with
the factory and exactly the options given), plus revoking an API key by key id."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app as cli
from crypto_analyzer.core.errors import AuthenticationError, AuthorizationError
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.governance.principal_store import (
    authenticate_bearer,
    list_api_keys,
    revoke_api_key,
)

runner = CliRunner()


def _keys(db: str, token: str, *args: str) -> Any:
    reset_settings_cache()
    return runner.invoke(cli, ["keys", "create", "--db", db, *args],
                         env={"CRYPTO_ANALYZER_TOKEN": token})  # fmt: skip


def test_keys_create_prints_the_secret_once(backend_url: str) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine)
    first = _keys(backend_url, "", "--role", "admin", "--tenant", "acme", "--name", "ops")
    assert first.exit_code == 0, first.output
    admin = first.stdout.strip()
    assert admin.startswith("ca_") and len(first.stdout.strip().splitlines()) == 1
    refused = _keys(backend_url, "", "--role", "researcher", "--tenant", "acme", "--name", "al")
    assert refused.exit_code == 2 and "admin" in refused.output
    made = _keys(backend_url, admin, "--role", "researcher", "--tenant", "acme", "--name",
                 "alice", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    issued = json.loads(made.stdout)
    assert issued["tenant_id"] == "acme" and issued["principal"]["role"] == "researcher"
    bad_role = _keys(backend_url, admin, "--role", "owner", "--tenant", "acme", "--name", "x")
    assert bad_role.exit_code == 2
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT key_hash FROM api_keys")).scalars().all()
        who = authenticate_bearer(connection, issued["token"])
    assert issued["token"] not in stored
    assert hashlib.sha256(issued["token"].encode()).hexdigest() in stored
    assert (who.tenant_id, who.key_id, who.principal.principal_id) == (
        "acme", issued["key_id"], "alice")  # fmt: skip

    # revoke by key id (admin only, idempotent); the key is refused from then on
    with pytest.raises(AuthorizationError):
        revoke_api_key(engine, "acme", issued["key_id"], token=issued["token"])
    row = revoke_api_key(engine, "acme", issued["key_id"], token=admin)
    assert row.revoked_at is not None and row.principal_id == "alice"
    assert revoke_api_key(engine, "acme", issued["key_id"], token=admin) == row
    listed = {item.key_id: item for item in list_api_keys(engine, "acme")}
    assert listed[issued["key_id"]].revoked_at == row.revoked_at
    assert listed[json.loads(json.dumps(row.to_dict()))["key_id"]].role == "researcher"
    with engine.connect() as connection, pytest.raises(AuthenticationError):
        authenticate_bearer(connection, issued["token"])
    assert list_api_keys(engine, "other") == []
    engine.dispose()


def test_serve_runs_uvicorn_with_the_factory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        uvicorn, "run", lambda target, **kwargs: seen.update(target=target, **kwargs)
    )
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    reset_settings_cache()
    result = runner.invoke(cli, ["serve", "--db", db, "--port", "8123", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen == {
        "target": "crypto_analyzer.api.server:build",
        "factory": True,
        "host": "127.0.0.1",
        "port": 8123,
        "workers": 2,
        "access_log": False,
        "log_level": "warning",
        "proxy_headers": False,
        "server_header": False,
    }
    monkeypatch.setenv("CRYPTO_ANALYZER_API_RATE_PER_MINUTE", "lots")
    reset_settings_cache()
    bad = runner.invoke(cli, ["serve", "--db", db])
    assert bad.exit_code == 2 and "CRYPTO_ANALYZER_API_RATE_PER_MINUTE" in bad.output
