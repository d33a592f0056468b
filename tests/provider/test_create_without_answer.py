"""A create that got no answer may still have created the endpoint: it must not be left behind,
and an older endpoint of the same name (not ours) must not be deleted."""

from __future__ import annotations

import time
from typing import Any

from pulumi_hf_endpoints.client.errors import NotFoundError, ServerError
from pulumi_hf_endpoints.client.models import Endpoint
from pulumi_hf_endpoints.provider import InferenceEndpointProvider


class FakeApi:
    """Stands for EndpointsApi: answers GET with `endpoint` (or 404) and records deletes."""

    def __init__(self, endpoint: dict[str, Any] | None, *, get_fails: bool = False) -> None:
        self.endpoint = endpoint
        self.get_fails = get_fails
        self.deleted: list[str] = []

    def get_endpoint(self, namespace: str, name: str) -> Endpoint:
        if self.get_fails:
            raise ServerError("502 Bad Gateway on GET", status_code=502)
        if self.endpoint is None:
            raise NotFoundError("404 Not Found", status_code=404)
        return Endpoint.from_raw(self.endpoint)

    def delete_endpoint(self, namespace: str, name: str, *, missing_ok: bool = False) -> None:
        self.deleted.append(f"{namespace}/{name}")
        self.endpoint = None


def endpoint_created_at(moment: float) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".123456789Z"
    return {
        "name": "ep",
        "type": "public",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x1"},
        "model": {"repository": "gpt2"},
        "status": {"state": "pending", "createdAt": stamp, "updatedAt": stamp},
    }


def remove(api: FakeApi, started: float) -> str:
    provider = InferenceEndpointProvider()
    payload = {"name": "ep", "model": {"repository": "gpt2"}}
    return provider._remove_if_created(api, "ns", "ep", payload, started)  # type: ignore[arg-type]


def test_endpoint_created_by_the_unanswered_request_is_deleted() -> None:
    started = time.time()
    api = FakeApi(endpoint_created_at(started + 1))
    message = remove(api, started)
    assert api.deleted == ["ns/ep"]
    assert "was deleted" in message


def test_nothing_created_nothing_deleted() -> None:
    api = FakeApi(None)
    assert remove(api, time.time()) == "no endpoint was created"
    assert api.deleted == []


def test_an_older_endpoint_of_the_same_name_is_left_alone() -> None:
    started = time.time()
    api = FakeApi(endpoint_created_at(started - 3600))
    message = remove(api, started)
    assert api.deleted == []
    assert "older than this create" in message


def test_when_it_cannot_be_checked_the_user_is_told_where_to_look() -> None:
    api = FakeApi(None, get_fails=True)
    message = remove(api, time.time())
    assert api.deleted == []
    assert "could not be checked" in message and "ns/ep" in message
