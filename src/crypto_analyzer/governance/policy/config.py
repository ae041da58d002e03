"""Policy files: every threshold of the default policy, per level, in TOML.

The policy file is the whole configuration of the decision procedure — thresholds, which plugin
policies join the set, the external decision service — and its digest (SHA-256 of the validated
content as canonical JSON, so comments and layout do not matter but every value does) is stored in
every eligibility report. Every field is required: a file that forgets a threshold is an error,
never a silent default, because an auditor reading the file must see every number that was used.
The file is size- and depth-checked before it is parsed and every list and name is bounded
(:mod:`crypto_analyzer.core.config_files`), so a hostile file is a clear error, never a crash.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crypto_analyzer.core.config_files import describe_value, parse_toml, read_config_file
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.governance.errors import PolicyConfigError

__all__ = [
    "DEFAULT_POLICY_RESOURCE",
    "MAX_POLICY_LIST",
    "MAX_POLICY_NAME_CHARS",
    "MAX_POLICY_URL_CHARS",
    "POLICY_SCHEMA_VERSION",
    "ExternalServiceConfig",
    "HistorySettings",
    "LevelThresholds",
    "PolicyConfig",
    "ProvenanceConfig",
    "lists_to_tuples",
    "load_policy_config",
    "parse_policy_config",
]

DEFAULT_POLICY_RESOURCE = "default_policy.toml"
POLICY_SCHEMA_VERSION = 2
"""Policy files this code reads. Version 2 added ``[history]``: the research-history rules."""

MAX_POLICY_LIST = 32
"""Entries of any list or table in a policy file (plugins, versions, plugin settings)."""
MAX_POLICY_NAME_CHARS = 200
"""Policy ids, plugin names and version strings."""
MAX_POLICY_URL_CHARS = 2048

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_POLICY_NAME_CHARS)]
Names = Annotated[tuple[Name, ...], Field(max_length=MAX_POLICY_LIST)]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


class ProvenanceConfig(_Config):
    """Versions a bundle may carry. An empty list means exactly this engine's own version."""

    bundle_schema_versions: Annotated[
        tuple[int, ...], Field(min_length=1, max_length=MAX_POLICY_LIST)
    ]
    engine_versions: Names
    spec_versions: Names
    seed_versions: Annotated[tuple[int, ...], Field(max_length=MAX_POLICY_LIST)]

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
    min_power: Probability | None = None
    """``power.underpowered`` (a warning, never a denial): the probability that the HAC t
    reaches ``min_hac_t`` if the true mean IC were ``min_mean_ic``, for the run's design, must be
    at least this; absent: the rule is not applied."""
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
    distinct_from: Annotated[
        tuple[Literal["creator", "first_promoter"], ...], Field(max_length=MAX_POLICY_LIST)
    ]


class ExternalServiceConfig(_Config):
    """An OPA-style decision service that joins the policy set (deny-overrides)."""

    policy_id: Name
    url: Annotated[str, Field(max_length=MAX_POLICY_URL_CHARS)]
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

    policy_id: Name
    schema_version: Literal[2]
    timeout_seconds: Annotated[float, Field(gt=0.0, le=600.0)]
    """Longest a single member policy may take before its silence counts as a deny."""
    provenance: ProvenanceConfig
    levels: Levels
    history: HistorySettings
    plugins: Names = ()
    """Names of registered policies (entry points or programmatic) that join the set."""
    plugin_settings: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, max_length=MAX_POLICY_LIST
    )
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
    """Parse and validate TOML text; errors name the key, the value and what is allowed.

    Nesting deeper than ``MAX_CONFIG_DEPTH`` is refused before parsing (arrays, inline tables)
    or right after (dotted keys), so neither ``tomllib`` nor the digest recurses without bound.
    """
    document = parse_toml(text, what=source, error=PolicyConfigError)
    if document.get("schema_version") == 1:
        raise PolicyConfigError(
            f"{source} has schema_version 1, which predates the research-history rules",
            "add a [history] table (copy it from the packaged default_policy.toml) and set "
            f"schema_version = {POLICY_SCHEMA_VERSION}",
        )
    try:
        return PolicyConfig.model_validate(lists_to_tuples(document))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        shown = first["loc"] and first["type"] != "missing"  # a missing key has no value
        value = f" = {describe_value(first['input'])}" if shown else ""
        raise PolicyConfigError(
            f"{source}: {where}{value}: {first['msg']}",
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
    source = f"policy file {file}"
    text = read_config_file(file, what=source, error=PolicyConfigError)
    return parse_policy_config(text, source=source)


def lists_to_tuples(value: Any) -> Any:
    """JSON/TOML lists as tuples, recursively: the frozen models are strict about sequences."""
    if isinstance(value, dict):
        return {key: lists_to_tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(lists_to_tuples(item) for item in value)
    return value
