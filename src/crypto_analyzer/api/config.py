"""What the HTTP service needs beyond the workspace settings: limits, CORS, policy, timeouts.

:class:`~crypto_analyzer.core.settings.Settings` says *which* workspace (database, artifact store);
:class:`ApiConfig` says how the HTTP edge guards it. Both are plain values handed to
``create_app``; :func:`api_config_from_env` reads the ``CRYPTO_ANALYZER_API_*`` variables for
``serve`` so every worker process builds the same app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crypto_analyzer.core.errors import ConfigError

__all__ = ["ApiConfig", "api_config_from_env"]

_RATE, _BURST, _MAX_BODY = 600, 60, 64 * 1024


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Limits and options of the HTTP service.

    ``rate_per_minute`` is per API key and per worker process (each ``serve`` worker keeps its
    own buckets); ``burst`` is how many requests a key may send at once. ``cors_origins`` empty
    means no CORS headers at all. ``idempotency_wait`` is how long a replay waits for the
    original request of the same key to finish before answering 409.
    """

    rate_per_minute: int = _RATE
    burst: int = _BURST
    max_body_bytes: int = _MAX_BODY
    cors_origins: tuple[str, ...] = ()
    policy_path: Path | None = None
    idempotency_wait: float = 30.0
    docs: bool = True

    def __post_init__(self) -> None:
        if self.rate_per_minute < 1 or self.burst < 1:
            raise ConfigError(
                f"rate limit {self.rate_per_minute}/min with burst {self.burst} must both be ≥ 1"
            )
        if self.max_body_bytes < 1:
            raise ConfigError(f"body limit {self.max_body_bytes} bytes must be ≥ 1")
        if self.idempotency_wait < 0:
            raise ConfigError(f"idempotency wait {self.idempotency_wait} s must be ≥ 0")


_PREFIX = "CRYPTO_ANALYZER_API_"


def _int(name: str, default: int) -> int:
    text = os.environ.get(_PREFIX + name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"{_PREFIX + name}={text!r} is not an integer", "set it to a whole number or unset it"
        ) from None


def api_config_from_env() -> ApiConfig:
    """``ApiConfig`` from ``CRYPTO_ANALYZER_API_RATE_PER_MINUTE``, ``…_BURST``,
    ``…_MAX_BODY_BYTES``, ``…_CORS_ORIGINS`` (comma-separated) and ``…_POLICY`` (a policy file)."""
    origins = tuple(
        item.strip()
        for item in os.environ.get(_PREFIX + "CORS_ORIGINS", "").split(",")
        if item.strip()
    )
    policy = os.environ.get(_PREFIX + "POLICY", "").strip()
    return ApiConfig(
        rate_per_minute=_int("RATE_PER_MINUTE", _RATE),
        burst=_int("BURST", _BURST),
        max_body_bytes=_int("MAX_BODY_BYTES", _MAX_BODY),
        cors_origins=origins,
        policy_path=Path(policy) if policy else None,
    )
