"""Audit of every run's lineage against its manifest, and of store files no lineage references.

``artifact_lineage`` and ``artifact_edges`` are append-only in the database, but someone with DDL
rights can drop the triggers and delete or retarget rows. The evidence outside the database is the
run's ``manifest.json`` in the artifact store: the report writes it last, listing every artifact
(name, key, SHA-256) and every lineage edge of the run, and its own hash is in the lineage. For
every run of the tenant (not only those behind accepted candidates) this module compares the two:

* a lineage row deleted, added, or pointing at other content or another key than the manifest
  recorded is a ``run_lineage`` finding naming the run and the artifact;
* an edge deleted, added or retargeted is an ``edges`` finding naming the run, the artifact and
  the edge.

Files in the store under a run's folder that no lineage row references are **orphans**. They are
what a run killed before its final transaction leaves behind (its artifacts are stored one by one,
its lineage is recorded at the end), so they are listed separately and do not make ``audit
verify`` fail: they are debris, not tampering. Each orphan names its run and that run's status.

Runs with no manifest at all (nothing in the store, the lineage or ``run_artifacts`` names one)
cannot be compared and are counted; a manifest of schema version 1 holds no edges, so only its
artifacts are compared.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.artifacts.run_layout import (
    MANIFEST_NAME,
    run_artifact_key,
    run_of_key,
    runs_prefix,
)
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.db.schema import artifact_edges, run_artifacts, runs
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import store_key

__all__ = ["LineageAudit", "Orphan", "audit_run_lineage"]

Edge = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Orphan:
    """A file under a run's folder in the store that no lineage row references."""

    key: str
    run_instance_id: str
    run_status: str

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "run_instance_id": self.run_instance_id,
            "run_status": self.run_status,
        }


@dataclass(slots=True)
class LineageAudit:
    """Findings as ``(check, message)`` pairs, the orphans, and how much was looked at."""

    findings: list[tuple[str, str]] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def add(self, check: str, message: str) -> None:
        self.findings.append((check, message))

    def count(self, name: str, amount: int = 1) -> None:
        self.checked[name] = self.checked.get(name, 0) + amount


def audit_run_lineage(
    connection: Connection, store: ArtifactStore | None, tenant_id: str
) -> LineageAudit:
    """Compare every run's lineage and edges with its manifest; list orphans. Never writes."""
    audit = LineageAudit()
    run_rows = connection.execute(
        sa.select(runs.c.run_instance_id, runs.c.status)
        .where(runs.c.tenant_id == tenant_id)
        .order_by(runs.c.run_instance_id)
    ).all()
    audit.checked["runs"] = len(run_rows)
    if store is None or not run_rows:
        return audit  # the artifact check already reports a missing store
    lineage: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in repo.lineage_rows(connection, tenant_id):
        lineage[row["run_instance_id"]][row["logical_name"]] = row
    edges = _edges(connection, tenant_id)
    listed_manifests = set(
        connection.execute(
            sa.select(run_artifacts.c.run_instance_id).where(
                run_artifacts.c.tenant_id == tenant_id, run_artifacts.c.name == MANIFEST_NAME
            )
        ).scalars()
    )
    files: dict[str, set[str]] = defaultdict(set)
    try:
        keys = store.list(runs_prefix(tenant_id))
    except CryptoAnalyzerError as exc:
        audit.add("orphans", f"the artifact store cannot be listed ({exc})")
        return audit
    for key in keys:
        run = run_of_key(key, tenant_id)
        if run is not None:
            files[run].add(key)
    for run_id, status in run_rows:
        rows = lineage.get(run_id, {})
        stored = files.get(run_id, set())
        recorded_edges = edges.get(run_id, set())
        _check_manifest(
            audit,
            store,
            run_artifact_key(run_id, MANIFEST_NAME, tenant_id),
            run_id,
            rows,
            recorded_edges,
            stored,
            expected=run_id in listed_manifests,
        )
        referenced = {_key_of(store, row["uri"]) for row in rows.values()}
        audit.orphans.extend(Orphan(key, run_id, status) for key in sorted(stored - referenced))
    audit.checked["orphans"] = len(audit.orphans)
    return audit


def _edges(connection: Connection, tenant_id: str) -> dict[str, set[Edge]]:
    found: dict[str, set[Edge]] = defaultdict(set)
    for run_id, src, kind, dst in connection.execute(
        sa.select(
            artifact_edges.c.run_instance_id,
            artifact_edges.c.src_name,
            artifact_edges.c.edge_type,
            artifact_edges.c.dst_ref,
        ).where(artifact_edges.c.tenant_id == tenant_id)
    ):
        found[run_id].add((src, kind, dst))
    return found


