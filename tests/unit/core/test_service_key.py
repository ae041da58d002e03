"""The service key: created once with mode 0600, refused when loose, found only where it may be."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.service_key import (
    create_service_key,
    default_key_path,
    key_id_of,
    key_location,
    load_service_key,
    resolve_service_key,
)
from crypto_analyzer.core.settings import config_source

VARIABLE = "CRYPTO_ANALYZER_SERVICE_KEY_FILE"


def test_a_new_key_is_32_random_bytes_in_a_0600_file_and_is_never_overwritten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "service.key"
    old_umask = os.umask(0)  # whatever the umask, the file is 0600
    try:
        key = create_service_key(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    assert len(secret) == 32
    assert key.key_id == hashlib.sha256(secret).hexdigest()[:16] == key_id_of(secret)
    assert secret.hex() not in repr(key)
    with pytest.raises(ConfigError, match="already exists; a key is never overwritten"):
        create_service_key(path)
    assert load_service_key(path).key_id == key.key_id
    assert create_service_key(tmp_path / "other.key").key_id != key.key_id
    with pytest.raises(ConfigError, match="does not exist"):
        create_service_key(tmp_path / "missing" / "service.key")


def test_macs_are_per_key_and_per_domain(tmp_path: Path) -> None:
    key = create_service_key(tmp_path / "a.key")
    other = create_service_key(tmp_path / "b.key")
    body = {"hash": "ab" * 32}
    mac = key.mac("governance_event", body)
    assert len(mac) == 64 and mac == key.mac("governance_event", dict(body))
    assert key.check("governance_event", body, mac)
    assert not key.check("trial_ledger", body, mac)  # another domain
    assert not key.check("governance_event", {"hash": "cd" * 32}, mac)
    assert not other.check("governance_event", body, mac)
    assert not key.check("governance_event", body, None)


@pytest.mark.parametrize(
    ("mode", "content", "fragment"),
    [
        (0o644, None, "group or others may access it"),
        (0o640, None, "mode 0640"),
        (0o600, "not hex\n", "does not hold 32 bytes"),
        (0o600, "ab" * 16, "does not hold 32 bytes"),
    ],
)
def test_a_loose_or_malformed_key_file_is_refused_naming_the_file(
    tmp_path: Path, mode: int, content: str | None, fragment: str
) -> None:
    path = tmp_path / "service.key"
    create_service_key(path)
    if content is not None:
        path.write_text(content, encoding="ascii")
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_service_key(path)
    assert str(path) in str(caught.value)


def test_a_directory_is_not_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        load_service_key(tmp_path)


def test_the_environment_names_the_key_else_the_sqlite_default_else_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    default = tmp_path / "w.sqlite.service-key"
    assert default_key_path(url) == default.resolve()
    assert default_key_path("postgresql://u@h/db") is None
    assert resolve_service_key(url) is None  # the default place is empty
    assert resolve_service_key("postgresql://u@h/db") is None
    made = create_service_key(default)
    assert resolve_service_key(url).key_id == made.key_id  # type: ignore[union-attr]
    assert key_location(url).source == "default"
    elsewhere = create_service_key(tmp_path / "host.key")
    monkeypatch.setenv(VARIABLE, str(elsewhere.path))
    assert resolve_service_key(url).key_id == elsewhere.key_id  # type: ignore[union-attr]
    assert resolve_service_key("postgresql://u@h/db").key_id == elsewhere.key_id  # type: ignore[union-attr]
    monkeypatch.setenv(VARIABLE, str(tmp_path / "gone.key"))
    with pytest.raises(ConfigError, match=r"gone\.key does not exist"):
        resolve_service_key(url)  # a configured key that is missing never means "no key"


def test_a_config_file_cannot_name_the_service_key(tmp_path: Path) -> None:
    Path("crypto-analyzer.toml").write_text(
        f'service_key_file = "{tmp_path / "planted.key"}"\n', encoding="utf-8"
    )
    create_service_key(tmp_path / "planted.key")
    assert "service_key_file" in config_source().ignored
    assert resolve_service_key(f"sqlite:///{tmp_path / 'w.sqlite'}") is None
