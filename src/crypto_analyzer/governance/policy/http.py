"""An external decision service (OPA-style) as a member of the policy set.

The service receives ``POST {"input": <input document>}`` (:func:`input_document`) as JSON and
answers ``{"result": {"allow": <bool>, "reasons": [...], "warnings": [...]}}`` — reasons as strings
or ``{"rule": …, "message": …}`` objects; a bare ``{"result": <bool>}`` is accepted too. Anything
else — a non-2xx status, a timeout, a connection error, a body that is not that shape — is a
denial naming what went wrong. Rules the service names are prefixed with its policy id so they
cannot impersonate the built-in rules.

The standard library's HTTP client is enough for one JSON POST and keeps this dependency-free.
Proxy environment variables are ignored on purpose: the decision input (candidate, evidence,
principal) goes to the configured URL and nowhere else.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.policy.base import (
    Decision,
    EvaluationContext,
    Reason,
    input_document,
)
from crypto_analyzer.governance.policy.config import ExternalServiceConfig
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["HttpDecisionPolicy"]

_MAX_BODY = 1 << 20


class _Malformed(ValueError):
    pass


class HttpDecisionPolicy:
    """Asks an HTTP decision service; fails closed on every kind of failure."""

    def __init__(self, config: ExternalServiceConfig) -> None:
        self._config = config

    @property
    def policy_id(self) -> str:
        return self._config.policy_id

    def digest(self) -> str:
        return sha256_json({"external": self._config.model_dump(mode="json")})

    def evaluate(
        self,
        candidate: CandidateRecord,
        evidence: ValidationBundle | None,
        level: str,
        ctx: EvaluationContext,
    ) -> Decision:
        body = canonical_bytes({"input": input_document(candidate, evidence, level, ctx)})
        request = urllib.request.Request(
            self._config.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self._config.timeout_seconds) as response:
                payload = response.read(_MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            return self._deny("external.status", f"answered HTTP {exc.code} {exc.reason}")
        except TimeoutError:
            return self._deny(
                "external.timeout", f"gave no answer within {self._config.timeout_seconds:g} s"
            )
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                return self._deny(
                    "external.timeout", f"gave no answer within {self._config.timeout_seconds:g} s"
                )
            return self._deny("external.unreachable", f"could not be reached: {reason}")
        try:
            return self._parse(payload)
        except _Malformed as exc:
            return self._deny("external.malformed", f"answered malformed JSON: {exc}")

    def _deny(self, rule: str, message: str) -> Decision:
        return Decision.deny(
            self.policy_id, self.digest(), rule, f"decision service {self._config.url} {message}"
        )

    def _parse(self, payload: bytes) -> Decision:
        if len(payload) > _MAX_BODY:
            raise _Malformed(f"body larger than {_MAX_BODY} bytes")
        try:
            document = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Malformed(str(exc)) from None
        if not isinstance(document, dict) or "result" not in document:
            raise _Malformed("expected an object with a 'result' member")
        result = document["result"]
        if isinstance(result, bool):
            result = {"allow": result}
        if not isinstance(result, dict) or not isinstance(result.get("allow"), bool):
            raise _Malformed("'result' must be a boolean or an object with a boolean 'allow'")
        reasons = self._items(result.get("reasons", []), "reasons")
        warnings = self._items(result.get("warnings", []), "warnings")
        allowed = result["allow"] and not reasons
        if not allowed and not reasons:
            reasons = (Reason(f"{self.policy_id}/deny", "denied without giving a reason"),)
        return Decision(
            allowed=allowed,
            reasons=reasons,
            warnings=warnings,
            policy_id=self.policy_id,
            policy_digest=self.digest(),
            rules=(self.policy_id,),
        )

    def _items(self, value: Any, field: str) -> tuple[Reason, ...]:
        if not isinstance(value, list):
            raise _Malformed(f"'{field}' must be a list")
        items: list[Reason] = []
        for item in value:
            if isinstance(item, str) and item:
                items.append(Reason(self.policy_id, item))
            elif (
                isinstance(item, dict)
                and isinstance(item.get("message"), str)
                and isinstance(item.get("rule", ""), str)
            ):
                rule = item.get("rule") or ""
                name = f"{self.policy_id}/{rule}" if rule else self.policy_id
                items.append(Reason(name, item["message"]))
            else:
                raise _Malformed(
                    f"each of '{field}' must be a string or a {{rule, message}} object"
                )
        return tuple(items)
