"""The service key: a secret the database never holds, with which governed records are keyed.

Why it exists (DESIGN §3 invariant 12). The hash chains of governance events and the trial ledger
use a public algorithm, so anyone who can INSERT can compute the next link and append a complete,
well-chained forgery. Each governed row therefore also carries an HMAC-SHA256 made with this key
(``mac``) and the id of the key that made it (``mac_key_id``); ``audit verify`` recomputes them.
Whoever holds only database rights — the application's credentials, a SQL session on the SQLite
file, even the database owner — cannot make a valid MAC.

Where the key lives, in order:

1. the file named by ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` (environment only, never a config file
   or the database; :func:`~crypto_analyzer.core.settings.service_key_file`);
2. for a SQLite workspace, ``<database file>.service-key`` next to it — convenient for one
   person's local workspace, and **worthless against someone who can copy the database folder**.
   A team deployment keeps the key on the service host (a secret mount) and sets the variable.

The file holds 32 random bytes as 64 hex characters and must not be accessible to group or others
(mode 0600 or 0400); anything else is refused with a :class:`~crypto_analyzer.core.errors.
ConfigError` naming the file. The key id is the first 16 hex characters of the key's SHA-256: it is
stored next to every MAC so a later rotation can tell which key made which row.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import SERVICE_KEY_VARIABLE, service_key_file

__all__ = [
    "KEY_BYTES",
    "KEY_FILE_SUFFIX",
    "KeyLocation",
    "ServiceKey",
    "copy_service_key",
    "create_service_key",
    "default_key_path",
    "key_id_of",
    "key_location",
    "load_service_key",
    "resolve_service_key",
]

KEY_BYTES = 32
KEY_FILE_SUFFIX = ".service-key"
_KEY_ID_CHARS = 16
_MAX_FILE_BYTES = 1024
_HINT = "create one with `crypto-analyzer keys init-service`"


def key_id_of(secret: bytes) -> str:
    """Public id of a key: the first 16 hex characters of its SHA-256."""
    return hashlib.sha256(secret).hexdigest()[:_KEY_ID_CHARS]


@dataclass(frozen=True, slots=True)
class ServiceKey:
    """A loaded service key. The secret never appears in ``repr`` or in any output."""

    key_id: str
    path: Path
    _secret: bytes = field(repr=False)

    def mac(self, kind: str, body: Any) -> str:
        """HMAC-SHA256 (hex) of the canonical JSON of ``{"kind": kind, "body": body}``.

        ``kind`` separates domains (an event MAC can never pass as a ledger or report MAC).
        """
        message = canonical_bytes({"body": body, "kind": kind})
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def check(self, kind: str, body: Any, mac: str | None) -> bool:
        """True when ``mac`` is this key's MAC of (kind, body); constant-time comparison."""
        if not isinstance(mac, str):
            return False
        return hmac.compare_digest(self.mac(kind, body), mac)


def create_service_key(path: Path | str) -> ServiceKey:
    """Write a new key (32 random bytes, hex) to ``path`` with mode 0600; never overwrite."""
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise ConfigError(
            f"cannot create service key {target}: directory {target.parent} does not exist",
            "create the directory first (on the service host, not next to the database)",
        )
    secret = secrets.token_bytes(KEY_BYTES)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"service key {target} already exists; a key is never overwritten",
            "keep it, or move it away deliberately (every record it keyed needs it to verify)",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot create service key {target}: {exc.strerror}") from None
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask said
        os.write(descriptor, (secret.hex() + "\n").encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return ServiceKey(key_id_of(secret), target, secret)


def copy_service_key(key: ServiceKey, path: Path | str) -> ServiceKey:
    """Write ``key`` (the same secret) to a new file ``path`` with mode 0600; never overwrite.

    For a workspace moved to another database (``db copy``): its records were MACed with this
    key, so the copy verifies only with the same key where the target looks for it.
    """
    target = Path(path).expanduser()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"service key {target} already exists; a key is never overwritten",
            "move it away deliberately, or point CRYPTO_ANALYZER_SERVICE_KEY_FILE at the key",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot create service key {target}: {exc.strerror}") from None
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, (key._secret.hex() + "\n").encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return ServiceKey(key.key_id, target, key._secret)


def load_service_key(path: Path | str) -> ServiceKey:
    """Read the key at ``path``: a regular file, no group/other access, 64 hex characters."""
    target = Path(path).expanduser()
    try:
        info = target.stat()
    except FileNotFoundError:
        raise ConfigError(f"service key file {target} does not exist", _HINT) from None
    except OSError as exc:
        raise ConfigError(f"cannot read service key file {target}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"service key {target} is not a regular file", _HINT)
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        raise ConfigError(
            f"service key {target} has mode {stat.S_IMODE(info.st_mode):04o}: group or others "
            "may access it, so it is refused",
            f"chmod 600 {target}",
        )
    if info.st_size > _MAX_FILE_BYTES:
        raise ConfigError(f"service key {target} is {info.st_size} bytes; not a service key")
    try:
        text = target.read_bytes().decode("ascii").strip()
        secret = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise ConfigError(
            f"service key {target} does not hold {KEY_BYTES} bytes as {2 * KEY_BYTES} hex "
            "characters",
            _HINT,
        )
    return ServiceKey(key_id_of(secret), target, secret)


def default_key_path(db_url: str | URL) -> Path | None:
    """``<file>.service-key`` next to the (resolved) SQLite file; None for other backends."""
    url = make_url(db_url) if isinstance(db_url, str) else db_url
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    database = Path(url.database).expanduser().resolve()
    return database.with_name(database.name + KEY_FILE_SUFFIX)


@dataclass(frozen=True, slots=True)
class KeyLocation:
    """Where the service key is looked for, and why there (for messages and ``doctor``)."""

    path: Path | None
    source: str
    """``environment`` (the variable), ``default`` (next to the SQLite file) or ``none``."""

    def describe(self) -> str:
        if self.source == "environment":
            return f"{self.path} (from {SERVICE_KEY_VARIABLE})"
        if self.source == "default":
            return f"{self.path} (default next to the SQLite database)"
        return f"nowhere: set {SERVICE_KEY_VARIABLE}"


def key_location(db_url: str | URL) -> KeyLocation:
    """The variable's file if set, else the SQLite default path, else none."""
    explicit = service_key_file()
    if explicit is not None:
        return KeyLocation(explicit, "environment")
    derived = default_key_path(db_url)
    return KeyLocation(derived, "none" if derived is None else "default")


def resolve_service_key(db_url: str | URL) -> ServiceKey | None:
    """The workspace's key, or None when none is configured.

    A file named by the variable must exist and be valid (an error otherwise: a deployment that
    points at a key and does not find it must not quietly run unkeyed). The default path is used
    only when the file exists.
    """
    location = key_location(db_url)
    if location.path is None:
        return None
    if location.source == "default" and not location.path.exists():
        return None
    return load_service_key(location.path)
