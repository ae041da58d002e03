"""Fold-causality attestation: a schema-versioned record of how an evaluation respected time.

The attestation states facts (the split plan and its digest, each fold's train/test ranges, the
rows purge and embargo actually removed, every fitted transform and the rows it saw) and derives
its checks from those facts alone. :func:`validate_attestation` recomputes every check from the
document, so a document edited after the fact (a widened fit range, a shortened purge, a stale
digest) is caught even if its stored ``checks`` claim success. Signing (DSSE) wraps this dict later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.research._checks import check_horizons
from crypto_analyzer.research.guard import FitRecord, label_windows_touch_test
from crypto_analyzer.research.splits import SplitPlan

__all__ = [
    "ATTESTATION_CHECKS",
    "ATTESTATION_SCHEMA",
    "ATTESTATION_SCHEMA_VERSION",
    "build_attestation",
    "validate_attestation",
]

ATTESTATION_SCHEMA = "crypto_analyzer.research.fold_causality_attestation"
ATTESTATION_SCHEMA_VERSION = 1

_Ranges = list[list[int]]


def _count(ranges: _Ranges) -> int:
    return sum(e - s for s, e in ranges)


def _overlap(a: _Ranges, b: _Ranges) -> int:
    total = 0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0, min(e1, e2) - max(s1, s2))
    return total


def _subset(inner: _Ranges, outer: _Ranges) -> bool:
    return _overlap(inner, outer) == _count(inner)


def _check_plan_digest(doc: Mapping[str, Any]) -> str | None:
    if sha256_json(doc["split_plan"]) != doc["split_plan_digest"]:
        return "split_plan_digest does not match the embedded split plan"
    return None


def _check_folds_match_plan(doc: Mapping[str, Any]) -> str | None:
    plan_folds = doc["split_plan"]["folds"]
    if len(plan_folds) != len(doc["folds"]):
        return f"{len(doc['folds'])} folds attested but the plan has {len(plan_folds)}"
    for pf, f in zip(plan_folds, doc["folds"], strict=True):
        for key in ("index", "train", "test", "purged", "embargoed"):
            if pf[key] != f[key]:
                return f"fold {f['index']}: {key} differs from the split plan"
    return None


def _check_disjoint(doc: Mapping[str, Any]) -> str | None:
    for f in doc["folds"]:
        parts = [f["train"], f["test"], f["purged"], f["embargoed"]]
        for i in range(4):
            for j in range(i + 1, 4):
                if _overlap(parts[i], parts[j]):
                    return f"fold {f['index']}: train/test/purged/embargoed ranges overlap"
    return None


def _check_counts(doc: Mapping[str, Any]) -> str | None:
    for f in doc["folds"]:
        if f["n_purged"] != _count(f["purged"]) or f["n_embargoed"] != _count(f["embargoed"]):
            return f"fold {f['index']}: purge/embargo counts disagree with the removed ranges"
    return None


def _check_purge(doc: Mapping[str, Any]) -> str | None:
    horizon = max(doc["horizons"])
    for f in doc["folds"]:
        bad = label_windows_touch_test(f["train"], horizon, [tuple(r) for r in f["test"]])
        if bad:
            return (
                f"fold {f['index']}: {bad} training row(s) have a {horizon}-bar label window "
                "reaching a test block (purge too short)"
            )
    return None


def _check_embargo(doc: Mapping[str, Any]) -> str | None:
    embargo = int(doc["split_plan"]["embargo"])
    for f in doc["folds"]:
        zone = [[e, e + embargo] for _, e in f["test"]]
        if embargo and _overlap(f["train"], zone):
            return f"fold {f['index']}: training rows inside the {embargo}-bar embargo"
    return None


def _check_fits_within_train(doc: Mapping[str, Any]) -> str | None:
    for f in doc["folds"]:
        for fit in f["fits"]:
            if fit["fold"] != f["index"] or not _subset(fit["rows"], f["train"]):
                return (
                    f"fold {f['index']}: transform {fit['transform']!r} ({fit['scope']}) saw rows "
                    "outside the training set"
                )
            if _count(fit["rows"]) != fit["n_rows"]:
                return f"fold {f['index']}: transform {fit['transform']!r} n_rows != its ranges"
    return None


def _check_label_fits(doc: Mapping[str, Any]) -> str | None:
    for f in doc["folds"]:
        test = [tuple(r) for r in f["test"]]
        for fit in f["fits"]:
            h = fit["label_horizon"]
            if h is not None and label_windows_touch_test(fit["rows"], int(h), test):
                return (
                    f"fold {f['index']}: transform {fit['transform']!r} used labels realised "
                    "inside a test block"
                )
    return None


def _check_fits_every_fold(doc: Mapping[str, Any]) -> str | None:
    signatures = [
        sorted((fit["transform"], fit["scope"]) for fit in f["fits"]) for f in doc["folds"]
    ]
    if signatures and any(s != signatures[0] for s in signatures):
        return "folds fitted different sets of transforms"
    return None


ATTESTATION_CHECKS: Mapping[str, Callable[[Mapping[str, Any]], str | None]] = {
    "split_plan_digest": _check_plan_digest,
    "folds_match_plan": _check_folds_match_plan,
    "ranges_disjoint": _check_disjoint,
    "removal_counts": _check_counts,
    "purge_covers_horizon": _check_purge,
    "embargo_respected": _check_embargo,
    "fits_within_train": _check_fits_within_train,
    "label_fits_before_test": _check_label_fits,
    "fits_every_fold": _check_fits_every_fold,
}
"""Check name -> function returning None (passed) or the reason it failed."""


def _build_iv(
    run_key: Any, dataset_id: Any, plan: Any, fit_records: Any, horizons: Any
) -> tuple[int, ...]:
    for name, value in (("run_key", run_key), ("dataset_id", dataset_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty str, got {value!r}")
    if not isinstance(plan, SplitPlan):
        raise TypeError(f"plan must be a SplitPlan, got {type(plan).__name__}")
    if not isinstance(fit_records, Sequence) or not all(
        isinstance(r, FitRecord) for r in fit_records
    ):
        raise TypeError("fit_records must be a sequence of FitRecord")
    for r in fit_records:
        if not 0 <= r.fold < len(plan.folds):
            raise ValueError(f"fit record for fold {r.fold} but the plan has {len(plan.folds)}")
    return check_horizons("horizons", horizons)


def build_attestation(
    *,
    run_key: str,
    dataset_id: str,
    plan: SplitPlan,
    fit_records: Sequence[FitRecord],
    horizons: Sequence[int],
    time_axis: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Assemble the attestation dict and compute its checks.

    Parameters
    ----------
    run_key, dataset_id : str
        Identities of the run and the data (DESIGN.md §4).
    plan : SplitPlan
        The plan the evaluation used.
    fit_records : sequence of FitRecord
        Every guarded fit of the evaluation.
    horizons : sequence of int
        Label horizons evaluated; the purge check uses the longest.
    time_axis : mapping, optional
        E.g. ``{"first_bar_open_ms": ..., "bar_ms": ..., "n_rows": ...}`` to map rows to times.

    Returns
    -------
    dict
        Canonical-JSON-able; ``checks`` maps each name in :data:`ATTESTATION_CHECKS` to
        ``{"passed": bool, "reason": str | None}`` and ``valid`` is their conjunction.
    """
    horizons = _build_iv(run_key, dataset_id, plan, fit_records, horizons)
    plan_doc = plan.to_dict()
    folds = []
    for fold in plan_doc["folds"]:
        folds.append(
            {
                "index": fold["index"],
                "train": fold["train"],
                "test": fold["test"],
                "purged": fold["purged"],
                "embargoed": fold["embargoed"],
                "n_purged": fold["n_purged"],
                "n_embargoed": fold["n_embargoed"],
                "fits": [r.to_dict() for r in fit_records if r.fold == fold["index"]],
            }
        )
    doc: dict[str, Any] = {
        "schema": ATTESTATION_SCHEMA,
        "schema_version": ATTESTATION_SCHEMA_VERSION,
        "run_key": run_key,
        "dataset_id": dataset_id,
        "horizons": list(horizons),
        "time_axis": None if time_axis is None else {k: int(v) for k, v in time_axis.items()},
        "split_plan": plan_doc,
        "split_plan_digest": sha256_json(plan_doc),
        "folds": folds,
    }
    results = _run_checks(doc)
    doc["checks"] = {name: {"passed": r is None, "reason": r} for name, r in results.items()}
    doc["valid"] = all(r is None for r in results.values())
    return doc


