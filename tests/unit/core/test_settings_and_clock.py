"""Settings resolution (environment, TOML, overrides) and the pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crypto_analyzer.core import clock
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import load_settings, reset_settings_cache


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"CRYPTO_ANALYZER_{name}", value)
    reset_settings_cache()


def test_defaults() -> None:
    settings = load_settings()
    assert settings.db_url == "sqlite:///crypto_analyzer.sqlite"
    assert settings.artifacts == "file://./artifacts"
    assert settings.tenant == "default"
    assert settings.fixed_time is None


def test_precedence_override_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("crypto-analyzer.toml").write_text(
        'db_url = "sqlite:///from_file.sqlite"\ntenant = "file-tenant"\nlog_level = "info"\n'
    )
    reset_settings_cache()
    assert load_settings().db_url == "sqlite:///from_file.sqlite"
    assert load_settings().log_level == "INFO"
    _env(monkeypatch, DB_URL="sqlite:///from_env.sqlite")
    assert load_settings().db_url == "sqlite:///from_env.sqlite"
    assert load_settings().tenant == "file-tenant"
    assert load_settings(db_url="sqlite:///flag.sqlite").db_url == "sqlite:///flag.sqlite"


def test_explicit_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('tenant = "team-a"\n')
    _env(monkeypatch, CONFIG=str(config))
    assert load_settings().tenant == "team-a"
    _env(monkeypatch, CONFIG=str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not name a file"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DB_URL", "not a url", "CRYPTO_ANALYZER_DB_URL.*not a database URL"),
        ("DB_URL", "mysql://u@h/db", "CRYPTO_ANALYZER_DB_URL.*backend 'mysql'"),
        ("DB_URL", "sqlite://", "CRYPTO_ANALYZER_DB_URL.*names no file"),
        # Syntax only: an unknown scheme is refused by the store registry when opened.
        ("ARTIFACTS", "artifacts-without-scheme", "CRYPTO_ANALYZER_ARTIFACTS.*SCHEME://"),
        ("TENANT", "Bad Tenant", "CRYPTO_ANALYZER_TENANT"),
        (
            "FIXED_TIME",
            "yesterday",
            "CRYPTO_ANALYZER_FIXED_TIME.*expected e.g. 2024-01-01T00:00:00Z",
        ),
        ("FIXED_TIME", "2024-01-01T00:00:00", "CRYPTO_ANALYZER_FIXED_TIME.*no timezone"),
        ("LOG_LEVEL", "LOUD", "CRYPTO_ANALYZER_LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    _env(monkeypatch, **{name: value})
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_bad_toml_is_a_config_error() -> None:
    Path("crypto-analyzer.toml").write_text("db_url = [unclosed\n")
    reset_settings_cache()
    with pytest.raises(ConfigError, match=r"crypto-analyzer\.toml"):
        load_settings()


def test_clock_pins_and_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, FIXED_TIME="2024-02-29T23:59:59.123456+02:00")
    assert clock.is_pinned()
    assert clock.now() == datetime(2024, 2, 29, 21, 59, 59, 123456, tzinfo=UTC)
    assert clock.to_iso(clock.now()) == "2024-02-29T21:59:59.123456Z"
    assert clock.now_ms() == 1709243999123


def test_wall_clock_ignores_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, FIXED_TIME="2024-02-29T23:59:59Z")
    before = datetime.now(UTC)
    wall = clock.wall_now()
    assert wall >= before > clock.now()  # the pin is in the past; the wall clock is not


def test_breaker_cooldown_uses_the_wall_clock() -> None:
    import inspect

    from crypto_analyzer.ingest.resilience.breaker import CircuitBreaker

    default = inspect.signature(CircuitBreaker).parameters["clock"].default
    assert default is clock.wall_now


def test_unpinned_clock_moves_forward() -> None:
    first = clock.now()
    assert not clock.is_pinned()
    assert clock.now() >= first
    assert first.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        clock.to_ms(datetime(2024, 1, 1))
