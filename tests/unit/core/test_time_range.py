"""Pinned time is bounded, audit stamps are fixed width, and a config file cannot pin the clock.

Review finding 6 (issue 21): ``CRYPTO_ANALYZER_FIXED_TIME`` accepted year 1 (written as
``1-01-01…``, which sorts before ``2024-…`` as text), year 9999, and offsets that crashed with an
internal ``OverflowError``. Finding 9: a ``crypto-analyzer.toml`` planted in the working directory
could pin the clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crypto_analyzer.core import clock
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import (
    config_source,
    load_settings,
    parse_fixed_time,
    principal_token,
    reset_settings_cache,
)

FIXED_WIDTH = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def _pin(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", value)
    reset_settings_cache()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0001-01-01T00:00:00Z", "before 1970-01-01"),
        ("1969-12-31T23:59:59Z", "before 1970-01-01"),
        ("9999-12-31T23:59:59Z", "not before 2100-01-01"),
        ("2100-01-01T00:00:00Z", "not before 2100-01-01"),
        ("0001-01-01T00:00:00+01:00", "before 1970-01-01"),  # used to raise OverflowError
        ("9999-12-31T23:59:59-01:00", "not before 2100-01-01"),  # used to raise OverflowError
        ("2024-01-01T00:00:00+23:59", "offset"),
        ("2024-01-01T00:00:00-14:01", "offset"),
    ],
)
def test_out_of_range_fixed_time_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, value: str, fragment: str
) -> None:
    _pin(monkeypatch, value)
    with pytest.raises(ConfigError, match="CRYPTO_ANALYZER_FIXED_TIME") as caught:
        load_settings()
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_accepted_range_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_fixed_time("1970-01-01T00:00:00Z") == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_fixed_time("2099-12-31T23:59:59.999999Z").year == 2099
    assert parse_fixed_time("2024-01-01T00:00:00+14:00").utcoffset() == timedelta(hours=14)
    with pytest.raises(ValueError, match="offset"):
        parse_fixed_time("2024-06-01T00:00:00+14:30")
    # an in-memory override is checked the same way as the environment
    with pytest.raises(ConfigError, match="before 1970-01-01"):
        load_settings(fixed_time=datetime(1, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 0, 5, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
    ids=["year-1", "year-999", "epoch", "leap", "year-9999", "offset"],
)
def test_to_iso_is_fixed_width_for_every_value(moment: datetime) -> None:
    text = clock.to_iso(moment)
    assert FIXED_WIDTH.match(text), text
    assert clock.from_iso(text) == moment


def test_to_iso_refuses_what_cannot_be_written_in_utc() -> None:
    east = timezone(timedelta(hours=1))
    with pytest.raises(ValueError, match="cannot be written as UTC"):
        clock.to_iso(datetime(1, 1, 1, 0, 30, tzinfo=east))  # no OverflowError leaks out


@pytest.mark.parametrize(
    "text",
    ["2024-01-01T00:00:00Z", "1-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000+00:00", ""],
)
def test_from_iso_accepts_only_the_stamp_format(text: str) -> None:
    with pytest.raises(ValueError, match="not an audit timestamp"):
        clock.from_iso(text)


def test_governed_now_ignores_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    _pin(monkeypatch, "2020-01-01T00:00:00Z")
    before = datetime.now(UTC)
    assert clock.now() == datetime(2020, 1, 1, tzinfo=UTC)
    assert clock.governed_now() >= before


def test_a_config_file_cannot_pin_the_clock() -> None:
    Path("crypto-analyzer.toml").write_text(
        'tenant = "planted"\nfixed_time = "2020-01-01T00:00:00Z"\ntoken = "ca_secret"\n'
    )
    reset_settings_cache()
    settings = load_settings()
    assert settings.tenant == "planted"  # the rest of the file still applies, and is announced
    assert settings.fixed_time is None and not clock.is_pinned()
    source = config_source()
    assert source.path == Path.cwd() / "crypto-analyzer.toml"
    assert source.ignored == ("fixed_time", "token")
    assert principal_token() is None  # a token is read from the environment only


def test_config_source_without_a_file_and_the_token_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert config_source().path is None and config_source().ignored == ()
    monkeypatch.setenv("CRYPTO_ANALYZER_TOKEN", "  ca_abc  ")
    assert principal_token() == "ca_abc"
    monkeypatch.setenv("CRYPTO_ANALYZER_TOKEN", "")
    assert principal_token() is None
