"""Stream objects: what ``stream=True`` returns, and the per-event decoding loops.

Closing rule: the iterator that ``for`` obtains from a stream is the only owner of the HTTP
response. It is not stored on the stream object, so when the loop ends early (``break``, an
exception, a ``return``), the loop drops the last reference, the generator finalises at once,
and its ``finally`` closes the connection, which is how TGI learns to stop generating. That
holds even when the stream is kept in a variable, as in the seed blog's snippet.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from itertools import chain
from json.scanner import make_scanner
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import httpx

from ._common import Settings, transport_error
from ._errors import IncompleteGenerationError, InferenceError, error_from_event
from ._sse import DONE, SSEDecoder
from ._types import (
    ChatCompletionStreamOutput,
    chat_stream_output,
    stream_output,
)

__all__ = ["AsyncStream", "Stream"]

T = TypeVar("T")
_loads = json.loads


class Stream(Generic[T]):
    """A streamed answer (sync). Iterate it once; leaving the loop early closes the
    connection. Also a context manager, and :meth:`close` closes it explicitly."""

    __slots__ = ("_factory", "_iterator", "_response", "_used")

    def __init__(self, response: httpx.Response, factory: Callable[[], Iterator[T]]) -> None:
        self._response = response
        self._factory = factory
        self._iterator: Iterator[T] | None = None
        self._used = False

    def __iter__(self) -> Iterator[T]:
        if self._iterator is not None:
            return self._iterator
        if self._used:
            raise RuntimeError("this stream was already iterated; call the method again")
        self._used = True
        return self._factory()

    def __next__(self) -> T:
        if self._iterator is None:
            self._iterator = self.__iter__()
        return next(self._iterator)

    def close(self) -> None:
        """Close the connection now (the server stops generating)."""
        self._response.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Never iterated: nobody else will close the response. (Once iterated, the generator
        # owns it, and may still be running while this object goes away.)
        if not getattr(self, "_used", True):
            self._response.close()

    def __repr__(self) -> str:
        state = "closed" if self._response.is_closed else "open"
        return f"<Stream {state}>"


class AsyncStream(Generic[T]):
    """A streamed answer (async). Iterate it once with ``async for``; leaving the loop early
    closes the connection as soon as the event loop finalises the iterator (at once with
    ``async with``, or :meth:`aclose`)."""

    __slots__ = ("_factory", "_iterator", "_response", "_used")

    def __init__(self, response: httpx.Response, factory: Callable[[], AsyncIterator[T]]) -> None:
        self._response = response
        self._factory = factory
        self._iterator: AsyncIterator[T] | None = None
        self._used = False

    def __aiter__(self) -> AsyncIterator[T]:
        if self._iterator is not None:
            return self._iterator
        if self._used:
            raise RuntimeError("this stream was already iterated; call the method again")
        self._used = True
        return self._factory()

    async def __anext__(self) -> T:
        if self._iterator is None:
            self._iterator = self.__aiter__()
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Close the connection now (the server stops generating)."""
        await self._response.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._response.is_closed else "open"
        return f"<AsyncStream {state}>"


# --------------------------------------------------------------------------- event loops
# One generator per kind of stream and per I/O flavour, spelled out rather than layered:
# at 10^5 events per second, every generator layer and function call per event shows up.
# The JSON fast path calls the C scanner that ``json.loads`` ends in, skipping the encoding
# detection and whitespace regexes around it; anything unusual falls back to ``json.loads``.

_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, json.JSONDecoder()))
_END = (b"\n\n",)  # fed after the last chunk: dispatches an event left unterminated
_STOP = object()  # ``[DONE]``
_SKIP = object()  # empty data


def _malformed(payload: bytes, settings: Settings) -> InferenceError:
    preview = payload[:120].decode("utf-8", "replace")
    return IncompleteGenerationError(
        f"malformed event in the stream from {settings.safe_url}: {preview!r}",
        url=settings.safe_url,
    )


def _incomplete(settings: Settings) -> InferenceError:
    return IncompleteGenerationError(
        f"the stream from {settings.safe_url} ended before the final token",
        error_type="incomplete_generation_stream",
        url=settings.safe_url,
    )


def _slow_decode(payload: bytes, settings: Settings) -> Any:
    """Payloads the fast path declined: ``[DONE]``, empty data, odd whitespace, bad JSON."""
    stripped = payload.strip()
    if stripped == DONE:
        return _STOP
    if not stripped:
        return _SKIP
    try:
        return _loads(stripped)
    except ValueError:
        raise _malformed(payload, settings) from None


def _broken(exc: httpx.TransportError, response: httpx.Response, settings: Settings) -> Exception:
    return transport_error(
        exc, settings, method="POST", url=str(response.request.url), streaming=True
    )


def _raw(response: httpx.Response) -> bool:
    """No content-encoding: read raw bytes and skip httpx's decoder layers (unless a custom
    transport handed back a response that was read already)."""
    encoding = response.headers.get("content-encoding", "identity")
    return encoding in ("", "identity") and not response.is_stream_consumed


