"""Settings: the single resolver for every ``CRYPTO_ANALYZER_*`` variable.

Precedence, highest first: explicit overrides (CLI flags such as ``--db``), environment variables,
the optional ``crypto-analyzer.toml`` in the working directory (or the file named by
``CRYPTO_ANALYZER_CONFIG``), then defaults. No other module reads these variables; everything asks
:func:`load_settings` (or receives a :class:`Settings`), so tests and interfaces can pin them.

A config file is whatever happens to lie in the working directory, so it may not decide who is
acting or when: ``fixed_time`` and ``token`` in a file are ignored (:func:`config_source` names
the file and what was ignored, and the CLI warns). The clock is pinned only by
``CRYPTO_ANALYZER_FIXED_TIME`` and a principal token comes only from ``CRYPTO_ANALYZER_TOKEN``
(:func:`principal_token`), both environment variables of the person running the command; the
service key file is named only by ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` (:func:`service_key_file`).
The settings file is size- and depth-checked before it is parsed, and every text setting has a
length limit; an over-long value is reported by its length, never echoed (URLs carry passwords).
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from crypto_analyzer.core.config_files import parse_toml, read_config_file
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.instants import check_instant

__all__ = [
    "CONFIG_FILE_NAME",
    "DEFAULT_APP_ROLE",
    "ENV_PREFIX",
    "FILE_IGNORED_KEYS",
    "MAX_URL_CHARS",
    "SERVICE_KEY_VARIABLE",
    "SIGNING_KEY_FILE_VARIABLE",
    "SIGNING_KEY_VARIABLE",
    "TOKEN_VARIABLE",
    "WEBHOOK_SECRET_VARIABLE",
    "ConfigSource",
    "Settings",
    "config_source",
    "load_settings",
    "parse_fixed_time",
    "principal_token",
    "reset_settings_cache",
    "service_key_file",
    "signing_key_source",
    "webhook_secret",
]

ENV_PREFIX = "CRYPTO_ANALYZER_"
CONFIG_FILE_NAME = "crypto-analyzer.toml"
_CONFIG_PATH_VARIABLE = f"{ENV_PREFIX}CONFIG"
TOKEN_VARIABLE = f"{ENV_PREFIX}TOKEN"
"""The principal token of the caller; read from the environment only, never from a file."""
SERVICE_KEY_VARIABLE = f"{ENV_PREFIX}SERVICE_KEY_FILE"
"""The file holding the service key (``core.service_key``); environment only, never a file."""
SIGNING_KEY_FILE_VARIABLE = f"{ENV_PREFIX}SIGNING_KEY_FILE"
"""The Ed25519 private key (PEM file) the report signs attestations with; environment only."""
SIGNING_KEY_VARIABLE = f"{ENV_PREFIX}SIGNING_KEY"
"""The same key as PEM text in the environment (a CI secret); environment only."""
WEBHOOK_SECRET_VARIABLE = f"{ENV_PREFIX}WEBHOOK_SECRET"
"""The shared secret ``ci notify`` signs webhook bodies with (HMAC-SHA256); environment only."""
FILE_IGNORED_KEYS = ("fixed_time", "token", "service_key_file")
"""Keys a config file may not set: the clock, the caller's identity and the service key."""
_TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ROLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_APP_ROLE = "crypto_analyzer_app"
"""The PostgreSQL role the application connects as (``docs/tenancy.md``): DML rights only."""
_DB_SCHEMES = ("sqlite", "postgresql")
_ARTIFACT_SCHEMES = ("file", "s3", "gs")
MAX_URL_CHARS = 4096
"""Database, artifact-store and S3 endpoint URLs (and the S3 region) are at most this long."""

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def parse_fixed_time(text: str) -> datetime:
    """Parse an ISO-8601 instant with an explicit offset (``2024-01-01T00:00:00Z``).

    The instant must lie in [1970-01-01, 2100-01-01) and the offset within ±14:00
    (:func:`~crypto_analyzer.core.instants.check_instant`); anything else is a ValueError that
    says which bound it broke, never an ``OverflowError`` later on.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 timestamp; expected e.g. 2024-01-01T00:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise ValueError(
            f"{text!r} has no timezone; expected an explicit offset, e.g. 2024-01-01T00:00:00Z"
        )
    check_instant(value, "fixed time")
    return value


def _checked_db_url(value: str) -> str:
    """``value`` stripped, once it is a SQLite file URL or a PostgreSQL URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = value.strip()
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(
            f"{value!r} is not a database URL; use sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    backend = url.get_backend_name()
    if backend not in _DB_SCHEMES:
        raise ValueError(
            f"{value!r} uses backend {backend!r}; supported: sqlite:///PATH, postgresql://…"
        )
    if backend == "sqlite" and not url.database:
        raise ValueError(
            f"{value!r} names no file; in-memory SQLite cannot hold a research workspace, "
            "use sqlite:///PATH"
        )
    return text


class Settings(BaseSettings):
    """Resolved runtime settings. Construct through :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    db_url: str = Field("sqlite:///crypto_analyzer.sqlite", max_length=MAX_URL_CHARS)
    admin_db_url: str | None = Field(None, max_length=MAX_URL_CHARS)
    """The owner/migration URL (PostgreSQL: the role that owns the schema and runs ``init``,
    ``db upgrade``, ``tenants`` and ``db copy``). Unset: ``db_url`` does both jobs, as on SQLite."""
    app_role: str = DEFAULT_APP_ROLE
    """Name of the non-owner PostgreSQL role ``init``/``db upgrade`` create and grant DML to."""
    artifacts: str = Field("file://./artifacts", max_length=MAX_URL_CHARS)
    tenant: str = "default"
    log_level: LogLevel = "WARNING"
    fixed_time: datetime | None = None
    s3_endpoint_url: str | None = Field(None, max_length=MAX_URL_CHARS)
    """S3-compatible endpoint (MinIO, R2, a local test server); unset means AWS itself."""
    s3_region: str | None = Field(None, max_length=MAX_URL_CHARS)

    @property
    def migration_url(self) -> str:
        """The URL that runs DDL and admin work: ``admin_db_url`` when set, else ``db_url``."""
        return self.admin_db_url or self.db_url

    @field_validator("app_role")
    @classmethod
    def _check_app_role(cls, value: str) -> str:
        if not _ROLE_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a role name; use 1-63 lowercase letters, digits or '_', "
                "not starting with a digit"
            )
        return value

    @field_validator("admin_db_url")
    @classmethod
    def _check_admin_db_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return _checked_db_url(value)

    @field_validator("db_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        return _checked_db_url(value)

    @field_validator("artifacts")
    @classmethod
    def _check_artifacts(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in _ARTIFACT_SCHEMES or not rest:
            raise ValueError(
                f"{value!r} is not an artifact store URL; use file://PATH, s3://BUCKET/PREFIX "
                "or gs://BUCKET/PREFIX"
            )
        return value

    @field_validator("tenant")
    @classmethod
    def _check_tenant(cls, value: str) -> str:
        if not _TENANT_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a tenant id; use 1-63 lowercase letters, digits, '-' or '_'"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("fixed_time", mode="before")
    @classmethod
    def _check_fixed_time(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            check_instant(value, "fixed time")
            return value
        return parse_fixed_time(str(value))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _config_file_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(_FileSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


class _FileSource(TomlConfigSettingsSource):
    """The TOML source without the keys a file may not set (:data:`FILE_IGNORED_KEYS`)."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        data = super()._read_file(file_path)
        return {key: value for key, value in data.items() if not _file_ignores(key)}


def _file_ignores(key: str) -> bool:
    return key.lower() in FILE_IGNORED_KEYS


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """Which config file applies (``None``: defaults and environment only) and what it ignored."""

    path: Path | None
    ignored: tuple[str, ...]


def config_source() -> ConfigSource:
    """The config file the settings read, and the keys of it that were ignored.

    Interfaces print this for every governed command, so a ``crypto-analyzer.toml`` planted in a
    working directory can re-target the database only in plain sight.
    """
    path = _config_file_path()
    if path is None:
        return ConfigSource(None, ())
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", "fix the file") from None
    ignored = sorted({key.lower() for key in data if _file_ignores(key)})
    return ConfigSource(path.resolve(), tuple(ignored))


def principal_token() -> str | None:
    """The caller's principal token from ``CRYPTO_ANALYZER_TOKEN`` (environment only), or None."""
    value = os.environ.get(TOKEN_VARIABLE, "").strip()
    return value or None


def service_key_file() -> Path | None:
    """The service key file named by ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` (environment only)."""
    value = os.environ.get(SERVICE_KEY_VARIABLE, "").strip()
    return Path(value).expanduser() if value else None


def signing_key_source() -> tuple[str, str] | None:
    """Where the attestation signing key comes from: ``("file", path)``, ``("env", pem)`` or None.

    Environment only, like the service key: a config file lying in the working directory must not
    decide who signs. Setting both variables is refused (which one signs would be a guess).
    """
    path = os.environ.get(SIGNING_KEY_FILE_VARIABLE, "").strip()
    text = os.environ.get(SIGNING_KEY_VARIABLE, "").strip()
    if path and text:
        raise ConfigError(
            f"both {SIGNING_KEY_FILE_VARIABLE} and {SIGNING_KEY_VARIABLE} are set",
            "set exactly one of them",
        )
    if path:
        return ("file", str(Path(path).expanduser()))
    if text:
        return ("env", text)
    return None


def webhook_secret() -> str | None:
    """The webhook signing secret from ``CRYPTO_ANALYZER_WEBHOOK_SECRET`` (environment only)."""
    value = os.environ.get(WEBHOOK_SECRET_VARIABLE, "").strip()
    return value or None


def _config_file_path() -> Path | None:
    explicit = os.environ.get(_CONFIG_PATH_VARIABLE)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"{_CONFIG_PATH_VARIABLE}={explicit!r} does not name a file",
                "point it at a TOML file or unset it",
            )
        return _checked(path)
    default = Path.cwd() / CONFIG_FILE_NAME
    return _checked(default) if default.is_file() else None


