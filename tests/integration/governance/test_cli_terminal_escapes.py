"""Stored text cannot drive the terminal: every command spells out control characters.

An attacker who can write text that the CLI later prints — a report's hypothesis, a run tag, a
bundle's signal name, a rejection reason, a principal name, an external decision service's reasons,
a provider's error message — tries clear-screen (ESC[2J), an OSC-8 hyperlink, BEL, CR, an 8-bit
CSI, DEL, bidi overrides/isolates and rich markup. Each command that shows those values is run
through Typer's runner (and one real subprocess): no raw control or bidi character may reach stdout
or stderr, the escaped spelling must, markup must print literally, and ``--json`` must give back
the exact original strings.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.identities import DatasetId, DatasetMode, run_key
from crypto_analyzer.db.lineage import LineageRecord, record_lineage
from crypto_analyzer.db.registry import finish_run, start_run
from crypto_analyzer.governance.policy import load_policy_set
from crypto_analyzer.ingest.resilience.breaker import DatabaseHealthStore, HealthRecord

PAYLOAD = (
    "\x1b[2J\x1b]8;;http:evil\x07click\x1b]8;;\x07\r\x9b31m\x7f\u202eevil\u2066[bold red]markup"
)
"""Control characters reach the database through text fields; artifact keys refuse them (the store
checks every key), so names that become keys carry only the markup part (``KEY_SAFE``)."""
KEY_SAFE = "[bold red]markup"
SHOWN = (
    "\\x1b[2J",
    "\\x1b]8;;http:evil\\x07",
    "\\r",
    "\\x9b31m",
    "\\x7f",
    "\\u202eevil",
    "\\u2066",
    "[bold red]markup",
)
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")

SIGNAL = "sig" + KEY_SAFE
ACTOR = "eve"
"""Principal names refuse control characters and markup outright (``governance.principals``)."""
REASON = "because" + PAYLOAD
RUN2 = "run-2" + KEY_SAFE
TAG = "tag" + PAYLOAD
PROVIDER = "prov" + PAYLOAD

runner = CliRunner()


class DecisionService:
    """An external decision service (OPA-style) that answers with hostile reasons."""

    def __init__(self) -> None:
        answer = json.dumps(
            {
                "result": {
                    "allow": False,
                    "reasons": [{"rule": "r" + PAYLOAD, "message": "deny" + PAYLOAD}],
                    "warnings": ["warn" + PAYLOAD],
                }
            }
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/data/promote"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def decision_service() -> Iterator[DecisionService]:
    service = DecisionService()
    service.thread.start()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()
        service.thread.join()


@pytest.fixture
def hostile_policy(tmp_path: Path, decision_service: DecisionService) -> Path:
    """The packaged default policy plus the hostile external decision service."""
    default = resources.files("crypto_analyzer.governance.policy") / "default_policy.toml"
    path = tmp_path / "policy.toml"
    path.write_text(
        default.read_text(encoding="utf-8")
        + f'\n[external]\npolicy_id = "desk"\nurl = "{decision_service.url}"\n'
        "timeout_seconds = 10.0\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Hostile:
    url: str
    store: ArtifactStore
    candidate_id: str
    env: dict[str, str]


def _seed_hostile_run(engine: sa.Engine, store: ArtifactStore) -> None:
    """A failed run whose every free-text field is hostile, with a lineage row verify flags."""
    dataset = DatasetId(DatasetMode.STRICT, "b" * 64)
    config = {PAYLOAD: PAYLOAD, "signal": SIGNAL}
    with engine.begin() as connection:
        start_run(
            connection,
            tenant_id="default",
            run_key=run_key(dataset, config),
            run_instance_id=RUN2,
            dataset_id=dataset,
            config=config,
            actor=ACTOR,
            hypothesis=PAYLOAD,
            tags=[TAG],
        )
        finish_run(
            connection,
            tenant_id="default",
            run_instance_id=RUN2,
            status="failed",
            metrics={PAYLOAD: 1.0},
            error="ValueError: " + PAYLOAD,
        )
        record_lineage(
            connection,
            tenant_id="default",
            run_instance_id=RUN2,
            records=[LineageRecord("x" + PAYLOAD, "c" * 64, "elsewhere:" + PAYLOAD, 1, "json")],
        )


def seed_hostile(engine: sa.Engine, store: ArtifactStore, url: str, policy: Path) -> Hostile:
    seed_run(engine, store, signal=SIGNAL)
    _seed_hostile_run(engine, store)
    service = make_service(engine, store, policy=load_policy_set(policy))
    candidate = service.create(run_instance_id="run-0001", signal=SIGNAL, horizon=4, actor=ACTOR)
    outcome = service.evaluate(candidate.candidate_id, target="candidate", actor=ACTOR)
    assert not outcome.passed  # the external service denies with its hostile reasons
    service.reject(candidate.candidate_id, reason=REASON, actor=ACTOR)
    DatabaseHealthStore(engine).save(
        HealthRecord(PROVIDER, "ohlcv", "open", 3, last_error="HTTP 500: " + PAYLOAD)
    )
    env = {"CRYPTO_ANALYZER_ARTIFACTS": store.url, "COLUMNS": "4000"}
    return Hostile(url, store, candidate.candidate_id, env)


@pytest.fixture
def hostile(
    sqlite_engine: sa.Engine, sqlite_url: str, tmp_path: Path, hostile_policy: Path
) -> Hostile:
    store = open_store(f"file://{tmp_path / 'artifacts'}")
    return seed_hostile(sqlite_engine, store, sqlite_url, hostile_policy)


def assert_terminal_safe(text: str, *, shown: tuple[str, ...] = SHOWN) -> None:
    found = sorted({f"U+{ord(char):04X}" for char in RAW.findall(text)})
    assert not found, f"raw control/bidi characters reached the terminal: {found}\n{text[:3000]!r}"
    missing = [form for form in shown if form not in text]
    assert not missing, f"escaped spelling missing: {missing}\n{text[:3000]}"


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(k) | _strings(v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_strings(item) for item in value))
    return set()


# (command, exit code, exact stored strings the --json form must give back)
COMMANDS: dict[str, tuple[list[str], int, set[str]]] = {
    "promotion-list": (["promotion", "list"], 0, {SIGNAL}),
    "promotion-show": (
        ["promotion", "show", "{candidate}"],
        0,
        {SIGNAL, ACTOR, REASON, "desk/r" + PAYLOAD, "deny" + PAYLOAD, "warn" + PAYLOAD},
    ),
    "audit-trace": (
        ["audit", "trace", "{candidate}"],
        0,
        {SIGNAL, ACTOR, REASON, "desk/r" + PAYLOAD, "deny" + PAYLOAD},
    ),
    "audit-verify": (["audit", "verify"], 1, set()),
    "runs-list": (["runs", "list"], 0, {RUN2, PAYLOAD}),
    "runs-show": (["runs", "show", RUN2], 0, {RUN2, ACTOR, PAYLOAD, TAG}),
    "runs-diff": (["runs", "diff", "run-0001", RUN2], 0, {PAYLOAD}),
    "providers-status": (["providers", "status"], 0, {PROVIDER, "HTTP 500: " + PAYLOAD}),
}


def _invoke(hostile: Hostile, args: list[str]) -> Any:
    argv = [arg.replace("{candidate}", hostile.candidate_id) for arg in args]
    return runner.invoke(app, [*argv, "--db", hostile.url], env=hostile.env)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_human_output_spells_out_every_control_character(hostile: Hostile, name: str) -> None:
    args, code, _ = COMMANDS[name]
    result = _invoke(hostile, args)
    assert result.exit_code == code, result.output
    # The candidate list shows only names that are also artifact keys: no control characters.
    shown = (KEY_SAFE,) if name == "promotion-list" else SHOWN
    assert_terminal_safe(result.stdout + result.stderr, shown=shown)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json_output_gives_back_the_exact_strings(hostile: Hostile, name: str) -> None:
    args, code, expected = COMMANDS[name]
    result = _invoke(hostile, [*args, "--json"])
    assert result.exit_code == code, result.output
    assert not RAW.search(result.stdout), repr(result.stdout[:3000])
    strings = _strings(json.loads(result.stdout))
    assert expected <= strings, expected - strings
    if name == "audit-verify":  # the finding quotes the hostile run id and URI verbatim
        assert any(RUN2 in text and "elsewhere:" + PAYLOAD in text for text in strings)


@pytest.mark.parametrize(
    "args",
    [
        ["promotion", "show", "cand" + PAYLOAD],
        ["runs", "show", "zzzz" + PAYLOAD],
        ["audit", "trace", "cand" + PAYLOAD],
        ["promotion", "list", "--status", PAYLOAD],
    ],
    ids=["promotion-show", "runs-show", "audit-trace", "promotion-list-status"],
)
def test_errors_that_quote_a_value_spell_it_out(hostile: Hostile, args: list[str]) -> None:
    result = _invoke(hostile, args)
    assert result.exit_code in (1, 2), result.output
    assert result.stderr.startswith("error:"), result.stderr
    assert_terminal_safe(result.stderr)


def test_the_verbose_trace_spells_out_values_too(hostile: Hostile) -> None:
    result = runner.invoke(
        app, ["--verbose", "promotion", "show", "cand" + PAYLOAD, "--db", hostile.url],
        env=hostile.env,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Traceback" in result.stderr and "NotFoundError" in result.stderr
    assert_terminal_safe(result.stderr)


def test_a_real_terminal_process_gets_no_control_bytes(hostile: Hostile) -> None:
    env = {**os.environ, **hostile.env, "PYTHONIOENCODING": "utf-8"}
    completed = subprocess.run(
        [sys.executable, "-m", "crypto_analyzer", "promotion", "show", hostile.candidate_id,
         "--db", hostile.url],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr.decode("utf-8", "replace")
    text = completed.stdout.decode("utf-8") + completed.stderr.decode("utf-8")
    assert b"\x1b" not in completed.stdout + completed.stderr
    assert_terminal_safe(text)


def test_write_commands_echo_values_safely(
    backend_engine: sa.Engine, backend_url: str, tmp_path: Path, hostile_policy: Path
) -> None:
    """create → evaluate (external hostile deny) → reject, on SQLite and PostgreSQL."""
    store = open_store(f"file://{tmp_path / 'artifacts'}")
    seed_run(backend_engine, store, signal=SIGNAL)
    env = {"CRYPTO_ANALYZER_ARTIFACTS": store.url, "COLUMNS": "4000"}

    def cli(*args: str) -> Any:
        return runner.invoke(app, [*args, "--db", backend_url], env=env)

    created = cli("promotion", "create", "--run", "run-0001", "--signal", SIGNAL, "--horizon",
                  "4")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert_terminal_safe(created.stderr, shown=(KEY_SAFE,))
    candidate = created.stdout.strip()

    evaluated = cli("promotion", "evaluate", candidate, "--to", "candidate",
                    "--policy", str(hostile_policy))  # fmt: skip
    assert evaluated.exit_code == 1, evaluated.output
    assert "denied" in evaluated.stdout
    assert_terminal_safe(evaluated.stdout + evaluated.stderr)

    rejected = cli("promotion", "reject", candidate, "--reason", REASON)
    assert rejected.exit_code == 0, rejected.output
    assert_terminal_safe(rejected.stderr)

    shown = json.loads(cli("promotion", "show", candidate, "--json").stdout)
    assert shown["candidate"]["status_reason"] == REASON
    assert shown["candidate"]["signal"] == SIGNAL
    assert len({event["actor"] for event in shown["events"]}) == 1  # the OS principal
    assert shown["reports"][0]["reasons"][-1] == {"rule": "desk/r" + PAYLOAD,
                                                   "message": "deny" + PAYLOAD}  # fmt: skip
