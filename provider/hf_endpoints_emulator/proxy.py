"""Each endpoint's own URL, `{base}/endpoints/{id}`: the service's proxy in front of the replicas.

It answers what the real proxy answers before a request reaches a model
(as huggingface_hub's `InferenceEndpoint` and the service's own error pages show it):
auth per endpoint type, 400 when paused, 503 when scaled to zero (and wakes the endpoint, or
holds the request when `X-Scale-Up-Timeout` is sent), 503 while not running, 200 on the health
route once running. Anything else goes to the serving layer (`ServingLayer.handle`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from . import lifecycle
from .auth import bearer_token
from .context import Emulator
from .logs import RequestLine
from .serving_protocol import ServedEndpoint
from .store import EndpointRecord
from .validation import health_route
from .views import redact_image

SCALE_UP_HEADER = "x-scale-up-timeout"
MAX_HOLD_SECONDS = 3600.0
POLL_SECONDS = 0.05
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

router = APIRouter()


def _answer(status: int, error: str, code: str) -> JSONResponse:
    return JSONResponse({"error": error, "code": code}, status_code=status)


NOT_FOUND = (404, "404 Not Found", "NOT_FOUND")
UNAUTHORIZED = (401, "401 Unauthorized", "UNAUTHORIZED")
FORBIDDEN = (403, "403 Forbidden", "FORBIDDEN")
PAUSED = (400, "Bad Request: The endpoint is paused, ask a maintainer to restart it", "BAD_REQUEST")
UNAVAILABLE = (503, "503 Service Unavailable", "SERVICE_UNAVAILABLE")


def _denied(emu: Emulator, record: EndpointRecord, request: Request) -> tuple[int, str, str] | None:
    """Why the caller may not use this endpoint, if it may not."""
    kind = record.config["type"]
    if kind == "public":
        return None
    if kind == "private":
        return FORBIDDEN  # reachable only through PrivateLink
    user = emu.accounts.find(bearer_token(request.headers))
    if user is None:
        return UNAUTHORIZED
    if record.namespace not in user.namespaces:
        return FORBIDDEN
    return None


def _hold_seconds(request: Request) -> float:
    """How long `X-Scale-Up-Timeout` asks to hold the request (0 when absent or unreadable)."""
    try:
        seconds = float(request.headers.get(SCALE_UP_HEADER) or 0)
    except ValueError:
        return 0.0
    return 0.0 if math.isnan(seconds) else min(max(seconds, 0.0), MAX_HOLD_SECONDS)


async def _wait_until_serving(
    emu: Emulator, endpoint_id: str, seconds: float
) -> EndpointRecord | None:
    """Hold a request while the endpoint starts; the record once it serves, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
        record = emu.store.get_by_id(endpoint_id)
        if record is None:
            return None
        observed = emu.service.observe(record)
        if observed.serving:
            return record
        if observed.state in (lifecycle.PAUSED, lifecycle.FAILED, lifecycle.UPDATE_FAILED):
            return None
    return None


def served_endpoint(record: EndpointRecord) -> ServedEndpoint:
    model = record.config["model"]
    return ServedEndpoint(
        namespace=record.namespace,
        name=record.name,
        repository=model["repository"],
        framework=model["framework"],
        task=model.get("task"),
        revision=model.get("revision"),
        health_route=health_route(model["image"]),
        image=redact_image(model["image"]),
        env=dict(model.get("env") or {}),
    )


@router.api_route("/endpoints/{endpoint_id}", methods=METHODS, include_in_schema=False)
@router.api_route("/endpoints/{endpoint_id}/{path:path}", methods=METHODS, include_in_schema=False)
async def endpoint_request(request: Request, endpoint_id: str, path: str = "") -> Response:
    emu: Emulator = request.app.state.emulator
    record = emu.store.get_by_id(endpoint_id)
    if record is None:
        return _answer(*NOT_FOUND)
    denied = _denied(emu, record, request)
    if denied is not None:
        return _answer(*denied)
    observed = emu.service.observe(record)
    if observed.state == lifecycle.PAUSED:
        return _answer(*PAUSED)
    if observed.state == lifecycle.SCALED_TO_ZERO:
        record = emu.service.wake(record)
        observed = emu.service.observe(record)
    if not observed.serving:
        hold = _hold_seconds(request)
        ready = await _wait_until_serving(emu, record.id, hold) if hold > 0 else None
        if ready is None:
            return _answer(*UNAVAILABLE)
        record = ready
    return await _forward(emu, record, request, "/" + path)


async def _forward(emu: Emulator, record: EndpointRecord, request: Request, path: str) -> Response:
    endpoint = served_endpoint(record)
    emu.activity.started(record.id, time.time())
    status = 500
    logged = False

    def log_access(disconnected: bool) -> None:
        """The access line of the endpoint's log, once."""
        nonlocal logged
        if not logged:
            logged = True
            line = RequestLine(time.time(), request.method, path, status, disconnected)
            emu.activity.served(record.id, line)

    def done(disconnected: bool) -> None:
        emu.activity.finished(record.id, time.time(), disconnected)
        log_access(disconnected)

    try:
        if request.method in ("GET", "HEAD") and path == endpoint.health_route:
            response: Response = Response(status_code=200)
        else:
            response = await emu.serving.handle(request, path, endpoint)
    except BaseException:
        done(True)
        raise
    status = response.status_code
    return TrackedResponse(response, done, before_end=lambda: log_access(False))


class TrackedResponse(Response):
    """Sends `inner` and reports, once, whether the client went away before the end.

    `before_end` runs before the last chunk goes out, so that what it records (the access
    line) is there by the time the client has the whole answer."""

    def __init__(
        self,
        inner: Response,
        done: Callable[[bool], None],
        before_end: Callable[[], None] | None = None,
    ) -> None:
        # Not calling Response.__init__: the inner response renders itself.
        self.inner = inner
        self.done = done
        self.before_end = before_end
        self.status_code = inner.status_code
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        completed = False
        disconnected = False

        async def watch_receive() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect" and not completed:
                disconnected = True
            return message

        async def watch_send(message: Message) -> None:
            nonlocal completed
            last = message["type"] == "http.response.body" and not message.get("more_body", False)
            if last and self.before_end is not None:
                self.before_end()
            await send(message)
            if last:
                completed = True

        try:
            await self.inner(scope, watch_receive, watch_send)
        finally:
            self.done(disconnected or not completed)