def _checked(path: Path) -> Path:
    """``path`` once it is known to be small and shallow enough for the TOML source to parse."""
    what = f"settings file {path.name}" if path.parent == Path.cwd() else f"settings file {path}"
    parse_toml(read_config_file(path, what=what), what=what)
    return path


def _field_source(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings; ``overrides`` (None values ignored) win over every other source.

    Raises :class:`ConfigError` with one line naming the variable, the value and the expected form.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        if not given:
            return _cached_settings()
        return Settings(**given)
    except pydantic.ValidationError as exc:
        raise _config_error(exc) from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"cannot read {CONFIG_FILE_NAME}: {exc}", "fix the file") from None


@functools.lru_cache(maxsize=1)
def _cached_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached environment resolution (tests and long-lived processes after env edits)."""
    _cached_settings.cache_clear()


def _config_error(exc: pydantic.ValidationError) -> ConfigError:
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "string_too_long" and isinstance(first["input"], str):
        message += f" (got {len(first['input']):,} characters)"
    if field == "fixed_time":
        hint = f"set {_field_source(field)} to an instant in 1970-2099 with its offset, or unset it"
    else:
        hint = f"set it in the environment, {CONFIG_FILE_NAME} or on the command line"
    return ConfigError(f"invalid {_field_source(field)}: {message}", hint)
