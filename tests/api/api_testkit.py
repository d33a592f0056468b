"""Helpers shared by the control-plane client tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = "hf_SecretTokenValue1234567890abcdef"
API = "https://api.endpoints.huggingface.cloud/v2"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON response (``body`` dict/list), a text one (``body`` str), or an empty one."""
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class Script:
    """A MockTransport handler that plays replies in order and records every request.

    Each reply is a response, an exception to raise (a transport failure), or a callable.
    When the queue is empty, ``default`` answers (or the test fails loudly).
    """

    replies: list[Reply] = field(default_factory=list)
    default: Reply | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.replies:
            item = self.replies.pop(0)
        elif self.default is not None:
            item = self.default
        else:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(item, Exception):
            # Copy: the same exception must not be raised twice with a growing traceback.
            raise type(item)(str(item), request=request)
        if isinstance(item, httpx.Response):
            return httpx.Response(
                item.status_code, headers=item.headers, content=item.content, request=request
            )
        return item(request)

    @property
    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests]

    def body(self, index: int = -1) -> Any:
        content = self.requests[index].content
        return json.loads(content) if content else None


@dataclass
class Sleeps:
    """Records the delays the client asked for, instead of sleeping."""

    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def endpoint(
    name: str = "my-endpoint",
    state: str = "running",
    *,
    created_at: str = "2024-01-01T00:00:00Z",
    repository: str = "gpt2",
) -> dict[str, Any]:
    """A small `EndpointWithStatus`: the keys the client's typed answer needs."""
    return {
        "name": name,
        "type": "authenticated",
        "healthRoute": "/health",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2"},
        "model": {
            "repository": repository,
            "framework": "pytorch",
            "revision": None,
            "task": "text-generation",
        },
        "status": {"state": state, "createdAt": created_at},
    }


def just_now() -> str:
    """A `createdAt` of this moment, as the service writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
