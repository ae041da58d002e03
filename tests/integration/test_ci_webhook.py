"""``ci notify`` delivery against a real local HTTP server: retry what may pass, not what won't."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.pipeline.ci import SIGNATURE_HEADER, WebhookError, post_webhook


class _Server:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[tuple[str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append((self.headers[SIGNATURE_HEADER], body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def serve() -> Iterator[Callable[[list[int]], _Server]]:
    started: list[_Server] = []

    def make(statuses: list[int]) -> _Server:
        server = _Server(statuses)
        threading.Thread(target=server.server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.server.shutdown()
        server.server.server_close()


def test_retries_with_exponential_backoff_then_delivers(
    serve: Callable[[list[int]], _Server],
) -> None:
    server = serve([503, 429])
    waits: list[float] = []
    result = post_webhook(server.url, b'{"a":1}', "k", attempts=4, backoff=0.5, sleep=waits.append)
    assert (result.status_code, result.attempts) == (200, 3)
    assert waits == [0.5, 1.0]
    expected = "sha256=" + hmac.new(b"k", b'{"a":1}', hashlib.sha256).hexdigest()
    assert [header for header, _ in server.bodies] == [expected] * 3


def test_a_refusal_is_final_and_exhaustion_is_an_error(
    serve: Callable[[list[int]], _Server],
) -> None:
    refusing = serve([401])
    with pytest.raises(WebhookError, match="refused the notification: HTTP 401"):
        post_webhook(refusing.url, b"{}", "k", sleep=lambda _s: None)
    assert len(refusing.bodies) == 1
    down = serve([500, 500, 500])
    with pytest.raises(WebhookError, match="after 3 attempts"):
        post_webhook(down.url, b"{}", "k", attempts=3, sleep=lambda _s: None)
    assert len(down.bodies) == 3
    with pytest.raises(WebhookError, match="ConnectError"):
        post_webhook("http://127.0.0.1:9/none", b"{}", "k", attempts=2, sleep=lambda _s: None)
    with pytest.raises(ValidationError, match="not an http"):
        post_webhook("file:///etc/passwd", b"{}", "k")
