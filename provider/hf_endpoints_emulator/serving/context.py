"""Per-request context: the endpoint, its limits, its model runner and its metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request

from ..serving_protocol import ServedEndpoint
from .errors import Overloaded
from .metrics import EndpointMetrics
from .options import ServingOptions
from .params import Limits
from .runner import ModelRunner

T = TypeVar("T")


def limits_for(endpoint: ServedEndpoint, options: ServingOptions, context_length: int) -> Limits:
    """The TGI launcher limits of `endpoint`: emulator options, then its env (as TGI reads
    `MAX_TOTAL_TOKENS` etc.), capped by what the model context can hold."""
    env: Mapping[str, str] = endpoint.env or {}

    def pick(default: int, *names: str) -> int:
        for name in names:
            raw = env.get(name)
            if raw is not None:
                try:
                    return int(raw)
                except ValueError:
                    continue
        return default

    max_total = min(pick(options.max_total_tokens, "MAX_TOTAL_TOKENS"), context_length)
    max_input = pick(
        min(options.max_input_tokens, max_total - 1), "MAX_INPUT_TOKENS", "MAX_INPUT_LENGTH"
    )
    return Limits(
        max_concurrent_requests=pick(options.max_concurrent_requests, "MAX_CONCURRENT_REQUESTS"),
        max_best_of=pick(options.max_best_of, "MAX_BEST_OF"),
        max_stop_sequences=pick(options.max_stop_sequences, "MAX_STOP_SEQUENCES"),
        max_top_n_tokens=pick(options.max_top_n_tokens, "MAX_TOP_N_TOKENS"),
        max_input_tokens=min(max_input, max_total - 1),
        max_total_tokens=max_total,
        max_client_batch_size=pick(options.max_client_batch_size, "MAX_CLIENT_BATCH_SIZE"),
    )


@dataclass
class RequestContext:
    endpoint: ServedEndpoint
    options: ServingOptions
    limits: Limits
    runner: ModelRunner
    metrics: EndpointMetrics
    request: Request
    started: float

    @property
    def model_id(self) -> str:
        return self.endpoint.repository

    @property
    def compute_type(self) -> str:
        return (self.endpoint.env or {}).get("COMPUTE_TYPE", self.options.compute_type)

    @contextmanager
    def permit(self) -> Iterator[None]:
        """TGI's concurrency permit: over `max_concurrent_requests` in flight → 429."""
        if self.metrics.in_flight >= self.limits.max_concurrent_requests:
            raise Overloaded()
        self.metrics.in_flight += 1
        try:
            yield
        finally:
            self.metrics.in_flight -= 1

    def record(self, *, error_type: str | None, generated: int = 0, input_length: int = 0) -> None:
        m = self.metrics
        if error_type is None:
            m.successes += 1
            m.duration.observe(time.monotonic() - self.started)
            m.generated_tokens.observe(generated)
            m.input_length.observe(input_length)
        else:
            m.failures[error_type] += 1

    def base_headers(self) -> dict[str, str]:
        return {"x-compute-type": self.compute_type}


class ClientGone(Exception):
    """The client disconnected before a non-streaming answer was ready."""


async def until_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Await `work`, cancelling it if the client disconnects first (TGI stops generating)."""
    task: asyncio.Future[T] = asyncio.ensure_future(work)

    async def wait_disconnect() -> None:
        try:
            while True:
                message: Mapping[str, Any] = await request.receive()
                if message.get("type") == "http.disconnect":
                    return
        except Exception:  # no receive channel: cannot watch, so never report a disconnect
            await asyncio.Event().wait()

    watcher: asyncio.Future[Any] = asyncio.ensure_future(wait_disconnect())
    pending: set[asyncio.Future[Any]] = {task, watcher}
    try:
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with suppress(BaseException):
        await task
    raise ClientGone()
