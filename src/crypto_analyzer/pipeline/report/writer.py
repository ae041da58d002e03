"""Collects a run's artifacts: puts bytes in the store and remembers lineage for each one.

Every artifact goes through :meth:`RunArtifacts.put`, so none can be written without a lineage
record and a manifest entry; the manifest itself is the last artifact and lists all the others.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crypto_analyzer.artifacts.store import ArtifactRef, ArtifactStore
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.db.lineage import LineageEdge, LineageRecord

__all__ = ["MANIFEST_NAME", "RunArtifacts"]

MANIFEST_NAME = "manifest.json"
_MEDIA_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".png": "image/png",
    ".md": "text/markdown",
    ".html": "text/html",
}


@dataclass
class RunArtifacts:
    """Artifacts of one run instance under ``runs/<run_instance_id>/`` in the store."""

    store: ArtifactStore
    run_instance_id: str
    refs: dict[str, ArtifactRef] = field(default_factory=dict)
    records: list[LineageRecord] = field(default_factory=list)
    edges: list[LineageEdge] = field(default_factory=list)

    def key(self, name: str) -> str:
        return f"runs/{self.run_instance_id}/{name}"

    def put(
        self,
        name: str,
        data: bytes,
        *,
        artifact_type: str,
        schema_version: str | None = None,
        edges: tuple[tuple[str, str], ...] = (),
    ) -> ArtifactRef:
        """Store ``data`` as artifact ``name`` and record its lineage and edges."""
        ref = self.store.put(self.key(name), data)
        self.refs[name] = ref
        self.records.append(
            LineageRecord(
                logical_name=name,
                sha256=ref.sha256,
                uri=ref.uri,
                size=ref.size,
                artifact_type=artifact_type,
                schema_version=schema_version,
            )
        )
        self.edges.extend(LineageEdge(name, kind, target) for kind, target in edges)
        return ref

    def put_json(self, name: str, value: Any, **kwargs: Any) -> ArtifactRef:
        return self.put(name, canonical_bytes(value), **kwargs)

    def put_csv(self, name: str, frame: pd.DataFrame, **kwargs: Any) -> ArtifactRef:
        buffer = io.StringIO()
        frame.to_csv(buffer, float_format="%.17g", lineterminator="\n")
        return self.put(name, buffer.getvalue().encode("utf-8"), **kwargs)

    @staticmethod
    def media_type(name: str) -> str:
        suffix = name[name.rfind(".") :] if "." in name else ""
        return _MEDIA_TYPES.get(suffix, "application/octet-stream")

    def manifest(self) -> dict[str, Any]:
        """Every artifact written so far: logical name, store key, hash and size.

        Keys, not URIs: the manifest (like every artifact) must not depend on where the store
        lives, so the same run in two workspaces produces the same bytes. Lineage rows in the
        database carry the full URIs.
        """
        return {
            "artifacts": [
                {"key": ref.key, "name": name, "sha256": ref.sha256, "size": ref.size}
                for name, ref in sorted(self.refs.items())
            ],
            "run_instance_id": self.run_instance_id,
            "schema_version": 1,
        }
