"""The project's exception hierarchy.

Every error a user can trigger derives from :class:`CryptoAnalyzerError` and carries two parts: what
was wrong and what to do about it. Interfaces (CLI, API) render ``str(error)`` as one line and map
the
class to an exit code or HTTP status; the domain code never knows about either.
"""

from __future__ import annotations

__all__ = [
    "AppendOnlyViolation",
    "ArtifactConflictError",
    "ArtifactIntegrityError",
    "ArtifactStoreError",
    "AuthenticationError",
    "AuthorizationError",
    "ConfigError",
    "CryptoAnalyzerError",
    "DatabaseError",
    "DatasetIdentityError",
    "NotFoundError",
    "PluginError",
    "SchemaNotReadyError",
    "ValidationError",
]


class CryptoAnalyzerError(Exception):
    """Base class: a problem the user can act on.

    ``problem`` says what went wrong; ``hint`` says what to do. ``str()`` joins them so that a
    single
    line is enough to fix the issue.
    """

    exit_code: int = 1

    def __init__(self, problem: str, hint: str | None = None) -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.hint:
            return f"{self.problem} ({self.hint})"
        return self.problem


class ConfigError(CryptoAnalyzerError):
    """A setting, environment variable or config file value is malformed or inconsistent."""

    exit_code = 2


class PluginError(ConfigError):
    """A plugin (entry point) failed to import, clashes with a registered name, or misbehaves.

    A configuration problem of the installation, not of the data: the fix is to repair, rename or
    uninstall the distribution named in the message. Never downgraded to a warning, because a
    silently skipped plugin would change which procedures or rules decided.
    """


class ValidationError(CryptoAnalyzerError):
    """An input value (argument, file, payload) is outside what the operation accepts."""

    exit_code = 2


class NotFoundError(CryptoAnalyzerError):
    """Something the user named (database, run, candidate, table) does not exist."""


class DatabaseError(CryptoAnalyzerError):
    """The database could not be reached, or an operation on it failed."""


class SchemaNotReadyError(DatabaseError):
    """The database schema is missing or not at the head revision; reads refuse to run DDL."""


class AppendOnlyViolation(DatabaseError):
    """An UPDATE or DELETE hit an append-only table (governance events, reports, lineage)."""


class DatasetIdentityError(CryptoAnalyzerError):
    """A dataset identity cannot be computed in the requested mode (e.g. STRICT without a key)."""


class ArtifactConflictError(CryptoAnalyzerError):
    """A put would overwrite an existing artifact with different bytes (stores are create-only)."""


class ArtifactIntegrityError(CryptoAnalyzerError):
    """Stored bytes or values do not match the digest recorded for them: the artifact was changed
    after it was written (or replaced by another file) and must not be used."""


class ArtifactStoreError(CryptoAnalyzerError):
    """The artifact store refused or failed an operation on a valid key.

    A symbolic link planted inside a local store, a file where a directory belongs, a full disk or
    an unreachable S3 endpoint: the store never passes on a raw ``OSError`` or client exception.
    """


class AuthenticationError(CryptoAnalyzerError):
    """The caller's credential is missing, unknown, revoked or disabled, or does not match the
    identity it claims (``--actor``). Like bad input, the caller must change how it calls."""

    exit_code = 2


class AuthorizationError(CryptoAnalyzerError):
    """The caller is known but its role does not allow the action (a refusal, not bad input)."""
