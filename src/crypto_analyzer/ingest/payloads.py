"""Raw payload text and digests: what a quarantined record or a snapshot keeps of the source.

A reject row must let someone see exactly what arrived, even when it is not valid JSON (NaN, bytes,
nested junk from a drifting API). The text is compact JSON with sorted keys — deterministic, so
equal payloads give equal digests, and produced by the C encoder because every snapshot is digested
— with ``repr`` for anything JSON cannot carry; it never raises. (It is not the canonical JSON of
identities: this text is evidence of what arrived, not an identity input.)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["payload_digest", "payload_text"]


def payload_text(value: Any) -> str:
    """Text of a raw record for storage: compact sorted-key JSON, never an exception."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
        )
    except (TypeError, ValueError, RecursionError):  # mixed key types cannot be sorted
        return repr(value)


def payload_digest(value: Any) -> str:
    """SHA-256 hex of :func:`payload_text`: the "raw payload digest" kept with a snapshot."""
    return hashlib.sha256(payload_text(value).encode("utf-8", "surrogatepass")).hexdigest()
