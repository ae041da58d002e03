"""Where a run's artifacts live in the store: one folder per run instance, one manifest in it.

The report writer puts every artifact of a run under its run folder and lists them, with their
lineage edges, in the folder's ``manifest.json``. ``audit verify`` reads the same layout back (to
compare the manifest with the lineage in the database and to find files no lineage row
references), so the layout is defined once, here, below both of them.

The store is partitioned by tenant. Run instance ids are unique per tenant only (two desks with
the same pinned clock get the same id), so a run folder is named by both: the ``default``
tenant's runs stay at ``runs/<run_instance_id>/`` — the layout every existing workspace, the demo
and the golden run already have, byte for byte — and any other tenant's runs live under
``tenants/<tenant_id>/runs/<run_instance_id>/``. A tenant id cannot be ``runs`` or contain ``/``
(settings allow ``[a-z0-9_-]``), so no tenant's prefix lies inside another's or inside the
default tenant's ``runs/``.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_TENANT",
    "MANIFEST_NAME",
    "RUNS_PREFIX",
    "TENANTS_PREFIX",
    "run_artifact_key",
    "run_of_key",
    "run_prefix",
    "runs_prefix",
    "tenant_prefix",
]

RUNS_PREFIX = "runs/"
TENANTS_PREFIX = "tenants/"
MANIFEST_NAME = "manifest.json"
DEFAULT_TENANT = "default"


def tenant_prefix(tenant_id: str) -> str:
    """The store folder of ``tenant_id``: the root for ``default``, else ``tenants/<id>/``."""
    if not tenant_id or "/" in tenant_id or tenant_id in (".", ".."):
        raise ValueError(f"{tenant_id!r} is not a tenant id")
    return "" if tenant_id == DEFAULT_TENANT else f"{TENANTS_PREFIX}{tenant_id}/"


def runs_prefix(tenant_id: str = DEFAULT_TENANT) -> str:
    """The folder holding every run folder of ``tenant_id``."""
    return f"{tenant_prefix(tenant_id)}{RUNS_PREFIX}"


def run_prefix(run_instance_id: str, tenant_id: str = DEFAULT_TENANT) -> str:
    """The folder of one run instance of ``tenant_id``."""
    return f"{runs_prefix(tenant_id)}{run_instance_id}/"


def run_artifact_key(run_instance_id: str, name: str, tenant_id: str = DEFAULT_TENANT) -> str:
    """Store key of the artifact ``name`` (a logical name such as ``ic/summary.json``)."""
    return f"{run_prefix(run_instance_id, tenant_id)}{name}"


def run_of_key(key: str, tenant_id: str = DEFAULT_TENANT) -> str | None:
    """The run instance id of a key in ``tenant_id``'s runs folder, or None for any other key."""
    prefix = runs_prefix(tenant_id)
    if not key.startswith(prefix):
        return None
    run, sep, rest = key[len(prefix) :].partition("/")
    return run if run and sep and rest else None
