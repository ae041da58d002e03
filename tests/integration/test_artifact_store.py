"""One contract suite for every artifact store backend (local folder and S3-compatible)."""

from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store, open_store, register_store
from crypto_analyzer.core.errors import (
    ArtifactConflictError,
    ConfigError,
    NotFoundError,
    ValidationError,
)
from crypto_analyzer.core.settings import load_settings


@pytest.fixture
def store(store_url: tuple[str, dict[str, object]]) -> ArtifactStore:
    url, options = store_url
    return open_store(url, **options)


def test_put_returns_a_content_reference(store: ArtifactStore) -> None:
    ref = store.put("run-1/bundle.json", b'{"a":1}')
    assert ref.sha256 == hashlib.sha256(b'{"a":1}').hexdigest()
    assert ref.size == 7
    assert ref.uri == f"{store.url}/run-1/bundle.json"
    assert store.get("run-1/bundle.json") == b'{"a":1}'
    with store.open("run-1/bundle.json") as stream:  # a real stream: close it
        assert stream.read() == b'{"a":1}'
    assert store.ref("run-1/bundle.json") == ref


def test_same_bytes_are_a_no_op_and_different_bytes_are_refused(store: ArtifactStore) -> None:
    first = store.put("k/x.bin", b"abc")
    assert store.put("k/x.bin", b"abc") == first
    with pytest.raises(ArtifactConflictError, match="already exists with different content"):
        store.put("k/x.bin", b"abd")
    assert store.get("k/x.bin") == b"abc"


def test_concurrent_writers_of_different_bytes_leave_exactly_one(store: ArtifactStore) -> None:
    payloads = [f"writer-{i}".encode() for i in range(8)]

    def attempt(payload: bytes) -> bool:
        try:
            store.put("race/one.bin", payload)
        except ArtifactConflictError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, payloads))
    assert outcomes.count(True) == 1
    assert store.get("race/one.bin") == payloads[outcomes.index(True)]


def test_list_exists_and_missing_keys(store: ArtifactStore) -> None:
    for key in ("a/1.json", "a/2.json", "b/1.json"):
        store.put(key, key.encode())
    assert store.list() == ["a/1.json", "a/2.json", "b/1.json"]
    assert store.list("a/") == ["a/1.json", "a/2.json"]
    assert store.exists("a/1.json") and not store.exists("a/3.json")
    with pytest.raises(NotFoundError, match=r"a/3\.json does not exist"):
        store.get("a/3.json")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a\\b"])
def test_unclean_keys_are_refused(store: ArtifactStore, key: str) -> None:
    with pytest.raises(ValidationError, match="artifact key"):
        store.put(key, b"x")


def test_registry_fails_loudly() -> None:
    with pytest.raises(ConfigError, match=r"scheme 'ftp'.*known schemes: file://, s3://, gs://"):
        open_store("ftp://host/x")
    with pytest.raises(ConfigError, match="already registered"):
        register_store("file", lambda url, **_: open_store(url))


def test_settings_select_the_store(s3_bucket: str, s3_endpoint: str) -> None:
    settings = load_settings(artifacts=f"s3://{s3_bucket}/p", s3_endpoint_url=s3_endpoint)
    store = open_settings_store(settings)
    ref = store.put("x.txt", b"hello")
    assert ref.uri == f"s3://{s3_bucket}/p/x.txt"


def test_open_streams_without_reading_the_whole_object(store: ArtifactStore) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB
    store.put("big/blob.bin", data)
    stream = store.open("big/blob.bin")
    try:
        assert not isinstance(stream, io.BytesIO)  # the backend's own stream, not a copy
        first = stream.read(1000)
        rest = b"".join(iter(lambda: stream.read(65536), b""))
    finally:
        stream.close()
    assert first + rest == data and len(first) == 1000
    with pytest.raises(NotFoundError, match="does not exist"):
        store.open("big/missing.bin")


def _payload(n_bytes: int, seed: int = 0) -> bytes:
    return bytes((i * 131 + seed) % 251 for i in range(n_bytes))


