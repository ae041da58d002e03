"""Policy files: every threshold of the default policy, per level, in TOML.

The policy file is the whole configuration of the decision procedure — thresholds, which plugin
policies join the set, the external decision service — and its digest (SHA-256 of the validated
content as canonical JSON, so comments and layout do not matter but every value does) is stored in
every eligibility report. Every field is required: a file that forgets a threshold is an error,
never a silent default, because an auditor reading the file must see every number that was used.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.governance.errors import PolicyConfigError

__all__ = [
    "DEFAULT_POLICY_RESOURCE",
    "POLICY_SCHEMA_VERSION",
    "ExternalServiceConfig",
    "HistorySettings",
    "LevelThresholds",
    "PolicyConfig",
    "ProvenanceConfig",
    "load_policy_config",
    "parse_policy_config",
]

DEFAULT_POLICY_RESOURCE = "default_policy.toml"
POLICY_SCHEMA_VERSION = 2
"""Policy files this code reads. Version 2 added ``[history]``: the research-history rules."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


class ProvenanceConfig(_Config):
    """Versions a bundle may carry. An empty list means exactly this engine's own version."""

    bundle_schema_versions: Annotated[tuple[int, ...], Field(min_length=1)]
    engine_versions: tuple[str, ...]
    spec_versions: tuple[str, ...]
    seed_versions: tuple[int, ...]

    def supported_engine_versions(self) -> tuple[str, ...]:
        return self.engine_versions or (ENGINE_VERSION,)

    def supported_spec_versions(self) -> tuple[str, ...]:
        return self.spec_versions or (SPEC_VERSION,)

    def supported_seed_versions(self) -> tuple[int, ...]:
        return self.seed_versions or (SEED_VERSION,)


class LevelThresholds(_Config):
    """Thresholds of one evaluation level (``candidate`` or ``accepted``)."""

    min_oos_obs: Annotated[int, Field(ge=1)]
    min_assets: Annotated[int, Field(ge=1)]
    min_mean_ic: float
    min_hac_t: float
    max_bh_p: Probability
    min_dsr: Probability
    max_pbo: Probability
    max_family_p: Probability
    """Reality Check (or SPA) p-value bound for families of two or more hypotheses."""
    max_rw_p: Probability
    min_draws_ratio: Probability
    """Romano–Wolf bootstrap draws actually made / requested."""
    require_execution: bool
    min_net_sharpe: float
    max_participation: Annotated[float, Field(ge=0.0)]
    require_regime: bool
    min_worst_regime_ic: float
    min_regime_obs: Annotated[int, Field(ge=1)]
    require_attestation: bool
    """Require a valid fold-causality attestation even without walk-forward/CPCV."""
    require_signature: bool
    separation_of_duties: bool
    distinct_from: tuple[Literal["creator", "first_promoter"], ...]


class ExternalServiceConfig(_Config):
    """An OPA-style decision service that joins the policy set (deny-overrides)."""

    policy_id: Annotated[str, Field(min_length=1)]
    url: str
    timeout_seconds: Annotated[float, Field(gt=0.0, le=120.0)]

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class HistorySettings(_Config):
    """How a candidate is judged against the research history (the tenant's trial ledger).

    ``scope`` says which trials count: ``overlapping_data`` — every trial of the tenant on the same
    frequency whose instruments and time range overlap the candidate's —, or ``tenant`` — every
    trial of the tenant. ``multiple_testing`` picks the correction the gate applies over the
    scope: Benjamini–Hochberg (``bh``) or Benjamini–Yekutieli (``by``) on the scope's p-values, or
    the online procedure LORD++ (``lord++``) over the scope's trials in the order they were tested,
    which spends a fixed error budget (``online_alpha``, initial wealth ``online_w0``) over the
    life of a research programme. ``on_restatement`` says what happens when market data a
    candidate's run used was restated afterwards: ``warn`` records it, ``require_reevaluation``
    denies promotion until the research is rerun on the current data.
    """

    scope: Literal["overlapping_data", "tenant"]
    multiple_testing: Literal["bh", "by", "lord++"]
    online_alpha: Annotated[float, Field(gt=0.0, lt=1.0)]
    online_w0: Annotated[float, Field(gt=0.0, lt=1.0)]
    on_restatement: Literal["warn", "require_reevaluation"]

    @model_validator(mode="after")
    def _wealth_within_budget(self) -> HistorySettings:
        if self.online_w0 > self.online_alpha:
            raise ValueError(
                f"online_w0 {self.online_w0} exceeds online_alpha {self.online_alpha}; "
                "the initial wealth is part of the error budget"
            )
        return self


class Levels(_Config):
    candidate: LevelThresholds
    accepted: LevelThresholds


class PolicyConfig(_Config):
    """A whole policy file."""

    policy_id: Annotated[str, Field(min_length=1, max_length=200)]
    schema_version: Literal[2]
    timeout_seconds: Annotated[float, Field(gt=0.0, le=600.0)]
    """Longest a single member policy may take before its silence counts as a deny."""
    provenance: ProvenanceConfig
    levels: Levels
    history: HistorySettings
    plugins: tuple[str, ...] = ()
    """Names of registered policies (entry points or programmatic) that join the set."""
    plugin_settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    external: ExternalServiceConfig | None = None

    def thresholds(self, level: str) -> LevelThresholds:
        if level == "candidate":
            return self.levels.candidate
        if level == "accepted":
            return self.levels.accepted
        raise PolicyConfigError(f"policy has no level {level!r}", "use candidate or accepted")

    def digest(self) -> str:
        """SHA-256 of the validated file content; stored in every eligibility report."""
        return sha256_json(self.model_dump(mode="json"))


def parse_policy_config(text: str, *, source: str = "policy file") -> PolicyConfig:
    """Parse and validate TOML text; errors name the key and what is allowed."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyConfigError(f"{source} is not valid TOML: {exc}", "fix the syntax") from None
    if document.get("schema_version") == 1:
        raise PolicyConfigError(
            f"{source} has schema_version 1, which predates the research-history rules",
            "add a [history] table (copy it from the packaged default_policy.toml) and set "
            f"schema_version = {POLICY_SCHEMA_VERSION}",
        )
    try:
        return PolicyConfig.model_validate(_lists_to_tuples(document))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise PolicyConfigError(
            f"{source}: {where}: {first['msg']}",
            f"{exc.error_count()} problem(s); start from the packaged default_policy.toml",
        ) from None


def load_policy_config(path: Path | str | None = None) -> PolicyConfig:
    """The policy file at ``path``, or the packaged default policy."""
    if path is None:
        resource = resources.files("crypto_analyzer.governance.policy") / DEFAULT_POLICY_RESOURCE
        return parse_policy_config(resource.read_text(encoding="utf-8"), source="default policy")
    file = Path(path)
    if not file.is_file():
        raise PolicyConfigError(
            f"policy file {file} does not exist", "pass an existing TOML file or omit --policy"
        )
    return parse_policy_config(file.read_text(encoding="utf-8"), source=f"policy file {file}")


def _lists_to_tuples(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists_to_tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_lists_to_tuples(item) for item in value)
    return value
