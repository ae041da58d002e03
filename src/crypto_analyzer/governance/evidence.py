"""The evidence contract between the research report run and governance: ``ValidationBundle``.

The report run writes one bundle per signal into the artifact store, as canonical JSON
(:meth:`ValidationBundle.to_bytes`), and records it in ``artifact_lineage`` under the logical name
``bundle/<signal>.json`` (:func:`bundle_logical_name`) for its run instance. Governance never
recomputes statistics: it reads the bundle, checks that the bytes are the ones lineage recorded,
and lets the policy judge the numbers. So the bundle must carry every number a rule needs, and
nothing in it may be ambiguous — hence a frozen, ``extra="forbid"`` model with explicit units,
p-values constrained to [0, 1] and NaN/Infinity refused (canonical JSON cannot carry them; a
statistic that could not be computed is ``null`` and the rule that needs it denies).

Lineage the report must write alongside (``audit verify`` checks it for accepted candidates):

* ``bundle/<signal>.json`` with edges ``uses_dataset -> <dataset_id>`` and
  ``uses_config -> <config_digest>``;
* one lineage row per entry of :attr:`ValidationBundle.artifacts`, with ``logical_name`` equal to
  the entry's ``name`` and the same SHA-256;
* when an attestation is referenced, its lineage row (``logical_name`` = ``attestation.name``)
  with an ``attests`` edge from it.

``schema_version`` is bumped whenever a field changes meaning; the default policy accepts exactly
the versions listed in its policy file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crypto_analyzer.core.canonical_json import (
    CanonicalJSONError,
    canonical_bytes,
    canonical_loads,
)
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.identities import DatasetId
from crypto_analyzer.governance.errors import EvidenceError

__all__ = [
    "BUNDLE_SCHEMA_VERSION",
    "AttestationRef",
    "DataSnooping",
    "DeflatedSharpe",
    "EvidenceArtifact",
    "ExecutionEvidence",
    "HorizonEvidence",
    "IcSummary",
    "MultipleTesting",
    "Overfitting",
    "RegimeEvidence",
    "SeedUse",
    "ValidationBundle",
    "bundle_logical_name",
]

BUNDLE_SCHEMA_VERSION = 1
"""The bundle schema this code writes and reads."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
NonNegativeInt = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def bundle_logical_name(signal: str) -> str:
    """Lineage logical name of a signal's bundle: ``bundle/<signal>.json``."""
    return f"bundle/{signal}.json"


class _Evidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class SeedUse(_Evidence):
    """A seed the run actually used (DESIGN §4): which component, which fold, which value."""

    component: Name
    fold: NonNegativeInt | None = None
    seed: Annotated[int, Field(ge=0, lt=2**64)]


class IcSummary(_Evidence):
    """Out-of-sample information coefficient at one horizon, over the OOS test rows only."""

    mean_ic: float | None
    """``None`` when no OOS IC could be computed (see ``missing_reason``); never a made-up 0."""
    std_ic: Annotated[float, Field(ge=0.0)] | None
    t_naive: float | None
    t_hac: float | None
    """Newey–West (HAC) t-statistic of the mean IC; ``None`` when it could not be computed."""
    hac_lags: NonNegativeInt | None
    hit_rate: Probability | None
    """Share of periods with IC > 0."""
    n_obs: NonNegativeInt
    """OOS periods with an IC value."""
    n_assets: NonNegativeInt
    """Distinct assets in the OOS cross-sections."""
    missing_reason: str | None = None
    """Why a statistic above is ``None`` (too few OOS values, constant IC, ...)."""


class MultipleTesting(_Evidence):
    """Multiplicity-adjusted p-values of this hypothesis across the run's family."""

    p_value: Probability | None
    """One-sided p-value of the HAC t of the mean IC; ``None`` when there is no HAC t."""
    bh_adjusted_p: Probability | None
    """Benjamini–Hochberg adjusted p-value (other members without a p-value count as p = 1)."""
    by_adjusted_p: Probability | None
    """Benjamini–Yekutieli adjusted p-value."""
    family_size: Annotated[int, Field(ge=1)]
    missing_reason: str | None = None
    """Why the p-values are ``None``."""


