"""Hostile policy files: bounded size, nesting and list lengths; exit 2 and nothing recorded."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_workspace import count_rows, make_service, seed_run
from typer.testing import CliRunner

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.policy.config import parse_policy_config

DEEP = 10_000
DEFAULT = (resources.files("crypto_analyzer.governance.policy") / "default_policy.toml").read_text(
    encoding="utf-8"
)

HOSTILE = {
    "deep-settings": (
        DEFAULT.replace("plugins = []", "plugins = []\n\n[plugin_settings.x" + ".a" * DEEP + "]\n"
                        "b = 1"),
        "nests deeper than",
    ),
    "deep-array": (DEFAULT.replace("plugins = []", "plugins = " + "[" * DEEP + "]" * DEEP),
                   "deeper than"),
    "many-plugins": (
        DEFAULT.replace("plugins = []", "plugins = [" + ", ".join(f'"p{i}"' for i in range(500))
                        + "]"),
        "500 items",
    ),
    "long-version": (
        DEFAULT.replace("engine_versions = []", f'engine_versions = ["{"9" * 5000}"]'),
        "5,000 characters",
    ),
    "huge": (DEFAULT + "# " + "x" * (2 << 20) + "\n", "the limit is 1,048,576 bytes"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(set(HOSTILE) - {"huge"}))
def test_hostile_policy_text_is_a_policy_config_error(name: str) -> None:
    text, fragment = HOSTILE[name]
    with pytest.raises(PolicyConfigError) as caught:
        parse_policy_config(text, source="policy file p.toml")
    assert fragment in str(caught.value) and "p.toml" in str(caught.value)


def test_the_packaged_default_policy_stays_valid() -> None:
    assert parse_policy_config(DEFAULT).policy_id == "crypto_analyzer.default"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_evaluate_with_a_hostile_policy_exits_2_and_records_nothing(
    backend_engine: sa.Engine, backend_url: str, tmp_path: Path, name: str
) -> None:
    store = open_store(f"file://{tmp_path / 'artifacts'}")
    run = seed_run(backend_engine, store)
    service = make_service(backend_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
    )
    before = count_rows(backend_engine)
    text, fragment = HOSTILE[name]
    policy = tmp_path / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["promotion", "evaluate", candidate.candidate_id, "--to", "candidate", "--actor", "bob",
         "--policy", str(policy), "--db", backend_url],
        env={"CRYPTO_ANALYZER_ARTIFACTS": store.url},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    # Governed commands first say where they write (one line), then the one error line.
    lines = [line for line in result.stderr.splitlines() if not line.startswith("using config ")]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert count_rows(backend_engine) == before