def iter_text_generation(
    response: httpx.Response, settings: Settings, details: bool
) -> Iterator[Any]:
    """``TextGenerationStreamOutput`` per event with ``details``; else the text of each
    non-special token (so the pieces join into ``generated_text``)."""
    feed = SSEDecoder().feed
    scan = _scan
    chunks = response.iter_raw() if _raw(response) else response.iter_bytes()
    finished = False
    failure: Exception | None = None
    try:
        try:
            for chunk in chain(chunks, _END):
                for payload in feed(chunk):
                    try:
                        text = payload.decode()
                        data, end = scan(text, 0)
                        if end != len(text):
                            raise ValueError
                    except (StopIteration, ValueError):
                        data = _slow_decode(payload, settings)
                        if data is _STOP:
                            return
                        if data is _SKIP:
                            continue
                    try:
                        if "error" in data:
                            raise error_from_event(data, url=settings.url, secrets=settings.secrets)
                        if details:
                            out = stream_output(data)
                            if out.generated_text is not None:
                                finished = True
                            yield out
                        else:
                            if data.get("generated_text") is not None:
                                finished = True
                            token = data["token"]
                            if not token.get("special"):
                                yield token["text"]
                    except (KeyError, TypeError, AttributeError):
                        raise _malformed(payload, settings) from None
        except httpx.TransportError as exc:
            failure = _broken(exc, response, settings)
        except httpx.StreamClosed:
            return  # closed on purpose (Stream.close())
        if failure is not None:
            raise failure
        if not finished:
            raise _incomplete(settings)
    finally:
        response.close()


async def aiter_text_generation(
    response: httpx.Response, settings: Settings, details: bool
) -> AsyncIterator[Any]:
    feed = SSEDecoder().feed
    scan = _scan
    chunks = response.aiter_raw() if _raw(response) else response.aiter_bytes()
    finished = False
    failure: Exception | None = None
    try:
        try:
            async for chunk in _achain(chunks):
                for payload in feed(chunk):
                    try:
                        text = payload.decode()
                        data, end = scan(text, 0)
                        if end != len(text):
                            raise ValueError
                    except (StopIteration, ValueError):
                        data = _slow_decode(payload, settings)
                        if data is _STOP:
                            return
                        if data is _SKIP:
                            continue
                    try:
                        if "error" in data:
                            raise error_from_event(data, url=settings.url, secrets=settings.secrets)
                        if details:
                            out = stream_output(data)
                            if out.generated_text is not None:
                                finished = True
                            yield out
                        else:
                            if data.get("generated_text") is not None:
                                finished = True
                            token = data["token"]
                            if not token.get("special"):
                                yield token["text"]
                    except (KeyError, TypeError, AttributeError):
                        raise _malformed(payload, settings) from None
        except httpx.TransportError as exc:
            failure = _broken(exc, response, settings)
        except httpx.StreamClosed:
            return
        if failure is not None:
            raise failure
        if not finished:
            raise _incomplete(settings)
    finally:
        await response.aclose()


async def _achain(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """``chunks`` then the end marker; closes ``chunks`` when abandoned."""
    try:
        async for chunk in chunks:
            yield chunk
        yield _END[0]
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def _chat_chunk(data: Any, payload: bytes, settings: Settings) -> ChatCompletionStreamOutput:
    try:
        if "error" in data:
            raise error_from_event(data, url=settings.url, secrets=settings.secrets)
        return chat_stream_output(data)
    except (KeyError, TypeError, AttributeError):
        raise _malformed(payload, settings) from None


def iter_chat(response: httpx.Response, settings: Settings) -> Iterator[ChatCompletionStreamOutput]:
    """Chunks until ``[DONE]``; TGI before 2.2 just closed the stream after the chunk that
    carries a ``finish_reason``, which counts as a complete answer too."""
    feed = SSEDecoder().feed
    chunks = response.iter_raw() if _raw(response) else response.iter_bytes()
    finished = False
    failure: Exception | None = None
    try:
        try:
            for chunk in chain(chunks, _END):
                for payload in feed(chunk):
                    try:
                        text = payload.decode()
                        data, end = _scan(text, 0)
                        if end != len(text):
                            raise ValueError
                    except (StopIteration, ValueError):
                        data = _slow_decode(payload, settings)
                        if data is _STOP:
                            return
                        if data is _SKIP:
                            continue
                    out = _chat_chunk(data, payload, settings)
                    if not finished:
                        finished = any(c.finish_reason for c in out.choices)
                    yield out
        except httpx.TransportError as exc:
            failure = _broken(exc, response, settings)
        except httpx.StreamClosed:
            return
        if failure is not None:
            raise failure
        if not finished:
            raise _incomplete(settings)
    finally:
        response.close()


async def aiter_chat(
    response: httpx.Response, settings: Settings
) -> AsyncIterator[ChatCompletionStreamOutput]:
    feed = SSEDecoder().feed
    chunks = response.aiter_raw() if _raw(response) else response.aiter_bytes()
    finished = False
    failure: Exception | None = None
    try:
        try:
            async for chunk in _achain(chunks):
                for payload in feed(chunk):
                    try:
                        text = payload.decode()
                        data, end = _scan(text, 0)
                        if end != len(text):
                            raise ValueError
                    except (StopIteration, ValueError):
                        data = _slow_decode(payload, settings)
                        if data is _STOP:
                            return
                        if data is _SKIP:
                            continue
                    out = _chat_chunk(data, payload, settings)
                    if not finished:
                        finished = any(c.finish_reason for c in out.choices)
                    yield out
        except httpx.TransportError as exc:
            failure = _broken(exc, response, settings)
        except httpx.StreamClosed:
            return
        if failure is not None:
            raise failure
        if not finished:
            raise _incomplete(settings)
    finally:
        await response.aclose()
