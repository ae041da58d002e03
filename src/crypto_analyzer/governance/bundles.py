"""Finding a run's validation bundle and checking evidence bytes against the artifact store.

The path is always database → store: the ``artifact_lineage`` row ``bundle/<signal>.json`` of the
run names the URI and the SHA-256 the run recorded; the bytes fetched from the store must hash to
exactly that, or the bundle is refused. A bundle edited in the store after the run is therefore
evidence of tampering, never evidence for a promotion.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.governance.errors import EvidenceError
from crypto_analyzer.governance.evidence import (
    EvidenceArtifact,
    ValidationBundle,
    bundle_logical_name,
)
from crypto_analyzer.governance.repository import lineage_rows

__all__ = ["LoadedBundle", "StoreVerifier", "load_bundle", "store_key"]


@dataclass(frozen=True, slots=True)
class LoadedBundle:
    """A bundle whose bytes matched its lineage row."""

    bundle: ValidationBundle
    logical_name: str
    uri: str
    sha256: str

    @property
    def evidence_digest(self) -> str:
        return self.bundle.evidence_digest()


def store_key(store: ArtifactStore, uri: str) -> str:
    """The store key of ``uri``; refuses URIs that point outside the configured store."""
    prefix = store.url + "/"
    if not uri.startswith(prefix) or len(uri) == len(prefix):
        raise EvidenceError(
            f"artifact {uri} is not in the configured artifact store {store.url}",
            "point CRYPTO_ANALYZER_ARTIFACTS at the store the run wrote to",
        )
    return uri[len(prefix) :]


def load_bundle(
    connection: Connection,
    store: ArtifactStore,
    tenant_id: str,
    run_instance_id: str,
    signal: str,
) -> LoadedBundle:
    """Load and verify the bundle of ``signal`` written by ``run_instance_id``."""
    name = bundle_logical_name(signal)
    rows = [
        row
        for row in lineage_rows(connection, tenant_id, run_instance_id)
        if row["logical_name"] == name
    ]
    if not rows:
        raise EvidenceError(
            f"run {run_instance_id} has no lineage row {name!r} in tenant {tenant_id!r}",
            "run the research report for this signal first; it writes the bundle",
        )
    row = rows[0]
    try:
        data = store.get(store_key(store, row["uri"]))
    except CryptoAnalyzerError as exc:
        if isinstance(exc, EvidenceError):
            raise
        raise EvidenceError(
            f"bundle {row['uri']} cannot be read: {exc}", "check the artifact store"
        ) from None
    digest = sha256_bytes(data)
    if digest != row["artifact_sha256"]:
        raise EvidenceError(
            f"bundle {row['uri']} hashes to {digest[:16]}… but lineage recorded "
            f"{row['artifact_sha256'][:16]}…",
            "the stored bundle changed after the run; rerun the report",
        )
    bundle = ValidationBundle.from_bytes(data, source=f"bundle {row['uri']}")
    if bundle.run_instance_id != run_instance_id or bundle.signal != signal:
        raise EvidenceError(
            f"bundle {row['uri']} is for run {bundle.run_instance_id} signal {bundle.signal!r}, "
            f"not run {run_instance_id} signal {signal!r}",
            "the lineage row points at another run's bundle; rerun the report",
        )
    return LoadedBundle(bundle=bundle, logical_name=name, uri=row["uri"], sha256=digest)


class StoreVerifier:
    """Checks that an evidence artifact is in the store with the recorded SHA-256 and size."""

    def __init__(self, store: ArtifactStore) -> None:
        self._store = store

    @property
    def location(self) -> str:
        return self._store.url

    def problem(self, artifact: EvidenceArtifact) -> str | None:
        """``None`` when the artifact is present and intact, else what is wrong with it."""
        try:
            data = self._store.get(artifact.key)
        except Exception as exc:  # any store failure means "not verified": deny, never pass
            return f"cannot be read from {self._store.url}: {type(exc).__name__}: {exc}"
        digest = sha256_bytes(data)
        if digest != artifact.sha256:
            return (
                f"stored bytes hash to {digest[:16]}…, the bundle recorded {artifact.sha256[:16]}…"
            )
        if len(data) != artifact.size:
            return f"stored size {len(data)} bytes, the bundle recorded {artifact.size}"
        return None
