"""EndpointsApi against the real emulator: every route, every error, and the retry paths driven
by the emulator's fault injection (429/503 with Retry-After, connection resets, stalls)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle, run_emulator
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from tests.api.api_testkit import Sleeps

_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def payload(name: str, **extra: Any) -> dict[str, Any]:
    """A create body as the service documents it (spec.py builds these in production)."""
    return {
        "name": name,
        "type": "authenticated",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-spr",
            "instanceSize": "x1",
            "scaling": {"minReplica": 1, "maxReplica": 1, "scaleToZeroTimeout": None},
        },
        "model": {
            "repository": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "framework": "pytorch",
            "revision": None,
            "task": "text-generation",
            "image": {"huggingface": {}},
        },
        **extra,
    }


class Recording(httpx.BaseTransport):
    """A real HTTP transport that remembers what was sent, to count POSTs."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    fast = {"pending_seconds": 0.05, "initializing_seconds": 0.05, "updating_seconds": 0.05}
    with run_emulator(backend="synthetic", resume_seconds=0.05, **fast) as handle:
        yield handle


@pytest.fixture
def emu(emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    emulator.faults.clear()
    yield emulator
    emulator.faults.clear()


@pytest.fixture
def connect(
    emu: EmulatorHandle, sleeps: Sleeps
) -> Iterator[Callable[..., tuple[EndpointsApi, Recording]]]:
    made: list[EndpointsApi] = []

    def factory(**options: Any) -> tuple[EndpointsApi, Recording]:
        recording = Recording()
        options.setdefault("timeout", httpx.Timeout(10.0))
        options.setdefault("sleep", sleeps)
        token = options.pop("token", emu.token)
        api = EndpointsApi(token, api_url=emu.api_url, transport=recording, **options)
        made.append(api)
        return api, recording

    yield factory
    for api in made:
        api.close()


@pytest.fixture
def api(connect: Callable[..., tuple[EndpointsApi, Recording]]) -> EndpointsApi:
    return connect()[0]


def wait_for(api: EndpointsApi, ns: str, name: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        raw = api.get_endpoint(ns, name)
        if raw["status"]["state"] == state:
            return raw
        assert time.monotonic() < deadline, f"{name} stuck in {raw['status']['state']}"
        time.sleep(0.05)


def test_urls_follow_the_emulator(api: EndpointsApi, emu: EmulatorHandle) -> None:
    assert api.hub_url == emu.base_url


def test_identity_and_hardware(api: EndpointsApi, emu: EmulatorHandle) -> None:
    me = api.whoami()
    assert me["name"] == emu.user and me["type"] == "user"
    assert api.default_namespace() == emu.user
    vendors = api.list_hardware(emu.user)["vendors"]
    computes = [
        c["id"] for v in vendors for r in v["regions"] for c in r["computes"] if v["name"] == "aws"
    ]
    assert "aws-us-east-1-intel-spr-x1" in computes


def test_every_endpoint_route_through_the_lifecycle(api: EndpointsApi, emu: EmulatorHandle) -> None:
    ns, name = emu.user, unique("life")
    created = api.create_endpoint(ns, payload(name))
    assert created["name"] == name and created["status"]["state"] in ("pending", "initializing")
    assert wait_for(api, ns, name, "running")["model"]["repository"].endswith(
        "SmolLM2-135M-Instruct"
    )

    assert api.resume_endpoint(ns, name)["status"]["state"] == "running"  # "already running"
    with pytest.raises(BadRequestError, match="already running"):
        api.resume_endpoint(ns, name, running_ok=False)

    updated = api.update_endpoint(ns, name, {"compute": {"scaling": {"maxReplica": 2}}})
    assert updated["compute"]["scaling"]["maxReplica"] == 2
    wait_for(api, ns, name, "running")

    assert api.pause_endpoint(ns, name)["status"]["state"] == "paused"
    assert api.resume_endpoint(ns, name)["status"]["state"] != "paused"
    wait_for(api, ns, name, "running")

    assert api.delete_endpoint(ns, name) is None
    with pytest.raises(NotFoundError):
        api.get_endpoint(ns, name)
    with pytest.raises(NotFoundError):
        api.delete_endpoint(ns, name)
    assert api.delete_endpoint(ns, name, missing_ok=True) is None


def test_list_follows_pages_and_filters(
    connect: Callable[..., tuple[EndpointsApi, Recording]], emu: EmulatorHandle
) -> None:
    api, recording = connect()
    ns = emu.user
    marker = unique("page")
    names = [f"{marker}-{i}" for i in range(5)]
    for i, name in enumerate(names):
        api.create_endpoint(ns, payload(name, tags=["odd"] if i % 2 else ["even"]))
    recording.sent.clear()
    listed = [e["name"] for e in api.list_endpoints(ns, search=marker, page_size=2)]
    assert listed == names
    assert recording.sent == [("GET", f"/v2/endpoint/{ns}")] * 3
    odd = [e["name"] for e in api.list_endpoints(ns, tags=["odd"], search=marker)]
    assert odd == names[1::2]
    everything = {e["name"] for e in api.list_endpoints(ns, page_size=1)}
    assert set(names) <= everything


def test_service_errors(
    api: EndpointsApi,
    connect: Callable[..., tuple[EndpointsApi, Recording]],
    emu: EmulatorHandle,
) -> None:
    ns, name = emu.user, unique("err")
    api.create_endpoint(ns, payload(name))
    with pytest.raises(ConflictError) as conflict:
        api.create_endpoint(ns, payload(name))
    assert str(conflict.value).startswith(f"409 Conflict on POST /v2/endpoint/{ns}: ")
    with pytest.raises(NotFoundError) as missing:
        api.get_endpoint(ns, "does-not-exist")
    assert str(missing.value).startswith(f"404 Not Found on GET /v2/endpoint/{ns}/does-not-exist:")
    with pytest.raises(BadRequestError, match="name"):
        api.create_endpoint(ns, payload("Not_A_Valid_Name"))
    with pytest.raises(BadRequestError, match="scaleToZeroTimeout"):
        api.update_endpoint(ns, name, {"compute": {"scaling": {"scaleToZeroTimeout": 5}}})
    with pytest.raises(PermissionDeniedError):
        api.get_endpoint("somebody-else", name)
    stranger, _ = connect(token="hf_NotAValidTokenForTheEmulator", max_retries=0)
    with pytest.raises(AuthenticationError) as unauthorized:
        stranger.get_endpoint(ns, name)
    assert "hf_NotAValidTokenForTheEmulator" not in str(unauthorized.value)


def test_retry_after_from_the_service(
    api: EndpointsApi, emu: EmulatorHandle, sleeps: Sleeps
) -> None:
    emu.faults.respond(429, method="GET", path="/v2/provider/*", retry_after=7)
    emu.faults.respond(503, method="GET", path="/v2/provider/*", retry_after=2)
    assert "vendors" in api.list_hardware(emu.user)
    assert sleeps.delays == [7.0, 2.0]


def test_rate_limit_gives_up(
    connect: Callable[..., tuple[EndpointsApi, Recording]], emu: EmulatorHandle
) -> None:
    api, recording = connect(max_retries=2)
    emu.faults.respond(429, path="/v2/provider/*", times=None, retry_after=1)
    with pytest.raises(RateLimitedError) as info:
        api.list_hardware(emu.user)
    assert info.value.retry_after == 1.0 and len(recording.sent) == 3


def test_connection_reset_is_retried(
    connect: Callable[..., tuple[EndpointsApi, Recording]], emu: EmulatorHandle
) -> None:
    api, recording = connect()
    emu.faults.reset(method="GET", path="/api/whoami-v2", times=2)
    assert api.whoami()["name"] == emu.user
    assert len(recording.sent) == 3
    emu.faults.reset(method="GET", path="/api/whoami-v2", times=None)
    with pytest.raises(ApiConnectionError, match="gave up after 5 attempts"):
        api.whoami()


def test_stall_times_out(
    connect: Callable[..., tuple[EndpointsApi, Recording]], emu: EmulatorHandle
) -> None:
    api, _ = connect(timeout=httpx.Timeout(5.0, read=0.2), max_retries=0)
    emu.faults.stall(1.0, method="GET", path="/v2/provider/*")
    with pytest.raises(ApiTimeoutError, match="ReadTimeout"):
        api.list_hardware(emu.user)


def test_create_lost_before_the_service_saw_it_is_sent_again(
    connect: Callable[..., tuple[EndpointsApi, Recording]], emu: EmulatorHandle
) -> None:
    api, recording = connect()
    ns, name = emu.user, unique("reset")
    emu.faults.reset(method="POST", path=f"/v2/endpoint/{ns}")
    assert api.create_endpoint(ns, payload(name))["name"] == name
    assert recording.sent == [
        ("POST", f"/v2/endpoint/{ns}"),
        ("GET", f"/v2/endpoint/{ns}/{name}"),
        ("POST", f"/v2/endpoint/{ns}"),
    ]
    assert [e["name"] for e in api.list_endpoints(ns, search=name)] == [name]


def test_create_whose_answer_is_lost_after_creation_is_not_sent_twice(
    connect: Callable[..., tuple[EndpointsApi, Recording]], emu: EmulatorHandle
) -> None:
    # Stage "the service created it, then the gateway answered 504": the endpoint exists when
    # the client's POST meets a 504.
    api, recording = connect()
    ns, name = emu.user, unique("lost")
    api.create_endpoint(ns, payload(name))
    recording.sent.clear()
    emu.faults.respond(504, method="POST", path=f"/v2/endpoint/{ns}")
    assert api.create_endpoint(ns, payload(name))["name"] == name  # no ConflictError
    assert recording.sent == [("POST", f"/v2/endpoint/{ns}"), ("GET", f"/v2/endpoint/{ns}/{name}")]


def test_the_token_stays_out_of_debug_logs(
    connect: Callable[..., tuple[EndpointsApi, Recording]],
    emu: EmulatorHandle,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api, _ = connect(max_retries=2)
    emu.faults.reset(path="/v2/endpoint/*")
    emu.faults.respond(503, path="/v2/endpoint/*", message=f"echo {emu.token}")
    with pytest.raises(NotFoundError):
        api.get_endpoint(emu.user, "nothing-here")
    emu.faults.respond(500, path="/v2/endpoint/*", message=f"echo {emu.token}")
    with pytest.raises(ServerError) as info:
        api.get_endpoint(emu.user, "nothing-here")
    assert info.value.server_message == "echo ***"
    assert emu.token not in str(info.value) and emu.token not in repr(info.value.args)
    assert any(r.name == "pulumi_hf_endpoints.client" for r in caplog.records)
    for record in caplog.records:
        assert emu.token not in f"{record.getMessage()} {record.__dict__!r}", record.name
