"""The trial ledger: append every hypothesis a run tested, read a tenant's trials, verify the chain.

A trial is appended once its statistics exist, in the run's own transaction-locked append, so the
ledger grows even when the run later fails. Rows are never changed (database triggers, revision
0005) and each row's ``hash`` chains to the one before it (``seq`` order), so an auditor can prove
nothing was removed. Each row also carries a MAC of its hash made with the service key
(``db.record_keys``), so a row appended by someone who only has database rights is recognisable.
Reads are always scoped to one tenant: another tenant's trials never count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.canonical_json import canonical_dumps, canonical_loads
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.hash_chain import verify_links
from crypto_analyzer.core.hashing import GENESIS_HASH, chained_sha256, sha256_json
from crypto_analyzer.db.locks import locked_transaction
from crypto_analyzer.db.record_keys import (
    KEY_FROM_ENVIRONMENT,
    TRIAL_MAC,
    KeyArgument,
    engine_key,
    seal,
    writer_key,
)
from crypto_analyzer.db.schema import trial_ledger

__all__ = [
    "LEDGER_LOCK_PREFIX",
    "LedgerHead",
    "NewTrial",
    "TrialRecord",
    "append_trials",
    "ledger_head",
    "read_trials",
    "trial_hash",
    "verify_ledger",
]

LEDGER_LOCK_PREFIX = "crypto_analyzer.trial_ledger:"
"""Advisory-lock key prefix; revision 0005's insert trigger uses the same text."""


@dataclass(frozen=True, slots=True)
class NewTrial:
    """One hypothesis a run tested, with the statistics the promotion gate needs later.

    ``sharpe``/``skewness``/``kurtosis``/``n_returns`` describe the hypothesis' out-of-sample net
    returns (per period, non-excess kurtosis); ``ic_t`` is the HAC t of its mean IC and
    ``p_value`` the one-sided p of that t. A statistic that could not be computed is ``None``,
    never a number that looks measured.
    """

    run_instance_id: str
    run_key: str
    dataset_id: str
    data_watermark: int | None
    signal: str
    params: Mapping[str, Any]
    horizon: int
    freq: str
    instruments: tuple[str, ...]
    start_ms: int
    end_ms: int
    sharpe: float | None
    skewness: float | None
    kurtosis: float | None
    n_returns: int
    ic_mean: float | None
    ic_t: float | None
    p_value: float | None
    n_obs: int
    family_size: int
    family_n_eff: float
    variant: str | None = None
    """Distinguishes several trials of one ``signal@horizon`` in one run (a sweep's grid points:
    parameters, universe, costs); ``None`` for a report's hypotheses."""

    @property
    def hypothesis_id(self) -> str:
        base = f"{self.signal}@{self.horizon}"
        return base if self.variant is None else f"{base}#{self.variant}"

    def trial_key(self) -> str:
        """Identity for counting: same hypothesis, same data, same results ⇒ the same trial.

        A variant joins the identity (two cost scenarios with equal numbers are two trials); a
        report's trials, without one, keep the keys they always had."""
        variant = {} if self.variant is None else {"variant": self.variant}
        return sha256_json(
            {
                **variant,
                "dataset_id": self.dataset_id,
                "end_ms": self.end_ms,
                "freq": self.freq,
                "horizon": self.horizon,
                "ic_t": self.ic_t,
                "instruments": sorted(self.instruments),
                "n_obs": self.n_obs,
                "n_returns": self.n_returns,
                "p_value": self.p_value,
                "params": dict(self.params),
                "sharpe": self.sharpe,
                "signal": self.signal,
                "start_ms": self.start_ms,
            }
        )


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """A ledger row as stored."""

    tenant_id: str
    seq: int
    trial_id: str
    trial_key: str
    run_instance_id: str
    run_key: str
    dataset_id: str
    data_watermark: int | None
    hypothesis_id: str
    signal: str
    params_json: str
    horizon: int
    freq: str
    instruments_json: str
    n_instruments: int
    start_ms: int
    end_ms: int
    sharpe: float | None
    skewness: float | None
    kurtosis: float | None
    n_returns: int
    ic_mean: float | None
    ic_t: float | None
    p_value: float | None
    n_obs: int
    family_size: int
    family_n_eff: float
    created_at: str
    prev_hash: str
    hash: str
    mac: str | None = None
    """HMAC of ``hash`` with the service key (``None``: written without a key)."""
    mac_key_id: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> TrialRecord:
        return cls.from_values([row.get(name) for name in _FIELD_NAMES])

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> TrialRecord:
        """A record from column values in field order (the fast path of :func:`read_trials`)."""
        cells = list(values)
        for index in _INT_FIELDS:
            cells[index] = int(cells[index])
        if cells[_WATERMARK] is not None:
            cells[_WATERMARK] = int(cells[_WATERMARK])
        cells[_N_EFF] = float(cells[_N_EFF])
        return cls(*cells)

    def instruments(self) -> tuple[str, ...]:
        return tuple(canonical_loads(self.instruments_json))

    def hashed_fields(self) -> dict[str, Any]:
        """Every stored column except the hashes and the MAC: what :func:`trial_hash` covers."""
        return {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if item.name not in _UNHASHED
        }

    def to_dict(self) -> dict[str, Any]:
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["instruments"] = list(self.instruments())
        values["params"] = canonical_loads(values.pop("params_json"))
        del values["instruments_json"]
        return values


