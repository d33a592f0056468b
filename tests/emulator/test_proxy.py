"""Each endpoint's URL: the service proxy's answers (auth, paused, scaled to zero, not ready),
the health route, and the hand-off to the serving layer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from hf_endpoints_emulator.config import EmulatorConfig, User
from hf_endpoints_emulator.serving_protocol import ServedEndpoint
from hf_endpoints_emulator.testing import EmulatorHandle, http_client
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

UNAUTHORIZED = {"error": "401 Unauthorized", "code": "UNAUTHORIZED"}
FORBIDDEN = {"error": "403 Forbidden", "code": "FORBIDDEN"}
PAUSED = {
    "error": "Bad Request: The endpoint is paused, ask a maintainer to restart it",
    "code": "BAD_REQUEST",
}
UNAVAILABLE = {"error": "503 Service Unavailable", "code": "SERVICE_UNAVAILABLE"}
OTHER = User("other-user", "hf_other_token", ("other-org",))

HTTP = http_client()


class RecordingServing:
    """A stand-in serving layer that records what the proxy hands it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], ServedEndpoint]] = []
        self.started = False
        self.release = threading.Event()
        """Ends the responses to `/hold`, which stream until it is set."""

    async def startup(self) -> None:
        self.started = True

    async def shutdown(self) -> None:
        self.started = False

    async def handle(self, request: Request, path: str, endpoint: ServedEndpoint) -> Response:
        self.calls.append((request.method, path, dict(request.query_params), endpoint))
        if path == "/stream":

            async def ticks() -> AsyncIterator[bytes]:
                for i in range(200):
                    yield f"data: {i}\n\n".encode()
                    await asyncio.sleep(0.02)

            return StreamingResponse(ticks(), media_type="text/event-stream")
        if path == "/hold":

            async def held() -> AsyncIterator[bytes]:
                yield b"data: held\n\n"
                while not self.release.is_set():
                    await asyncio.sleep(0.01)

            return StreamingResponse(held(), media_type="text/event-stream")
        body = await request.body()
        return JSONResponse(
            {"path": path, "body": body.decode()},
            status_code=201,
            headers={"x-served-by": "recorder"},
        )


@pytest.fixture
def serving() -> RecordingServing:
    return RecordingServing()


@pytest.fixture
def emu(make_emulator: Callable[..., EmulatorHandle], serving: RecordingServing) -> EmulatorHandle:
    def factory(config: EmulatorConfig) -> RecordingServing:
        return serving

    return make_emulator(serving_factory=factory, extra_users=(OTHER,))


@pytest.fixture
def endpoints(emu: EmulatorHandle) -> Iterator[Endpoints]:
    client = Endpoints(emu)
    yield client
    client.close()


def running(endpoints: Endpoints, name: str, **options: Any) -> str:
    endpoints.create(endpoint_body(name, **options))
    endpoints.watch(name, "running")
    return endpoints.url(name)


def call(
    url: str, path: str = "/health", token: str | None = None, method: str = "GET", **kwargs: Any
) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return HTTP.request(method, url.rstrip("/") + path, headers=headers, timeout=30, **kwargs)


def test_public_endpoints_need_no_token(endpoints: Endpoints, emu: EmulatorHandle) -> None:
    url = running(endpoints, "open", type="public")
    assert call(url).status_code == 200
    assert call(url, token="not-even-a-token").status_code == 200
    assert call(url, "/generate", method="POST", json={"inputs": "hi"}).status_code == 201


@pytest.mark.parametrize("path", ["/health", "/info", "/", "/v1/chat/completions"])
def test_authenticated_endpoints_answer_401_without_a_valid_token(
    endpoints: Endpoints, emu: EmulatorHandle, serving: RecordingServing, path: str
) -> None:
    url = running(endpoints, "guarded", type="authenticated")
    for token in (None, "hf_invalid"):
        response = call(url, path, token=token)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    assert serving.calls == []
    assert call(url, path, token=emu.token).status_code in (200, 201)


def test_another_users_token_is_403_on_authenticated_endpoints(
    endpoints: Endpoints, emu: EmulatorHandle
) -> None:
    url = running(endpoints, "mine", type="authenticated")
    response = call(url, token=OTHER.token)
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    public = running(endpoints, "shared", type="public")
    assert call(public, token=OTHER.token).status_code == 200


def test_org_members_may_call_org_endpoints(emu: EmulatorHandle) -> None:
    org = Endpoints(emu, namespace="emulator-org")
    try:
        url = running(org, "team", type="authenticated")
        assert call(url, token=emu.token).status_code == 200
        assert call(url, token=OTHER.token).status_code == 403
    finally:
        org.close()


