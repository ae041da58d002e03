"""SHA-256 helpers: the one place the project turns bytes or structured data into digests."""

from __future__ import annotations

import hashlib
from typing import Any, BinaryIO

from crypto_analyzer.core.canonical_json import canonical_bytes

__all__ = [
    "GENESIS_HASH",
    "HEX_DIGEST_LENGTH",
    "chained_sha256",
    "is_hex_digest",
    "sha256_bytes",
    "sha256_file",
    "sha256_json",
    "sha256_stream",
    "short_id",
]

HEX_DIGEST_LENGTH = 64
GENESIS_HASH = "0" * HEX_DIGEST_LENGTH
"""``prev_hash`` of the first link of every hash chain (governance events, the trial ledger)."""
_SHORT_LENGTH = 16
_CHUNK = 1 << 20


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Hex SHA-256 of raw bytes (artifact ids are exactly this)."""
    return hashlib.sha256(data).hexdigest()


def sha256_json(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``value``: config digests, run keys, event hashes."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def chained_sha256(prev_hash: str, body: Any) -> str:
    """``SHA-256(prev_hash ‖ canonical JSON of body)``: one link of an append-only hash chain.

    Each link commits to everything before it, so editing, deleting or reordering any earlier row
    changes every later hash; the chains of governance events and of the trial ledger use it.
    """
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical_bytes(body)).hexdigest()


def sha256_file(handle: BinaryIO) -> str:
    """Hex SHA-256 of a binary stream, read in 1 MiB chunks so large artifacts never load whole."""
    return sha256_stream(handle)[0]


def sha256_stream(handle: BinaryIO, chunk: int = _CHUNK) -> tuple[str, int]:
    """Hex SHA-256 and length of what ``handle`` yields until its end, ``chunk`` bytes at a time."""
    digest = hashlib.sha256()
    size = 0
    while block := handle.read(chunk):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def is_hex_digest(value: str) -> bool:
    """True for a full lowercase 64-hex SHA-256 digest."""
    return len(value) == HEX_DIGEST_LENGTH and all(c in "0123456789abcdef" for c in value)


def short_id(prefix: str, hex_digest: str) -> str:
    """Display form of a stored digest: ``prefix`` + first 16 hex characters."""
    if not is_hex_digest(hex_digest):
        raise ValueError(f"short_id expects a 64-hex SHA-256 digest, got {hex_digest!r}")
    return f"{prefix}{hex_digest[:_SHORT_LENGTH]}"
