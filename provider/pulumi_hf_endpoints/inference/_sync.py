"""The synchronous client and its streams, and the source of the asynchronous ones.

``scripts/generate_async.py`` writes :mod:`._async` from this module (``def`` becomes
``async def`` where I/O happens, ``httpx.Client`` becomes ``httpx.AsyncClient``, and so on): edit
here, run it, and commit both. ``make lint`` fails when :mod:`._async` is stale.

Closing rule: the iterator that ``for`` obtains from a stream is the only owner of the HTTP
response. It is not stored on the stream object, so when the loop ends early (``break``, an
exception, a ``return``), the loop drops the last reference, the generator finalises at once,
and its ``finally`` closes the connection, which is how TGI learns to stop generating. That
holds even when the stream is kept in a variable, as in the Inference Endpoints LLM
blog post's snippet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

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
    """``with`` support: leaving the block calls :meth:`close`."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EndpointClient(_ClosesOnExit):
    """Call a text-generation endpoint (TGI) on Hugging Face Inference Endpoints.

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

    One connection pool per client: reuse the client, and close it (or use ``with``).
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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = Settings.build(url, token, headers, retry_timeout, wait_for_scale_up)
        self._http = httpx.Client(
            headers=self._settings.headers,
            timeout=make_timeout(timeout, connect_timeout),
            transport=transport,
            follow_redirects=True,
        )

    @property
    def url(self) -> str:
        return self._settings.url

    def __repr__(self) -> str:
        return f"EndpointClient({self._settings.safe_url!r})"

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        *,
        resume: bool = False,
        wait_timeout: float | None = 600.0,
        token: str | None = None,
        api_url: str | None = None,
        api: EndpointsApi | None = None,
        **options: Any,
    ) -> EndpointClient:
        """A client for a deployed endpoint, found by ``"namespace/name"`` (or ``"name"`` in
        the token owner's namespace) through the control-plane API.

        A paused endpoint raises :class:`EndpointPausedError` unless ``resume=True``, which
        resumes it. Then waits up to ``wait_timeout`` seconds for the endpoint to serve
        (a scaled-to-zero endpoint counts: the first request wakes it). ``api_url`` (or
        ``HF_ENDPOINTS_API_URL``) points at another control plane, e.g. the emulator;
        ``options`` go to the constructor.
        """
        url = resolve_endpoint_url(
            endpoint,
            resume=resume,
            wait_timeout=wait_timeout,
            token=token,
            api_url=api_url,
            api=api,
        )
        return cls(url, token, **options)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close every pooled connection."""
        self._http.close()

    # ------------------------------------------------------------------ transport

    def _send(
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
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                failure = transport_error(exc, settings, method=method, url=url, streaming=False)
            if failure is not None:
                raise failure
            if response.status_code < 400:
                return response, state
            try:
                body = response.read()
            except httpx.TransportError:
                body = b""
            finally:
                response.close()
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
            time.sleep(delay)

    def _json(
        self, method: str, url: str, content: bytes | None = None, *, retry: bool = True
    ) -> Any:
        response, _ = self._send(method, url, _JSON, content, retry=retry)
        try:
            body = response.read()
        except httpx.TransportError as exc:
            failure = transport_error(exc, self._settings, method=method, url=url, streaming=False)
        else:
            return decode_json(response, body, self._settings)
        finally:
            response.close()
        raise failure

    def _stream(self, url: str, content: bytes) -> httpx.Response:
        response, _ = self._send("POST", url, _SSE, content)
        if not is_event_stream(response):
            try:
                body = response.read()
            finally:
                response.close()
            raise not_a_stream(response, body, self._settings)
        return response

    # ------------------------------------------------------------------ text generation

    @overload
    def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[False] = False,
        details: Literal[False] = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> str: ...

    @overload
    def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[False] = False,
        details: Literal[True],
        **params: Unpack[TextGenerationKwargs],
    ) -> TextGenerationOutput: ...

    @overload
    def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[True],
        details: Literal[False] = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> Stream[str]: ...

    @overload
    def text_generation(
        self,
        prompt: str,
        *,
        stream: Literal[True],
        details: Literal[True],
        **params: Unpack[TextGenerationKwargs],
    ) -> Stream[TextGenerationStreamOutput]: ...

    @overload
    def text_generation(
        self,
        prompt: str,
        *,
        stream: bool = False,
        details: bool = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> str | TextGenerationOutput | Stream[str] | Stream[TextGenerationStreamOutput]: ...

    def text_generation(
        self,
        prompt: str,
        *,
        stream: bool = False,
        details: bool = False,
        **params: Unpack[TextGenerationKwargs],
    ) -> str | TextGenerationOutput | Stream[str] | Stream[TextGenerationStreamOutput]:
        """Generate text from ``prompt`` with TGI's parameters (``max_new_tokens``,
        ``temperature``, ``top_p``, ``stop``/``stop_sequences``, ``seed``, ``grammar``...).

        Returns the text; with ``details=True`` a :class:`TextGenerationOutput` (tokens,
        finish reason...). With ``stream=True``, a :class:`Stream` of the text of each
        non-special token, or of :class:`TextGenerationStreamOutput` events with
        ``details=True``. Parameters are checked before sending (``TypeError`` for an
        unknown name, :class:`ValidationError` for a bad value).
        """
        body = text_generation_body(prompt, stream=stream, details=details, params=params)
        settings = self._settings
        if not stream:
            return text_generation_result(self._json("POST", settings.url, body), details)
        response = self._stream(settings.url, body)
        return Stream(response, lambda: iter_events(response, settings, details=details))

    def generate_stream(
        self, prompt: str, **params: Unpack[TextGenerationKwargs]
    ) -> Stream[TextGenerationStreamOutput]:
        """``text_generation(prompt, stream=True, details=True, ...)`` under the name of the
        ``text-generation`` client, so the Inference Endpoints LLM blog post's snippet runs with
        its import changed."""
        stream = self.text_generation(prompt, stream=True, details=True, **params)
        return cast(Stream[TextGenerationStreamOutput], stream)

    # ------------------------------------------------------------------ chat

    @overload
    def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: Literal[False] = False,
        **params: Unpack[ChatCompletionKwargs],
    ) -> ChatCompletionOutput: ...

    @overload
    def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: Literal[True],
        **params: Unpack[ChatCompletionKwargs],
    ) -> Stream[ChatCompletionStreamOutput]: ...

    @overload
    def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: bool = False,
        **params: Unpack[ChatCompletionKwargs],
    ) -> ChatCompletionOutput | Stream[ChatCompletionStreamOutput]: ...

    def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: bool = False,
        **params: Unpack[ChatCompletionKwargs],
    ) -> ChatCompletionOutput | Stream[ChatCompletionStreamOutput]:
        """OpenAI-style chat on ``/v1/chat/completions`` (the model's chat template applies).

        ``messages`` are ``{"role": ..., "content": ...}`` dicts. Returns a
        :class:`ChatCompletionOutput`, or with ``stream=True`` a :class:`Stream` of
        :class:`ChatCompletionStreamOutput` chunks (until ``[DONE]``). ``extra_body`` adds
        fields this client does not know.
        """
        body = chat_completion_body(messages, stream=stream, params=params)
        settings = self._settings
        url = settings.chat_url()
        if not stream:
            return chat_result(self._json("POST", url, body))
        response = self._stream(url, body)
        return Stream(response, lambda: iter_events(response, settings, chat=True))

    # ------------------------------------------------------------------ probes

    def health(self) -> bool:
        """``GET /health``: ``True`` when the model serves, ``False`` on a 5xx (starting,
        unhealthy, or scaled to zero, which this call starts waking). Not retried. Raises
        for answers that waiting will not fix (401, 403, paused)."""
        try:
            response, _ = self._send("GET", self._settings.route("/health"), _JSON, retry=False)
        except InferenceError as error:
            if error.status_code is not None and error.status_code >= 500:
                return False
            raise
        response.close()
        return True

    def info(self) -> dict[str, Any]:
        """``GET /info``: the model id, limits (``max_total_tokens``...) and TGI version."""
        return endpoint_info(self._json("GET", self._settings.route("/info")))


