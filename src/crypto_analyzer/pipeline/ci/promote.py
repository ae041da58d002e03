"""``ci promote``: a CI job asks the governance service to promote, and a signature is required.

The same :class:`~crypto_analyzer.governance.GovernanceService` and the same state machine as
``promotion evaluate``; two differences only. The policy is the configured one with
``require_signature`` switched on at every level, so a CI promotion can never rest on an unsigned
(or badly signed) attestation or bundle — that policy is stored and its digest recorded like any
other, so ``audit verify`` re-derives the decision. And the event records the CI run URL as its
``origin``. The acting principal is the CI job's token (``CRYPTO_ANALYZER_TOKEN``), as for any
governed write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from crypto_analyzer.artifacts import open_settings_store
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import principal_store
from crypto_analyzer.governance.policy import PolicyConfig, build_policy_set, load_policy_config
from crypto_analyzer.governance.policy.config import Levels
from crypto_analyzer.governance.principals import Principal, os_account_name
from crypto_analyzer.governance.service import Evaluation, GovernanceService

__all__ = ["ci_policy", "ci_promote"]

_MAX_URL = 2048


def ci_policy(config: PolicyConfig) -> PolicyConfig:
    """``config`` with ``require_signature = true`` at every level."""
    levels = Levels(
        candidate=config.levels.candidate.model_copy(update={"require_signature": True}),
        accepted=config.levels.accepted.model_copy(update={"require_signature": True}),
    )
    return config.model_copy(update={"levels": levels})


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > _MAX_URL:
        raise ValidationError(
            f"--ci-run-url {url[:80]!r} is not an http(s) URL of at most {_MAX_URL} characters",
            "pass the URL of the CI run (e.g. …/actions/runs/ID)",
        )
    if not url.isprintable():
        raise ValidationError("--ci-run-url contains characters that do not print")
    return url


@contextmanager
def _ci_service(
    settings: Settings, token: str | None, policy_path: Path | None
) -> Iterator[tuple[GovernanceService, Principal]]:
    policy = build_policy_set(ci_policy(load_policy_config(policy_path)))
    with open_engine(settings, read_only=False) as engine:
        require_head(engine)
        service = GovernanceService(
            engine, open_settings_store(settings), tenant_id=settings.tenant, policy=policy
        )
        with engine.connect() as connection:
            principal = principal_store.resolve_actor(
                connection, settings.tenant, token=token, declared=None, os_account=os_account_name
            )
        yield service, principal


def ci_promote(
    settings: Settings,
    candidate_id: str,
    *,
    target: str,
    ci_run_url: str,
    token: str | None,
    policy_path: Path | None = None,
) -> Evaluation:
    """Evaluate ``candidate_id`` for ``target`` under the signature-requiring policy; the
    evaluation is recorded whatever the outcome (``Evaluation.passed`` says which)."""
    origin = {"ci_run_url": _check_url(ci_run_url), "via": "ci promote"}
    with _ci_service(settings, token, policy_path) as (service, principal):
        return service.evaluate(candidate_id, target=target, actor=principal, origin=origin)
