"""What the sync and async clients share: settings, headers, retry policy, response decoding.

Only the I/O loops differ between :mod:`._sync` and :mod:`._async` (which
``scripts/generate_async.py`` writes from :mod:`._sync`); every decision (what to send, whether
to retry, how long to wait, how to read an answer) is made here once.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .._version import __version__
from ..client import tokens
from ..client.http import parse_retry_after
from ..client.messages import redact, redact_url
from ._errors import (
    IncompleteGenerationError,
    InferenceConnectionError,
    InferenceError,
    InferenceHTTPError,
    InferenceTimeoutError,
    error_from_response,
)
from ._types import (
    ChatCompletionOutput,
    TextGenerationOutput,
    chat_completion_output,
    text_generation_output,
)

#: 503: a scaled-to-zero endpoint waking up (or TGI not healthy yet); 429: overloaded.
RETRY_STATUSES = frozenset({429, 503})
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RETRY_TIMEOUT = 300.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
SCALE_UP_HEADER = "X-Scale-Up-Timeout"
USER_AGENT = f"pulumi-hf-endpoints/{__version__}; python-httpx/{httpx.__version__}"

TokenArg = str | Literal[False] | None


def make_timeout(timeout: float | httpx.Timeout | None, connect_timeout: float) -> httpx.Timeout:
    """Connect fast or fail; then wait for the model as long as the user allows (default:
    forever), because a read timeout would cut a live stream between two slow tokens."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(timeout, connect=connect_timeout)


@dataclass(frozen=True)
class Settings:
    """Per-client, immutable; holds the token, so its repr hides it."""

    url: str
    token: str | None
    headers: dict[str, str]
    retry_timeout: float | None
    scale_up_header: bool

    def __repr__(self) -> str:
        return f"Settings(url={self.safe_url!r})"

    @classmethod
    def build(
        cls,
        url: str,
        token: TokenArg,
        headers: Mapping[str, str] | None,
        retry_timeout: float | None,
        scale_up_header: bool,
    ) -> Settings:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"url must be an http(s) URL, got {url!r}")
        if retry_timeout is not None and retry_timeout < 0:
            raise ValueError("retry_timeout must be >= 0 (0 disables retries) or None (forever)")
        merged = {"user-agent": USER_AGENT}
        user_headers = {k.lower(): v for k, v in (headers or {}).items()}
        explicit_auth = user_headers.get("authorization")
        resolved = None if token is False else tokens.get_token(token)
        if resolved and explicit_auth is None:
            merged["authorization"] = f"Bearer {resolved}"
        merged.update(user_headers)
        secret = resolved
        if explicit_auth:
            # A token given as a header (as the Inference Endpoints LLM blog post does) is just as
            # secret.
            secret = explicit_auth.split(" ", 1)[-1].strip() or None
        return cls(url, secret, merged, retry_timeout, scale_up_header)

    @property
    def secrets(self) -> tuple[str | None, ...]:
        return (self.token,)

    @property
    def safe_url(self) -> str:
        return redact_url(self.url, self.secrets)

    def route(self, path: str) -> str:
        """``url`` + ``path`` for the named routes; ``POST /`` uses ``url`` exactly as given."""
        return self.url.rstrip("/") + path

    def chat_url(self) -> str:
        """The chat route, accepting a base URL that already ends in ``/v1`` or the route."""
        base = self.url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if base.endswith("/v1"):
            return base + "/chat/completions"
        return base + "/v1/chat/completions"


class RetryState:
    """The retry budget of one call: a deadline, and the attempt count for backoff."""

    __slots__ = ("attempts", "deadline", "started", "timeout")

    def __init__(self, timeout: float | None) -> None:
        self.started = time.monotonic()
        self.timeout = timeout
        self.deadline = math.inf if timeout is None else self.started + timeout
        self.attempts = 0

    def headers(self, settings: Settings) -> dict[str, str] | None:
        """``X-Scale-Up-Timeout``: let the proxy hold the request while replicas start,
        for as long as this call would keep retrying anyway."""
        if not settings.scale_up_header or "x-scale-up-timeout" in settings.headers:
            return None
        remaining = self.deadline - time.monotonic()
        if remaining < 1:
            return None
        seconds = 3600 if remaining == math.inf else int(remaining)
        return {SCALE_UP_HEADER: str(seconds)}

    def delay(self, status_code: int, headers: Mapping[str, str]) -> float | None:
        """Seconds to wait before sending again, or None to give up now. Capped exponential
        backoff with jitter; ``Retry-After`` wins when the server gives it."""
        if status_code not in RETRY_STATUSES:
            return None
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return None
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (self.attempts - 1))
        wait = backoff / 2 + random.uniform(0, backoff / 2)
        advised = parse_retry_after(headers.get("retry-after"))
        if advised is not None:
            if advised > remaining:
                return None
            wait = advised
        return min(wait, remaining)

    @property
    def waited(self) -> float:
        return time.monotonic() - self.started


def http_error(
    response: httpx.Response, body: bytes, settings: Settings, retry: RetryState
) -> InferenceError:
    request = response.request
    return error_from_response(
        response.status_code,
        response.headers,
        body,
        method=request.method,
        url=str(request.url),
        secrets=settings.secrets,
        attempts=retry.attempts,
        waited=retry.waited if retry.attempts > 1 else None,
    )


def transport_error(
    exc: httpx.TransportError, settings: Settings, *, method: str, url: str, streaming: bool
) -> InferenceError:
    """Describe an httpx failure without keeping it (its request carries the token)."""
    detail = redact(f"{type(exc).__name__}: {exc}".rstrip(": "), settings.secrets)
    safe_url = redact_url(url, settings.secrets)
    where = f"{method} {safe_url}"
    if isinstance(exc, httpx.TimeoutException):
        kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read/write/pool"
        return InferenceTimeoutError(f"{kind} timeout on {where} ({detail})", url=safe_url)
    if streaming:
        return IncompleteGenerationError(
            f"the connection broke before the final token of {where} ({detail})",
            error_type="incomplete_generation_stream",
            url=safe_url,
        )
    return InferenceConnectionError(f"could not reach {where} ({detail})", url=safe_url)


def decode_json(response: httpx.Response, body: bytes, settings: Settings) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        preview = redact(body[:200].decode("utf-8", "replace"), settings.secrets)
        raise InferenceHTTPError(
            f"expected JSON from {response.request.method} {settings.safe_url}, got "
            f"{response.headers.get('content-type', 'no content type')}: {preview!r}",
            status_code=response.status_code,
            url=settings.safe_url,
        ) from None


def is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


def not_a_stream(response: httpx.Response, body: bytes, settings: Settings) -> InferenceError:
    """A 200 without an event stream: a non-TGI container, or a proxy that rewrote it."""
    preview = redact(body[:200].decode("utf-8", "replace"), settings.secrets)
    return InferenceHTTPError(
        f"asked for a stream but {settings.safe_url} answered "
        f"{response.headers.get('content-type', 'no content type')}: {preview!r} "
        "(is it a text-generation-inference endpoint?)",
        status_code=response.status_code,
        url=settings.safe_url,
    )


def text_generation_result(data: Any, details: bool) -> str | TextGenerationOutput:
    """``POST /`` answers ``[{...}]``; ``/generate`` and some proxies answer ``{...}``."""
    if isinstance(data, list):
        data = data[0]
    output = text_generation_output(data)
    return output if details else output.generated_text


def chat_result(data: Any) -> ChatCompletionOutput:
    return chat_completion_output(data)


def endpoint_info(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InferenceHTTPError(f"/info answered {type(data).__name__}, expected an object")
    return data
