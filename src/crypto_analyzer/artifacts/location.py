"""Artifact store URL formats: a local root (``SCHEME://PATH``) or a bucket (``SCHEME://BUCKET/P``).

Parsing only: which scheme uses which format is the backend's business (each backend's
``from_url`` calls the parser it needs), and which schemes exist is the registry's
(:mod:`.registry`). :func:`check_root` is the read-only reachability check ``doctor`` runs for a
local root: it never writes, so ``doctor`` can run against a read-only or production location.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crypto_analyzer.core.errors import ConfigError

__all__ = ["ArtifactLocation", "check_root", "parse_bucket_url", "parse_root_url"]


@dataclass(frozen=True, slots=True)
class ArtifactLocation:
    """A parsed artifact store URL: scheme plus either a local root or bucket and prefix."""

    url: str
    scheme: str
    root: Path | None = None
    bucket: str | None = None
    prefix: str = ""


def _split(url: str) -> tuple[str, str]:
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme or not rest:
        raise ConfigError(
            f"artifact store URL {url!r} is not SCHEME://LOCATION",
            "e.g. file://PATH or s3://BUCKET/PREFIX",
        )
    return scheme, rest


def parse_root_url(url: str, *, base: Path | None = None) -> ArtifactLocation:
    """``SCHEME://PATH``; a relative path resolves against ``base`` or the working directory."""
    scheme, rest = _split(url)
    path = Path(rest).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return ArtifactLocation(url=url, scheme=scheme, root=path)


def parse_bucket_url(url: str) -> ArtifactLocation:
    """``SCHEME://BUCKET/PREFIX`` (bucket names have at least 3 characters)."""
    scheme, rest = _split(url)
    bucket, _, prefix = rest.partition("/")
    if len(bucket) < 3:
        raise ConfigError(f"bucket name {bucket!r} in {url!r} is too short (3 characters minimum)")
    return ArtifactLocation(url=url, scheme=scheme, bucket=bucket, prefix=prefix.strip("/"))


def check_root(root: Path) -> tuple[bool, str]:
    """(ok, detail) for a local root, without writing anything.

    A root that does not exist yet is fine when its nearest existing parent is writable: the
    store creates it on first write.
    """
    if root.exists():
        if not root.is_dir():
            return False, f"{root} exists but is not a directory"
        writable = os.access(root, os.W_OK)
        return writable, f"{root} ({'writable' if writable else 'not writable'})"
    parent = root.parent
    while not parent.exists():
        parent = parent.parent
    writable = os.access(parent, os.W_OK)
    state = "will be created on first write" if writable else f"cannot be created under {parent}"
    return writable, f"{root} ({state})"
