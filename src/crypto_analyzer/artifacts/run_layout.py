"""Where a run's artifacts live in the store: one folder per run instance, one manifest in it.

The report writer puts every artifact of a run under ``runs/<run_instance_id>/`` and lists them,
with their lineage edges, in ``runs/<run_instance_id>/manifest.json``. ``audit verify`` reads the
same layout back (to compare the manifest with the lineage in the database and to find files no
lineage row references), so the layout is defined once, here, below both of them.
"""

from __future__ import annotations

__all__ = ["MANIFEST_NAME", "RUNS_PREFIX", "run_artifact_key", "run_of_key", "run_prefix"]

RUNS_PREFIX = "runs/"
MANIFEST_NAME = "manifest.json"


def run_prefix(run_instance_id: str) -> str:
    """``runs/<run_instance_id>/``: the folder of one run instance."""
    return f"{RUNS_PREFIX}{run_instance_id}/"


def run_artifact_key(run_instance_id: str, name: str) -> str:
    """Store key of the artifact ``name`` (a logical name such as ``ic/summary.json``)."""
    return f"{run_prefix(run_instance_id)}{name}"


def run_of_key(key: str) -> str | None:
    """The run instance id of a key under ``runs/``, or None for any other key."""
    if not key.startswith(RUNS_PREFIX):
        return None
    run, sep, rest = key[len(RUNS_PREFIX) :].partition("/")
    return run if run and sep and rest else None
