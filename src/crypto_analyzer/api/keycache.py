"""A short-lived, in-process memory of verified API keys: a busy key is not looked up per request.

Authenticating a bearer token costs a joined lookup (``api_keys`` × ``principals``) and the
SQLAlchemy work around it — about half of a small read's service time. A client that sends 200
requests a second with one key asks the same question 200 times; this cache answers it from
memory for at most ``ttl`` seconds.

What it holds and why it is safe:

* **Slots are keyed by an HMAC of the token** under a random per-process secret, never by the
  token itself nor by its stored SHA-256: a memory dump of the worker yields neither a usable
  credential nor the value to look up in ``api_keys.key_hash``.
* **Only successes are cached.** A refused token is looked up every time (so a key created a
  moment ago works at once, and guessing does not fill the cache).
* **Revocation bound.** A key revoked or a principal disabled by *another* process (``keys
  revoke`` on the CLI, another worker) is refused at the latest ``ttl`` seconds later (default
  2 s, ``CRYPTO_ANALYZER_API_KEY_CACHE_SECONDS``; 0 turns the cache off). A revocation made in
  *this* process (``governance.principal_store`` notifies its listeners after the commit) drops
  the key's slots at once. The key's own ``expires_at`` is checked on every hit.
* **Bounded memory.** At ``max_entries`` slots the cache is emptied (a reset only costs lookups).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from crypto_analyzer.core.clock import governed_now, to_iso
from crypto_analyzer.governance.principal_store import KeyIdentity

__all__ = ["DEFAULT_KEY_CACHE_SECONDS", "KeyCache"]

DEFAULT_KEY_CACHE_SECONDS = 2.0


class KeyCache:
    """Verified key identities by HMAC(process secret, token), each kept at most ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float = DEFAULT_KEY_CACHE_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._secret = secrets.token_bytes(32)
        self._slots: dict[bytes, tuple[float, KeyIdentity]] = {}
        self._lock = threading.Lock()

    def _slot(self, token: str) -> bytes:
        return hmac.new(self._secret, token.encode("utf-8"), hashlib.sha256).digest()

    def get(self, token: str) -> KeyIdentity | None:
        """The identity verified for ``token`` under ``ttl`` seconds ago and not expired since."""
        if self.ttl <= 0:
            return None
        slot = self._slot(token)
        with self._lock:
            found = self._slots.get(slot)
            if found is None:
                return None
            stored_at, identity = found
            if self._clock() - stored_at >= self.ttl:
                del self._slots[slot]
                return None
        if identity.expires_at is not None and identity.expires_at <= to_iso(governed_now()):
            self.forget(identity.tenant_id, key_id=identity.key_id)
            return None
        return identity

    def put(self, token: str, identity: KeyIdentity) -> None:
        """Remember a token the database has just verified."""
        if self.ttl <= 0:
            return
        slot = self._slot(token)
        with self._lock:
            if len(self._slots) >= self._max:
                self._slots.clear()
            self._slots[slot] = (self._clock(), identity)

    def forget(
        self, tenant_id: str, *, key_id: str | None = None, principal_id: str | None = None
    ) -> None:
        """Drop the slots of one key, or of every key of one principal (``None`` matches all)."""
        with self._lock:
            for slot, (_, identity) in list(self._slots.items()):
                if identity.tenant_id != tenant_id:
                    continue
                if key_id is not None and identity.key_id != key_id:
                    continue
                if principal_id is not None and identity.principal.principal_id != principal_id:
                    continue
                del self._slots[slot]

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)