def _key_of(store: ArtifactStore, uri: str) -> str | None:
    try:
        return store_key(store, uri)
    except CryptoAnalyzerError:  # outside the store: the artifact check reports it
        return None


def _check_manifest(
    audit: LineageAudit,
    store: ArtifactStore,
    key: str,
    run_id: str,
    rows: dict[str, dict[str, Any]],
    edges: set[Edge],
    files: set[str],
    *,
    expected: bool,
) -> None:
    row = rows.get(MANIFEST_NAME)
    if key not in files:
        if row is None and not expected:
            audit.count("runs_without_manifest")
        elif row is None:  # with a row, the artifact check already reports the missing file
            audit.add(
                "run_lineage",
                f"run {run_id}: {MANIFEST_NAME} is recorded in run_artifacts but is neither in "
                "the store nor in the lineage",
            )
        return
    try:
        data = store.get(key)
        manifest = canonical_loads(data)
        artifacts = {entry["name"]: entry for entry in manifest["artifacts"]}
    except (CryptoAnalyzerError, ValueError, KeyError, TypeError) as exc:
        audit.add("run_lineage", f"run {run_id}: {MANIFEST_NAME} is unreadable ({exc})")
        return
    if row is None:
        audit.add(
            "run_lineage",
            f"run {run_id}: the lineage row of {MANIFEST_NAME} is missing (deleted); the manifest "
            "is still in the store",
        )
    elif row["artifact_sha256"] != sha256_bytes(data):
        return  # the artifact check reports the mismatch; a changed manifest is no evidence
    if manifest.get("run_instance_id") != run_id:
        named = manifest.get("run_instance_id")
        audit.add("run_lineage", f"run {run_id}: {MANIFEST_NAME} names run {named!r}")
        return
    audit.count("manifests")
    _compare_rows(audit, store, run_id, rows, artifacts)
    if "edges" not in manifest:
        audit.count("edges_unverifiable_runs")  # schema version 1: no edges recorded
        return
    recorded = {(edge["src"], edge["type"], edge["dst"]) for edge in manifest["edges"]}
    audit.count("edges", len(recorded))
    _compare_edges(audit, run_id, recorded, edges)


def _compare_rows(
    audit: LineageAudit,
    store: ArtifactStore,
    run_id: str,
    rows: dict[str, dict[str, Any]],
    artifacts: dict[str, dict[str, Any]],
) -> None:
    """Each manifest artifact keeps its lineage row, pointing at the recorded content and key."""
    for name, entry in sorted(artifacts.items()):
        label = f"run {run_id}: artifact {name!r}"
        row = rows.get(name)
        if row is None:
            problem = (
                f"its lineage row is missing (deleted); the manifest recorded {entry['sha256']}"
            )
        elif row["artifact_sha256"] != entry["sha256"]:
            problem = (
                f"its lineage row points at content {row['artifact_sha256']}, the manifest "
                f"recorded {entry['sha256']} (retargeted)"
            )
        elif _key_of(store, row["uri"]) != entry["key"]:
            problem = (
                f"its lineage row points at {row['uri']}, the manifest recorded key "
                f"{entry['key']} (retargeted)"
            )
        else:
            continue
        audit.add("run_lineage", f"{label}: {problem}")
    for name in sorted(set(rows) - set(artifacts) - {MANIFEST_NAME}):
        audit.add(
            "run_lineage",
            f"run {run_id}: artifact {name!r} has a lineage row but is not in the run's "
            f"{MANIFEST_NAME} (added)",
        )


def _compare_edges(
    audit: LineageAudit, run_id: str, recorded: set[Edge], stored: set[Edge]
) -> None:
    """Per (artifact, edge type): one recorded target swapped for one other is a retarget."""
    slots: dict[tuple[str, str], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for src, kind, dst in recorded - stored:
        slots[(src, kind)][0].add(dst)
    for src, kind, dst in stored - recorded:
        slots[(src, kind)][1].add(dst)
    for (src, kind), (missing, extra) in sorted(slots.items()):
        label = f"run {run_id}: artifact {src!r}: edge {kind}"
        if len(missing) == 1 and len(extra) == 1:
            audit.add(
                "edges",
                f"{label} points at {next(iter(extra))!r} in artifact_edges, the manifest "
                f"recorded {next(iter(missing))!r} (retargeted)",
            )
            continue
        for dst in sorted(missing):
            audit.add(
                "edges",
                f"{label} -> {dst!r} is in the manifest but not in artifact_edges (deleted)",
            )
        for dst in sorted(extra):
            audit.add(
                "edges", f"{label} -> {dst!r} is in artifact_edges but not in the manifest (added)"
            )
