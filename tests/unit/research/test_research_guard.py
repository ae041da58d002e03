"""The fold guard and the leakage sentinel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from research_helpers import planted_panel

from crypto_analyzer.research import (
    CrossSectionalZScore,
    LeakageError,
    SignCalibrator,
    Standardizer,
    Winsorizer,
    evaluate_walk_forward,
    forward_returns,
    guarded_fit,
    walk_forward_plan,
)


@pytest.fixture
def setup() -> tuple[Any, ...]:
    planted = planted_panel(np.random.default_rng(1), n_times=120, n_assets=8, rank_ic=0.1)
    plan = walk_forward_plan(120, test_size=20, min_train_size=40, horizon=4, embargo=2)
    return planted, plan


def test_guard_records_exactly_the_rows_seen(setup: tuple[Any, ...]) -> None:
    planted, plan = setup
    fold = plan.folds[1]
    x = planted.signal.iloc[fold.train_rows()[5:30]]
    fitted, record = guarded_fit(
        Standardizer(), x, fold=fold, time_index=planted.panel.times, scope="sig"
    )
    assert record.rows == ((5, 30),) and record.n_rows == 25
    assert record.fold == 1 and record.scope == "sig" and record.label_horizon is None
    out = fitted.transform(x)
    assert abs(np.nanmean(out.to_numpy())) < 1e-12


def test_guard_raises_when_a_fit_sees_a_test_row(setup: tuple[Any, ...]) -> None:
    planted, plan = setup
    fold = plan.folds[0]
    rows = np.append(fold.train_rows(), fold.test_rows()[0])
    with pytest.raises(LeakageError, match=r"1 row\(s\) outside the fold's training set"):
        guarded_fit(
            Winsorizer(), planted.signal.iloc[rows], fold=fold, time_index=planted.panel.times
        )


def test_guard_raises_on_purged_rows_and_on_labels(setup: tuple[Any, ...]) -> None:
    planted, plan = setup
    fold = plan.folds[0]
    times = planted.panel.times
    purged = np.arange(fold.purged[0][0], fold.purged[0][1])
    with pytest.raises(LeakageError, match="outside the fold's training set"):
        guarded_fit(Standardizer(), planted.signal.iloc[purged], fold=fold, time_index=times)
    # features are clean, but the labels handed to the fit include a test row
    fwd = forward_returns(planted.panel, horizons=[4])[4]
    train = fold.train_rows()
    leaky_labels = fwd.iloc[np.append(train, fold.test_rows()[:3])]
    with pytest.raises(LeakageError):
        guarded_fit(
            SignCalibrator(),
            planted.signal.iloc[train],
            leaky_labels,
            fold=fold,
            time_index=times,
            label_horizon=4,
        )


def test_guard_checks_label_windows_against_test_blocks(setup: tuple[Any, ...]) -> None:
    """Labels longer than the purge are realised inside the test block: refused."""
    planted, plan = setup  # purge 4
    fold = plan.folds[0]
    train = fold.train_rows()
    fwd = forward_returns(planted.panel, horizons=[12])[12]
    with pytest.raises(LeakageError, match="12-bar window reaches into a test block"):
        guarded_fit(
            SignCalibrator(),
            planted.signal.iloc[train],
            fwd.iloc[train],
            fold=fold,
            time_index=planted.panel.times,
            label_horizon=12,
        )


def test_guard_refuses_rows_off_the_time_axis(setup: tuple[Any, ...]) -> None:
    planted, plan = setup
    x = planted.signal.iloc[:5].copy()
    x.index = x.index + 1
    with pytest.raises(LeakageError, match="not on the panel's time axis"):
        guarded_fit(Standardizer(), x, fold=plan.folds[0], time_index=planted.panel.times)


def test_guard_argument_validation(setup: tuple[Any, ...]) -> None:
    planted, plan = setup
    fold, times = plan.folds[0], planted.panel.times
    x = planted.signal.iloc[fold.train_rows()]
    with pytest.raises(TypeError, match="Transform protocol"):
        guarded_fit(object(), x, fold=fold, time_index=times)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs labels"):
        guarded_fit(SignCalibrator(), x, fold=fold, time_index=times)
    with pytest.raises(ValueError, match="label_horizon is required"):
        guarded_fit(SignCalibrator(), x, x, fold=fold, time_index=times)


@dataclass(frozen=True)
class _PeekingScaler:
    """A buggy transform spec whose caller hands it the whole signal, test rows included."""

    name: str = "peeking_scaler"
    needs_labels: bool = False

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> Any:
        return Standardizer().fit(x)

    def params(self) -> dict[str, Any]:
        return {}


def test_leakage_sentinel_guard_catches_a_full_sample_fit(setup: tuple[Any, ...]) -> None:
    planted, plan = setup
    with pytest.raises(LeakageError, match="peeking_scaler"):
        guarded_fit(
            _PeekingScaler(), planted.signal, fold=plan.folds[0], time_index=planted.panel.times
        )


def test_leakage_sentinel_future_return_feature_is_flagged() -> None:
    """A feature built from future returns passes every guard (it needs no fit) but its
    out-of-sample IC is implausible, and the sentinel flags it; the honest signal is not flagged."""
    planted = planted_panel(np.random.default_rng(2), n_times=600, n_assets=20, rank_ic=0.05)
    fwd4 = forward_returns(planted.panel, horizons=[4])[4]
    rng = np.random.default_rng(3)
    leaky = fwd4 + 0.002 * rng.standard_normal(fwd4.shape)
    plan = walk_forward_plan(600, test_size=100, min_train_size=150, horizon=4)
    result = evaluate_walk_forward(
        planted.panel,
        {"honest": planted.signal, "leaky": leaky},
        plan=plan,
        run_key="rk",
        dataset_id="ds",
        horizons=[1, 4],
        transforms=[CrossSectionalZScore()],
    )
    summary = result.summary
    assert summary.loc[("leaky", 4, "rank"), "mean"] > 0.8
    assert summary.loc[("leaky", 4, "rank"), "lookahead_suspect"]
    assert not summary.loc[("honest", 1, "rank"), "lookahead_suspect"]
    assert not summary.loc[("honest", 4, "rank"), "lookahead_suspect"]