_FIELD_NAMES = tuple(item.name for item in fields(TrialRecord))
_INT_FIELDS = tuple(
    _FIELD_NAMES.index(name)
    for name in (
        "seq",
        "horizon",
        "n_instruments",
        "start_ms",
        "end_ms",
        "n_returns",
        "n_obs",
        "family_size",
    )
)
_WATERMARK = _FIELD_NAMES.index("data_watermark")
_N_EFF = _FIELD_NAMES.index("family_n_eff")


@dataclass(frozen=True, slots=True)
class LedgerHead:
    """How many trials the tenant's ledger holds and the hash of its last row."""

    size: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"hash": self.hash, "size": self.size}


_UNHASHED = ("prev_hash", "hash", "mac", "mac_key_id")


def trial_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """Chain hash of one ledger row (``body`` = every column except ``prev_hash``/``hash``)."""
    return chained_sha256(prev_hash, dict(body))


def _finite(value: float | None, name: str, trial: NewTrial) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(
            f"trial {trial.hypothesis_id} of run {trial.run_instance_id}: {name} is {number}",
            "record a statistic that could not be computed as missing (None), never as a number",
        )
    return number


def ledger_head(
    connection: Connection, tenant_id: str, *, up_to_seq: int | None = None
) -> LedgerHead:
    """The tenant's ledger size and head hash (genesis hash for an empty ledger).

    ``up_to_seq`` reads the head of the prefix of the first ``up_to_seq`` rows instead (the ledger
    as an earlier decision saw it).
    """
    query = sa.select(trial_ledger.c.seq, trial_ledger.c.hash).where(
        trial_ledger.c.tenant_id == tenant_id
    )
    if up_to_seq is not None:
        query = query.where(trial_ledger.c.seq < up_to_seq)
    row = connection.execute(query.order_by(trial_ledger.c.seq.desc()).limit(1)).first()
    return LedgerHead(0, GENESIS_HASH) if row is None else LedgerHead(int(row[0]) + 1, str(row[1]))


