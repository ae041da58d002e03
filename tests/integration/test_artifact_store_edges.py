"""Hostile edges of the artifact store contract.

Keys are checked once, in the shared base, for every backend (the ``store_url`` fixture sweeps the
local folder and the S3 endpoint): a bad key is a ``ValidationError`` that names the key and the
rule, never a raw ``ValueError``/``OSError`` from the operating system or a client library. The
local store never follows a symbolic link planted inside it, on writes or reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.artifacts.store import MAX_KEY_BYTES, MAX_SEGMENT_BYTES
from crypto_analyzer.core.errors import ArtifactStoreError, ValidationError

BAD_KEYS = {
    "nul": ("runs/a\x00b.json", "control or format character"),
    "newline": ("runs/a\nb.json", "control or format character"),
    "delete": ("runs/\x7f.json", "control or format character"),
    "c1-control": ("runs/\x85.json", "control or format character"),
    "bidi-override": ("runs/\u202egpj.exe", "control or format character"),
    "lone-surrogate": ("runs/\ud800.json", "not valid UTF-8"),
    "long-segment": ("runs/" + "x" * (MAX_SEGMENT_BYTES + 1), f"longer than {MAX_SEGMENT_BYTES}"),
    "long-multibyte-segment": ("runs/" + "é" * 128, f"longer than {MAX_SEGMENT_BYTES}"),
    "long-key": ("/".join(["y" * 200] * 6), "bytes long"),
    "trailing-slash": ("runs/a/", "trailing '/'"),
    "absolute": ("/runs/a", "absolute"),
    "backslash": ("runs\\a", "backslash"),
    "dot-dot": ("runs/../a", "'.' or '..'"),
    "dot": ("./a", "'.' or '..'"),
    "empty-segment": ("runs//a", "empty segment"),
    "empty": ("", "empty"),
    "reserved": ("runs/.tmp-123", "reserved"),
}


@pytest.fixture
def store(store_url: tuple[str, dict[str, object]]) -> ArtifactStore:
    url, options = store_url
    return open_store(url, **options)


@pytest.mark.parametrize(("key", "rule"), list(BAD_KEYS.values()), ids=list(BAD_KEYS))
def test_every_operation_refuses_a_bad_key_naming_key_and_rule(
    store: ArtifactStore, key: str, rule: str
) -> None:
    operations = {
        "put": lambda: store.put(key, b"x"),
        "get": lambda: store.get(key),
        "exists": lambda: store.exists(key),
        "open": lambda: store.open(key),
        "ref": lambda: store.ref(key),
    }
    for name, operation in operations.items():
        with pytest.raises(ValidationError) as caught:
            operation()
        message = str(caught.value)
        assert message.startswith("artifact key "), (name, message)
        assert rule in message, (name, message)
    assert store.list() == []


def test_a_key_that_is_not_text_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(ValidationError, match="artifact key must be a string"):
        store.put(b"runs/a.json", b"x")  # type: ignore[arg-type]


def test_list_prefixes_are_checked_too(store: ArtifactStore) -> None:
    store.put("runs/a.json", b"x")
    assert store.list("runs/") == ["runs/a.json"]
    with pytest.raises(ValidationError, match="control or format character"):
        store.list("runs/\x00")


def test_the_limits_are_exact_on_every_backend(store: ArtifactStore) -> None:
    budget = store.max_key_bytes
    assert 0 < budget <= MAX_KEY_BYTES
    segment = "s" * MAX_SEGMENT_BYTES
    assert store.put(f"runs/{segment}", b"x").key == f"runs/{segment}"
    parts: list[str] = []
    while len("/".join([*parts, "p" * 200])) <= budget:
        parts.append("p" * 200)
    longest = "/".join([*parts, "z" * (budget - len("/".join(parts)) - 1)])
    assert len(longest.encode()) == budget
    assert store.put(longest, b"edge").size == 4  # the backend really accepts the longest key
    assert store.get(longest) == b"edge"
    with pytest.raises(ValidationError, match=f"{budget + 1} bytes long"):
        store.put(longest + "z", b"x")


# -- local store: planted links ---------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> tuple[ArtifactStore, Path, Path]:
    root, outside = tmp_path / "store", tmp_path / "outside"
    outside.mkdir()
    store = open_store(f"file://{root}")
    store.put("runs/r1/ok.json", b"{}")
    return store, root, outside


def _everything(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_a_planted_directory_link_never_leads_a_put_outside(
    local: tuple[ArtifactStore, Path, Path],
) -> None:
    store, root, outside = local
    (root / "runs" / "r2").symlink_to(outside, target_is_directory=True)
    (root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ArtifactStoreError, match=r"symbolic link at 'runs/r2'"):
        store.put("runs/r2/x.json", b"{}")
    with pytest.raises(ArtifactStoreError, match=r"symbolic link at 'evil'"):
        store.put("evil/deeper/x.json", b"{}")
    assert _everything(outside) == []  # not even a directory was created through the link


def test_reads_do_not_follow_planted_links_either(local: tuple[ArtifactStore, Path, Path]) -> None:
    store, root, outside = local
    (outside / "secret.json").write_bytes(b"secret")
    (root / "evil").symlink_to(outside, target_is_directory=True)
    (root / "runs" / "r1" / "leak.json").symlink_to(outside / "secret.json")
    for key in ("evil/secret.json", "runs/r1/leak.json"):
        with pytest.raises(ArtifactStoreError, match="symbolic link"):
            store.get(key)
        with pytest.raises(ArtifactStoreError, match="symbolic link"):
            store.exists(key)
    assert store.list() == ["runs/r1/ok.json"]


def test_a_planted_file_link_is_refused_not_written_through(
    local: tuple[ArtifactStore, Path, Path],
) -> None:
    store, root, outside = local
    (root / "runs" / "r1" / "dangling.json").symlink_to(outside / "created.json")
    (outside / "existing.json").write_bytes(b"x")
    (root / "runs" / "r1" / "same.json").symlink_to(outside / "existing.json")
    with pytest.raises(ArtifactStoreError, match=r"symbolic link at 'runs/r1/dangling\.json'"):
        store.put("runs/r1/dangling.json", b"x")
    with pytest.raises(ArtifactStoreError, match=r"symbolic link at 'runs/r1/same\.json'"):
        store.put("runs/r1/same.json", b"x")  # same bytes: still not "already stored"
    assert _everything(outside) == ["existing.json"]


def test_filesystem_failures_are_store_errors_not_oserrors(
    local: tuple[ArtifactStore, Path, Path],
) -> None:
    store, root, _ = local
    with pytest.raises(ArtifactStoreError, match=r"'runs/r1/ok\.json' is not a directory"):
        store.put("runs/r1/ok.json/inner.json", b"x")
    (root / "runs" / "r1" / "folder.json").mkdir()
    with pytest.raises(ArtifactStoreError, match="is not a regular file"):
        store.put("runs/r1/folder.json", b"x")
