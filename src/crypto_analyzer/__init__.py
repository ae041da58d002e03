"""crypto-analyzer: a local-first research validation control plane for crypto quant research."""

from __future__ import annotations

from crypto_analyzer.core.versions import ENGINE_VERSION as __version__

__all__ = ["__version__"]
