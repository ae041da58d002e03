"""Collects a run's artifacts: puts bytes in the store and remembers lineage for each one.

Every artifact goes through :meth:`RunArtifacts.put`, so none can be written without a lineage
record and a manifest entry; the manifest itself is the last artifact and lists all the others
and every lineage edge of the run (its own included), so the store holds evidence of the edges
the database must keep: ``audit verify`` compares the two.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crypto_analyzer.artifacts.run_layout import DEFAULT_TENANT, MANIFEST_NAME, run_artifact_key
from crypto_analyzer.artifacts.store import ArtifactRef, ArtifactStore
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.db.lineage import LineageEdge, LineageRecord

__all__ = ["MANIFEST_NAME", "MANIFEST_SCHEMA_VERSION", "RunArtifacts"]

MANIFEST_SCHEMA_VERSION = 2
"""2: the manifest lists the run's lineage edges as well as its artifacts."""
_MEDIA_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".png": "image/png",
    ".md": "text/markdown",
    ".html": "text/html",
}


@dataclass
class RunArtifacts:
    """Artifacts of one run instance in its tenant's run folder (``artifacts.run_layout``)."""

    store: ArtifactStore
    run_instance_id: str
    tenant_id: str = DEFAULT_TENANT
    refs: dict[str, ArtifactRef] = field(default_factory=dict)
    records: list[LineageRecord] = field(default_factory=list)
    edges: list[LineageEdge] = field(default_factory=list)

    def key(self, name: str) -> str:
        return run_artifact_key(self.run_instance_id, name, self.tenant_id)

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

    def put_manifest(self, *, edges: tuple[tuple[str, str], ...] = ()) -> ArtifactRef:
        """Store the manifest (the run's last artifact) with ``edges`` as its own lineage edges."""
        own = [LineageEdge(MANIFEST_NAME, kind, target) for kind, target in edges]
        document = self.manifest(extra_edges=own)
        return self.put(
            MANIFEST_NAME, canonical_bytes(document), artifact_type="manifest", edges=edges
        )

    def manifest(self, *, extra_edges: list[LineageEdge] | None = None) -> dict[str, Any]:
        """Every artifact written so far (logical name, store key, hash, size) and every edge.

        Keys, not URIs: the manifest (like every artifact) must not depend on where the store
        lives, so the same run in two workspaces produces the same bytes. Lineage rows in the
        database carry the full URIs.
        """
        edges = sorted(
            set(self.edges) | set(extra_edges or ()),
            key=lambda edge: (edge.src_name, edge.edge_type, edge.dst_ref),
        )
        return {
            "artifacts": [
                {"key": ref.key, "name": name, "sha256": ref.sha256, "size": ref.size}
                for name, ref in sorted(self.refs.items())
            ],
            "edges": [
                {"dst": edge.dst_ref, "src": edge.src_name, "type": edge.edge_type}
                for edge in edges
            ],
            "run_instance_id": self.run_instance_id,
            "schema_version": MANIFEST_SCHEMA_VERSION,
        }
