"""``ci bundle``: one archive with everything a CI system should keep about a run.

``run-<id>.tar.gz`` holds every artifact the run recorded in lineage under ``artifacts/<name>``
(the envelopes among them, under ``artifacts/envelopes/…``), ``summary.json`` (the decisions,
``ci summarize``) and ``manifest.json`` listing each file with its SHA-256 and size. Every artifact
is re-hashed against its lineage row while packing; a mismatch refuses the archive (an upload must
never carry evidence that differs from what the run recorded). The archive is byte-stable: sorted
members, fixed owner and times, gzip without a timestamp.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto_analyzer.artifacts import open_settings_store
from crypto_analyzer.attest.statement import ENVELOPE_PREFIX
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import store_key
from crypto_analyzer.governance.errors import EvidenceError
from crypto_analyzer.pipeline.ci.summary import summarize_run

__all__ = ["ARCHIVE_MANIFEST", "ArchiveResult", "bundle_run"]

ARCHIVE_MANIFEST = "manifest.json"
ARCHIVE_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    path: Path
    sha256: str
    files: int
    envelopes: int


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def bundle_run(settings: Settings, run: str, out: Path) -> ArchiveResult:
    """Write the archive of ``run`` to ``out`` (never overwriting an existing file)."""
    summary = summarize_run(settings, run)
    if out.exists():
        raise ValidationError(f"{out} already exists", "choose another --out path")
    store = open_settings_store(settings)
    files: dict[str, bytes] = {}
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        with engine.connect() as connection:
            rows = repo.lineage_rows(connection, settings.tenant, summary.run_instance_id)
    for row in rows:
        name = str(row["logical_name"])
        try:
            data = store.get(store_key(store, row["uri"]))
        except Exception as exc:
            raise EvidenceError(f"artifact {name} cannot be read: {exc}") from None
        if sha256_bytes(data) != row["artifact_sha256"]:
            raise EvidenceError(
                f"artifact {name} no longer hashes to what lineage recorded",
                "the store was changed after the run; `crypto-analyzer audit verify` says more",
            )
        files[f"artifacts/{name}"] = data
    files["summary.json"] = canonical_bytes(summary.to_dict())
    listing: list[dict[str, Any]] = [
        {
            "kind": "envelope" if path.startswith(f"artifacts/{ENVELOPE_PREFIX}") else "file",
            "path": path,
            "sha256": sha256_bytes(data),
            "size": len(data),
        }
        for path, data in sorted(files.items())
    ]
    manifest = {
        "files": listing,
        "run_instance_id": summary.run_instance_id,
        "run_key": summary.run_key,
        "schema_version": ARCHIVE_SCHEMA_VERSION,
    }
    files[ARCHIVE_MANIFEST] = canonical_bytes(manifest)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            _member(tar, path, files[path])
    packed = gzip.compress(raw.getvalue(), mtime=0)
    with out.open("xb") as handle:
        handle.write(packed)
    envelopes = sum(1 for item in listing if item["kind"] == "envelope")
    return ArchiveResult(out, sha256_bytes(packed), len(files), envelopes)
