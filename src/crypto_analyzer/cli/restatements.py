"""After a command writes market data: put each new restatement on the candidates it affects.

Market data may be restated under a candidate's run (a corrected import, a re-fetched candle).
The data layer keeps the old values; this step records the fact on every open or accepted
candidate whose run read the replaced values, so the governance trail says when the data under a
decision moved. It never fails the ingest that already committed: a problem is reported on stderr,
and ``audit stale`` lists stale results from the data alone in any case.
"""

from __future__ import annotations

from crypto_analyzer.cli.context import stderr
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.settings import Settings, principal_token
from crypto_analyzer.governance import record_restatements

__all__ = ["note_restatements"]


def note_restatements(settings: Settings) -> int:
    """Record new restatements on affected candidates; returns how many events were written."""
    try:
        events = record_restatements(settings, token=principal_token())
    except CryptoAnalyzerError as exc:
        stderr.print(
            f"warning: restatements were not recorded on the candidates they affect: "
            f"{printable(exc)}; `crypto-analyzer audit stale` lists stale results, and the next "
            "evaluation records them",
            highlight=False,
        )
        return 0
    if events:
        affected = sorted({event.candidate_id or "" for event in events})
        stderr.print(
            f"restated market data under {len(affected)} candidate(s): "
            f"{printable(', '.join(affected))} (see `crypto-analyzer audit stale`)",
            highlight=False,
        )
    return len(events)
