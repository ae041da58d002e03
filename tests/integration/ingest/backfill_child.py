"""Child process for the kill-safety test: one Kraken backfill against the replay server."""

from __future__ import annotations

import sys

from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.ingest.backfill import BackfillRequest, backfill
from crypto_analyzer.ingest.providers import CcxtProvider, RateLimit


def main(db_url: str, api_url: str, since_ms: str) -> None:
    engine = create_db_engine(db_url)
    provider = CcxtProvider("kraken", api_url=api_url, rate_limit=RateLimit(1000.0, 1000))
    request = BackfillRequest("kraken", ("BTC/USD", "ETH/USD"), "1h", int(since_ms), page_limit=30)
    try:
        backfill(engine, request, provider)
    finally:
        provider.close()
        engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:4])
