"""schemathesis against /openapi.json on a running server, with a valid and an invalid key.

Every operation gets a bounded number of generated requests, valid (positive) and schema-breaking
(negative) ones; every response must be no 5xx and conform to the documented status codes,
content type, headers and body schema. The write routes get an ``Idempotency-Key`` from the
generator like any header; the valid key is an admin's, so every role check passes and the
generated input reaches the services.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import schemathesis
from api_server import ApiWorkspace
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _run(base: str, headers: dict[str, str], modes: tuple[GenerationMode, ...]) -> int:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # an operation without inputs (GET /health) has nothing to negate
                assert mode is GenerationMode.NEGATIVE and not operation.path_parameters
    return calls


def test_schemathesis_valid_and_invalid_key(api: httpx.Client, workspace: ApiWorkspace) -> None:
    base = str(api.base_url).rstrip("/")
    started = time.monotonic()
    valid = {"Authorization": f"Bearer {workspace.tokens[('default', 'admin')]}"}
    invalid = {"Authorization": "Bearer ca_" + "0" * 43}
    calls = _run(base, valid, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    calls += _run(base, invalid, (GenerationMode.POSITIVE,))
    assert calls >= 14 * 2, calls
    assert time.monotonic() - started < 120
    assert api.get("/health").json()["ok"] is True
