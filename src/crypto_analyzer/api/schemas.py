"""Request and response models: strict inputs (unknown fields refused), documented outputs.

Requests are validated by these models (``extra="forbid"``, strict types), so an unknown or
mistyped field is a 422 naming the field. Responses are rendered from the service's own
``to_dict()`` and documented here for OpenAPI; the schemathesis suite checks each response against
its model, so the documentation cannot drift from what is sent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Allowlist",
    "AllowlistEntry",
    "Candidate",
    "CandidateDetail",
    "CandidatePage",
    "CreateCandidate",
    "Decision",
    "ErrorBody",
    "ErrorDetail",
    "EvaluateCandidate",
    "Health",
    "HealthCheckOut",
    "LatestReportOut",
    "MetricHistory",
    "MetricPointOut",
    "Reason",
    "ReviewCandidate",
    "Run",
    "RunArtifact",
    "RunPage",
    "Trace",
    "Verify",
]

_ID = Field(min_length=1, max_length=200)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class CreateCandidate(_Request):
    """Register (run, signal, horizon) as an exploratory candidate."""

    run_instance_id: str = Field(min_length=4, max_length=200, description="Run id or prefix.")
    signal: str = _ID
    horizon: int = Field(ge=1, le=100_000, description="Forecast horizon in bars.")


class EvaluateCandidate(_Request):
    """Judge the evidence at a level; ``accepted`` needs a reviewer."""

    target: Literal["candidate", "accepted"] = "candidate"


class ReviewCandidate(_Request):
    """Reject or revoke, with the reason recorded on the event."""

    reason: str = Field(min_length=1, max_length=2000)


class ErrorDetail(BaseModel):
    code: str
    message: str
    hint: str | None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", "hint"}}``."""

    error: ErrorDetail


class HealthCheckOut(BaseModel):
    name: str
    ok: bool
    detail: str


class Health(BaseModel):
    ok: bool
    checks: list[HealthCheckOut]


class Candidate(_Response):
    tenant_id: str
    candidate_id: str
    run_instance_id: str
    run_key: str
    dataset_id: str
    signal: str
    horizon: int
    status: Literal["exploratory", "candidate", "accepted", "rejected", "revoked"]
    evidence_digest: str
    eligibility_report_id: str | None
    status_reason: str | None
    created_by: str
    created_at: str
    updated_at: str


class CandidatePage(BaseModel):
    items: list[Candidate]
    next_cursor: str | None


class CandidateDetail(BaseModel):
    candidate: Candidate
    reports: list[dict[str, Any]]
    events: list[dict[str, Any]]


class AllowlistEntry(BaseModel):
    candidate_id: str
    signal: str
    horizon: int
    run_instance_id: str
    run_key: str
    dataset_id: str
    evidence_digest: str
    eligibility_report_id: str | None
    accepted_at: str


class Allowlist(BaseModel):
    tenant_id: str
    items: list[AllowlistEntry]


class Reason(_Response):
    rule: str
    message: str


class Decision(BaseModel):
    """An evaluation: a denial is a normal answer (``allowed: false``) with every reason."""

    allowed: bool
    level: Literal["candidate", "accepted"]
    reasons: list[Reason]
    warnings: list[Reason]
    eligibility_report_id: str
    event_id: str
    policy_id: str
    policy_digest: str
    previous_status: str
    status: str
    status_changed: bool
    candidate: Candidate


class Run(_Response):
    run_instance_id: str
    run_key: str
    dataset_id: str
    dataset_mode: str
    status: str
    started_at: str
    finished_at: str | None
    config: dict[str, Any]
    metrics: dict[str, float | None]
    tags: list[str]


class RunPage(BaseModel):
    items: list[Run]
    next_cursor: str | None


class MetricPointOut(BaseModel):
    run_instance_id: str
    started_at: str
    value: float | None


class MetricHistory(BaseModel):
    name: str
    items: list[MetricPointOut]
    next_cursor: str | None


class RunArtifact(BaseModel):
    name: str
    sha256: str
    uri: str
    media_type: str
    size_bytes: int


class LatestReportOut(BaseModel):
    run: Run
    artifacts: list[RunArtifact]


class Trace(_Response):
    candidate: dict[str, Any]
    events: list[dict[str, Any]]


class Verify(_Response):
    ok: bool
    tenant_id: str
    findings: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
