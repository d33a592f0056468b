"""Fault injection: make the emulator misbehave on purpose, so clients' error paths get tested.

Rules are added with `POST /emulator/faults` (see `admin.py`) and live in memory until they are
used up or cleared. Kinds:

- `response`: matching requests answer `status` (e.g. 429 with `Retry-After`, 500, 502, 503)
  with `{"error": message}` instead of reaching the route.
- `stall`: matching requests wait `seconds` before being handled (clients time out).
- `reset`: matching requests get their TCP connection reset, without any response.
- `gather`: matching requests are held until `count` of them wait together, then all go on; one
  that waits `seconds` goes on alone and counts as `timedOut`. A test of concurrency: the rule
  shows `gathered` once `count` requests were in flight at the same time, which no amount of
  waiting can fake.
- `deploymentFailure`: the next deployments (create, update, resume) of endpoints whose name
  matches end `failed` (or `updateFailed`) with `message` as `status.errorMessage`.

`method` is an HTTP method or `*`; `path` is a glob (`*` crosses `/`) on the request path,
control plane and endpoint URLs alike. `times` is how many requests a rule affects (null:
until cleared). Routes under `/emulator/` are never affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import struct
import threading
from dataclasses import dataclass
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from .schemas import reject_surrogates

ADMIN_PREFIX = "/emulator"
Operation = Literal["create", "update", "resume"]
OPERATIONS: tuple[Operation, ...] = ("create", "update", "resume")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _no_surrogates = model_validator(mode="before")(reject_surrogates)

    times: int | None = Field(1, ge=1, description="Requests affected; null: until cleared.")


class _RouteRule(_Rule):
    method: str = Field("*", description="HTTP method, or * for any.")
    path: str = Field("*", description="Glob on the request path; * crosses '/'.")


class ResponseFault(_RouteRule):
    type: Literal["response"]
    status: int = Field(ge=400, le=599)
    retryAfter: float | None = Field(None, ge=0, description="Retry-After header, seconds.")
    message: str | None = None


class StallFault(_RouteRule):
    type: Literal["stall"]
    seconds: float = Field(gt=0, le=3600)


class ResetFault(_RouteRule):
    type: Literal["reset"]


class GatherFault(_RouteRule):
    type: Literal["gather"]
    count: int = Field(ge=2, le=1000, description="Requests held until this many wait together.")
    seconds: float = Field(30, gt=0, le=3600, description="Longest wait of a held request.")


class DeploymentFailureFault(_Rule):
    type: Literal["deploymentFailure"]
    message: str = "Endpoint failed to start: emulated failure (fault injection)"
    name: str = Field("*", description="Glob on the endpoint name.")
    operations: list[Operation] = Field(default_factory=lambda: list(OPERATIONS))


RequestSpec = ResponseFault | StallFault | ResetFault | GatherFault
AnySpec = RequestSpec | DeploymentFailureFault
FaultSpec = Annotated[AnySpec, Field(discriminator="type")]


@dataclass
class Fault:
    id: str
    spec: AnySpec
    remaining: int | None
    fired: int = 0
    gathered: int = 0
    timed_out: int = 0
    waiting: int = 0
    _event: asyncio.Event | None = None

    def to_json(self) -> dict[str, Any]:
        extra = {}
        if isinstance(self.spec, GatherFault):
            extra = {"gathered": self.gathered, "timedOut": self.timed_out}
        return {
            "id": self.id,
            **self.spec.model_dump(),
            "remaining": self.remaining,
            "fired": self.fired,
            **extra,
        }

    async def gather(self, spec: GatherFault) -> None:
        """Hold this request until `spec.count` requests wait together (see `gather`)."""
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        self.waiting += 1
        if self.waiting >= spec.count:
            self.gathered += self.waiting
            self.waiting = 0
            self._event = None
            event.set()
            return
        try:
            await asyncio.wait_for(event.wait(), spec.seconds)
        except asyncio.TimeoutError:
            self.waiting -= 1
            self.timed_out += 1


class FaultBook:
    """The active rules; each match uses up one of a rule's `times`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self.fired_total: dict[str, int] = {}

    def add(self, spec: AnySpec) -> Fault:
        with self._lock:
            fault = Fault(f"fault-{next(self._ids)}", spec, spec.times)
            self._faults.append(fault)
            return fault

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) < before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def _take(self, fault: Fault) -> None:
        fault.fired += 1
        self.fired_total[fault.spec.type] = self.fired_total.get(fault.spec.type, 0) + 1
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)

    def match_request(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                spec = fault.spec
                if isinstance(spec, DeploymentFailureFault):
                    continue
                if spec.method != "*" and spec.method.upper() != method.upper():
                    continue
                if not fnmatchcase(path, spec.path):
                    continue
                self._take(fault)
                return fault
        return None

    def deployment_failure(self, operation: str, name: str) -> str | None:
        """The failure message for this deployment, if a rule says it must fail."""
        with self._lock:
            for fault in self._faults:
                spec = fault.spec
                if (
                    isinstance(spec, DeploymentFailureFault)
                    and operation in spec.operations
                    and fnmatchcase(name, spec.name)
                ):
                    self._take(fault)
                    return spec.message
        return None


async def _reset_connection(receive: Receive) -> bool:
    """Abort the client's TCP connection with a RST; False when the server does not expose it.

    uvicorn passes its per-request cycle's bound `receive`, which holds the transport.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0)  # let the server see the connection is gone
    return True


class FaultMiddleware:
    """Applies the request rules of a `FaultBook` before the app sees the request."""

    def __init__(self, app: ASGIApp, book: FaultBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        fault = self.book.match_request(str(scope["method"]), path)
        spec = fault.spec if fault is not None else None
        if isinstance(spec, GatherFault) and fault is not None:
            await fault.gather(spec)
        elif isinstance(spec, StallFault):
            await asyncio.sleep(spec.seconds)
        elif isinstance(spec, ResetFault):
            if await _reset_connection(receive):
                return
            # No transport to abort: start a response and break it off.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1024")],
                }
            )
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise ConnectionResetError("emulated connection reset (fault injection)")
        elif isinstance(spec, ResponseFault):
            await self._respond(spec, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _respond(spec: ResponseFault, send: Send) -> None:
        try:
            phrase = HTTPStatus(spec.status).phrase
        except ValueError:
            phrase = "Error"
        message = spec.message or f"{spec.status} {phrase} (fault injection)"
        body = json.dumps({"error": message}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if spec.retryAfter is not None:
            headers.append((b"retry-after", _retry_after(spec.retryAfter)))
        await send({"type": "http.response.start", "status": spec.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _retry_after(seconds: float) -> bytes:
    """Retry-After takes whole seconds; round up so clients never retry early."""
    whole = int(seconds)
    return str(whole if whole == seconds else whole + 1).encode()
