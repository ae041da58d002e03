"""The evidence contract: strict shape, canonical bytes, a digest that pins every value."""

from __future__ import annotations

import hashlib

import pydantic
import pytest
from gov_factories import patched, strong_bundle

from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.governance import EvidenceError, ValidationBundle, bundle_logical_name


def test_bytes_round_trip_and_digest_is_the_artifact_hash() -> None:
    bundle = strong_bundle()
    data = bundle.to_bytes()
    again = ValidationBundle.from_bytes(data)
    assert again == bundle
    assert again.to_bytes() == data
    assert bundle.evidence_digest() == hashlib.sha256(data).hexdigest()


def test_any_changed_number_changes_the_digest() -> None:
    bundle = strong_bundle()
    changed = patched(bundle, {"horizons.1.ic.mean_ic": 0.0451})
    assert changed.evidence_digest() != bundle.evidence_digest()


def test_bundle_is_frozen_and_refuses_unknown_fields() -> None:
    bundle = strong_bundle()
    with pytest.raises(pydantic.ValidationError):
        bundle.signal = "other"  # type: ignore[misc]
    document = bundle.to_canonical_dict()
    document["notes"] = "free text"
    with pytest.raises(pydantic.ValidationError, match="notes"):
        ValidationBundle.model_validate(document)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"horizons.1.ic.mean_ic": float("nan")}, "finite"),
        ({"horizons.1.multiple_testing.bh_adjusted_p": 1.5}, "less than or equal to 1"),
        ({"horizons.1.overfitting.family_size": 1}, "pbo must be null"),
        ({"dataset_mode": "fast_dev"}, "disagrees with dataset_id"),
        ({"run_key": "not-a-digest"}, "pattern"),
        ({"horizons.0.horizon": 4}, "horizons must be unique"),
        ({"attestation.name": None}, "needs its artifact name"),
        ({"split_plan_digest": None}, "split_plan_digest"),
        ({"seeds.0.seed": 2**64}, "less than"),
    ],
)
def test_inconsistent_evidence_is_refused(changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=fragment):
        patched(strong_bundle(), changes)


def test_from_bytes_names_the_field_and_refuses_nan_literals() -> None:
    document = strong_bundle().to_canonical_dict()
    del document["horizons"][0]["ic"]["n_obs"]
    with pytest.raises(EvidenceError, match=r"horizons\.0\.ic\.n_obs"):
        ValidationBundle.from_bytes(canonical_bytes(document), source="bundle x")
    with pytest.raises(EvidenceError, match="not valid JSON"):
        ValidationBundle.from_bytes(b'{"schema_version": NaN}')


def test_lookups_and_logical_name() -> None:
    bundle = strong_bundle(horizons=(1, 4))
    horizon = bundle.horizon(4)
    assert horizon is not None and horizon.horizon == 4
    assert bundle.horizon(2) is None
    assert bundle.artifact("ic/momentum.json") is not None
    assert bundle.artifact("nope") is None
    assert bundle_logical_name("momentum") == "bundle/momentum.json"