class DeflatedSharpe(_Evidence):
    """Deflated and probabilistic Sharpe ratio of the signal's OOS portfolio."""

    sharpe: float | None
    """Per-period Sharpe ratio of the OOS net returns; ``None`` when not computable."""
    dsr: Probability | None
    psr: Probability | None
    effective_trials: Annotated[float, Field(ge=1.0)]
    missing_reason: str | None = None
    """Why ``sharpe``/``dsr``/``psr`` are ``None`` (a missing value denies; it is never 0)."""


class Overfitting(_Evidence):
    """Probability of backtest overfitting (CSCV); ``pbo`` is ``None`` when the family < 2."""

    pbo: Probability | None
    family_size: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _pbo_needs_a_family(self) -> Overfitting:
        if self.family_size < 2 and self.pbo is not None:
            raise ValueError(
                f"pbo must be null when family_size < 2 (got pbo={self.pbo} for a family of "
                f"{self.family_size})"
            )
        return self


class DataSnooping(_Evidence):
    """White's Reality Check / Hansen's SPA for the family and Romano–Wolf for this hypothesis."""

    family_size: Annotated[int, Field(ge=1)]
    rc_p: Probability | None
    spa_p: Probability | None
    rw_p: Probability | None
    """Romano–Wolf step-down p-value of this hypothesis."""
    rw_draws_requested: NonNegativeInt
    rw_draws_actual: NonNegativeInt
    skip_reason: str | None = None
    """Why RC/SPA/RW were not computed (e.g. a family of one); ``None`` when they were."""


class ExecutionEvidence(_Evidence):
    """Cost- and capacity-aware performance at the capital the signal is meant to run with."""

    target_capital: Annotated[float, Field(gt=0.0)]
    """Capital in quote currency (USD) the net Sharpe refers to."""
    net_sharpe: float
    """Annualised Sharpe after fees, spread and impact at ``target_capital``."""
    max_participation: Annotated[float, Field(ge=0.0)] | None
    """Largest share of an asset's bar volume the portfolio would trade (0.05 = 5%)."""


class RegimeEvidence(_Evidence):
    """Robustness across regimes: the weakest regime's OOS IC and how much data backs it."""

    worst_regime: Name
    worst_regime_ic: float
    worst_regime_n_obs: NonNegativeInt
    n_regimes: Annotated[int, Field(ge=1)] | None = None
    """Regimes with an OOS mean IC (the model's states that occurred in the test rows)."""
    method: Name | None = None
    """How regimes were assigned (e.g. a mixture fitted on each fold's train rows only)."""


class HorizonEvidence(_Evidence):
    """Everything measured for one forecast horizon (in bars)."""

    horizon: Annotated[int, Field(ge=1)]
    ic: IcSummary
    multiple_testing: MultipleTesting
    deflated_sharpe: DeflatedSharpe
    overfitting: Overfitting
    data_snooping: DataSnooping
    execution: ExecutionEvidence | None = None
    regime: RegimeEvidence | None = None


class AttestationRef(_Evidence):
    """Reference to the fold-causality attestation (DESIGN §3.6) and what the run found."""

    name: Name | None = None
    """Logical name of the attestation artifact (also listed in ``artifacts``)."""
    sha256: Sha256Hex | None = None
    present: bool
    valid: bool
    """Every check of the attestation passed when the run re-validated it."""
    signed: bool
    """The attestation is wrapped in a DSSE envelope with a signature."""

    @model_validator(mode="after")
    def _flags_are_consistent(self) -> AttestationRef:
        if self.present and (self.name is None or self.sha256 is None):
            raise ValueError("a present attestation needs its artifact name and sha256")
        if not self.present and (self.valid or self.signed):
            raise ValueError("an absent attestation cannot be valid or signed")
        return self


