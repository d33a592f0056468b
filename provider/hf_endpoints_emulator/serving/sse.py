"""Server-sent events the way TGI (axum 0.7) writes them, with disconnect detection.

Each event is `data: <compact json>\\n\\n`; after `keep_alive` seconds without an event a
`:\\n\\n` comment keeps proxies from timing out. A task watches the request for
`http.disconnect` and cancels the stream at once, which closes the event iterator and so
cancels the generation behind it (TGI does the same when a client goes away).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import trace

KEEP_ALIVE = b":\n\n"


def event(payload: Any) -> bytes:
    """One SSE event carrying `payload` as compact JSON (serde's key order is ours)."""
    return (
        b"data: "
        + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        + b"\n\n"
    )


DONE = b"data: [DONE]\n\n"


class EventStreamResponse(Response):
    """A 200 `text/event-stream` response fed by an async iterator of encoded events."""

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[bytes],
        *,
        headers: Mapping[str, str] | None = None,
        keep_alive: float = 15.0,
    ) -> None:
        # Exactly axum's content type (Starlette would append a charset).
        base = {
            "content-type": self.media_type,
            "cache-control": "no-cache",
            "x-accel-buffering": "no",
        }
        base.update(headers or {})
        # Like StreamingResponse: no `body`, so Starlette adds no content-length.
        self.status_code = 200
        self.background = None
        self.init_headers(base)
        self._events = events
        self._keep_alive = keep_alive

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lock = asyncio.Lock()
        last_send = time.monotonic()

        async def send_body(chunk: bytes) -> None:
            nonlocal last_send
            async with lock:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            last_send = time.monotonic()

        async def watch_disconnect(scope_to_cancel: anyio.CancelScope) -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    scope_to_cancel.cancel()
                    return

        async def keep_alive() -> None:
            while True:
                await anyio.sleep(max(0.0, last_send + self._keep_alive - time.monotonic()))
                if time.monotonic() - last_send >= self._keep_alive and not lock.locked():
                    await send_body(KEEP_ALIVE)

        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            complete = False
            traced = trace.current.get() if trace.enabled() else None
            async with anyio.create_task_group() as group:
                group.start_soon(watch_disconnect, group.cancel_scope)
                group.start_soon(keep_alive)
                try:
                    async for chunk in self._events:
                        await send_body(chunk)
                        if traced is not None:
                            trace.event("sent", id=traced)
                            traced = None
                    complete = True
                finally:
                    group.cancel_scope.cancel()  # stops the keep-alive before the end
            if complete:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away while we were writing (ASGI >= 2.4 servers raise)
        finally:
            aclose = getattr(self._events, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
