"""Readiness of a running service: database reachable, schema at head, artifact store reachable.

``doctor`` is the thorough check a person runs (integrity check, trigger comparison, checkpoints,
service key); a load balancer or scheduler polls readiness every few seconds, so this one costs
three cheap probes and never writes: ``SELECT 1``, the stored revision against the head the service
was started with, and an existence probe on the artifact store.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.artifacts.location import check_location, parse_location
from crypto_analyzer.db.health import HealthCheck
from crypto_analyzer.db.migrate import current_revision

__all__ = ["HealthCheck", "readiness"]

_PROBE_KEY = "health/probe"


def readiness(engine: Engine, store: ArtifactStore | None, *, head: str) -> list[HealthCheck]:
    """The three readiness checks in order; a down database skips (and fails) the schema check."""
    checks: list[HealthCheck] = []
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        current = current_revision(engine)
    except Exception as exc:  # any driver error means "not reachable" for a health report
        checks.append(HealthCheck("database reachable", False, _one_line(exc)))
        checks.append(HealthCheck("schema at head", False, "not checked: database unreachable"))
    else:
        checks.append(HealthCheck("database reachable", True, engine.dialect.name))
        at_head = current == head
        detail = (
            f"revision {current}"
            if at_head
            else f"at {current or 'no schema'}, head {head}; run `crypto-analyzer db upgrade`"
        )
        checks.append(HealthCheck("schema at head", at_head, detail))
    checks.append(_store_check(store))
    return checks


def _store_check(store: ArtifactStore | None) -> HealthCheck:
    if store is None:
        return HealthCheck("artifact store", False, "no artifact store is configured")
    try:
        location = parse_location(store.url)
        ok, detail = check_location(location)
        if ok and location.root is None:  # a bucket: ask the server, not only the URL
            store.exists(_PROBE_KEY)
    except Exception as exc:  # unreachable endpoint, refused credentials, bad URL
        return HealthCheck("artifact store", False, _one_line(exc))
    return HealthCheck("artifact store", ok, detail)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
