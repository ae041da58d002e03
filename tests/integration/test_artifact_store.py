"""One contract suite for every artifact store backend (local folder and S3-compatible)."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

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
