"""Signed attestations and CI through the CLI, on a real report run.

One governed SQLite workspace: ``keys generate`` → a report signed with the configured key → the
envelopes check out with an independent DSSE verifier (PAE built by hand, ``cryptography``) and
with ``attest verify`` (no database) → ``ci promote`` evaluates with signatures required and
records the CI run URL → ``ci summarize`` writes JUnit with one case per rule per candidate →
``ci bundle`` packs everything → ``ci notify`` reaches a real local HTTP server after a retry, with
a valid HMAC. A second run without a key writes unsigned envelopes and its candidate is decided
exactly as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import tarfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import open_service
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.workspace import init_workspace

runner = CliRunner()
REPORT_TOML = (
    'signals = ["momentum_24h", "short_reversal"]\nhorizons = [1, 4]\nmin_assets = 5\n'
    "factor_window = 120\n[splits]\ntest_size = 240\nmin_train_size = 480\nembargo = 4\n"
    "[procedures]\nbootstrap_reps = 200\npbo_blocks = 8\n"
)


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    reset_settings_cache()
    result = runner.invoke(app, list(args), env=env)
    reset_settings_cache()
    return result


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRYPTO_ANALYZER_DB_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", f"file://{tmp_path / 'artifacts'}")
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    reset_settings_cache()
    from crypto_analyzer.core.settings import load_settings

    settings = load_settings()
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=12, days=60, seed=5))
    engine.dispose()
    (tmp_path / "report.toml").write_text(REPORT_TOML)
    return tmp_path


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    statuses: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "statuses": [503]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


def _report(root: Path, env: dict[str, str] | None = None) -> str:
    result = cli("report", "--config", str(root / "report.toml"), "--json", env=env)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["run_instance_id"])


def test_signed_report_to_ci(workspace: Path, hook: tuple[str, type[_Hook]]) -> None:
    root = workspace
    key_file = root / "keys" / "ci.pem"
    key_file.parent.mkdir()
    made = cli("keys", "generate", "--name", "ci-signer", "--out", str(key_file), "--json")
    assert made.exit_code == 0, made.output
    key_id = json.loads(made.stdout)["key_id"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem_body = b"".join(key_file.read_bytes().splitlines()[1:-1])
    assert pem_body not in (root / "w.sqlite").read_bytes()  # never in the database

    run = _report(root, env={"CRYPTO_ANALYZER_SIGNING_KEY_FILE": str(key_file)})
    run_dir = root / "artifacts" / "runs" / run
    envelope_file = run_dir / "envelopes" / "attestation" / "fold_causality.dsse.json"
    attestation = (run_dir / "attestation" / "fold_causality.json").read_bytes()

    # independent DSSE check: the public key comes from the CLI, the rest is done by hand
    exported = cli("keys", "export-public", key_id)
    assert exported.exit_code == 0, exported.output
    public_pem = root / "ci.pub"
    public_pem.write_text(exported.stdout)
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public = load_pem_public_key(exported.stdout.encode())
    assert isinstance(public, Ed25519PublicKey)
    document = json.loads(envelope_file.read_bytes())
    payload = base64.b64decode(document["payload"])
    [signature] = document["signatures"]
    assert signature["keyid"] == key_id
    public.verify(base64.b64decode(signature["sig"]), _pae(document["payloadType"], payload))
    statement = json.loads(payload)
    assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(attestation).hexdigest()
    assert statement["predicate"] == json.loads(attestation)
    bundle = json.loads((run_dir / "bundle" / "momentum_24h.json").read_bytes())
    assert bundle["attestation"]["signed"] is True

    # attest verify: no database, the exported key only
    args = ("attest", "verify", str(envelope_file), "--key", str(public_pem))
    with_artifact = (*args, "--artifact", str(run_dir / "attestation" / "fold_causality.json"))
    assert cli(*with_artifact).exit_code == 0
    tampered = root / "tampered.dsse.json"
    statement["predicate"]["schema_version"] = 99
    document["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    tampered.write_text(json.dumps(document))
    refused = cli("attest", "verify", str(tampered), "--key", str(public_pem), *with_artifact[5:])
    assert refused.exit_code == 1 and "payload_edited" in refused.stdout
    assert (
        "bad_signature" in cli("attest", "verify", str(tampered), "--key", str(public_pem)).stdout
    )
    untrusted = cli("attest", "verify", str(envelope_file))
    assert untrusted.exit_code == 1 and "unknown_key" in untrusted.stdout

    # two candidates; CI promotion requires signatures, records the CI run URL
    candidates = []
    for signal in ("momentum_24h", "short_reversal"):
        made = cli("promotion", "create", "--run", run, "--signal", signal, "--horizon", "1")
        assert made.exit_code == 0, made.output
        candidates.append(made.stdout.strip())
    url = "https://ci.example/acme/research/actions/runs/7"
    promoted = cli("ci", "promote", candidates[0], "--ci-run-url", url, "--json")
    outcome = json.loads(promoted.stdout)
    signature_rules = {"causality.signature", "evidence.signature"}
    assert signature_rules <= set(outcome["decision"]["rules"])
    assert not {r["rule"] for r in outcome["decision"]["reasons"]} & signature_rules
    assert promoted.exit_code == (0 if outcome["decision"]["allowed"] else 1)
    assert cli("ci", "promote", candidates[0], "--ci-run-url", "ftp://x").exit_code == 2
    signed_reasons = _evaluate(candidates[1])

    # JUnit: one test case per policy rule per candidate, failures where the policy denied
    junit = root / "junit.xml"
    summary = cli("ci", "summarize", run, "--junit", str(junit), "--fail-on-deny")
    assert summary.exit_code == 1, summary.output  # the small synthetic run is denied
    assert "| candidate |" in summary.stdout
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 2
    with open_service(_settings(), read_only=True) as service:
        for suite, candidate in zip(
            suites, sorted(candidates, key=_signal_of(service)), strict=True
        ):
            events = service.events(candidate)
            rules = [e.payload["rules"] for e in events if e.report_id is not None][-1]
            report = service.reports(candidate)[-1]
            names = [case.get("name") for case in suite.findall("testcase")]
            assert sorted(names) == sorted(set(rules) | {r["rule"] for r in report.reasons})
            failed = {
                c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None
            }
            assert failed == {r["rule"] for r in report.reasons}
            assert candidate in suite.get("name", "")
        origin = [e.payload.get("origin") for e in service.events(candidates[0])]
    assert {"ci_run_url": url, "via": "ci promote"} in origin

    # the archive: artifacts, envelopes, summary and a manifest that hashes them
    archive = root / "run.tar.gz"
    packed = cli("ci", "bundle", run, "--out", str(archive))
    assert packed.exit_code == 0, packed.output
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    assert {f["path"] for f in manifest["files"]} == set(members) - {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(members[entry["path"]]).hexdigest() == entry["sha256"]
    assert sum(f["kind"] == "envelope" for f in manifest["files"]) == 3
    assert cli("ci", "bundle", run, "--out", str(archive)).exit_code == 2  # never overwritten

    # the webhook: a real HTTP server that fails once, then accepts; the HMAC covers the body
    target, handler = hook
    secret = "s3cret-shared-with-the-receiver"
    assert cli("ci", "notify", run, "--webhook", target).exit_code == 2  # no secret: refused
    sent = cli(
        "ci", "notify", run, "--webhook", target, "--backoff", "0.01",
        env={"CRYPTO_ANALYZER_WEBHOOK_SECRET": secret},
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert len(handler.received) == 2  # 503, then 200
    headers, body = handler.received[-1]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Crypto-Analyzer-Signature"], f"sha256={expected}")
    assert json.loads(body)["run_instance_id"] == run
    assert handler.received[0][1] == body

    # no key configured: unsigned envelopes, and the candidate is decided exactly as before
    unsigned_run = _report(root)
    unsigned_dir = root / "artifacts" / "runs" / unsigned_run
    unsigned = json.loads(
        (unsigned_dir / "envelopes" / "bundle" / "short_reversal.dsse.json").read_bytes()
    )
    assert unsigned["signatures"] == []
    made = cli(
        "promotion", "create", "--run", unsigned_run, "--signal", "short_reversal",
        "--horizon", "1",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert _evaluate(made.stdout.strip()) == signed_reasons


def _settings() -> Any:
    from crypto_analyzer.core.settings import load_settings

    reset_settings_cache()
    return load_settings()


def _signal_of(service: Any) -> Any:
    return lambda candidate: service.get(candidate).signal


def _evaluate(candidate: str) -> list[tuple[str, str]]:
    result = cli("promotion", "evaluate", candidate, "--to", "candidate", "--json")
    assert result.exit_code in (0, 1), result.output
    reasons = json.loads(result.stdout)["decision"]["reasons"]
    return [(r["rule"], r["message"]) for r in reasons if "trial" not in r["message"]]


def test_keys_list_and_revoke_cover_signing_and_api_keys(workspace: Path) -> None:
    made = cli("keys", "generate", "--name", "release", "--out", str(workspace / "r.pem"), "--json")
    signing_id = json.loads(made.stdout)["key_id"]
    admin = cli("principals", "add", "ops", "--role", "admin", "--json")
    ops = json.loads(admin.stdout)
    bob = json.loads(
        cli("principals", "add", "bob", "--role", "reviewer", "--json",
            env={"CRYPTO_ANALYZER_TOKEN": ops["token"]}).stdout
    )  # fmt: skip
    listed = json.loads(cli("keys", "list", "--json").stdout)
    kinds = {(row["kind"], row["key_id"]) for row in listed}
    assert kinds == {("signing", signing_id), ("api", ops["key_id"]), ("api", bob["key_id"])}
    assert all("token" not in row and "key_hash" not in row for row in listed)
    help_text = cli("keys", "revoke", "--help").stdout
    assert "64 lowercase hex" in help_text and "key_" in help_text

    bad = cli("keys", "revoke", "not-a-key", "--reason", "x")
    assert bad.exit_code == 2 and "neither a signing key id nor an API key id" in bad.output
    assert cli("keys", "revoke", signing_id, "--reason", "rotated").exit_code != 0  # no token
    as_ops = {"CRYPTO_ANALYZER_TOKEN": ops["token"]}
    assert cli("keys", "revoke", signing_id, "--reason", "rotated", env=as_ops).exit_code == 0
    assert cli("keys", "revoke", bob["key_id"], "--reason", "left", env=as_ops).exit_code == 0
    last = cli("keys", "revoke", ops["key_id"], "--reason", "oops", env=as_ops)
    assert last.exit_code == 2 and "last usable key of an admin" in last.output
    rows = {row["key_id"]: row for row in json.loads(cli("keys", "list", "--json").stdout)}
    assert rows[signing_id]["revocation_reason"] == "rotated" and rows[signing_id]["revoked_at"]
    assert rows[bob["key_id"]]["revoked_at"] and rows[ops["key_id"]]["revoked_at"] is None
    assert os.environ.get("CRYPTO_ANALYZER_TOKEN") is None
