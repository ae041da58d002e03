"""Ingestion: market data sources and the paths that bring their records into the database."""

from __future__ import annotations

from crypto_analyzer.ingest.synthetic import (
    SyntheticMarketConfig,
    generate_market,
    ingest_synthetic,
)

__all__ = ["SyntheticMarketConfig", "generate_market", "ingest_synthetic"]
