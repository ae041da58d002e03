"""DEX universe discovery: which pairs research may trade, refreshed with limited churn.

A refresh searches Dexscreener for a few queries, stores every pair it sees as a snapshot (through
the ordinary validation path), screens them, and decides the new member list:

* **Screen** (vectorised): liquidity and 24 h volume at least the minimums; quote symbol in the
  allowlist; not stablecoin-against-stablecoin; not a pair of one symbol against itself.
* **Persistence before removal**: a member that fails the screen (or vanishes from the results) is
  first ``held_pending_removal``; it is removed only after failing ``persistence`` refreshes in a
  row, so one bad tick or one flaky response does not churn the universe.
* **Churn limit**: once a universe exists, at most ``max_churn`` additions + removals per refresh
  (removals first); new pairs enter by liquidity rank while slots remain.

If discovery returned nothing usable (provider down), no snapshot is written: an outage must not
look like every pair failing. Each refresh writes one ``universe_snapshots`` row, its members and a
churn row (with the reason) for every member and every change. :func:`latest_allowlist` is the read
the API serves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.clock import to_iso
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter
from crypto_analyzer.db.schema import (
    instruments,
    universe_churn,
    universe_members,
    universe_snapshots,
)

__all__ = [
    "STABLECOINS",
    "UniverseDecision",
    "UniverseFilters",
    "decide_universe",
    "latest_allowlist",
    "pending_removals",
    "screen_candidates",
    "write_universe_refresh",
]

STABLECOINS = frozenset(
    {"USDC", "USDT", "DAI", "BUSD", "TUSD", "USDP", "FDUSD", "USDE", "PYUSD", "FRAX", "LUSD",
     "GUSD", "USDD", "USDB", "USDBC", "USDC.E", "USDT.E", "CRVUSD", "GHO", "EURC"}
)  # fmt: skip
"""Symbols treated as USD/EUR stablecoins by the stable/stable screen (upper case)."""


@dataclass(frozen=True, slots=True)
class UniverseFilters:
    """Screen and churn settings; stored with every snapshot (``filters_json``)."""

    min_liquidity_usd: float = 250_000.0
    min_volume_24h: float = 100_000.0
    quote_allowlist: tuple[str, ...] = ("USDC", "USDT", "WETH", "SOL")
    max_members: int = 50
    max_churn: int = 5
    persistence: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "quote_allowlist", tuple(sorted({q.upper() for q in self.quote_allowlist}))
        )
        if self.min_liquidity_usd < 0 or self.min_volume_24h < 0:
            raise ValidationError("minimum liquidity and volume must be >= 0")
        if self.max_members < 1 or self.max_churn < 0 or self.persistence < 1:
            raise ValidationError(
                "need max_members >= 1, max_churn >= 0 and persistence >= 1",
                f"got {self.max_members}, {self.max_churn}, {self.persistence}",
            )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "quote_allowlist": list(self.quote_allowlist)}


@dataclass(frozen=True, slots=True)
class UniverseDecision:
    """Members (ranked) and one churn row per member or change."""

    members: pd.DataFrame
    churn: pd.DataFrame
    counts: Mapping[str, int] = field(default_factory=dict)


def screen_candidates(candidates: pd.DataFrame, filters: UniverseFilters) -> pd.Series:
    """Per candidate, the first screen it fails (None when eligible); vectorised."""
    base = candidates["base"].astype("string").str.upper()
    quote = candidates["quote"].astype("string").str.upper()
    liquidity = pd.to_numeric(candidates["liquidity_usd"], errors="coerce")
    volume = pd.to_numeric(candidates["volume_24h"], errors="coerce")
    rules = [
        (
            ~(liquidity >= filters.min_liquidity_usd),
            f"liquidity below {filters.min_liquidity_usd:g} USD",
        ),
        (~(volume >= filters.min_volume_24h), f"24h volume below {filters.min_volume_24h:g} USD"),
        (~quote.isin(filters.quote_allowlist).fillna(False), "quote not in allowlist"),
        (
            base.isin(STABLECOINS).fillna(False) & quote.isin(STABLECOINS).fillna(False),
            "stable/stable pair",
        ),
        ((base == quote).fillna(False), "same symbol on both sides"),
    ]
    reason = np.full(len(candidates), None, dtype=object)
    for mask, text in rules:
        # numpy's stubs reject None as an operand; object arrays compare it elementwise.
        reason[np.equal(reason, None) & mask.to_numpy(dtype=bool)] = text  # type: ignore[call-overload]
    return pd.Series(reason, index=candidates.index, dtype=object)


def decide_universe(
    candidates: pd.DataFrame,
    previous: Sequence[str],
    pending: Mapping[str, int],
    filters: UniverseFilters,
) -> UniverseDecision:
    """Pure decision: see the module docstring. ``pending`` counts earlier consecutive holds."""
    pool = candidates.drop_duplicates("instrument_id").copy()
    pool["reason"] = screen_candidates(pool, filters)
    pool = pool.sort_values(["liquidity_usd", "instrument_id"], ascending=[False, True])
    eligible = pool[pool["reason"].isna()]
    eligible_ids = list(eligible["instrument_id"])
    why = dict(zip(pool["instrument_id"], pool["reason"], strict=True))
    budget = filters.max_churn if previous else filters.max_members
    rows: list[tuple[str, str, str]] = []
    kept: list[str] = []
    for member in previous:
        if member in set(eligible_ids):
            kept.append(member)
            rows.append((member, "retained", "passes the screen"))
            continue
        failed = why.get(member) or "absent from discovery results"
        strikes = pending.get(member, 0) + 1
        if strikes >= filters.persistence and budget > 0:
            budget -= 1
            rows.append((member, "removed", f"{failed} ({strikes} refreshes in a row)"))
        else:
            kept.append(member)
            wait = (
                "churn limit reached"
                if strikes >= filters.persistence
                else (f"strike {strikes} of {filters.persistence}")
            )
            rows.append((member, "held_pending_removal", f"{failed}; {wait}"))
    slots = min(budget, max(0, filters.max_members - len(kept)))
    added = [item for item in eligible_ids if item not in set(previous)][:slots]
    rows += [(item, "added", "passes the screen; ranked by liquidity") for item in added]
    members = pd.DataFrame({"instrument_id": kept + added})
    members = members.merge(
        pool[["instrument_id", "liquidity_usd", "volume_24h"]], on="instrument_id", how="left"
    )
    members = members.sort_values(
        ["liquidity_usd", "instrument_id"], ascending=[False, True], na_position="last"
    )
    members["rank"] = np.arange(1, len(members) + 1)
    churn = pd.DataFrame(rows, columns=["instrument_id", "action", "reason"])
    counts = churn["action"].value_counts().to_dict() if len(churn) else {}
    return UniverseDecision(members.reset_index(drop=True), churn, counts)


def pending_removals(
    engine: Engine, tenant_id: str, members: Sequence[str], depth: int
) -> dict[str, int]:
    """For each member, how many of the latest ``depth`` snapshots held it in a row."""
    if not members:
        return {}
    snaps = universe_snapshots
    with engine.connect() as connection:
        recent = [
            row[0]
            for row in connection.execute(
                sa.select(snaps.c.snapshot_id)
                .where(snaps.c.tenant_id == tenant_id)
                .order_by(snaps.c.created_at.desc(), snaps.c.snapshot_id.desc())
                .limit(depth)
            )
        ]
        held = connection.execute(
            sa.select(universe_churn.c.snapshot_id, universe_churn.c.instrument_id).where(
                universe_churn.c.tenant_id == tenant_id,
                universe_churn.c.snapshot_id.in_(recent),
                universe_churn.c.action == "held_pending_removal",
            )
        ).all()
    marks = {(snapshot, instrument) for snapshot, instrument in held}
    counts = {}
    for member in members:
        streak = 0
        for snapshot in recent:
            if (snapshot, member) not in marks:
                break
            streak += 1
        counts[member] = streak
    return counts


def write_universe_refresh(
    engine: Engine,
    writer: ProvenanceWriter,
    run: IngestRun,
    candidates: pd.DataFrame,
    filters: UniverseFilters,
    *,
    provider: str,
    created_at: Any,
) -> UniverseDecision | None:
    """Decide against the latest snapshot and write the new one; None when nothing was found."""
    if candidates.empty:
        return None
    previous = list(latest_allowlist(engine, run.tenant_id)["instrument_id"])
    pending = pending_removals(engine, run.tenant_id, previous, filters.persistence)
    decision = decide_universe(candidates, previous, pending, filters)
    with engine.connect() as connection:
        sequence = connection.execute(
            sa.select(sa.func.count())
            .select_from(universe_snapshots)
            .where(universe_snapshots.c.tenant_id == run.tenant_id)
        ).scalar_one()
    digest = sha256_json(
        {"members": list(decision.members["instrument_id"]), "run": run.ingest_run_id}
    )
    snapshot = {
        "snapshot_id": f"us_{sequence:08d}_{digest[:12]}",
        "provider": provider,
        "filters_json": canonical_dumps(filters.to_dict()),
        "n_members": len(decision.members),
        "created_at": to_iso(created_at),
    }
    writer.write_universe(
        run,
        snapshot,
        decision.members[["instrument_id", "rank", "liquidity_usd", "volume_24h"]],
        decision.churn,
    )
    return decision


def latest_allowlist(engine: Engine, tenant_id: str = "default") -> pd.DataFrame:
    """Members of the tenant's newest universe snapshot, ranked, with their pair identity.

    Columns: ``snapshot_id, rank, instrument_id, chain, pair_address, symbol, base, quote,
    liquidity_usd, volume_24h``; empty when no universe has been discovered yet.
    """
    snaps, members, inst = universe_snapshots, universe_members, instruments
    with engine.connect() as connection:
        latest = connection.execute(
            sa.select(snaps.c.snapshot_id)
            .where(snaps.c.tenant_id == tenant_id)
            .order_by(snaps.c.created_at.desc(), snaps.c.snapshot_id.desc())
            .limit(1)
        ).scalar_one_or_none()
        query = (
            sa.select(
                members.c.snapshot_id,
                members.c.rank,
                members.c.instrument_id,
                inst.c.chain,
                inst.c.pair_address,
                inst.c.symbol,
                inst.c.base,
                inst.c.quote,
                members.c.liquidity_usd,
                members.c.volume_24h,
            )
            .select_from(
                members.outerjoin(
                    inst,
                    sa.and_(
                        inst.c.tenant_id == members.c.tenant_id,
                        inst.c.instrument_id == members.c.instrument_id,
                    ),
                )
            )
            .where(members.c.tenant_id == tenant_id, members.c.snapshot_id == latest)
            .order_by(members.c.rank)
        )
        rows = connection.execute(query).mappings().all() if latest is not None else []
    columns = [column.name for column in query.selected_columns]
    return pd.DataFrame([dict(row) for row in rows], columns=columns)
