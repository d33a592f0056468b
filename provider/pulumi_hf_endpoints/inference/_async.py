# Generated from _sync.py by scripts/generate_async.py; edit the sync module and regenerate
# (`python scripts/generate_async.py`). `make lint` fails when this file is stale.
"""The asynchronous client and its streams: :class:`EndpointClient`'s API, awaited.

Everything below is ``_sync.py`` with ``async``/``await`` where I/O happens; what differs is
named in ``scripts/generate_async.py``. Closing rule: an ``async for`` left early abandons the
stream's async generator, and its ``finally`` closes the connection when the event loop
finalises it, which is soon but not at once; ``async with`` (or :meth:`AsyncStream.aclose`)
closes it at a known moment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

import anyio
import httpx

from ._common import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRY_TIMEOUT,
    RetryState,
    Settings,
    TokenArg,
    chat_result,
    decode_json,
    endpoint_info,
    http_error,
    is_event_stream,
    make_timeout,
    not_a_stream,
    text_generation_result,
    transport_error,
)
from ._endpoint import resolve_endpoint_url
from ._errors import InferenceError, error_from_event
from ._events import (
    END,
    SKIP,
    STOP,
    achain,
    broken,
    incomplete,
    malformed,
    reads_raw,
    scan_json,
    slow_decode,
)
from ._params import chat_completion_body, text_generation_body
from ._sse import SSEDecoder
from ._types import (
    ChatCompletionOutput,
    ChatCompletionStreamOutput,
    TextGenerationOutput,
    TextGenerationStreamOutput,
    chat_stream_output,
    stream_output,
)

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from ..client.api import EndpointsApi
    from ._params import ChatCompletionKwargs, TextGenerationKwargs

logger = logging.getLogger("pulumi_hf_endpoints.inference")

_JSON = {"content-type": "application/json", "accept": "application/json"}
_SSE = {"content-type": "application/json", "accept": "text/event-stream"}
T = TypeVar("T")


class _ClosesOnExit:
    """``async with`` support: leaving the block awaits :meth:`aclose`."""

    __slots__ = ()

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncEndpointClient(_ClosesOnExit):
    """Call a text-generation endpoint (TGI) on Hugging Face Inference Endpoints, from
    asyncio or trio: await its methods; its streams are :class:`AsyncStream` (``async for``).

    Args:
        url: the endpoint's URL (``status.url``; the ``InferenceEndpoint`` resource's ``url``
            output), or any TGI server's.
        token: a Hugging Face token. ``None`` discovers one as huggingface_hub does
            (``HF_TOKEN``, then the saved login); ``False`` sends none.
        headers: extra headers; an ``Authorization`` header here replaces the token.
        timeout: seconds to wait for each read, or an ``httpx.Timeout``. ``None`` (default)
            never cuts a stream between two slow tokens.
        connect_timeout: seconds to establish a connection.
        retry_timeout: how long one call keeps retrying a ``503`` (endpoint waking up from
            zero) or a ``429`` (overloaded), with capped backoff and ``Retry-After``. ``0``
            disables retries, ``None`` retries forever. ``422``/``424`` are never retried.
        wait_for_scale_up: send ``X-Scale-Up-Timeout`` so the Inference Endpoints proxy holds
            requests while a scaled-to-zero endpoint starts, rather than answering ``503``.
        transport: an ``httpx`` transport (tests, proxies).

    One connection pool per client: reuse the client, and close it (or use ``async with``).
    """

    def __init__(
        self,
        url: str,
        token: TokenArg = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        retry_timeout: float | None = DEFAULT_RETRY_TIMEOUT,
        wait_for_scale_up: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = Settings.build(url, token, headers, retry_timeout, wait_for_scale_up)
        self._http = httpx.AsyncClient(
            headers=self._settings.headers,
            timeout=make_timeout(timeout, connect_timeout),
            transport=transport,
            follow_redirects=True,
        )

    @property
    def url(self) -> str:
        return self._settings.url

    def __repr__(self) -> str:
        return f"AsyncEndpointClient({self._settings.safe_url!r})"

    @classmethod
    async def for_endpoint(
        cls,
        endpoint: str,
        *,
        resume: bool = False,
        wait_timeout: float | None = 600.0,
        token: str | None = None,
        api_url: str | None = None,
        api: EndpointsApi | None = None,
        **options: Any,
    ) -> AsyncEndpointClient:
        """A client for a deployed endpoint, found by ``"namespace/name"`` (or ``"name"`` in
        the token owner's namespace) through the control-plane API.

        A paused endpoint raises :class:`EndpointPausedError` unless ``resume=True``, which
        resumes it. Then waits up to ``wait_timeout`` seconds for the endpoint to serve
        (a scaled-to-zero endpoint counts: the first request wakes it). ``api_url`` (or
        ``HF_ENDPOINTS_API_URL``) points at another control plane, e.g. the emulator;
        ``options`` go to the constructor. The lookup runs in a worker thread.
        """
        url = await anyio.to_thread.run_sync(
            lambda: resolve_endpoint_url(
                endpoint,
                resume=resume,
                wait_timeout=wait_timeout,
                token=token,
                api_url=api_url,
                api=api,
            )
        )
        return cls(url, token, **options)

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._http.aclose()

    async def close(self) -> None:
        """Same as :meth:`aclose` (huggingface_hub's name)."""
        await self.aclose()

    # ------------------------------------------------------------------ transport

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None = None,
        *,
        retry: bool = True,
    ) -> tuple[httpx.Response, RetryState]:
        """Send until a non-error answer or a final error; return the open response."""
        settings = self._settings
        state = RetryState(settings.retry_timeout if retry else 0.0)
        while True:
            state.attempts += 1
            extra = state.headers(settings) if retry else None
            request = self._http.build_request(
                method, url, content=content, headers={**headers, **extra} if extra else headers
            )
            failure: InferenceError | None = None
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                failure = transport_error(exc, settings, method=method, url=url, streaming=False)
            if failure is not None:
                raise failure
            if response.status_code < 400:
                return response, state
            try:
                body = await response.aread()
            except httpx.TransportError:
                body = b""
            finally:
                await response.aclose()
            delay = state.delay(response.status_code, response.headers)
            if delay is None:
                raise http_error(response, body, settings, state)
            logger.info(
                "%s from %s; retrying in %.1fs (attempt %d)",
                response.status_code,
                settings.safe_url,
                delay,
                state.attempts + 1,
            )
            await anyio.sleep(delay)

    async def _json(
        self, method: str, url: str, content: bytes | None = None, *, retry: bool = True
    ) -> Any:
        response, _ = await self._send(method, url, _JSON, content, retry=retry)
        try:
            body = await response.aread()
        except httpx.TransportError as exc:
            failure = transport_error(exc, self._settings, method=method, url=url, streaming=False)
        else:
            return decode_json(response, body, self._settings)
        finally:
            await response.aclose()
        raise failure

    async def _stream(self, url: str, content: bytes) -> httpx.Response:
        response, _ = await self._send("POST", url, _SSE, content)
        if not is_event_stream(response):
            try:
                body = await response.aread()
            finally:
                await response.aclose()
            raise not_a_stream(response, body, self._settings)
        return response

    # ------------------------------------------------------------------ text generation

    @overload
    async def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[False] = False,
        details: Literal[False] = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> str: ...

    @overload
    async def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[False] = False,
        details: Literal[True],
        **params: Unpack[TextGenerationKwargs],
    ) -> TextGenerationOutput: ...

    @overload
    async def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[True],
        details: Literal[False] = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> AsyncStream[str]: ...

    @overload
    async def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[True],
        details: Literal[True],
        **params: Unpack[TextGenerationKwargs],
    ) -> AsyncStream[TextGenerationStreamOutput]: ...

    @overload
    async def text_generation(
        self,
        prompt: str,
        *,
        stream: bool = False,
        details: bool = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> (
        str | TextGenerationOutput | AsyncStream[str] | AsyncStream[TextGenerationStreamOutput]
    ): ...

    async def text_generation(
        self,
        prompt: str,
        *,
        stream: bool = False,
        details: bool = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> str | TextGenerationOutput | AsyncStream[str] | AsyncStream[TextGenerationStreamOutput]:
        """Generate text from ``prompt`` with TGI's parameters (``max_new_tokens``,
        ``temperature``, ``top_p``, ``stop``/``stop_sequences``, ``seed``, ``grammar``...).

        Returns the text; with ``details=True`` a :class:`TextGenerationOutput` (tokens,
        finish reason...). With ``stream=True``, a :class:`AsyncStream` of the text of each
        non-special token, or of :class:`TextGenerationStreamOutput` events with
        ``details=True``. Parameters are checked before sending (``TypeError`` for an
        unknown name, :class:`ValidationError` for a bad value).
        """
        body = text_generation_body(prompt, stream=stream, details=details, params=params)
        settings = self._settings
        if not stream:
            return text_generation_result(await self._json("POST", settings.url, body), details)
        response = await self._stream(settings.url, body)
        return AsyncStream(response, lambda: aiter_events(response, settings, details=details))

    async def generate_stream(
        self, prompt: str, **params: Unpack[TextGenerationKwargs]
    ) -> AsyncStream[TextGenerationStreamOutput]:
        """``text_generation(prompt, stream=True, details=True, ...)`` under the name of the
        ``text-generation`` client, so the Inference Endpoints LLM blog post's snippet runs with
        its import changed."""
        stream = await self.text_generation(prompt, stream=True, details=True, **params)
        return cast(AsyncStream[TextGenerationStreamOutput], stream)

    # ------------------------------------------------------------------ chat

    @overload
    async def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: Literal[False] = False,
        **params: Unpack[ChatCompletionKwargs],
    ) -> ChatCompletionOutput: ...

    @overload
    async def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: Literal[True],
        **params: Unpack[ChatCompletionKwargs],
    ) -> AsyncStream[ChatCompletionStreamOutput]: ...

    @overload
    async def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: bool = False,
        **params: Unpack[ChatCompletionKwargs],
    ) -> ChatCompletionOutput | AsyncStream[ChatCompletionStreamOutput]: ...

    async def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: bool = False,
        **params: Unpack[ChatCompletionKwargs],
    ) -> ChatCompletionOutput | AsyncStream[ChatCompletionStreamOutput]:
        """OpenAI-style chat on ``/v1/chat/completions`` (the model's chat template applies).

        ``messages`` are ``{"role": ..., "content": ...}`` dicts. Returns a
        :class:`ChatCompletionOutput`, or with ``stream=True`` a :class:`AsyncStream` of
        :class:`ChatCompletionStreamOutput` chunks (until ``[DONE]``). ``extra_body`` adds
        fields this client does not know.
        """
        body = chat_completion_body(messages, stream=stream, params=params)
        settings = self._settings
        url = settings.chat_url()
        if not stream:
            return chat_result(await self._json("POST", url, body))
        response = await self._stream(url, body)
        return AsyncStream(response, lambda: aiter_events(response, settings, chat=True))

    # ------------------------------------------------------------------ probes

    async def health(self) -> bool:
        """``GET /health``: ``True`` when the model serves, ``False`` on a 5xx (starting,
        unhealthy, or scaled to zero, which this call starts waking). Not retried. Raises
        for answers that waiting will not fix (401, 403, paused)."""
        try:
            response, _ = await self._send(
                "GET", self._settings.route("/health"), _JSON, retry=False
            )
        except InferenceError as error:
            if error.status_code is not None and error.status_code >= 500:
                return False
            raise
        await response.aclose()
        return True

    async def info(self) -> dict[str, Any]:
        """``GET /info``: the model id, limits (``max_total_tokens``...) and TGI version."""
        return endpoint_info(await self._json("GET", self._settings.route("/info")))


