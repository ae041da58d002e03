"""Artifact store URLs: parsing and a read-only reachability check for ``doctor``.

The store itself (create-only puts, S3 backend) is built on top of this; the check here never
writes, so ``doctor`` can run against a read-only or production location.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crypto_analyzer.core.errors import ConfigError

__all__ = ["KNOWN_SCHEMES", "ArtifactLocation", "check_location", "parse_location"]

KNOWN_SCHEMES = ("file", "s3", "gs")


@dataclass(frozen=True, slots=True)
class ArtifactLocation:
    """A parsed artifact store URL: scheme plus either a local root or bucket and prefix."""

    url: str
    scheme: str
    root: Path | None = None
    bucket: str | None = None
    prefix: str = ""


def parse_location(url: str, *, base: Path | None = None) -> ArtifactLocation:
    """Parse ``file://PATH`` (relative paths resolve against ``base`` or the working directory),
    ``s3://BUCKET/PREFIX`` or ``gs://BUCKET/PREFIX``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in KNOWN_SCHEMES or not rest:
        raise ConfigError(
            f"artifact store URL {url!r} is not supported",
            f"known schemes: {', '.join(s + '://' for s in KNOWN_SCHEMES)}",
        )
    if scheme == "file":
        path = Path(rest).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        return ArtifactLocation(url=url, scheme=scheme, root=path)
    bucket, _, prefix = rest.partition("/")
    if len(bucket) < 3:
        raise ConfigError(f"bucket name {bucket!r} in {url!r} is too short (3 characters minimum)")
    return ArtifactLocation(url=url, scheme=scheme, bucket=bucket, prefix=prefix.strip("/"))


def check_location(location: ArtifactLocation) -> tuple[bool, str]:
    """(ok, detail) without writing anything.

    A local root that does not exist yet is fine when its nearest existing parent is writable:
    the store creates it on first write.
    """
    if location.root is None:
        return True, f"{location.scheme} bucket {location.bucket!r}, prefix {location.prefix!r}"
    root = location.root
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