class EvidenceArtifact(_Evidence):
    """A file the bundle's numbers come from, as stored in the artifact store."""

    name: Name
    """Logical name, equal to the ``artifact_lineage.logical_name`` of the run."""
    key: Name
    """Key in the artifact store (relative, no ``..``); what governance reads and re-hashes."""
    uri: Name
    """Where the run wrote it (informational; may be store-relative so bytes stay store-free)."""
    sha256: Sha256Hex
    size: NonNegativeInt


class ValidationBundle(_Evidence):
    """One signal's validation evidence from one run; see the module docstring for the contract."""

    schema_version: Annotated[int, Field(ge=1)]
    run_key: Sha256Hex
    run_instance_id: Name
    dataset_id: Name
    dataset_mode: Literal["strict", "fast_dev"]
    engine_version: Name
    spec_version: Name
    config_digest: Sha256Hex
    seed_version: Annotated[int, Field(ge=1)]
    seeds: tuple[SeedUse, ...]
    signal: Name
    walk_forward_used: bool
    cpcv_used: bool
    split_plan_digest: Sha256Hex | None
    horizons: Annotated[tuple[HorizonEvidence, ...], Field(min_length=1)]
    attestation: AttestationRef
    artifacts: tuple[EvidenceArtifact, ...]

    @model_validator(mode="after")
    def _consistent(self) -> ValidationBundle:
        try:
            parsed = DatasetId.parse(self.dataset_id)
        except ValueError as exc:
            raise ValueError(f"dataset_id {self.dataset_id!r} is not a dataset id: {exc}") from None
        if parsed.mode.value != self.dataset_mode:
            raise ValueError(
                f"dataset_mode {self.dataset_mode!r} disagrees with dataset_id "
                f"{self.dataset_id[:24]}… ({parsed.mode.value})"
            )
        horizons = [item.horizon for item in self.horizons]
        if len(set(horizons)) != len(horizons):
            raise ValueError(f"horizons must be unique, got {horizons}")
        names = [item.name for item in self.artifacts]
        if len(set(names)) != len(names):
            raise ValueError("artifact names must be unique")
        if (self.walk_forward_used or self.cpcv_used) and self.split_plan_digest is None:
            raise ValueError("walk-forward/CPCV evidence needs the split_plan_digest")
        return self

    def horizon(self, horizon: int) -> HorizonEvidence | None:
        """Evidence for ``horizon``, or ``None`` when the run did not evaluate it."""
        return next((item for item in self.horizons if item.horizon == horizon), None)

    def artifact(self, name: str) -> EvidenceArtifact | None:
        """The evidence artifact called ``name``, if listed."""
        return next((item for item in self.artifacts if item.name == name), None)

    def to_canonical_dict(self) -> dict[str, Any]:
        """Plain JSON types only; the input of :meth:`evidence_digest` and :meth:`to_bytes`."""
        return self.model_dump(mode="json")

    def to_bytes(self) -> bytes:
        """Canonical JSON bytes: what the report stores, so the artifact hash is the digest."""
        return canonical_bytes(self.to_canonical_dict())

    def evidence_digest(self) -> str:
        """SHA-256 of the canonical dict; candidates and eligibility reports pin this value."""
        return sha256_json(self.to_canonical_dict())

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "bundle") -> ValidationBundle:
        """Parse stored bytes; any problem is an :class:`EvidenceError` naming the field."""
        try:
            document = canonical_loads(data)
        except (CanonicalJSONError, ValueError, UnicodeDecodeError) as exc:
            raise EvidenceError(
                f"{source} is not valid JSON: {exc}", "rerun the report to rewrite the bundle"
            ) from None
        try:
            return cls.model_validate(document)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "bundle"
            raise EvidenceError(
                f"{source} does not match ValidationBundle schema: {where}: {first['msg']}",
                f"{exc.error_count()} problem(s); the report must write schema version "
                f"{BUNDLE_SCHEMA_VERSION}",
            ) from None
