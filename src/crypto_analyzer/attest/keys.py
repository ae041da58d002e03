"""Ed25519 signing keys: key files, public keys, key ids.

The private key lives in a PEM file (PKCS#8, unencrypted) with mode 0600, created exclusively
(never overwritten), or arrives as PEM text in ``CRYPTO_ANALYZER_SIGNING_KEY`` (a CI secret). It is
never written to the database: only the public half is registered (``signing_keys``), so a database
operator can neither sign nor learn how.

A key id is the SHA-256 (64 lowercase hex) of the raw 32-byte public key. It is computable by
anyone holding the public key, so a third party can check that an envelope's ``keyid`` names the
key it verifies with; API key ids (``key_…``) can never look like one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto_analyzer.core.errors import ConfigError, ValidationError
from crypto_analyzer.core.settings import SIGNING_KEY_VARIABLE, signing_key_source

__all__ = [
    "KEY_ID_PATTERN",
    "PublicKey",
    "SigningKey",
    "configured_signing_key",
    "create_key_file",
    "is_signing_key_id",
    "key_id_of",
    "load_key_file",
    "load_public_key",
    "private_key_from_pem",
]

KEY_ID_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_MAX_KEY_FILE = 16 * 1024
_HINT = "create one with `crypto-analyzer keys generate --name NAME`"


def key_id_of(raw_public: bytes) -> str:
    """SHA-256 hex of the raw 32-byte Ed25519 public key."""
    return hashlib.sha256(raw_public).hexdigest()


def is_signing_key_id(text: str) -> bool:
    """True for a signing key id (64 lowercase hex); API key ids start with ``key_``."""
    return bool(KEY_ID_PATTERN.match(text))


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An Ed25519 public key and its id."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise ValidationError(f"an Ed25519 public key has 32 bytes, not {len(self.raw)}")

    @property
    def key_id(self) -> str:
        return key_id_of(self.raw)

    @property
    def hex(self) -> str:
        """What ``signing_keys.public_key`` stores."""
        return self.raw.hex()

    def pem(self) -> str:
        """SubjectPublicKeyInfo PEM, what ``keys export-public`` writes."""
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key. The key material never appears in ``repr`` or output."""

    public: PublicKey
    source: str
    _private: Ed25519PrivateKey = field(repr=False)

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    @classmethod
    def from_private(cls, private: Ed25519PrivateKey, source: str) -> SigningKey:
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(PublicKey(raw), source, private)

    def private_pem(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def private_key_from_pem(data: bytes, *, source: str) -> SigningKey:
    """Parse a PKCS#8 PEM Ed25519 private key; anything else is a :class:`ConfigError`."""
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source} is not an unencrypted PEM private key: {exc}", _HINT) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"{source} is a {type(private).__name__}, not an Ed25519 key", _HINT)
    return SigningKey.from_private(private, source)


def create_key_file(path: Path | str) -> SigningKey:
    """Generate a key and write it to ``path`` (mode 0600, exclusive create, no symlink follow)."""
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise ConfigError(
            f"cannot create signing key {target}: directory {target.parent} does not exist",
            "create the directory first",
        )
    key = SigningKey.from_private(Ed25519PrivateKey.generate(), str(target))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"signing key {target} already exists; a key file is never overwritten",
            "choose another --out path, or register the existing key with --private-key",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot create signing key {target}: {exc.strerror}") from None
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, key.private_pem())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return key


def load_key_file(path: Path | str) -> SigningKey:
    """Read a private key file: regular, no group/other access, PEM Ed25519."""
    target = Path(path).expanduser()
    try:
        info = target.stat()
    except FileNotFoundError:
        raise ConfigError(f"signing key file {target} does not exist", _HINT) from None
    except OSError as exc:
        raise ConfigError(f"cannot read signing key file {target}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_KEY_FILE:
        raise ConfigError(f"signing key {target} is not a key file", _HINT)
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"signing key {target} has mode {stat.S_IMODE(info.st_mode):04o}: group or others "
            "may read it, so it is refused",
            f"chmod 600 {target}",
        )
    return private_key_from_pem(target.read_bytes(), source=str(target))


def configured_signing_key() -> SigningKey | None:
    """The key named by ``CRYPTO_ANALYZER_SIGNING_KEY_FILE`` / ``…_SIGNING_KEY``, or None."""
    source = signing_key_source()
    if source is None:
        return None
    kind, value = source
    if kind == "file":
        return load_key_file(value)
    return private_key_from_pem(value.encode("utf-8"), source=SIGNING_KEY_VARIABLE)


def load_public_key(data: bytes, *, source: str = "public key") -> PublicKey:
    """A public key from SubjectPublicKeyInfo PEM or 64 hex characters (raw key)."""
    text = data.strip()
    if re.fullmatch(rb"[0-9a-fA-F]{64}", text):
        return PublicKey(bytes.fromhex(text.decode("ascii")))
    try:
        loaded = serialization.load_pem_public_key(text)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"{source} is neither a PEM public key nor 64 hex characters: {exc}",
            "export one with `crypto-analyzer keys export-public KEY_ID`",
        ) from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValidationError(f"{source} is a {type(loaded).__name__}, not an Ed25519 key")
    return PublicKey(
        loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
