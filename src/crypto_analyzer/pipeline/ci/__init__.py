"""CI integration: summaries (JUnit, Markdown), promotion from CI, webhooks, run archives."""

from __future__ import annotations

from crypto_analyzer.pipeline.ci.archive import ArchiveResult, bundle_run
from crypto_analyzer.pipeline.ci.notify import (
    SIGNATURE_HEADER,
    NotifyResult,
    WebhookError,
    post_webhook,
    sign_body,
)
from crypto_analyzer.pipeline.ci.promote import ci_policy, ci_promote
from crypto_analyzer.pipeline.ci.render import junit_xml, markdown_summary
from crypto_analyzer.pipeline.ci.summary import (
    CandidateOutcome,
    EnvelopeInfo,
    RuleOutcome,
    RunSummary,
    summarize_run,
)

__all__ = [
    "SIGNATURE_HEADER",
    "ArchiveResult",
    "CandidateOutcome",
    "EnvelopeInfo",
    "NotifyResult",
    "RuleOutcome",
    "RunSummary",
    "WebhookError",
    "bundle_run",
    "ci_policy",
    "ci_promote",
    "junit_xml",
    "markdown_summary",
    "post_webhook",
    "sign_body",
    "summarize_run",
]
