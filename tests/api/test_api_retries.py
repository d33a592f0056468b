"""Retries, backoff, Retry-After, the no-double-create rule, and lifecycle edge cases."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from pulumi_hf_endpoints.client.http import parse_retry_after
from tests.api.api_testkit import TOKEN, Script, Sleeps, endpoint, just_now, reply

CREATE = ("POST", "/v2/endpoint/ns")
GET = ("GET", "/v2/endpoint/ns/chat")
PAYLOAD: dict[str, Any] = {"name": "chat", "model": {"repository": "gpt2"}}


# ----------------------------------------------------------------------- Retry-After


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    for junk in (None, "", "soon", "nan", "Mon, 99 Foo 2024 00:00:00 GMT"):
        assert parse_retry_after(junk) is None


def test_429_waits_what_retry_after_says(api: EndpointsApi, script: Script, sleeps: Sleeps) -> None:
    script.replies = [reply(429, {"error": "slow"}, **{"Retry-After": "7"}), reply(200, endpoint())]
    assert api.get_endpoint("ns", "chat")["name"] == "my-endpoint"
    assert sleeps.delays == [7.0]
    assert len(script.requests) == 2


def test_retry_after_as_http_date(api: EndpointsApi, script: Script, sleeps: Sleeps) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    script.replies = [reply(503, {"error": "busy"}, **{"Retry-After": when}), reply(200, {})]
    api.list_hardware("ns")
    assert len(sleeps.delays) == 1 and 27.0 <= sleeps.delays[0] <= 30.0


def test_retry_after_is_capped(
    make_api: Callable[..., EndpointsApi], script: Script, sleeps: Sleeps
) -> None:
    api = make_api(max_retry_after=5.0)
    script.replies = [reply(429, {}, **{"Retry-After": "3600"}), reply(200, {})]
    api.list_hardware("ns")
    assert sleeps.delays == [5.0]
    default_cap = make_api()
    script.replies = [reply(429, {}, **{"Retry-After": "3600"}), reply(200, {})]
    default_cap.list_hardware("ns")
    assert sleeps.delays == [5.0, 60.0]


def test_backoff_is_exponential_capped_and_jittered(
    make_api: Callable[..., EndpointsApi], script: Script, sleeps: Sleeps
) -> None:
    api = make_api(max_retries=5, backoff_factor=1.0, max_backoff=4.0)
    script.default = reply(503, {"error": "busy"}, **{"Retry-After": "junk"})
    with pytest.raises(ServerError):
        api.list_hardware("ns")
    bases = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(sleeps.delays) == len(bases)
    for delay, base in zip(sleeps.delays, bases, strict=True):
        assert base / 2 <= delay <= base
    assert len(set(sleeps.delays[2:])) > 1  # jitter: equal bases, different delays


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_then_success(
    api: EndpointsApi, script: Script, sleeps: Sleeps, status: int
) -> None:
    script.replies = [reply(status, "<html>bad gateway</html>"), reply(200, endpoint())]
    assert api.get_endpoint("ns", "chat").raw == endpoint()
    assert len(script.requests) == 2 and len(sleeps.delays) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 501])
def test_other_errors_are_not_retried(
    api: EndpointsApi, script: Script, sleeps: Sleeps, status: int
) -> None:
    script.default = reply(status, {"error": "no"})
    with pytest.raises(Exception, match=str(status)):
        api.get_endpoint("ns", "chat")
    assert len(script.requests) == 1 and sleeps.delays == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.PoolTimeout("no connection"),
    ],
)
def test_transport_failure_then_success(
    api: EndpointsApi, script: Script, sleeps: Sleeps, failure: Exception
) -> None:
    script.replies = [failure, reply(200, endpoint())]
    assert api.get_endpoint("ns", "chat").raw == endpoint()
    assert len(script.requests) == 2 and len(sleeps.delays) == 1


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda a: a.update_endpoint("ns", "chat", {"tags": []}), "PUT", "/v2/endpoint/ns/chat"),
        (lambda a: a.delete_endpoint("ns", "chat"), "DELETE", "/v2/endpoint/ns/chat"),
        (lambda a: a.pause_endpoint("ns", "chat"), "POST", "/v2/endpoint/ns/chat/pause"),
        (lambda a: a.resume_endpoint("ns", "chat"), "POST", "/v2/endpoint/ns/chat/resume"),
        (lambda a: a.list_endpoints("ns"), "GET", "/v2/endpoint/ns"),
        (lambda a: a.whoami(), "GET", "/api/whoami-v2"),
    ],
)
def test_idempotent_calls_are_retried(
    api: EndpointsApi,
    script: Script,
    call: Callable[[EndpointsApi], Any],
    method: str,
    path: str,
) -> None:
    body = {**endpoint("chat"), "items": []}
    script.replies = [httpx.ReadError("reset"), reply(503), reply(200, body)]
    call(api)
    assert script.calls == [(method, path)] * 3


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (reply(503, {"error": "down"}), ServerError),
        (reply(429, {"error": "slow"}), RateLimitedError),
        (httpx.ReadError("reset"), ApiConnectionError),
        (httpx.ConnectTimeout("connect timed out"), ApiTimeoutError),
        (httpx.ReadTimeout("read timed out"), ApiTimeoutError),
    ],
)
def test_gives_up_after_max_retries(
    make_api: Callable[..., EndpointsApi],
    script: Script,
    sleeps: Sleeps,
    failure: Any,
    error_type: type[Exception],
) -> None:
    api = make_api(max_retries=3)
    script.default = failure
    with pytest.raises(error_type) as info:
        api.get_endpoint("ns", "chat")
    assert len(script.requests) == 4 and len(sleeps.delays) == 3
    assert "[gave up after 4 attempts]" in str(info.value)
    assert getattr(info.value, "attempts", None) == 4


def test_transport_error_message(make_api: Callable[..., EndpointsApi], script: Script) -> None:
    script.default = httpx.ConnectError("[Errno 111] Connection refused")
    with pytest.raises(ApiConnectionError) as info:
        make_api(max_retries=0).get_endpoint("ns", "chat")
    assert str(info.value) == (
        "Connection failed on GET https://api.endpoints.huggingface.cloud/v2/endpoint/ns/chat: "
        "ConnectError: [Errno 111] Connection refused"
    )
    assert info.value.status_code is None and info.value.method == "GET"


def test_unsupported_protocol_is_not_retried(
    api: EndpointsApi, script: Script, sleeps: Sleeps
) -> None:
    script.default = httpx.UnsupportedProtocol("nope")
    with pytest.raises(ApiConnectionError):
        api.get_endpoint("ns", "chat")
    assert len(script.requests) == 1 and sleeps.delays == []


def test_max_retries_zero_sends_once(
    make_api: Callable[..., EndpointsApi], script: Script, sleeps: Sleeps
) -> None:
    script.default = reply(503)
    with pytest.raises(ServerError):
        make_api(max_retries=0).get_endpoint("ns", "chat")
    assert len(script.requests) == 1 and sleeps.delays == []


# --------------------------------------------------------------------------- create


@pytest.mark.parametrize(
    "lost",
    [
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        httpx.WriteTimeout("timed out"),
        reply(502, "<html><title>502</title></html>"),
        reply(503),
        reply(504),
    ],
)
def test_create_with_lost_answer_returns_the_endpoint_it_made(
    api: EndpointsApi, script: Script, lost: Any
) -> None:
    made = endpoint("chat", "pending", created_at=just_now())
    script.replies = [lost, reply(200, made)]
    assert api.create_endpoint("ns", PAYLOAD).raw == made
    assert script.calls == [CREATE, GET]
    assert script.calls.count(CREATE) == 1


@pytest.mark.parametrize(
    ("older", "repository", "why"),
    [(True, "gpt2", "created at 2024-01-01"), (False, "org/other", r"model\.repository")],
)
def test_create_with_lost_answer_never_takes_someone_elses_endpoint(
    api: EndpointsApi, script: Script, older: bool, repository: str, why: str
) -> None:
    # The POST was answered 409 in truth (the name was taken); the answer never arrived.
    created_at = "2024-01-01T00:00:00Z" if older else just_now()
    found = endpoint("chat", created_at=created_at, repository=repository)
    script.replies = [httpx.ReadTimeout("timed out"), reply(200, found)]
    with pytest.raises(ConflictError, match=f"not the one asked for.*{why}"):
        api.create_endpoint("ns", PAYLOAD)
    assert script.calls == [CREATE, GET]


def test_create_with_lost_answer_and_no_endpoint_resends(
    api: EndpointsApi, script: Script, sleeps: Sleeps
) -> None:
    script.replies = [
        reply(503, {"error": "down"}, **{"Retry-After": "2"}),
        reply(404, {"error": "Endpoint not found"}),
        reply(202, endpoint("chat", "pending")),
    ]
    assert api.create_endpoint("ns", PAYLOAD)["status"]["state"] == "pending"
    assert script.calls == [CREATE, GET, CREATE]
    assert script.body(0) == script.body(2) == PAYLOAD
    assert sleeps.delays == [2.0]


@pytest.mark.parametrize("repository", ["gpt2", "org/other"])
def test_create_409_after_a_lost_answer_is_ours_only_if_it_matches(
    api: EndpointsApi, script: Script, repository: str
) -> None:
    # Either the first POST created it but the GET raced ahead of the service's read model, or
    # someone else took the name in between.
    script.replies = [
        httpx.ReadTimeout("timed out"),
        reply(404, {"error": "Endpoint not found"}),
        reply(409, {"error": "An endpoint with the same name already exists"}),
        reply(200, endpoint("chat", repository=repository, created_at=just_now())),
    ]
    if repository == "gpt2":
        assert api.create_endpoint("ns", PAYLOAD)["name"] == "chat"
    else:
        with pytest.raises(ConflictError, match=r"model\.repository is 'org/other', not 'gpt2'"):
            api.create_endpoint("ns", PAYLOAD)
    assert script.calls == [CREATE, GET, CREATE, GET]


def test_create_409_without_a_loss_is_a_conflict(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(409, {"error": "An endpoint with the same name already exists"})]
    with pytest.raises(ConflictError, match="same name already exists"):
        api.create_endpoint("ns", PAYLOAD)
    assert script.calls == [CREATE]


@pytest.mark.parametrize(
    "unsent", [httpx.ConnectError("refused"), httpx.ConnectTimeout("t"), httpx.PoolTimeout("t")]
)
def test_create_never_sent_is_resent_without_lookup(
    api: EndpointsApi, script: Script, unsent: Exception
) -> None:
    script.replies = [unsent, reply(200, endpoint("chat"))]
    assert api.create_endpoint("ns", PAYLOAD).raw == endpoint("chat")
    assert script.calls == [CREATE, CREATE]


def test_create_429_is_resent(api: EndpointsApi, script: Script, sleeps: Sleeps) -> None:
    script.replies = [reply(429, {}, **{"Retry-After": "3"}), reply(200, endpoint("chat"))]
    assert api.create_endpoint("ns", PAYLOAD).raw == endpoint("chat")
    assert script.calls == [CREATE, CREATE]
    assert sleeps.delays == [3.0]


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_create_failures_are_not_resent(api: EndpointsApi, script: Script, status: int) -> None:
    script.default = reply(status, {"error": "no"})
    with pytest.raises(Exception, match=f"^{status} "):
        api.create_endpoint("ns", PAYLOAD)
    assert script.calls == [CREATE]


def test_create_gives_up_after_max_retries_with_one_lookup_each(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    api = make_api(max_retries=2)

    def route(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadError("reset", request=request)
        return httpx.Response(404, json={"error": "Endpoint not found"})

    script.default = route
    with pytest.raises(ApiConnectionError, match="gave up after 3 attempts"):
        api.create_endpoint("ns", PAYLOAD)
    assert script.calls == [CREATE, GET] * 3


def test_create_without_a_name_is_never_resent_after_a_loss(
    api: EndpointsApi, script: Script
) -> None:
    script.replies = [httpx.ReadError("reset")]
    with pytest.raises(ApiConnectionError):
        api.create_endpoint("ns", {"model": {}})
    assert script.calls == [CREATE]


def test_create_lookup_failure_propagates(api: EndpointsApi, script: Script) -> None:
    script.replies = [httpx.ReadError("reset"), reply(403, {"error": "Forbidden"})]
    with pytest.raises(PermissionDeniedError):
        api.create_endpoint("ns", PAYLOAD)
    assert script.calls == [CREATE, GET]


def test_delete_404_after_a_lost_attempt_is_success(api: EndpointsApi, script: Script) -> None:
    script.replies = [httpx.ReadError("reset"), reply(404, {"error": "Endpoint not found"})]
    assert api.delete_endpoint("ns", "chat") is None
    assert script.calls == [("DELETE", "/v2/endpoint/ns/chat")] * 2


def test_delete_after_a_lost_attempt_waits_for_it_to_land(
    make_api: Callable[..., EndpointsApi], script: Script, sleeps: Sleeps
) -> None:
    """The lost attempt may still be applied; by name, it would delete a same-named endpoint
    created next (a delete-before-replace), so the call returns once it can have landed."""
    api = make_api(timeout=httpx.Timeout(10.0, read=4.0))
    script.replies = [httpx.ReadTimeout("stalled"), reply(200, {})]
    api.delete_endpoint("ns", "chat")
    _backoff, settle = sleeps.delays
    assert 7.0 < settle <= 8.0  # until twice the read timeout after the lost attempt was sent

    sleeps.delays.clear()  # an answer that never left (refused connection) is not in flight
    script.replies = [httpx.ConnectError("refused"), reply(200, {})]
    api.delete_endpoint("ns", "chat")
    assert len(sleeps.delays) == 1

    sleeps.delays.clear()  # nor is a delete answered at the first attempt
    script.replies = [reply(200, {})]
    api.delete_endpoint("ns", "chat")
    assert sleeps.delays == []


def test_delete_missing(api: EndpointsApi, script: Script) -> None:
    script.default = reply(404, {"error": "Endpoint not found"})
    with pytest.raises(NotFoundError):
        api.delete_endpoint("ns", "chat")
    assert api.delete_endpoint("ns", "chat", missing_ok=True) is None
    assert len(script.requests) == 2


def test_resume_already_running_returns_the_endpoint(api: EndpointsApi, script: Script) -> None:
    script.replies = [
        reply(400, {"error": "Endpoint chat is already running"}),
        reply(200, endpoint("chat", "running")),
    ]
    assert api.resume_endpoint("ns", "chat").raw == endpoint("chat", "running")
    assert script.calls == [("POST", "/v2/endpoint/ns/chat/resume"), GET]


def test_resume_already_running_as_plain_text(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(400, "Bad Request: Already Running"), reply(200, endpoint("chat"))]
    assert api.resume_endpoint("ns", "chat").raw == endpoint("chat")


def test_resume_already_running_can_be_an_error(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(400, {"error": "Endpoint chat is already running"})]
    with pytest.raises(BadRequestError, match="already running"):
        api.resume_endpoint("ns", "chat", running_ok=False)
    assert len(script.requests) == 1


@pytest.mark.parametrize("message", ["Endpoint is failed", "Endpoint is not running yet"])
def test_resume_other_bad_request_is_raised(
    api: EndpointsApi, script: Script, message: str
) -> None:
    script.replies = [reply(400, {"error": message})]
    with pytest.raises(BadRequestError, match=message):
        api.resume_endpoint("ns", "chat")
    assert len(script.requests) == 1


# -------------------------------------------------------------------------- redirects


def test_redirect_to_another_host_drops_the_token(api: EndpointsApi, script: Script) -> None:
    script.replies = [
        httpx.Response(307, headers={"location": "https://elsewhere.example/v2/x"}),
        reply(200, endpoint()),
    ]
    api.get_endpoint("ns", "chat")
    first, second = script.requests
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert second.url.host == "elsewhere.example"
    assert "authorization" not in second.headers
