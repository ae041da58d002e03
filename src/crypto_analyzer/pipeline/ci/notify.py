"""``ci notify``: POST the run summary to a webhook, signed with HMAC-SHA256, retried with backoff.

The body is canonical JSON; ``X-Crypto-Analyzer-Signature: sha256=<hex>`` is the HMAC-SHA256 of
exactly those bytes under the shared secret (``CRYPTO_ANALYZER_WEBHOOK_SECRET``), so the receiver
recomputes it over the raw body before parsing and compares in constant time. Connection errors,
timeouts, 429 and 5xx are retried (``attempts`` in all, waiting ``backoff · 2^i`` seconds between);
any other 4xx is final — the receiver refused this body and sending it again will not help.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from crypto_analyzer.core.errors import CryptoAnalyzerError, ValidationError

__all__ = ["SIGNATURE_HEADER", "NotifyResult", "WebhookError", "post_webhook", "sign_body"]

SIGNATURE_HEADER = "X-Crypto-Analyzer-Signature"
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookError(CryptoAnalyzerError):
    """The webhook did not accept the notification."""


@dataclass(frozen=True, slots=True)
class NotifyResult:
    """Where it went, the final status, and how many attempts it took."""

    url: str
    status_code: int
    attempts: int


def sign_body(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + HMAC-SHA256 hex of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def post_webhook(
    url: str,
    body: bytes,
    secret: str,
    *,
    attempts: int = 4,
    backoff: float = 0.5,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> NotifyResult:
    """POST ``body``; raise :class:`WebhookError` when no attempt is accepted (2xx)."""
    if not url.startswith(("http://", "https://")):
        raise ValidationError(f"webhook {url!r} is not an http(s) URL", "pass --webhook https://…")
    if attempts < 1 or backoff < 0:
        raise ValidationError(f"attempts must be ≥ 1 and backoff ≥ 0 (got {attempts}, {backoff})")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign_body(secret, body),
        "User-Agent": "crypto-analyzer-ci",
    }
    last = "no attempt made"
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for attempt in range(1, attempts + 1):
            try:
                response = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= response.status_code < 300:
                    return NotifyResult(url, response.status_code, attempt)
                last = f"HTTP {response.status_code}"
                if response.status_code not in _RETRY_STATUSES:
                    raise WebhookError(
                        f"webhook {url} refused the notification: {last}",
                        "check the receiver's secret and URL",
                    )
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    raise WebhookError(
        f"webhook {url} did not accept the notification after {attempts} attempts ({last})",
        "check that the receiver is up; rerun `ci notify`",
    )
