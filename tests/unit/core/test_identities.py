"""run_key, run_instance_id and DatasetId behaviour."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto_analyzer.core.identities import (
    DatasetId,
    DatasetMode,
    config_digest,
    identity_config,
    run_instance_id,
    run_key,
)
from crypto_analyzer.core.settings import reset_settings_cache

DATASET = DatasetId(DatasetMode.STRICT, "1" * 64)
CONFIG = {
    "signals": ["clean_momentum", "reversal"],
    "horizons": [1, 4, 12],
    "splits": {"kind": "walk_forward", "folds": 5, "purge": 24, "embargo": 12},
    "costs": {"fee_bps": 5.0, "impact": 0.1},
    "bootstrap": {"reps": 1000, "block": None},
}


def test_run_key_ignores_paths_times_and_verbosity() -> None:
    noisy = {
        **CONFIG,
        "output_dir": "/tmp/a",
        "report_path": "x.html",
        "created_at": "2024-01-01",
        "verbose": True,
        "splits": {**CONFIG["splits"], "cache_dir": "/var/cache"},
    }
    assert run_key(DATASET, noisy) == run_key(DATASET, CONFIG)
    assert run_key(DATASET, {**noisy, "output_dir": "/elsewhere"}) == run_key(DATASET, CONFIG)


def _variants() -> list[dict[str, object]]:
    changed = [
        {**CONFIG, "signals": ["clean_momentum"]},
        {**CONFIG, "horizons": [1, 4, 24]},
        {**CONFIG, "splits": {**CONFIG["splits"], "purge": 25}},
        {**CONFIG, "costs": {"fee_bps": 5.5, "impact": 0.1}},
        {**CONFIG, "bootstrap": {"reps": 1000, "block": 10}},
        {**CONFIG, "new_option": 0},
    ]
    return changed


@pytest.mark.parametrize("variant", _variants())
def test_run_key_changes_with_any_config_value(variant: dict[str, object]) -> None:
    assert run_key(DATASET, variant) != run_key(DATASET, CONFIG)


def test_run_key_changes_with_dataset_engine_and_spec() -> None:
    base = run_key(DATASET, CONFIG)
    assert run_key(DatasetId(DatasetMode.STRICT, "2" * 64), CONFIG) != base
    assert run_key(DatasetId(DatasetMode.FAST_DEV, "1" * 64), CONFIG) != base
    assert run_key(DATASET, CONFIG, engine_version="9.9.9") != base
    assert run_key(DATASET, CONFIG, spec_version="2") != base


def test_run_key_is_independent_of_key_order() -> None:
    shuffled = dict(reversed(list(CONFIG.items())))
    assert run_key(DATASET, shuffled) == run_key(DATASET, CONFIG)
    assert config_digest(shuffled) == config_digest(CONFIG)


@given(st.dictionaries(st.sampled_from(["out_path", "log_dir", "ended_at", "db_url"]), st.text()))
def test_identity_config_strips_every_non_identity_key(extra: dict[str, str]) -> None:
    assert identity_config({**CONFIG, **extra}) == identity_config(CONFIG)


def test_run_key_refuses_non_mapping_config() -> None:
    with pytest.raises(TypeError, match="mapping"):
        run_key(DATASET, ["not", "a", "mapping"])  # type: ignore[arg-type]


def test_run_instance_id_is_stable_under_a_pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    key = run_key(DATASET, CONFIG)
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2024-03-01T12:00:00Z")
    reset_settings_cache()
    first, second = run_instance_id(key), run_instance_id(key)
    assert first == second
    parsed = uuid.UUID(first)
    assert parsed.version == 7
    assert parsed.int >> 80 == 1709294400000  # the pinned instant in epoch milliseconds
    assert run_instance_id("other") != first


def test_a_rerun_attempt_gets_its_own_stable_id_under_a_pinned_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = run_key(DATASET, CONFIG)
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2024-03-01T12:00:00Z")
    reset_settings_cache()
    first = run_instance_id(key)
    assert run_instance_id(key, attempt=0) == first  # attempt 0 is the id runs always had
    attempts = [run_instance_id(key, attempt=n) for n in range(1, 20)]
    assert len({first, *attempts}) == 20
    assert attempts == [run_instance_id(key, attempt=n) for n in range(1, 20)]
    assert all(uuid.UUID(value).int >> 80 == 1709294400000 for value in attempts)
    with pytest.raises(ValueError, match="attempt must be >= 0"):
        run_instance_id(key, attempt=-1)


def test_run_instance_ids_are_unique_and_time_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [run_instance_id("k") for _ in range(50)]
    assert len(set(ids)) == 50
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2030-01-01T00:00:00Z")
    reset_settings_cache()
    later = run_instance_id("k")
    assert all(later > earlier for earlier in ids)


def test_fast_dev_ids_are_marked_and_never_equal_strict_ones() -> None:
    strict = DatasetId(DatasetMode.STRICT, "ab" * 32)
    fast = DatasetId(DatasetMode.FAST_DEV, "ab" * 32)
    assert strict.value != fast.value
    assert fast.value.startswith("fastdev-")
    assert strict.short.startswith("ds_") and fast.short.startswith("dsdev_")
    assert DatasetId.parse(fast.value) == fast
    assert DatasetId.parse(strict.value) == strict


def test_dataset_id_refuses_a_non_digest() -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        DatasetId(DatasetMode.STRICT, "xyz")
