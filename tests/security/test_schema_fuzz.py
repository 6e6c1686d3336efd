"""schemathesis against /api/schema/: generated valid and invalid requests for every operation, as a
logged-in user with a token (and a browser session for the session-only mint), must never get a 5xx
and every documented answer must match its schema. Upstreams are faked with respx.

The default run makes at least MIN_CASES requests; SCHEMATHESIS_MAX_EXAMPLES=<n per operation and
mode> (or --runslow) makes a longer one."""

import os
import random
import uuid

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import ScopedRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from accounts.services import create_api_token
from conversations.models import Conversation, Turn
from tests.security.conftest import logged_in_browser

MIN_CASES = 1000
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
KNOWN_ID = uuid.UUID("0d5a7a50-5e1c-4c39-9f3e-6c1f2b0e9a11")


def examples_per_operation(request) -> int:
    if os.environ.get("SCHEMATHESIS_MAX_EXAMPLES"):
        return int(os.environ["SCHEMATHESIS_MAX_EXAMPLES"])
    return 400 if request.config.getoption("--runslow") else 56


@pytest.fixture
def fuzz_user(transactional_db, django_user_model, settings, upstreams, monkeypatch):
    # The WSGI app runs in this process against the test database; its throttles and quota would
    # otherwise turn most generated requests into 429s.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"weather": None, "turns": None, "mint": None})
    settings.REALTIME_SESSIONS_PER_DAY = 1_000_000
    user = django_user_model.objects.create_user("fuzzer", "fuzzer@example.com", "fuzz-password-123")
    token = create_api_token(user=user, name="fuzzer", lifetime=None)
    cookies, headers = logged_in_browser(user)
    return {"user": user, "headers": {"Authorization": f"Token {token}", **headers}, "cookies": cookies}


def ensure_known_conversation(user) -> None:
    """The conversation generated ids are sometimes replaced with; a DELETE case may have removed it."""
    conversation, created = Conversation.objects.get_or_create(
        pk=KNOWN_ID, defaults={"owner": user, "title": "Fuzzed", "model": "gpt-realtime"}
    )
    if created:
        Turn.objects.create(conversation=conversation, item_id="item_1", role="user", text="Hello")


def fuzz(operation, mode, examples, env, failures, counts, label):
    @given(case=operation.as_strategy(generation_mode=mode), known=st.booleans())
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=["explicit", "generate"],
    )
    def run(case, known):
        if known and "id" in (case.path_parameters or {}):
            ensure_known_conversation(env["user"])
            case.path_parameters["id"] = str(KNOWN_ID)
        counts[label] += 1
        response = case.call(headers=env["headers"], cookies=env["cookies"])
        try:
            case.validate_response(response, checks=CHECKS, headers=env["headers"])
        except (AssertionError, BaseExceptionGroup) as error:
            found = list(error.exceptions) if isinstance(error, BaseExceptionGroup) else [error]
            for failure in found:
                key = (operation.label, type(failure).__name__)
                failures.append((key, response.status_code, case.as_curl_command(), failure))

    try:
        run()
    except Unsatisfiable:
        # An operation without parameters or body (GET /accounts/data/) has no invalid request.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_the_api_answers_every_generated_request_without_5xx_and_as_documented(request, fuzz_user):
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/", get_wsgi_application(), headers=fuzz_user["headers"]
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    per_operation = examples_per_operation(request)
    failures, counts = [], {}

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.label} [{mode.value}]"
            counts[label] = 0
            fuzz(operation, mode, per_operation, fuzz_user, failures, counts, label)

    total = sum(counts.values())
    print(f"schemathesis: {total} cases over {len(counts)} operation/mode pairs: {counts}")
    assert total >= MIN_CASES or per_operation < 56, counts
    distinct = sorted({(key, status) for key, status, *_ in failures})
    print("schemathesis failures:", distinct)
    report = "\n\n".join(
        f"{key} -> {status}\n{curl}\n{str(error)[:1500]}"
        for key, status, curl, error in random.Random(0).sample(failures, min(len(failures), 8))
    )
    assert not failures, f"{len(failures)} failing cases, for example:\n\n{report}"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        *[
            ("/api/conversations/{id}/export/", {"format": fmt})
            for fmt in ("json", "md", "txt", "csv", "srt")
        ],
        ("/api/export/", {"format": "json"}),
    ],
)
def test_every_export_format_matches_the_schema(fuzz_user, path, query):
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/", get_wsgi_application(), headers=fuzz_user["headers"]
    )
    ensure_known_conversation(fuzz_user["user"])
    case = schema[path]["GET"].Case(
        path_parameters={"id": str(KNOWN_ID)} if "{id}" in path else None, query=query
    )
    response = case.call(headers=fuzz_user["headers"])
    assert response.status_code == 200
    case.validate_response(response, checks=CHECKS, headers=fuzz_user["headers"])