def test_private_endpoints_are_403_on_their_url(endpoints: Endpoints, emu: EmulatorHandle) -> None:
    url = running(endpoints, "hidden", type="private")
    for token in (None, emu.token):
        response = call(url, token=token)
        assert (response.status_code, response.json()) == (403, FORBIDDEN)


def test_not_ready_is_503_and_ready_is_200(endpoints: Endpoints, emu: EmulatorHandle) -> None:
    emu.faults.set_timings(pending_seconds=600)  # surely still pending when called
    endpoints.create(endpoint_body("slow"))
    url = endpoints.url("slow")
    response = call(url)
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert endpoints.state("slow") == "pending"
    # An update restarts the deployment with the timings in force now: a quick one.
    emu.faults.set_timings(pending_seconds=0.2)
    mark = endpoints.mark("slow")
    endpoints.update("slow", {"model": {"revision": "next"}})
    endpoints.watch("slow", "running", since=mark)
    assert call(url).status_code == 200


def test_paused_is_400_and_stays_paused(endpoints: Endpoints, serving: RecordingServing) -> None:
    url = running(endpoints, "sleepy")
    endpoints.action("sleepy", "pause")
    for path in ("/health", "/generate"):
        response = call(url, path)
        assert (response.status_code, response.json()) == (400, PAUSED)
    assert endpoints.state("sleepy") == "paused"
    assert serving.calls == []


def test_scaled_to_zero_answers_503_and_wakes_up(
    endpoints: Endpoints, serving: RecordingServing
) -> None:
    url = running(endpoints, "cold")
    endpoints.action("cold", "scale-to-zero")
    mark = endpoints.mark("cold")
    response = call(url, "/generate", method="POST", json={"inputs": "x"})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert endpoints.watch("cold", "running", since=mark) == ["initializing", "running"]
    assert call(url, "/generate", method="POST", json={"inputs": "x"}).status_code == 201
    assert [c[1] for c in serving.calls] == ["/generate"]


def test_unauthenticated_requests_do_not_wake(endpoints: Endpoints) -> None:
    url = running(endpoints, "cold", type="authenticated")
    endpoints.action("cold", "scale-to-zero")
    mark = endpoints.mark("cold")
    assert call(url).status_code == 401
    # A wake would have begun before the answer: nothing happened since the scale-to-zero.
    assert endpoints.mark("cold") == mark
    assert endpoints.state("cold") == "scaledToZero"


def test_scale_up_timeout_header_holds_the_request(
    endpoints: Endpoints, emu: EmulatorHandle
) -> None:
    url = running(endpoints, "cold")
    emu.faults.set_timings(wake_seconds=0.6)
    endpoints.action("cold", "scale-to-zero")
    started = time.monotonic()
    response = call(
        url, "/generate", method="POST", json={"inputs": "x"}, headers={"X-Scale-Up-Timeout": "10"}
    )
    assert response.status_code == 201  # held until awake, where a plain call gets 503
    assert time.monotonic() - started >= 0.5
    assert endpoints.state("cold") == "running"


def test_scale_up_timeout_too_short_is_503(endpoints: Endpoints, emu: EmulatorHandle) -> None:
    url = running(endpoints, "cold")
    emu.faults.set_timings(wake_seconds=10)
    endpoints.action("cold", "scale-to-zero")
    started = time.monotonic()
    response = call(url, headers={"X-Scale-Up-Timeout": "0.3"})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert time.monotonic() - started >= 0.25
    assert endpoints.state("cold") == "initializing"  # answered before the wake finished


@pytest.mark.parametrize("value", ["soon", "-5", "nan", ""])
def test_bad_scale_up_timeout_values_do_not_hold(
    endpoints: Endpoints, emu: EmulatorHandle, value: str
) -> None:
    url = running(endpoints, "cold")
    emu.faults.set_timings(wake_seconds=10)
    endpoints.action("cold", "scale-to-zero")
    assert call(url, headers={"X-Scale-Up-Timeout": value}).status_code == 503
    assert endpoints.state("cold") == "initializing"  # answered before the wake finished