# --------------------------------------------------------------------------- streams


class Stream(_ClosesOnExit, Generic[T]):
    """A streamed answer. Iterate it once; leaving the loop early closes the connection.
    Also a context manager, and :meth:`close` closes it explicitly."""

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

    def __del__(self) -> None:
        # Never iterated: nobody else will close the response. (Once iterated, the generator
        # owns it, and may still be running while this object goes away.)
        if not getattr(self, "_used", True):
            self._response.close()

    def __repr__(self) -> str:
        state = "closed" if self._response.is_closed else "open"
        return f"<Stream {state}>"


# --------------------------------------------------------------------------- event loop
# Spelled out in one generator (see ``_events``): each call and generator layer per event shows
# at 10^5 events per second.


def iter_events(
    response: httpx.Response, settings: Settings, *, details: bool = False, chat: bool = False
) -> Iterator[Any]:
    """The items of a stream: with ``chat``, ``ChatCompletionStreamOutput`` chunks until
    ``[DONE]``; with ``details``, a ``TextGenerationStreamOutput`` per event; else the text of
    each non-special token (so the pieces join into ``generated_text``).

    Complete when an event carries ``generated_text``, or a chunk a ``finish_reason`` (TGI
    before 2.2 closed the chat stream after it, without ``[DONE]``); otherwise the end of the
    stream raises :class:`IncompleteGenerationError`.
    """
    feed = SSEDecoder().feed
    scan = scan_json
    chunks = response.iter_raw() if reads_raw(response) else response.iter_bytes()
    finished = False
    failure: Exception | None = None
    try:
        try:
            for chunk in chain(chunks, END):
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
            return  # closed on purpose (Stream.close())
        if failure is not None:
            raise failure
        if not finished:
            raise incomplete(settings)
    finally:
        response.close()