def _run_checks(doc: Mapping[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name, check in ATTESTATION_CHECKS.items():
        try:
            out[name] = check(doc)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            out[name] = f"malformed document ({type(exc).__name__}: {exc})"
    return out


_REQUIRED = {
    "schema": str,
    "schema_version": int,
    "run_key": str,
    "dataset_id": str,
    "horizons": list,
    "split_plan": dict,
    "split_plan_digest": str,
    "folds": list,
    "checks": dict,
    "valid": bool,
}


def validate_attestation(doc: Any) -> list[str]:
    """Reasons why ``doc`` is not a valid fold-causality attestation (empty list = valid).

    Every check is recomputed from the document's facts; the stored ``checks`` and ``valid`` must
    also agree with the recomputation, so a hand-edited verdict is reported too.
    """
    if not isinstance(doc, Mapping):
        return [f"attestation must be a mapping, got {type(doc).__name__}"]
    reasons = []
    for key, kind in _REQUIRED.items():
        if key not in doc:
            reasons.append(f"missing field {key!r}")
        elif not isinstance(doc[key], kind) or (kind is int and isinstance(doc[key], bool)):
            reasons.append(f"field {key!r} must be {kind.__name__}")
    if reasons:
        return reasons
    if doc["schema"] != ATTESTATION_SCHEMA:
        return [f"schema is {doc['schema']!r}, expected {ATTESTATION_SCHEMA!r}"]
    if doc["schema_version"] != ATTESTATION_SCHEMA_VERSION:
        return [
            f"schema_version {doc['schema_version']} is not supported; "
            f"supported: {ATTESTATION_SCHEMA_VERSION}"
        ]
    if not doc["run_key"] or not doc["dataset_id"]:
        reasons.append("run_key and dataset_id must be non-empty")
    if not doc["folds"]:
        reasons.append("no folds attested")
    if not doc["horizons"]:
        return [*reasons, "horizons must not be empty"]
    results = _run_checks(doc)
    for name, reason in results.items():
        if reason is not None:
            reasons.append(f"{name}: {reason}")
        stored = doc["checks"].get(name)
        if not isinstance(stored, Mapping) or stored.get("passed") is not (reason is None):
            reasons.append(f"{name}: stored verdict disagrees with the recomputed one")
    if set(doc["checks"]) != set(ATTESTATION_CHECKS):
        reasons.append("checks do not list exactly the known attestation checks")
    if doc["valid"] is not all(r is None for r in results.values()):
        reasons.append("valid flag disagrees with the recomputed checks")
    return reasons
