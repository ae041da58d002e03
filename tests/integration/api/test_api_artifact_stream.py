"""``GET /runs/{id}/artifacts/{name}`` streams a large artifact from the store in chunks.

A 12 MB artifact is recorded in the run's lineage; the whole body and several ``Range`` slices
must equal the stored bytes, carry the recorded SHA-256 as ``ETag``/``Digest`` and the right
``Content-Length``/``Content-Range``; and while the server sends the whole file its Python heap
(the server runs in this process: ``tracemalloc`` sees it) never holds anything near the file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tracemalloc

import httpx
from api_server import ApiWorkspace

from crypto_analyzer.db.lineage import LineageRecord, record_lineage

SIZE = 12 * 1024 * 1024
NAME = "panels/large.bin"


def _record_large(workspace: ApiWorkspace) -> bytes:
    data = os.urandom(SIZE)
    run = workspace.runs["default"].run_instance_id
    ref = workspace.store.put(f"runs/{run}/large.bin", data)
    with workspace.engine.begin() as connection:
        record_lineage(
            connection,
            tenant_id="default",
            run_instance_id=run,
            records=[LineageRecord(NAME, ref.sha256, ref.uri, ref.size, "panel", "1")],
            edges=[],
        )
    return data


def test_a_large_artifact_streams_whole_and_in_ranges(
    api: httpx.Client, workspace: ApiWorkspace
) -> None:
    data = _record_large(workspace)
    digest = hashlib.sha256(data).digest()
    auth = workspace.headers("default", "researcher")
    path = f"/runs/{workspace.runs['default'].run_instance_id}/artifacts/{NAME}"
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        received = hashlib.sha256()
        count = 0
        with api.stream("GET", path, headers=auth) as response:
            assert response.status_code == 200
            assert response.headers["Content-Length"] == str(SIZE)
            assert response.headers["ETag"] == f'"{digest.hex()}"'
            assert response.headers["Digest"] == "sha-256=" + base64.b64encode(digest).decode()
            for block in response.iter_raw(64 * 1024):
                received.update(block)
                count += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == SIZE and received.digest() == digest
    assert peak < SIZE // 4, f"peak Python heap {peak} bytes while sending {SIZE} bytes"
    for start, end in ((0, 0), (5, 1_000_004), (SIZE - 300_000, SIZE - 1), (4_000_000, 9_500_123)):
        part = api.get(path, headers={**auth, "Range": f"bytes={start}-{end}"})
        assert part.status_code == 206
        assert part.content == data[start : end + 1]
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
        assert part.headers["Content-Length"] == str(end - start + 1)
    tail = api.get(path, headers={**auth, "Range": "bytes=-70000"})
    assert tail.status_code == 206 and tail.content == data[-70000:]
    open_ended = api.get(path, headers={**auth, "Range": f"bytes={SIZE - 10}-"})
    assert open_ended.content == data[-10:]
    assert api.get(path, headers={**auth, "Range": f"bytes={SIZE}-"}).status_code == 416
