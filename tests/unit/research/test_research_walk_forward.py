"""Walk-forward driver and the fold-causality attestation."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from research_helpers import planted_panel

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.research import (
    ATTESTATION_CHECKS,
    FactorResidualizer,
    Panel,
    SignCalibrator,
    Standardizer,
    Winsorizer,
    build_attestation,
    cpcv_plan,
    evaluate_walk_forward,
    validate_attestation,
    walk_forward_plan,
)


@pytest.fixture(scope="module")
def planted_eval() -> tuple:
    planted = planted_panel(np.random.default_rng(21), n_times=1500, n_assets=40, rank_ic=0.1)
    plan = walk_forward_plan(1500, test_size=250, min_train_size=240, horizon=4, embargo=2)
    # a negated copy: only a train-fitted sign calibration can recover it
    signals = {"planted": planted.signal, "negated": -planted.signal}
    return planted, plan, _planted_walk_forward(planted, plan, signals)


def _planted_walk_forward(planted, plan, signals):  # type: ignore[no-untyped-def]
    return evaluate_walk_forward(
        planted.panel,
        signals,
        plan=plan,
        run_key="rk-1",
        dataset_id="ds-1",
        horizons=[1, 4],
        transforms=[Winsorizer(0.01), SignCalibrator(), Standardizer()],
        label_horizon=1,
    )


def test_oos_ic_recovers_planted_signal_and_sign_is_learned_on_train(planted_eval) -> None:
    planted, plan, result = planted_eval
    s = result.summary
    assert abs(s.loc[("planted", 1, "rank"), "mean"] - planted.rank_ic) < 0.015
    assert abs(s.loc[("negated", 1, "rank"), "mean"] - planted.rank_ic) < 0.015
    assert s.loc[("planted", 1, "rank"), "t_hac"] > 5
    assert s.loc[("planted", 4, "rank"), "hac_lags"] >= 3
    tested = sum(len(f.test_rows()) for f in plan.folds)
    assert s.loc[("planted", 1, "rank"), "n_obs"] == tested
    assert set(result.fold_ic["fold"]) == set(range(len(plan.folds)))


def test_every_fit_is_recorded_on_train_rows_only(planted_eval) -> None:
    _, plan, result = planted_eval
    assert len(result.fit_records) == len(plan.folds) * 2 * 3
    for record in result.fit_records:
        train = set(plan.folds[record.fold].train_rows())
        seen = {r for s, e in record.rows for r in range(s, e)}
        assert seen and seen <= train
        assert record.label_horizon == (1 if record.transform == "sign_calibrator" else None)


def test_attestation_is_valid_json_and_lists_facts(planted_eval) -> None:
    _, plan, result = planted_eval
    doc = result.attestation
    canonical_dumps(doc)
    assert validate_attestation(doc) == []
    assert doc["valid"] and doc["split_plan_digest"] == plan.digest()
    assert doc["run_key"] == "rk-1" and doc["dataset_id"] == "ds-1"
    assert set(doc["checks"]) == set(ATTESTATION_CHECKS)
    fold0 = doc["folds"][0]
    assert fold0["n_purged"] == 4 and fold0["n_embargoed"] == 0
    assert {fit["transform"] for fit in fold0["fits"]} == {
        "winsorizer",
        "sign_calibrator",
        "standardizer",
    }


def _tampered(doc: dict, edit) -> list[str]:
    bad = copy.deepcopy(doc)
    edit(bad)
    return validate_attestation(bad)


def test_validation_catches_tampering(planted_eval) -> None:
    result = planted_eval[2]
    doc = result.attestation
    first_test = doc["folds"][0]["test"][0][0]

    def widen_fit(d: dict) -> None:
        d["folds"][0]["fits"][0]["rows"][-1][1] = first_test + 5
        d["folds"][0]["fits"][0]["n_rows"] += first_test + 5 - d["folds"][0]["train"][-1][1]

    reasons = _tampered(doc, widen_fit)
    assert any(r.startswith("fits_within_train") for r in reasons)

    def shrink_purge(d: dict) -> None:
        fold = d["folds"][0]
        fold["train"][-1][1] += 4
        fold["purged"] = []
        fold["n_purged"] = 0

    reasons = _tampered(doc, shrink_purge)
    assert any(r.startswith("purge_covers_horizon") for r in reasons)
    assert any(r.startswith("folds_match_plan") for r in reasons)

    def stale_digest(d: dict) -> None:
        d["split_plan"]["embargo"] = 0

    assert any(r.startswith("split_plan_digest") for r in _tampered(doc, stale_digest))

    def flip_verdict(d: dict) -> None:
        d["checks"]["ranges_disjoint"]["passed"] = False

    assert _tampered(doc, flip_verdict) == [
        "ranges_disjoint: stored verdict disagrees with the recomputed one"
    ]

    def drop_fold_fits(d: dict) -> None:
        d["folds"][1]["fits"] = []

    assert any(r.startswith("fits_every_fold") for r in _tampered(doc, drop_fold_fits))
    assert _tampered(doc, lambda d: d.update(schema_version=2)) == [
        "schema_version 2 is not supported; supported: 1"
    ]
    assert _tampered(doc, lambda d: d.pop("folds")) == ["missing field 'folds'"]
    assert validate_attestation([]) == ["attestation must be a mapping, got list"]


def test_attestation_fails_when_purge_is_shorter_than_evaluated_horizon() -> None:
    plan = walk_forward_plan(100, test_size=20, min_train_size=30, horizon=2)
    doc = build_attestation(
        run_key="rk", dataset_id="ds", plan=plan, fit_records=[], horizons=[1, 6]
    )
    assert not doc["valid"]
    assert not doc["checks"]["purge_covers_horizon"]["passed"]
    assert validate_attestation(doc) == [
        doc["checks"]["purge_covers_horizon"]["reason"].join(["purge_covers_horizon: ", ""])
    ]


def test_cpcv_evaluation_with_factor_residualizer(market_panel: Panel) -> None:
    plan = cpcv_plan(market_panel.shape[0], n_groups=5, n_test_groups=2, horizon=4, embargo=3)
    rets = market_panel.log_returns
    result = evaluate_walk_forward(
        market_panel,
        {"lagged_returns": rets.shift(1)},
        plan=plan,
        run_key="rk",
        dataset_id="ds",
        horizons=[1, 4],
        transforms=[FactorResidualizer(factor_ids=[1, 2])],
    )
    assert validate_attestation(result.attestation) == []
    assert len(result.fit_records) == 10
    embargoed = [f["n_embargoed"] for f in result.attestation["folds"]]
    assert max(embargoed) == 6 and min(embargoed) == 0
    assert result.oos_ic.index.equals(market_panel.times)  # CPCV tests every row
    assert result.oos_ic.iloc[:2].isna().all().all()  # no lagged return yet
    assert result.oos_ic.iloc[2:-4].notna().all().all()  # the last 4 rows have no 4-bar label


def test_driver_validation(market_panel: Panel) -> None:
    plan = walk_forward_plan(market_panel.shape[0], test_size=50, min_train_size=100, horizon=4)
    sig = {"s": market_panel.log_returns}
    with pytest.raises(ValueError, match="shorter than the longest horizon 12"):
        evaluate_walk_forward(
            market_panel, sig, plan=plan, run_key="r", dataset_id="d", horizons=[1, 12]
        )
    with pytest.raises(ValueError, match="aligned"):
        evaluate_walk_forward(
            market_panel,
            {"s": market_panel.log_returns.iloc[1:]},
            plan=plan,
            run_key="r",
            dataset_id="d",
            horizons=[1],
        )
    short = walk_forward_plan(300, test_size=50, min_train_size=100, horizon=4)
    with pytest.raises(ValueError, match=r"plan\.n_rows=300"):
        evaluate_walk_forward(
            market_panel, sig, plan=short, run_key="r", dataset_id="d", horizons=[1]
        )


class _CountingSignals(dict):  # type: ignore[type-arg]
    """A mapping that counts how often each signal is read (the report reads them from disk)."""

    def __init__(self, frames: dict) -> None:  # type: ignore[type-arg]
        super().__init__(frames)
        self.reads: dict[str, int] = dict.fromkeys(frames, 0)

    def items(self):  # type: ignore[no-untyped-def]
        for name in self:
            yield name, self[name]

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        self.reads[name] += 1
        return super().__getitem__(name)


def test_each_signal_is_read_once_and_the_result_keeps_fold_order(planted_eval) -> None:
    planted, plan, result = planted_eval
    signals = _CountingSignals({"planted": planted.signal, "negated": -planted.signal})
    again = _planted_walk_forward(planted, plan, signals)
    # once for the input checks, once for the evaluation: never once per fold
    assert signals.reads == {"planted": 2, "negated": 2}
    assert again.fold_ic.equals(result.fold_ic)
    assert [r.fold for r in again.fit_records] == sorted(r.fold for r in again.fit_records)
    assert canonical_dumps(again.attestation) == canonical_dumps(result.attestation)
