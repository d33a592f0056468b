"""Status mapping, message extraction, request ids, malformed answers, and token secrecy."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EndpointsApiError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    error_for_status,
)
from pulumi_hf_endpoints.client.messages import extract_server_message, redact
from tests.api.api_testkit import TOKEN, Script, reply


@pytest.fixture
def no_retry_api(make_api: Callable[..., EndpointsApi]) -> EndpointsApi:
    return make_api(max_retries=0)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (422, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (500, ServerError),
        (501, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (599, ServerError),
        (405, ApiStatusError),
        (418, ApiStatusError),
    ],
)
def test_status_maps_to_error_class(
    no_retry_api: EndpointsApi, script: Script, status: int, cls: type[EndpointsApiError]
) -> None:
    script.replies = [reply(status, {"error": "boom"})]
    with pytest.raises(EndpointsApiError) as info:
        no_retry_api.get_endpoint("ns", "name")
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.server_message == "boom"
    assert info.value.method == "GET"


def test_message_is_one_clear_line(no_retry_api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(404, {"error": "Endpoint not found"}, **{"x-request-id": "abc"})]
    with pytest.raises(NotFoundError) as info:
        no_retry_api.get_endpoint("ns", "name")
    error = info.value
    assert str(error) == (
        "404 Not Found on GET /v2/endpoint/ns/name: Endpoint not found (request id: abc)"
    )
    assert error.args == (str(error),)
    assert error.request_id == "abc"
    assert error.url == "https://api.endpoints.huggingface.cloud/v2/endpoint/ns/name"
    assert error.attempts == 1


def test_message_without_body_or_request_id(no_retry_api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(409)]
    with pytest.raises(ConflictError) as info:
        no_retry_api.create_endpoint("ns", {"name": "x"})
    assert str(info.value) == "409 Conflict on POST /v2/endpoint/ns"
    assert info.value.server_message is None and info.value.request_id is None


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({}, {"error": "Endpoint not found"}, "Endpoint not found"),
        ({}, {"error": ["first", "second"]}, "first; second"),
        ({}, {"error_description": "bad grant"}, "bad grant"),
        ({}, {"errors": [{"message": "m1"}, {"message": "m2"}]}, "m1; m2"),
        ({"X-Error-Message": "from header"}, None, "from header"),
        ({"X-Error-Message": "same"}, {"error": "same"}, "same"),
        ({"X-Error-Message": "head"}, {"error": "body"}, "head; body"),
        (
            {},
            {"error": "VALIDATION_FAILED", "message": "model.image.vLLM: missing field `url`"},
            "VALIDATION_FAILED: model.image.vLLM: missing field `url`",
        ),
        ({}, {"message": "plain message"}, "plain message"),
        ({}, {"detail": "fastapi says no"}, "fastapi says no"),
        (
            {},
            {"detail": [{"loc": ["body", "compute", "scaling"], "msg": "field required"}]},
            "body.compute.scaling: field required",
        ),
        ({}, "Instance compute 'c6i' not found", "Instance compute 'c6i' not found"),
        ({}, "line one\n   line two\r\n", "line one line two"),
        ({}, '"a JSON string"', "a JSON string"),
        (
            {"content-type": "text/html"},
            "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000,
            "HTML page: 502 Bad Gateway",
        ),
        (
            {},
            "<!DOCTYPE html><html><body><h1>Oops <b>down</b></h1></body></html>",
            "HTML page: Oops down",
        ),
        ({}, "<html><body>nothing useful</body></html>", "HTML page (40 characters)"),
        ({}, {"unrelated": 1}, None),
        ({}, "   ", None),
    ],
)
def test_server_message_extraction(
    no_retry_api: EndpointsApi,
    script: Script,
    headers: dict[str, str],
    body: Any,
    expected: str | None,
) -> None:
    script.replies = [reply(400, body, **headers)]
    with pytest.raises(BadRequestError) as info:
        no_retry_api.get_endpoint("ns", "name")
    assert info.value.server_message == expected
    assert "\n" not in str(info.value)
    if expected is not None:
        assert str(info.value).endswith(f": {expected}")


def test_long_server_messages_are_cut(no_retry_api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(500, {"error": "y" * 5000})]
    with pytest.raises(ServerError) as info:
        no_retry_api.get_endpoint("ns", "name")
    assert info.value.server_message is not None
    assert len(info.value.server_message) == 300
    assert info.value.server_message.endswith("...")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-request-id": "req-1"}, "req-1"),
        ({"X-Amzn-Trace-Id": "Root=1-abc"}, "Root=1-abc"),
        ({"x-amz-cf-id": "cf-9"}, "cf-9"),
        ({"x-amz-cf-id": "cf-9", "X-Amzn-Trace-Id": "t", "X-Request-Id": "r"}, "r"),
        ({"x-amz-cf-id": "cf-9", "X-Amzn-Trace-Id": "t"}, "t"),
        ({}, None),
    ],
)
def test_request_id_headers(
    no_retry_api: EndpointsApi, script: Script, headers: dict[str, str], expected: str | None
) -> None:
    script.replies = [reply(403, {"error": "no"}, **headers)]
    with pytest.raises(PermissionDeniedError) as info:
        no_retry_api.get_endpoint("ns", "name")
    assert info.value.request_id == expected
    assert (f"(request id: {expected})" in str(info.value)) is (expected is not None)


def test_rate_limited_error_carries_retry_after(no_retry_api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(429, {"error": "slow down"}, **{"Retry-After": "17"})]
    with pytest.raises(RateLimitedError) as info:
        no_retry_api.list_hardware("ns")
    assert info.value.retry_after == 17.0


def test_unauthorized_without_token_says_how_to_log_in(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    script.replies = [reply(401, {"error": "Unauthorized"}), reply(401, {"error": "Bad token"})]
    with pytest.raises(AuthenticationError, match=r"Unauthorized; no Hugging Face token was sent"):
        make_api(token=None).whoami()
    with pytest.raises(AuthenticationError) as info:
        make_api().whoami()
    assert "HF_TOKEN" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            "<html><title>Sign in</title></html>",
            "text/html",
            "expected JSON, got HTML page: Sign in",
        ),
        ('{"name": "trunc', "application/json", 'expected JSON, got {"name": "trunc'),
        ("[1, 2]", "application/json", "expected a JSON object, got list"),
    ],
)
def test_malformed_success_answers(
    no_retry_api: EndpointsApi, script: Script, body: str, content_type: str, expected: str
) -> None:
    script.replies = [
        httpx.Response(200, text=body, headers={"content-type": content_type, "x-request-id": "r"})
    ]
    with pytest.raises(MalformedResponseError) as info:
        no_retry_api.get_endpoint("ns", "name")
    assert str(info.value) == f"200 OK on GET /v2/endpoint/ns/name: {expected} (request id: r)"
    assert info.value.status_code == 200
    assert info.value.__context__ is None  # the JSONDecodeError (holding the body) is dropped


def test_errors_pickle_with_their_attributes() -> None:
    error = error_for_status(
        429,
        method="GET",
        url="https://x/v2/endpoint/ns",
        headers={"retry-after": "3", "x-request-id": "id"},
        body='{"error": "later"}',
        retry_after=3.0,
    )
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is RateLimitedError
    assert str(clone) == str(error)
    assert clone.__dict__ == error.__dict__


def test_redact_helper() -> None:
    assert redact("token abc123 here", ["abc123"]) == "token *** here"
    assert redact("other hf_abcdefghijKLMNOP1234 x") == "other *** x"
    assert redact("Authorization: Bearer sekrit-value, more") == "Authorization: Bearer ***, more"
    assert redact("nothing", [None, ""]) == "nothing"


def test_extract_server_message_is_case_insensitive_on_headers() -> None:
    assert extract_server_message({"x-error-message": "h"}, "") == "h"
    assert extract_server_message({"X-ERROR-MESSAGE": "h"}, "") == "h"


# ------------------------------------------------------------------------- token secrecy


def _everything_said(error: BaseException) -> str:
    """All the text an exception can leak: message, repr, args, attributes, chain, traceback."""
    parts = [str(error), repr(error), repr(error.args), repr(vars(error))]
    parts.append("".join(traceback.format_exception(type(error), error, error.__traceback__)))
    cause: BaseException | None = error
    while cause is not None:
        parts.append(repr(vars(cause)) if hasattr(cause, "__dict__") else "")
        parts.append(repr(cause.args))
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )


ECHOES: list[tuple[int, dict[str, str], Any]] = [
    (401, {}, {"error": f"Invalid token {TOKEN}"}),
    (400, {"X-Error-Message": f"bad {TOKEN}"}, None),
    (403, {"x-request-id": TOKEN}, {"error": "forbidden"}),
    (500, {}, f"Traceback: Authorization: Bearer {TOKEN}"),
    (502, {"content-type": "text/html"}, f"<html><title>{TOKEN}</title></html>"),
    (404, {}, {"errors": [{"message": f"no {TOKEN}"}], "detail": TOKEN}),
    (200, {"content-type": "text/html"}, f"<html><title>Login {TOKEN}</title></html>"),
    (200, {}, f"not json {TOKEN}"),
]


@pytest.mark.parametrize(("status", "headers", "body"), ECHOES)
def test_token_echoed_by_the_server_never_leaks(
    make_api: Callable[..., EndpointsApi],
    script: Script,
    caplog: pytest.LogCaptureFixture,
    status: int,
    headers: dict[str, str],
    body: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    api = make_api(max_retries=1)
    script.default = reply(status, body, **headers)
    with pytest.raises(EndpointsApiError) as info:
        api.get_endpoint("ns", "name")
    assert TOKEN not in _everything_said(info.value)
    assert "***" in str(info.value)
    assert TOKEN not in _log_text(caplog)
    assert caplog.records, "the client logs its requests at DEBUG"


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError(f"refused {TOKEN}"), httpx.ReadTimeout(f"slow {TOKEN}")]
)
def test_token_in_transport_errors_never_leaks(
    make_api: Callable[..., EndpointsApi],
    script: Script,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
) -> None:
    caplog.set_level(logging.DEBUG)
    api = make_api(max_retries=2)
    script.default = failure
    with pytest.raises((ApiConnectionError, ApiTimeoutError)) as info:
        api.get_endpoint("ns", "name")
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert TOKEN not in _everything_said(info.value)
    assert TOKEN not in _log_text(caplog)


@pytest.mark.parametrize("option", ["api_url", "hub_url"])
def test_credentials_in_urls_are_refused_without_echoing_them(option: str) -> None:
    # httpx logs request URLs at INFO, so a secret in one could never be kept out of logs.
    url = f"https://user:{TOKEN}@example.test/v2"
    with pytest.raises(ValueError, match="credentials") as info:
        EndpointsApi(TOKEN, **{option: url})
    assert TOKEN not in _everything_said(info.value)


def test_a_cut_never_splits_the_token(no_retry_api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(400, {"error": "x" * 280 + TOKEN})]
    with pytest.raises(BadRequestError) as info:
        no_retry_api.get_endpoint("ns", "name")
    assert TOKEN[:12] not in _everything_said(info.value)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 400, 401, 403, 404, 409, 422, 429, 500, 503]),
    prefix=st.text(max_size=40),
    suffix=st.text(max_size=40),
    as_json=st.booleans(),
)
def test_token_never_leaks_whatever_the_body(
    script: Script, status: int, prefix: str, suffix: str, as_json: bool
) -> None:
    text = f"{prefix}{TOKEN}{suffix}"
    # A 2xx JSON object is a success; a 2xx error is a body that is not one.
    body: Any = {"error": text, "message": text} if as_json and status != 200 else text
    api = EndpointsApi(TOKEN, transport=httpx.MockTransport(script), max_retries=0)
    header = "".join(c for c in text if 32 <= ord(c) < 127)  # what a header can carry
    script.replies = [reply(status, body, **{"X-Error-Message": header})]
    with pytest.raises(EndpointsApiError) as info:
        api.get_endpoint("ns", "name")
    assert TOKEN not in _everything_said(info.value)