def test_requests_reach_the_serving_layer_with_the_endpoint(
    endpoints: Endpoints, emu: EmulatorHandle, serving: RecordingServing
) -> None:
    body = endpoint_body(
        "served",
        env={"MAX_INPUT_LENGTH": "512"},
        secrets={"KEY": "s3cret"},
        image={
            "custom": {
                "url": "ghcr.io/a/b:1",
                "healthRoute": "/ready",
                "credentials": {"username": "u", "password": "p"},
            }
        },
        revision="abc123",
    )
    endpoints.create(body)
    endpoints.watch("served", "running")
    url = endpoints.url("served")
    assert serving.started
    assert call(url, "/ready").status_code == 200  # the proxy answers the health route itself
    response = call(url, "/v1/chat/completions", method="POST", params={"q": "1"}, content=b"hello")
    assert response.status_code == 201 and response.headers["x-served-by"] == "recorder"
    assert response.json() == {"path": "/v1/chat/completions", "body": "hello"}
    assert call(url + "/", "", method="POST", content=b"root").json()["path"] == "/"
    assert HTTP.post(url, content=b"bare").json()["path"] == "/"
    method, path, query, served = serving.calls[0]
    assert (method, path, query) == ("POST", "/v1/chat/completions", {"q": "1"})
    assert (served.namespace, served.name, served.repository, served.revision) == (
        emu.user,
        "served",
        "gpt2",
        "abc123",
    )
    assert (served.task, served.framework, served.health_route) == (
        "text-generation",
        "pytorch",
        "/ready",
    )
    assert served.env == {"MAX_INPUT_LENGTH": "512"}
    assert "s3cret" not in repr(served) and "'p'" not in repr(served.image)


def test_unknown_endpoint_is_404(emu: EmulatorHandle) -> None:
    response = HTTP.get(f"{emu.base_url}/endpoints/0000000000000000/health")
    assert (response.status_code, response.json()) == (
        404,
        {"error": "404 Not Found", "code": "NOT_FOUND"},
    )


def test_endpoints_keep_serving_while_updating(endpoints: Endpoints, emu: EmulatorHandle) -> None:
    url = running(endpoints, "live")
    emu.faults.set_timings(updating_seconds=600)  # surely still updating when called
    endpoints.update("live", {"compute": {"scaling": {"maxReplica": 3}}})
    assert endpoints.state("live") == "updating"
    assert call(url, "/generate", method="POST").status_code == 201


def test_traffic_is_counted_and_disconnects_seen(endpoints: Endpoints, emu: EmulatorHandle) -> None:
    url = running(endpoints, "busy")
    for _ in range(3):
        call(url, "/generate", method="POST")
    with HTTP.stream("GET", url + "/stream", timeout=10) as stream:
        for _ in stream.iter_bytes():
            break  # leave after the first chunk
    deadline = time.monotonic() + 5
    while True:
        (entry,) = emu.faults.state()["endpoints"]
        if (entry["disconnects"], entry["inFlight"]) == (1, 0) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (entry["requests"], entry["disconnects"], entry["inFlight"]) == (4, 1, 0)
    assert entry["lastActivity"] is not None
    assert endpoints.get("busy")["status"]["lastUsedAt"] == entry["lastActivity"]


def test_activity_keeps_an_endpoint_from_scaling_to_zero(
    make_emulator: Callable[..., EmulatorHandle], serving: RecordingServing
) -> None:
    emu = make_emulator(
        time_scale=0.6 / (15 * 60),  # 15 minutes last 0.6 s
        serving_factory=lambda config: serving,
    )
    client = Endpoints(emu)
    try:
        url = running(client, "used", min_replica=0, scale_to_zero_timeout=15)
        client.create(endpoint_body("unused", min_replica=0, scale_to_zero_timeout=15))
        # A request in flight holds the endpoint up, however long it lasts.
        with HTTP.stream("GET", url + "/hold", timeout=30) as held:
            chunks = held.iter_bytes()  # kept: a dropped iterator closes the stream
            assert next(chunks) == b"data: held\n\n"
            assert client.watch("unused", "scaledToZero")[-2:] == ["running", "scaledToZero"]
            *_, (_, unused_running), (_, unused_idle) = client.transitions("unused")
            assert unused_idle - unused_running == pytest.approx(0.6)
            (*_, (_, used_running)) = client.transitions("used")
            while time.time() < used_running + 1.2:  # well past its own idle deadline
                time.sleep(0.05)
            assert client.state("used") == "running"
            serving.release.set()
        # Once idle, the timeout counts from the end of the last request.
        assert client.watch("used", "scaledToZero")[-2:] == ["running", "scaledToZero"]
        (entry,) = [e for e in emu.faults.state()["endpoints"] if e["name"] == "used"]
        *_, (_, used_idle) = client.transitions("used")
        assert used_idle - _epoch(entry["lastActivity"]) == pytest.approx(0.6, abs=0.002)
    finally:
        client.close()


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_the_real_serving_layer_answers_info(emulator: EmulatorHandle) -> None:
    client = Endpoints(emulator)
    try:
        url = running(client, "with-info", type="authenticated")
        info = call(url, "/info", token=emulator.token)
        assert info.status_code == 200
        assert info.json()["model_id"] == "gpt2"
    finally:
        client.close()