# --------------------------------------------------------------------------- streams


class AsyncStream(_ClosesOnExit, Generic[T]):
    """A streamed answer. Iterate it once with ``async for``; leaving the loop early closes
    the connection once the event loop finalises the iterator (at once with ``async with``).
    Also a context manager, and :meth:`aclose` closes it explicitly."""

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
        return await anext(self._iterator)

    async def aclose(self) -> None:
        """Close the connection now (the server stops generating)."""
        await self._response.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._response.is_closed else "open"
        return f"<AsyncStream {state}>"


# --------------------------------------------------------------------------- event loop
# Spelled out in one generator (see ``_events``): each call and generator layer per event shows
# at 10^5 events per second.


async def aiter_events(
    response: httpx.Response, settings: Settings, *, details: bool = False, chat: bool = False
) -> AsyncIterator[Any]:
    """The items of a stream: with ``chat``, ``ChatCompletionStreamOutput`` chunks until
    ``[DONE]``; with ``details``, a ``TextGenerationStreamOutput`` per event; else the text of
    each non-special token (so the pieces join into ``generated_text``).

    Complete when an event carries ``generated_text``, or a chunk a ``finish_reason`` (TGI
    before 2.2 closed the chat stream after it, without ``[DONE]``); otherwise the end of the
    stream raises :class:`IncompleteGenerationError`.
    """
    feed = SSEDecoder().feed
    scan = scan_json
    chunks = response.aiter_raw() if reads_raw(response) else response.aiter_bytes()
    finished = False
    failure: Exception | None = None
    try:
        try:
            async for chunk in achain(chunks, END):
                for payload in feed(chunk):
                    try:
                        text = payload.decode()
                        data, end = scan(text, 0)
                        if end != len(text):
                            raise ValueError
                    except (StopIteration, ValueError):
                        data = slow_decode(payload, settings)
                        if data is STOP:
                            return
                        if data is SKIP:
                            continue
                    try:
                        if "error" in data:
                            raise error_from_event(data, url=settings.url, secrets=settings.secrets)
                        if details:
                            out = stream_output(data)
                            if out.generated_text is not None:
                                finished = True
                            yield out
                        elif chat:
                            chunk_out = chat_stream_output(data)
                            if not finished:
                                finished = any(c.finish_reason for c in chunk_out.choices)
                            yield chunk_out
                        else:
                            if data.get("generated_text") is not None:
                                finished = True
                            token = data["token"]
                            if not token.get("special"):
                                yield token["text"]
                    except (KeyError, TypeError, AttributeError):
                        raise malformed(payload, settings) from None
        except httpx.TransportError as exc:
            failure = broken(exc, response, settings)
        except httpx.StreamClosed:
            return  # closed on purpose (AsyncStream.aclose())
        if failure is not None:
            raise failure
        if not finished:
            raise incomplete(settings)
    finally:
        await response.aclose()
