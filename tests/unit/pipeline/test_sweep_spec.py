"""Sweep files: grid expansion, its order, the bounds, and the chunk checkpoint codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.core.errors import ConfigError, ValidationError
from crypto_analyzer.core.identities import run_key
from crypto_analyzer.pipeline.sweep import expand_trials, load_sweep_config, parse_sweep_config
from crypto_analyzer.pipeline.sweep.evaluate import TrialOutcome, decode_chunk, encode_chunk
from crypto_analyzer.pipeline.sweep.executor import DaskExecutor, InProcessExecutor, make_executor
from crypto_analyzer.pipeline.sweep.spec import trial_report_config

BASE = {
    "signals": [
        {"name": "momentum_24h", "params": {"lookback": {"first": 12, "last": 48, "step": 12}}},
        {"name": "volume_shock", "params": {"window": [24, 12]}},
        {"name": "low_vol"},
    ],
    "horizons": [1, 4],
    "universes": {"zeta": ["a", "b", "c"], "all": "all"},
    "costs": {"base": {}, "high": {"fee_bps": 30.0}},
}


def test_the_grid_expands_in_a_fixed_order() -> None:
    config = parse_sweep_config(BASE)
    trials = expand_trials(config)
    assert config.n_trials == len(trials) == (4 + 2 + 1) * 2 * 2 * 2
    assert [t.index for t in trials] == list(range(len(trials)))
    first = trials[:8]
    assert [(t.params["lookback"], t.horizon, t.universe, t.cost) for t in first[:4]] == [
        (12, 1, "all", "base"), (12, 1, "all", "high"), (12, 1, "zeta", "base"),
        (12, 1, "zeta", "high"),
    ]  # fmt: skip
    assert [t.params["window"] for t in trials if t.signal == "volume_shock"][::8] == [24, 12]
    assert len({t.hypothesis_id for t in trials}) == len(trials)
    assert trials[-1].signal == "low_vol" and dict(trials[-1].params) == {}


def test_table_order_does_not_change_the_trials_or_the_run_key() -> None:
    swapped = {**BASE, "universes": {"all": "all", "zeta": ["a", "b", "c"]}}
    one, two = parse_sweep_config(BASE), parse_sweep_config(swapped)
    assert expand_trials(one) == expand_trials(two)
    assert run_key("d" * 64, one.resolved()) == run_key("d" * 64, two.resolved())
    renamed = parse_sweep_config({**BASE, "name": "other name"})
    assert run_key("d" * 64, renamed.resolved()) == run_key("d" * 64, one.resolved())


def test_every_trial_shares_one_purge_so_one_fold_plan() -> None:
    config = parse_sweep_config(BASE)
    purges = {trial_report_config(config, t).purge for t in expand_trials(config)}
    assert purges == {4}
    report = trial_report_config(config, expand_trials(config)[1])
    assert report.costs.fee_bps == 30.0 and report.signals == ("momentum_24h",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"signals": [{"name": "nope"}]}, "unknown signal 'nope'"),
        ({"signals": [{"name": "low_vol", "params": {"window": [1]}}]}, "unknown parameter"),
        ({"signals": [{"name": "low_vol", "params": {"lookback": [5, 5]}}]}, "distinct"),
        ({"signals": [{"name": "low_vol", "params": {"lookback": {"first": 9, "last": 1}}}]},
         "must be >= first"),
        ({"horizons": [4, 1]}, "increasing"),
        ({"universes": {"tiny": ["a", "b"]}}, "at least 3"),
        ({"signals": [{"name": "low_vol", "params": {"lookback": {"first": 1, "last": 999}}}],
          "costs": {f"c{i}": {} for i in range(11)}}, "limit is 10,000"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"surprise": 1}, "surprise"),
    ],
)  # fmt: skip
def test_bad_sweeps_are_refused_naming_the_key(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sweep_config({**BASE, **change})


def test_a_sweep_file_is_read_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(
        'name = "t"\nhorizons = [1]\n[[signals]]\nname = "low_vol"\n'
        "params = { lookback = { first = 24, last = 72, step = 24 } }\n"
    )
    config = load_sweep_config(path)
    assert config.n_trials == 3 and config.name == "t"


def _outcome(trial, seed: int) -> TrialOutcome:
    rng = np.random.default_rng(seed)
    index = pd.Index(np.arange(5, dtype=np.int64) * 3_600_000, name="bar_open_ms")
    return TrialOutcome(
        spec=trial, run_key="k" * 64, assets=("x", "y", "z"), start_ms=0, end_ms=10,
        ic_mean=0.1, t_hac=None, p_value=None, n_obs=5, sharpe=0.2, skewness=0.0,
        kurtosis=3.0, n_returns=5, net_sharpe=None,
        oos_ic=pd.Series(rng.normal(size=5), index=index),
        net_returns=pd.Series([np.nan, *rng.normal(size=4)], index=index),
    )  # fmt: skip


def test_chunks_round_trip_byte_for_byte_and_refuse_another_sweep() -> None:
    trials = expand_trials(parse_sweep_config(BASE))[:3]
    outcomes = [_outcome(trial, i) for i, trial in enumerate(trials)]
    data = encode_chunk(outcomes, sweep_run_key="s" * 64, chunk_index=2)
    assert encode_chunk(outcomes, sweep_run_key="s" * 64, chunk_index=2) == data
    back = decode_chunk(data, sweep_run_key="s" * 64, chunk_index=2, trials=trials)
    assert encode_chunk(back, sweep_run_key="s" * 64, chunk_index=2) == data
    assert back[1].t_hac is None and np.isnan(back[0].net_returns.iloc[0])
    pd.testing.assert_series_equal(back[2].oos_ic, outcomes[2].oos_ic)
    with pytest.raises(ValidationError, match="does not belong to sweep"):
        decode_chunk(data, sweep_run_key="t" * 64, chunk_index=2, trials=trials)
    with pytest.raises(ValidationError, match="does not belong to sweep"):
        decode_chunk(data, sweep_run_key="s" * 64, chunk_index=3, trials=trials)
    with pytest.raises(ValidationError, match="does not belong to sweep"):
        decode_chunk(data, sweep_run_key="s" * 64, chunk_index=2, trials=trials[::-1])


def test_schedulers_are_chosen_by_name_or_address() -> None:
    assert isinstance(make_executor("local", None), InProcessExecutor)
    assert isinstance(make_executor("local", 0), InProcessExecutor)
    local = make_executor("local", 3)
    assert isinstance(local, DaskExecutor) and local.n_workers == 3
    remote = make_executor("tcp://10.0.0.5:8786", None)
    assert isinstance(remote, DaskExecutor) and remote.address == "tcp://10.0.0.5:8786"
    for scheduler, workers, message in [
        ("udp://h:1", None, "neither `local`"),
        ("tcp://", None, "neither `local`"),
        ("tcp://h:8786", 2, "local cluster only"),
        ("local", -1, ">= 0"),
    ]:
        with pytest.raises(ConfigError, match=message):
            make_executor(scheduler, workers)
