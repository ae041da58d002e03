"""Run identities: ``run_key``, ``run_instance_id``, config digests and dataset id values.

``run_key`` answers "is this the same experiment?" and therefore hashes only what can change a
result: the dataset id, the fully resolved config, the engine version and the research spec
version. Output locations, timestamps and verbosity are stripped before hashing so moving a report
directory or rerunning tomorrow does not create a new identity. ``run_instance_id`` answers "which
execution?" and is time-ordered.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.clock import is_pinned, now, to_ms
from crypto_analyzer.core.hashing import is_hex_digest, sha256_json, short_id
from crypto_analyzer.core.versions import ENGINE_VERSION, SPEC_VERSION

__all__ = [
    "NON_IDENTITY_KEYS",
    "NON_IDENTITY_SUFFIXES",
    "DatasetId",
    "DatasetMode",
    "config_digest",
    "identity_config",
    "run_instance_id",
    "run_key",
]

NON_IDENTITY_KEYS = frozenset(
    {
        "artifacts",
        "artifacts_url",
        "created_at",
        "db",
        "db_url",
        "finished_at",
        "log_level",
        "now",
        "out",
        "output",
        "progress",
        "started_at",
        "verbose",
    }
)
"""Config keys that never change a result and are removed (at any depth) before ``run_key``."""

NON_IDENTITY_SUFFIXES = ("_path", "_dir", "_at")
"""Key suffixes with the same treatment: file locations and timestamps."""


class DatasetMode(enum.StrEnum):
    """How a dataset id was computed. Only STRICT ids can back a promotion."""

    STRICT = "strict"
    FAST_DEV = "fast_dev"


_FAST_DEV_PREFIX = "fastdev-"


@dataclass(frozen=True, slots=True)
class DatasetId:
    """A dataset identity: the mode and the full SHA-256 digest.

    ``value`` is what gets stored: the bare 64-hex digest for STRICT and ``fastdev-`` + digest for
    FAST_DEV, so the two can never compare equal even by accident. ``short`` is for display.
    """

    mode: DatasetMode
    digest: str

    def __post_init__(self) -> None:
        if not is_hex_digest(self.digest):
            raise ValueError(f"dataset digest must be 64 lowercase hex, got {self.digest!r}")

    @property
    def value(self) -> str:
        if self.mode is DatasetMode.STRICT:
            return self.digest
        return f"{_FAST_DEV_PREFIX}{self.digest}"

    @property
    def short(self) -> str:
        prefix = "ds_" if self.mode is DatasetMode.STRICT else "dsdev_"
        return short_id(prefix, self.digest)

    @classmethod
    def parse(cls, value: str) -> DatasetId:
        """Inverse of :attr:`value`."""
        if value.startswith(_FAST_DEV_PREFIX):
            return cls(DatasetMode.FAST_DEV, value.removeprefix(_FAST_DEV_PREFIX))
        return cls(DatasetMode.STRICT, value)

    def __str__(self) -> str:
        return self.value


def _is_non_identity_key(key: str) -> bool:
    return key in NON_IDENTITY_KEYS or key.endswith(NON_IDENTITY_SUFFIXES)


def identity_config(config: Any) -> Any:
    """Copy of ``config`` without keys that cannot change a result (paths, times, verbosity)."""
    if isinstance(config, Mapping):
        return {
            key: identity_config(value)
            for key, value in config.items()
            if not _is_non_identity_key(str(key))
        }
    if isinstance(config, (list, tuple)):
        return [identity_config(item) for item in config]
    return config


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the identity part of a resolved config."""
    return sha256_json(identity_config(config))


def run_key(
    dataset_id: DatasetId | str,
    config: Mapping[str, Any],
    *,
    engine_version: str = ENGINE_VERSION,
    spec_version: str = SPEC_VERSION,
) -> str:
    """64-hex run key over {dataset_id, identity config, engine version, spec version}."""
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    dataset_value = dataset_id.value if isinstance(dataset_id, DatasetId) else str(dataset_id)
    if not dataset_value:
        raise ValueError("dataset_id must not be empty")
    return sha256_json(
        {
            "config": identity_config(config),
            "dataset_id": dataset_value,
            "engine_version": engine_version,
            "spec_version": spec_version,
        }
    )


def run_instance_id(run_key_value: str, *, attempt: int = 0) -> str:
    """A UUIDv7-formatted id: 48-bit millisecond time prefix, so ids sort by start time.

    With a pinned clock the 74 random bits come from SHA-256 of (run key, pinned time, attempt),
    which makes the id reproducible; otherwise they come from the operating system's entropy.
    ``attempt`` numbers the executions of one run key at one pinned instant: a rerun after a
    crash (whose ``running`` row still holds attempt 0) takes the next free attempt, so it gets
    its own, still reproducible, id. Attempt 0 hashes exactly what ids always hashed.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    moment = now()
    millis = to_ms(moment)
    if is_pinned():
        material: dict[str, object] = {"run_key": run_key_value, "time_ms": millis}
        if attempt:
            material["attempt"] = attempt
        entropy = hashlib.sha256(canonical_bytes(material)).digest()[:10]
    else:
        entropy = os.urandom(10)
    rand = int.from_bytes(entropy, "big")
    rand_a = (rand >> 68) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
