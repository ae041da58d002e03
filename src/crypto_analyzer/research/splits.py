"""Train/test split plans with purge and embargo: walk-forward and combinatorial purged CV.

Rows are positions on the panel's regular time axis. A label at row ``t`` with horizon ``h`` spans
``[t, t + h]``, so a training row just before a test block has a label that is *realised inside* the
test block: training on it tells the model about test-period prices. Two removals fix that
(Lopez de Prado, 2018, ch. 7):

* **purge** (``purge >= h`` bars): drop every training row ``t`` whose window ``[t, t + purge]``
  overlaps a test block ``[a, b]``, i.e. the ``purge`` rows before each block;
* **embargo** (``embargo`` bars): drop the training rows right after each test block,
  ``b + 1 .. b + embargo``, whose features are serially correlated with the block's last labels.

A :class:`SplitPlan` records, for every fold, the train and test ranges and the rows actually
removed by purge and by embargo (after edge effects and overlaps), so the attestation states facts,
not settings.

References
----------
.. [1] Lopez de Prado, M. (2018). *Advances in Financial Machine Learning*. Wiley. Sections 7.4
   (purging, embargo) and 12.4 (combinatorial purged cross-validation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.research._checks import check_choice, check_int

__all__ = [
    "SPLIT_PLAN_SCHEMA",
    "SPLIT_PLAN_SCHEMA_VERSION",
    "Fold",
    "SplitPlan",
    "ranges_to_rows",
    "rows_to_ranges",
    "walk_forward_plan",
]

SPLIT_PLAN_SCHEMA = "crypto_analyzer.research.split_plan"
SPLIT_PLAN_SCHEMA_VERSION = 1

Range = tuple[int, int]
"""Half-open row range ``[start, stop)``."""


def _rows_to_ranges_iv(rows: Any) -> np.ndarray:
    arr = np.asarray(rows)
    if arr.ndim != 1:
        raise ValueError(f"rows must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"rows must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def rows_to_ranges(rows: np.ndarray | Sequence[int]) -> tuple[Range, ...]:
    """Compress row positions into sorted, maximal half-open ranges."""
    arr = np.unique(_rows_to_ranges_iv(rows))
    if arr.size == 0:
        return ()
    breaks = np.flatnonzero(np.diff(arr) != 1)
    starts = np.concatenate(([arr[0]], arr[breaks + 1]))
    stops = np.concatenate((arr[breaks] + 1, [arr[-1] + 1]))
    return tuple((int(s), int(e)) for s, e in zip(starts, stops, strict=True))


def _ranges_to_rows_iv(ranges: Any) -> None:
    for pair in ranges:
        if len(pair) != 2 or int(pair[0]) > int(pair[1]):
            raise ValueError(f"ranges must be [start, stop) pairs with start <= stop, got {pair!r}")


def ranges_to_rows(ranges: Sequence[Sequence[int]]) -> np.ndarray:
    """Expand half-open ranges into sorted row positions."""
    _ranges_to_rows_iv(ranges)
    if not ranges:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(int(s), int(e), dtype=np.int64) for s, e in ranges])


def _mask_to_ranges(mask: np.ndarray) -> tuple[Range, ...]:
    return rows_to_ranges(np.flatnonzero(mask))


@dataclass(frozen=True, slots=True)
class Fold:
    """One train/test split.

    Attributes
    ----------
    index : int
        Fold number (0-based, plan order).
    train, test : tuple of (int, int)
        Half-open row ranges; ``train`` is after purge and embargo.
    purged, embargoed : tuple of (int, int)
        Rows of the candidate training set actually removed by purge and by embargo.
    test_groups : tuple of int or None
        CPCV group ids forming the test set (None for walk-forward).
    """

    index: int
    train: tuple[Range, ...]
    test: tuple[Range, ...]
    purged: tuple[Range, ...]
    embargoed: tuple[Range, ...]
    test_groups: tuple[int, ...] | None = None

    def train_rows(self) -> np.ndarray:
        """Training row positions."""
        return ranges_to_rows(self.train)

    def test_rows(self) -> np.ndarray:
        """Test row positions."""
        return ranges_to_rows(self.test)

    @property
    def n_purged(self) -> int:
        """Rows removed by purge."""
        return sum(e - s for s, e in self.purged)

    @property
    def n_embargoed(self) -> int:
        """Rows removed by embargo."""
        return sum(e - s for s, e in self.embargoed)

    def to_dict(self) -> dict[str, Any]:
        """Canonical-JSON-able dict."""
        return {
            "index": self.index,
            "train": [list(r) for r in self.train],
            "test": [list(r) for r in self.test],
            "purged": [list(r) for r in self.purged],
            "embargoed": [list(r) for r in self.embargoed],
            "n_train": sum(e - s for s, e in self.train),
            "n_test": sum(e - s for s, e in self.test),
            "n_purged": self.n_purged,
            "n_embargoed": self.n_embargoed,
            "test_groups": None if self.test_groups is None else list(self.test_groups),
        }


@dataclass(frozen=True, slots=True)
class SplitPlan:
    """A complete, serialisable list of folds plus the settings that produced them.

    Attributes
    ----------
    kind : str
        ``"walk_forward"`` or ``"cpcv"``.
    n_rows : int
        Length of the time axis the plan indexes.
    horizon : int
        Longest label horizon the plan protects (purge >= horizon).
    purge, embargo : int
        Purge and embargo lengths in bars.
    params : Mapping
        Kind-specific settings (sizes, mode, groups).
    folds : tuple of Fold
    schema_version : int
    """

    kind: str
    n_rows: int
    horizon: int
    purge: int
    embargo: int
    params: Mapping[str, Any]
    folds: tuple[Fold, ...]
    schema_version: int = field(default=SPLIT_PLAN_SCHEMA_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """Canonical-JSON-able dict (the exact content :meth:`digest` hashes)."""
        return {
            "schema": SPLIT_PLAN_SCHEMA,
            "schema_version": self.schema_version,
            "kind": self.kind,
            "n_rows": self.n_rows,
            "horizon": self.horizon,
            "purge": self.purge,
            "embargo": self.embargo,
            "params": _plain(self.params),
            "folds": [f.to_dict() for f in self.folds],
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`."""
        return sha256_json(self.to_dict())

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> SplitPlan:
        """Inverse of :meth:`to_dict` (refuses another schema or version)."""
        if doc.get("schema") != SPLIT_PLAN_SCHEMA:
            raise ValueError(f"not a split plan: schema {doc.get('schema')!r}")
        if doc.get("schema_version") != SPLIT_PLAN_SCHEMA_VERSION:
            raise ValueError(
                f"split plan schema_version {doc.get('schema_version')!r} is not supported; "
                f"supported: {SPLIT_PLAN_SCHEMA_VERSION}"
            )
        folds = tuple(
            Fold(
                index=int(f["index"]),
                train=tuple((int(s), int(e)) for s, e in f["train"]),
                test=tuple((int(s), int(e)) for s, e in f["test"]),
                purged=tuple((int(s), int(e)) for s, e in f["purged"]),
                embargoed=tuple((int(s), int(e)) for s, e in f["embargoed"]),
                test_groups=None if f["test_groups"] is None else tuple(f["test_groups"]),
            )
            for f in doc["folds"]
        )
        return cls(
            kind=str(doc["kind"]),
            n_rows=int(doc["n_rows"]),
            horizon=int(doc["horizon"]),
            purge=int(doc["purge"]),
            embargo=int(doc["embargo"]),
            params=MappingProxyType(dict(doc["params"])),
            folds=folds,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _make_fold(
    index: int,
    n_rows: int,
    candidate: np.ndarray,
    test: np.ndarray,
    purge: int,
    embargo: int,
    test_groups: tuple[int, ...] | None = None,
) -> Fold:
    """Apply purge then embargo to a candidate training mask around the (merged) test blocks."""
    candidate = candidate & ~test
    purged = np.zeros(n_rows, dtype=bool)
    embargoed = np.zeros(n_rows, dtype=bool)
    for start, stop in _mask_to_ranges(test):
        purged[max(0, start - purge) : start] = True
        embargoed[stop : min(n_rows, stop + embargo)] = True
    purged &= candidate
    embargoed &= candidate & ~purged
    train = candidate & ~purged & ~embargoed
    return Fold(
        index=index,
        train=_mask_to_ranges(train),
        test=_mask_to_ranges(test),
        purged=_mask_to_ranges(purged),
        embargoed=_mask_to_ranges(embargoed),
        test_groups=test_groups,
    )


def _common_iv(n_rows: Any, horizon: Any, purge: Any, embargo: Any) -> tuple[int, int, int, int]:
    n_rows = check_int("n_rows", n_rows, minimum=2)
    horizon = check_int("horizon", horizon, minimum=1)
    purge = horizon if purge is None else check_int("purge", purge, minimum=0)
    if purge < horizon:
        raise ValueError(
            f"purge must be >= horizon ({horizon}) so no training label reaches into a test "
            f"block, got {purge}"
        )
    return n_rows, horizon, purge, check_int("embargo", embargo, minimum=0)


def _walk_forward_iv(
    n_rows: Any,
    test_size: Any,
    min_train_size: Any,
    horizon: Any,
    purge: Any,
    embargo: Any,
    mode: Any,
    train_size: Any,
    step: Any,
) -> tuple[Any, ...]:
    n_rows, horizon, purge, embargo = _common_iv(n_rows, horizon, purge, embargo)
    test_size = check_int("test_size", test_size, minimum=1)
    min_train_size = check_int("min_train_size", min_train_size, minimum=1)
    mode = check_choice("mode", mode, ("expanding", "rolling"))
    if mode == "rolling":
        if train_size is None:
            raise ValueError("train_size is required when mode='rolling'")
        train_size = check_int("train_size", train_size, minimum=min_train_size)
    elif train_size is not None:
        raise ValueError(f"train_size applies to mode='rolling' only, got {train_size!r}")
    step = test_size if step is None else check_int("step", step, minimum=1)
    if step < test_size:
        raise ValueError(f"step must be >= test_size ({test_size}) so test blocks never overlap")
    if min_train_size + purge + test_size > n_rows:
        raise ValueError(
            f"n_rows={n_rows} is too short for one fold: needs min_train_size + purge + "
            f"test_size = {min_train_size + purge + test_size}"
        )
    return n_rows, test_size, min_train_size, horizon, purge, embargo, mode, train_size, step


def walk_forward_plan(
    n_rows: int,
    *,
    test_size: int,
    min_train_size: int,
    horizon: int,
    purge: int | None = None,
    embargo: int = 0,
    mode: str = "expanding",
    train_size: int | None = None,
    step: int | None = None,
) -> SplitPlan:
    """Walk-forward plan: consecutive test blocks, each trained only on earlier rows.

    The first test block starts at ``min_train_size + purge``, so the first fold keeps exactly
    ``min_train_size`` training rows after purging; blocks of ``test_size`` follow every ``step``
    rows while a full block fits (a shorter tail is left untested).

    Parameters
    ----------
    n_rows : int
        Length of the time axis.
    test_size, min_train_size : int
        Test block length and minimum training length (after purge), in bars.
    horizon : int
        Longest label horizon evaluated.
    purge : int, optional
        Bars purged before each test block; default and minimum ``horizon``.
    embargo : int
        Bars embargoed after each test block. Training never follows a test block in walk-forward,
        so the recorded embargo counts are 0; the setting is kept for a uniform plan format.
    mode : {"expanding", "rolling"}
        Expanding uses every earlier row; rolling keeps the last ``train_size`` rows before purge.
    train_size : int, optional
        Rolling training length after purge (required for ``mode="rolling"``).
    step : int, optional
        Distance between test block starts; default ``test_size`` (blocks tile the tail).

    Returns
    -------
    SplitPlan
    """
    n_rows, test_size, min_train, horizon, purge, embargo, mode, train_size, step = (
        _walk_forward_iv(
            n_rows, test_size, min_train_size, horizon, purge, embargo, mode, train_size, step
        )
    )
    folds: list[Fold] = []
    start = min_train + purge
    while start + test_size <= n_rows:
        test = np.zeros(n_rows, dtype=bool)
        test[start : start + test_size] = True
        candidate = np.zeros(n_rows, dtype=bool)
        first = 0 if mode == "expanding" else max(0, start - purge - int(train_size))
        candidate[first:start] = True
        folds.append(_make_fold(len(folds), n_rows, candidate, test, purge, embargo))
        start += step
    params = {
        "mode": mode,
        "test_size": test_size,
        "min_train_size": min_train,
        "train_size": train_size,
        "step": step,
    }
    return SplitPlan(
        "walk_forward", n_rows, horizon, purge, embargo, MappingProxyType(params), tuple(folds)
    )
