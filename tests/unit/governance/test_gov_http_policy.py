"""The external decision service adapter against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from gov_factories import candidate_for, context_for, strong_bundle

from crypto_analyzer.governance.policy import (
    Decision,
    ExternalServiceConfig,
    HttpDecisionPolicy,
    build_policy_set,
    load_policy_config,
)


class DecisionServer:
    """A scripted OPA-like server: each test sets ``status`` and ``body`` (or a hang)."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b'{"result": {"allow": true}}'
        self.hang = threading.Event()
        self.hanging = False
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.requests.append(
                    {
                        "path": self.path,
                        "body": json.loads(self.rfile.read(length)),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                if outer.hanging:
                    outer.hang.wait()
                    return
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/data/crypto/promote"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def answer(self, document: Any, status: int = 200) -> None:
        self.body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.status = status


@pytest.fixture
def server() -> Iterator[DecisionServer]:
    server = DecisionServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.hang.set()
        server.server.shutdown()
        server.server.server_close()
        server.thread.join()


def _ask(server: DecisionServer, timeout: float = 5.0) -> Decision:
    policy = HttpDecisionPolicy(
        ExternalServiceConfig(policy_id="desk-opa", url=server.url, timeout_seconds=timeout)
    )
    bundle = strong_bundle()
    return policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))


def test_the_service_receives_the_input_document_and_can_allow(server: DecisionServer) -> None:
    server.answer({"result": {"allow": True, "warnings": ["thin liquidity"]}})
    decision = _ask(server)
    assert decision.allowed
    assert [str(w) for w in decision.warnings] == ["desk-opa: thin liquidity"]
    request = server.requests[0]
    assert request["path"] == "/v1/data/crypto/promote"
    assert request["content_type"] == "application/json"
    document = request["body"]["input"]
    assert document["level"] == "candidate"
    assert document["candidate"]["signal"] == "momentum"
    assert document["evidence"]["horizons"][1]["ic"]["mean_ic"] == 0.045
    assert document["context"]["actor"] == "bob"


def test_a_deny_carries_the_services_reasons_namespaced(server: DecisionServer) -> None:
    server.answer(
        {"result": {"allow": False, "reasons": ["desk limit", {"rule": "cap", "message": "over"}]}}
    )
    decision = _ask(server)
    assert not decision.allowed
    assert [str(r) for r in decision.reasons] == ["desk-opa: desk limit", "desk-opa/cap: over"]


def test_a_boolean_result_is_accepted_and_a_bare_deny_gets_a_reason(server: DecisionServer) -> None:
    server.answer({"result": True})
    assert _ask(server).allowed
    server.answer({"result": False})
    decision = _ask(server)
    assert not decision.allowed and decision.reasons[0].message == "denied without giving a reason"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"not json", "malformed JSON"),
        ({"allow": True}, "'result' member"),
        ({"result": {"allow": "yes"}}, "boolean 'allow'"),
        ({"result": {"allow": True, "reasons": "x"}}, "'reasons' must be a list"),
        ({"result": {"allow": True, "reasons": [3]}}, "string or a {rule, message}"),
    ],
    ids=["not-json", "no-result", "allow-not-bool", "reasons-not-list", "reason-not-text"],
)
def test_malformed_answers_deny(server: DecisionServer, body: Any, fragment: str) -> None:
    server.answer(body)
    decision = _ask(server)
    assert not decision.allowed
    assert decision.reasons[0].rule == "external.malformed"
    assert fragment in decision.reasons[0].message


def test_an_error_status_denies(server: DecisionServer) -> None:
    server.answer({"result": {"allow": True}}, status=500)
    decision = _ask(server)
    assert not decision.allowed and decision.reasons[0].rule == "external.status"
    assert "HTTP 500" in decision.reasons[0].message


def test_a_timeout_denies(server: DecisionServer) -> None:
    server.hanging = True
    decision = _ask(server, timeout=0.2)
    assert not decision.allowed
    assert decision.reasons[0].rule == "external.timeout"
    assert "0.2 s" in decision.reasons[0].message


def test_an_unreachable_service_denies() -> None:
    probe = DecisionServer()
    url = probe.url
    probe.server.server_close()  # nothing listens on that port any more
    policy = HttpDecisionPolicy(ExternalServiceConfig(policy_id="gone", url=url, timeout_seconds=2))
    bundle = strong_bundle()
    decision = policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert not decision.allowed and decision.reasons[0].rule == "external.unreachable"


def test_the_external_service_joins_the_default_set_deny_overrides(server: DecisionServer) -> None:
    config = load_policy_config()
    config = config.model_copy(
        update={
            "external": ExternalServiceConfig(
                policy_id="desk-opa", url=server.url, timeout_seconds=5
            )
        }
    )
    policy = build_policy_set(config)
    bundle = strong_bundle()
    server.answer({"result": {"allow": False, "reasons": ["desk says no"]}})
    decision = policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle))
    assert not decision.allowed
    assert [str(r) for r in decision.reasons] == ["desk-opa: desk says no"]
    assert decision.policy_digest == config.digest() != load_policy_config().digest()
    server.answer({"result": {"allow": True}})
    assert policy.evaluate(candidate_for(bundle), bundle, "candidate", context_for(bundle)).allowed