def append_trials(
    engine: Engine,
    tenant_id: str,
    trials: Sequence[NewTrial],
    *,
    created_at: str,
    service_key: KeyArgument = KEY_FROM_ENVIRONMENT,
) -> list[TrialRecord]:
    """Append ``trials`` to the tenant's ledger in one locked transaction; returns them as stored.

    The trial id is derived from (tenant, run, hypothesis), so appending a run's trials twice is
    refused by the database rather than double-counted. Each row is MACed with ``service_key``
    (default: the workspace's configured key); a governed tenant without a key refuses the append
    (:func:`~crypto_analyzer.db.record_keys.writer_key`).
    """
    if not trials:
        return []
    key = engine_key(engine, service_key)
    stored: list[TrialRecord] = []
    with locked_transaction(engine, LEDGER_LOCK_PREFIX + tenant_id) as connection:
        key = writer_key(connection, tenant_id, key, what="a trial-ledger append")
        head = ledger_head(connection, tenant_id)
        prev, seq = head.hash, head.size
        for trial in trials:
            values: dict[str, Any] = {
                "tenant_id": tenant_id,
                "seq": seq,
                "trial_id": "tr_"
                + sha256_json(
                    {
                        "hypothesis": trial.hypothesis_id,
                        "run": trial.run_instance_id,
                        "tenant": tenant_id,
                    }
                )[:24],
                "trial_key": trial.trial_key(),
                "run_instance_id": trial.run_instance_id,
                "run_key": trial.run_key,
                "dataset_id": trial.dataset_id,
                "data_watermark": trial.data_watermark,
                "hypothesis_id": trial.hypothesis_id,
                "signal": trial.signal,
                "params_json": canonical_dumps(dict(trial.params)),
                "horizon": int(trial.horizon),
                "freq": trial.freq,
                "instruments_json": canonical_dumps(sorted(trial.instruments)),
                "n_instruments": len(set(trial.instruments)),
                "start_ms": int(trial.start_ms),
                "end_ms": int(trial.end_ms),
                "sharpe": _finite(trial.sharpe, "sharpe", trial),
                "skewness": _finite(trial.skewness, "skewness", trial),
                "kurtosis": _finite(trial.kurtosis, "kurtosis", trial),
                "n_returns": int(trial.n_returns),
                "ic_mean": _finite(trial.ic_mean, "ic_mean", trial),
                "ic_t": _finite(trial.ic_t, "ic_t", trial),
                "p_value": _finite(trial.p_value, "p_value", trial),
                "n_obs": int(trial.n_obs),
                "family_size": int(trial.family_size),
                "family_n_eff": float(trial.family_n_eff),
                "created_at": created_at,
                "prev_hash": prev,
            }
            values["hash"] = trial_hash(prev, _without_hashes(values))
            values.update(seal(key, TRIAL_MAC, {"hash": values["hash"]}))
            connection.execute(trial_ledger.insert().values(**values))
            stored.append(TrialRecord.from_row(values))
            prev, seq = values["hash"], seq + 1
    return stored


def _without_hashes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in ("prev_hash", "hash")}


def read_trials(
    connection: Connection,
    tenant_id: str,
    *,
    freq: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    run_instance_id: str | None = None,
    up_to_seq: int | None = None,
) -> list[TrialRecord]:
    """The tenant's trials in ledger order, optionally those of one frequency whose time range
    overlaps ``[start_ms, end_ms]``, of one run, or only the first ``up_to_seq`` rows."""
    query = sa.select(*(trial_ledger.c[name] for name in _FIELD_NAMES)).where(
        trial_ledger.c.tenant_id == tenant_id
    )
    if freq is not None:
        query = query.where(trial_ledger.c.freq == freq)
    if end_ms is not None:
        query = query.where(trial_ledger.c.start_ms <= end_ms)
    if start_ms is not None:
        query = query.where(trial_ledger.c.end_ms >= start_ms)
    if run_instance_id is not None:
        query = query.where(trial_ledger.c.run_instance_id == run_instance_id)
    if up_to_seq is not None:
        query = query.where(trial_ledger.c.seq < up_to_seq)
    rows = connection.execute(query.order_by(trial_ledger.c.seq))
    # Tuples in field order, not mappings: an evaluation reads every trial in scope (10,000 and
    # more), and building each record from a mapping cost most of the evaluation's time.
    return [TrialRecord.from_values(row) for row in rows]


def verify_ledger(trials: Sequence[TrialRecord]) -> list[str]:
    """Findings for one tenant's whole ledger in ``seq`` order; empty when the chain is intact."""
    return verify_links(
        trials,
        recompute=lambda trial: trial_hash(trial.prev_hash, trial.hashed_fields()),
        label=lambda trial: f"trial {trial.trial_id} (seq {trial.seq})",
        what="trial",
    )
