"""What the sync and async stream loops share: decoding one event, and the errors of a stream
that carries something else, breaks, or ends before its final token.

The loops themselves (in :mod:`._sync`, and :mod:`._async` generated from it) are spelled out
rather than layered: at 10^5 events per second, every generator layer and function call per
event shows up. The JSON fast path calls the C scanner that ``json.loads`` ends in, skipping the
encoding detection and whitespace regexes around it; anything unusual falls back to
:func:`slow_decode`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from json.scanner import make_scanner
from typing import Any, cast

import httpx

from ._common import Settings, transport_error
from ._errors import IncompleteGenerationError, InferenceError
from ._sse import DONE

#: ``scan_json(text, 0)`` -> ``(value, end)``; raises ``StopIteration`` when no JSON value starts
#: at 0 (not the iteration protocol: the C scanner's way of saying "nothing here").
scan_json: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, json.JSONDecoder()))
#: Fed after the last chunk: dispatches an event left unterminated.
END = (b"\n\n",)
STOP = object()  # ``[DONE]``
SKIP = object()  # empty data
_loads = json.loads


def malformed(payload: bytes, settings: Settings) -> InferenceError:
    preview = payload[:120].decode("utf-8", "replace")
    return IncompleteGenerationError(
        f"malformed event in the stream from {settings.safe_url}: {preview!r}",
        url=settings.safe_url,
    )


def incomplete(settings: Settings) -> InferenceError:
    return IncompleteGenerationError(
        f"the stream from {settings.safe_url} ended before the final token",
        error_type="incomplete_generation_stream",
        url=settings.safe_url,
    )


def slow_decode(payload: bytes, settings: Settings) -> Any:
    """Payloads the fast path declined: ``[DONE]`` (:data:`STOP`), empty data (:data:`SKIP`),
    odd whitespace, bad JSON."""
    stripped = payload.strip()
    if stripped == DONE:
        return STOP
    if not stripped:
        return SKIP
    try:
        return _loads(stripped)
    except ValueError:
        raise malformed(payload, settings) from None


def broken(exc: httpx.TransportError, response: httpx.Response, settings: Settings) -> Exception:
    return transport_error(
        exc, settings, method="POST", url=str(response.request.url), streaming=True
    )


def reads_raw(response: httpx.Response) -> bool:
    """No content-encoding: read raw bytes and skip httpx's decoder layers (unless a custom
    transport handed back a response that was read already)."""
    encoding = response.headers.get("content-encoding", "identity")
    return encoding in ("", "identity") and not response.is_stream_consumed


async def achain(
    chunks: AsyncIterator[bytes], *rest: Iterable[bytes]
) -> AsyncGenerator[bytes, None]:
    """``itertools.chain`` for an async first iterable: ``chunks``, then ``rest``; closes
    ``chunks`` when abandoned."""
    try:
        async for chunk in chunks:
            yield chunk
        for more in rest:
            for chunk in more:
                yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