def test_put_file_streams_a_path_or_an_open_file(store: ArtifactStore, tmp_path: Path) -> None:
    data = _payload(3 * (1 << 20) + 17)  # several copy chunks and a short last one
    source = tmp_path / "fit.arrow"
    source.write_bytes(data)
    ref = store.put_file("factor_runs/a.arrow", source)
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
    assert ref.key == "factor_runs/a.arrow" and ref.uri == f"{store.url}/factor_runs/a.arrow"
    assert store.get("factor_runs/a.arrow") == data
    with source.open("rb") as stream:
        stream.seek(1000)  # read from the start whatever the position
        assert store.put_file("factor_runs/b.arrow", stream) == store.ref("factor_runs/b.arrow")
        assert not stream.closed  # the caller's file stays the caller's
    assert store.get("factor_runs/b.arrow") == data
    assert store.put_file("factor_runs/c.arrow", str(source)).sha256 == ref.sha256


def test_put_file_is_create_only_like_put(store: ArtifactStore, tmp_path: Path) -> None:
    same, other = tmp_path / "same.bin", tmp_path / "other.bin"
    same.write_bytes(b"abc" * 1000)
    other.write_bytes(b"abd" * 1000)
    first = store.put("k/x.bin", b"abc" * 1000)
    assert store.put_file("k/x.bin", same) == first  # the same bytes: a no-op
    assert store.put_file("k/y.bin", same) == store.put_file("k/y.bin", same)
    with pytest.raises(ArtifactConflictError, match=r"k/x\.bin already exists with different"):
        store.put_file("k/x.bin", other)
    with pytest.raises(ArtifactConflictError, match="already exists with different content"):
        store.put("k/y.bin", b"abd" * 1000)
    assert store.get("k/x.bin") == b"abc" * 1000 and store.get("k/y.bin") == b"abc" * 1000


def test_put_file_concurrent_writers_leave_exactly_one(
    store: ArtifactStore, tmp_path: Path
) -> None:
    sources = []
    for i in range(6):
        sources.append(tmp_path / f"w{i}.bin")
        sources[-1].write_bytes(_payload(200_000, seed=i))

    def attempt(source: Path) -> bool:
        try:
            store.put_file("race/file.bin", source)
        except ArtifactConflictError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, sources))
    assert outcomes.count(True) == 1
    assert store.get("race/file.bin") == sources[outcomes.index(True)].read_bytes()


def test_put_file_refuses_bad_sources(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"source file .*missing\.bin' does not exist"):
        store.put_file("k/m.bin", tmp_path / "missing.bin")
    read_end, write_end = os.pipe()
    with (
        os.fdopen(read_end, "rb") as pipe,
        os.fdopen(write_end, "wb"),
        pytest.raises(ValidationError, match="is not readable and seekable"),
    ):
        store.put_file("k/p.bin", pipe)
    text = tmp_path / "t.txt"
    text.write_text("x")
    with text.open("r") as stream, pytest.raises(TypeError, match="a path or a binary file"):
        store.put_file("k/t.bin", stream)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="artifact key"):
        store.put_file("a/../b", text)
    assert not store.exists("k/m.bin") and not store.exists("k/p.bin")


class _DictStore(ArtifactStore):
    """A backend with only the required hooks: ``put_file`` falls back to ``_create``."""

    def __init__(self) -> None:
        super().__init__("mem://")
        self.blobs: dict[str, bytes] = {}

    def _create(self, key: str, data: bytes) -> bool:
        return self.blobs.setdefault(key, data) is data

    def _read(self, key: str) -> bytes | None:
        return self.blobs.get(key)

    def _exists(self, key: str) -> bool:
        return key in self.blobs

    def _list(self, prefix: str) -> list[str]:
        return [k for k in self.blobs if k.startswith(prefix)]


def test_put_file_works_on_a_backend_without_streaming(tmp_path: Path) -> None:
    store = _DictStore()
    source = tmp_path / "s.bin"
    source.write_bytes(b"hello")
    ref = store.put_file("a/b", source)
    assert (ref.sha256, ref.size, store.blobs["a/b"]) == (
        hashlib.sha256(b"hello").hexdigest(),
        5,
        b"hello",
    )
    source.write_bytes(b"hellO")
    with pytest.raises(ArtifactConflictError):
        store.put_file("a/b", source)
