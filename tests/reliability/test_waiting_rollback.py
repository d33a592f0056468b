"""Deterministic checks of the two fixes the fault-injected lifecycles led to:

- waiting rides out transient API failures (5xx, 429, no answer) until its deadline, instead of
  failing (and, for a create, deleting a healthy endpoint) on the first failed poll;
- the rollback of a failed create tries its delete again on transient failures, since an
  endpoint left behind bills outside the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_hf_endpoints.client.errors import (
    ApiConnectionError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    WaitTimeoutError,
)
from pulumi_hf_endpoints.client.models import Endpoint
from pulumi_hf_endpoints.provider import InferenceEndpointProvider
from pulumi_hf_endpoints.waiting import MAX_FAILED_POLLS, Waiter
from tests.reliability.support import FIGURES

pytestmark = pytest.mark.reliability

RUNNING: dict[str, Any] = {
    "name": "e",
    "type": "private",  # no health probe
    "provider": {"vendor": "aws", "region": "us-east-1"},
    "compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2"},
    "model": {"repository": "gpt2"},
    "status": {"state": "running", "url": "http://127.0.0.1:9/x"},
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


class ScriptedApi:
    """get_endpoint/delete_endpoint answer from a script: an exception to raise or a value."""

    def __init__(self, script: list[Any]) -> None:
        self.script: Iterator[Any] = iter(script)
        self.calls = 0

    def _next(self) -> Any:
        self.calls += 1
        item = next(self.script)
        if isinstance(item, BaseException):
            raise item
        return item

    def get_endpoint(self, namespace: str, name: str) -> Any:
        answer = self._next()
        return Endpoint.from_raw(answer) if isinstance(answer, dict) else answer

    def delete_endpoint(self, namespace: str, name: str, *, missing_ok: bool = False) -> None:
        self._next()


def waiter(api: ScriptedApi, clock: FakeClock) -> Waiter:
    return Waiter(api, "ns", "e", interval=1.0, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]


def test_waiting_rides_out_transient_failures() -> None:
    clock = FakeClock()
    api = ScriptedApi(
        [
            ServerError("500 Internal Server Error on GET /v2/endpoint/ns/e"),
            RateLimitedError("429 Too Many Requests [gave up after 5 attempts]"),
            ApiConnectionError("Connection failed on GET ...: ConnectError"),
            RUNNING,
        ]
    )
    info = waiter(api, clock).wait("running", 60)
    assert info is not None and info.status.state == "running"
    assert api.calls == 4
    FIGURES.add("unit: waits that rode out transient failures")


def test_waiting_gives_up_after_consecutive_failures_or_at_the_deadline() -> None:
    clock = FakeClock()
    api = ScriptedApi([ServerError("500 a")] * MAX_FAILED_POLLS)
    with pytest.raises(ServerError):
        waiter(api, clock).wait("running", 600)
    assert api.calls == MAX_FAILED_POLLS

    clock = FakeClock()
    api = ScriptedApi(
        [{**RUNNING, "status": {"state": "initializing"}}, ServerError("500 b")]
        + [{**RUNNING, "status": {"state": "initializing"}}] * 3
        + [ServerError("500 c")]
    )
    with pytest.raises((ServerError, WaitTimeoutError)):
        waiter(api, clock).wait("running", 4.5)
    assert clock.now <= 4.5 + 1.0


@pytest.mark.parametrize(
    ("script", "deleted"),
    [
        ([None], True),
        ([ServerError("500 x"), None], True),
        ([ServerError("500 x"), RateLimitedError("429 y"), None], True),
        ([ServerError("500 x")] * 3, False),
        ([PermissionDeniedError("403 no")], False),
    ],
)
def test_rollback_delete_is_tried_again_on_transient_failures(
    script: list[Any], deleted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_HF_ENDPOINTS_POLL_INTERVAL", "0.01")
    api = ScriptedApi(script)
    message = InferenceEndpointProvider()._delete_quietly(api, "ns", "e")  # type: ignore[arg-type]
    if deleted:
        assert "was deleted" in message
    else:
        assert "ALSO FAILED" in message and "ns/e" in message
    assert api.calls == len(script)
