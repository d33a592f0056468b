"""Sending one request to the control plane, as many times as it safely takes.

What this adds over a bare ``httpx.Client``: retries with capped, jittered exponential backoff
that honour ``Retry-After``, for calls the service treats as idempotent; a create that can never
create twice (when its answer is lost, the caller's lookup runs before the POST is sent again);
one-line, token-free errors from the client's error tree; and a debug log without secrets.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeoutError,
    EndpointsApiError,
    MalformedResponseError,
    error_for_status,
)
from .messages import (
    describe_status,
    extract_request_id,
    looks_like_html,
    one_line,
    redact,
    redact_url,
    summarize_html,
)

logger = logging.getLogger("pulumi_hf_endpoints.client")

# Control-plane calls answer in seconds; the read timeout leaves room for a slow create.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)

# 429 means "rejected, try later". 502/503/504 come from gateways and may hide a request that
# did reach the service, which matters for create (see `Http.create`).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAYBE_PROCESSED_STATUSES = frozenset({502, 503, 504})
# Transport failures raised before any byte of the request left: always safe to send again.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_MISSING_TOKEN_HINT = (
    "no Hugging Face token was sent: pass one, set HF_TOKEN, or run `hf auth login`"
)

Recover = Callable[[], "dict[str, Any] | None"]
"""Looks a resource up after a create whose answer was lost: its JSON, or None if absent."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass
class _TransportFailure:
    """A request that got no HTTP answer, described without keeping httpx objects around."""

    error_type: type[EndpointsApiError]
    description: str
    sent: bool  # the service may have received and processed the request
    retryable: bool


Outcome = httpx.Response | _TransportFailure
"""What one attempt got: an HTTP answer, or none."""


@dataclass
class Attempts:
    """What the attempts at one request have learnt so far, for its policy to judge by."""

    count: int = 0
    lost: bool = False
    """An attempt may have reached the service without its answer reaching us."""
    in_flight_since: float | None = None
    """When the first attempt that may still be processed was sent."""


@dataclass(frozen=True)
class Done:
    value: Any


@dataclass(frozen=True)
class Retry:
    """Send again, after the wait `response` (its `Retry-After`) or the backoff says."""

    response: httpx.Response | None


Verdict = Done | Retry
Policy = Callable[[Outcome, Attempts, bool, float], Verdict]
"""How one kind of request is retried: judges an attempt's outcome (given whether another
attempt is allowed, and when this one was sent) as done, to send again, or an error to raise.
Three policies: an idempotent call, the opening of a stream, and a create that must not run
twice."""


class Http:
    """One token's connection to the control plane, with the retry policy of `EndpointsApi`.

    The ``httpx.Client`` is created on first use and reused; `close` drops its pool (the next
    call opens a new one).
    """

    def __init__(
        self,
        token: str | None,
        *,
        api_url: str,
        timeout: httpx.Timeout,
        max_retries: int,
        backoff_factor: float,
        max_backoff: float,
        max_retry_after: float,
        user_agent: str,
        transport: httpx.BaseTransport | None,
        sleep: Callable[[float], None],
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._token = token
        self.api_url = api_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.user_agent = user_agent
        self._transport = transport
        self._sleep = sleep
        self._random = random.Random()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def redact_url(self, url: str) -> str:
        return redact_url(url, [self._token])

    def redact(self, text: str) -> str:
        """``text`` without this client's token, ``hf_...`` tokens or bearer credentials."""
        return redact(text, [self._token])

    def _http(self) -> httpx.Client:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                headers = {"user-agent": self.user_agent, "accept": "application/json"}
                if self._token:
                    headers["authorization"] = f"Bearer {self._token}"
                # follow_redirects: httpx drops the Authorization header on a cross-origin hop.
                self._client = httpx.Client(
                    headers=headers,
                    timeout=self.timeout,
                    transport=self._transport,
                    follow_redirects=True,
                )
            return self._client

    def close(self) -> None:
        """Close pooled connections. The client stays usable: a new pool opens on next use."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def probe(self, url: str, timeout: float) -> int | None:
        """One GET of `url`; its status, or None when it got no answer."""
        try:
            response = self._http().get(url, timeout=timeout)
        except httpx.HTTPError as exc:
            logger.debug("GET %s -> %s", self.redact_url(url), type(exc).__name__)
            return None
        logger.debug("GET %s -> %s", self.redact_url(url), response.status_code)
        return response.status_code

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response | _TransportFailure:
        client = self._http()
        request = client.build_request(
            method,
            url,
            params=params,
            json=json,
            headers=headers,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        safe_url = redact_url(str(request.url.copy_with(query=None)), [self._token])
        started = time.monotonic()
        try:
            response = client.send(request, stream=stream)
        except httpx.TransportError as exc:
            failure = self._describe_failure(exc, method, safe_url)
        else:
            logger.debug(
                "%s %s -> %s in %.0f ms",
                method,
                safe_url,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            return response
        logger.debug("%s %s -> %s", method, safe_url, failure.description)
        return failure

    def _describe_failure(
        self, exc: httpx.TransportError, method: str, safe_url: str
    ) -> _TransportFailure:
        detail = one_line(redact(str(exc), [self._token]), 200)
        kind = type(exc).__name__
        is_timeout = isinstance(exc, httpx.TimeoutException)
        error_type: type[EndpointsApiError] = ApiTimeoutError if is_timeout else ApiConnectionError
        what = "Timed out" if is_timeout else "Connection failed"
        description = f"{what} on {method} {safe_url}: {kind}" + (f": {detail}" if detail else "")
        return _TransportFailure(
            error_type=error_type,
            description=description,
            sent=not isinstance(exc, _NOT_SENT_ERRORS),
            retryable=isinstance(exc, _RETRYABLE_ERRORS),
        )

    def _transport_error(
        self, failure: _TransportFailure, method: str, url: str, attempts: int
    ) -> EndpointsApiError:
        message = failure.description
        if attempts > 1:
            message += f" [gave up after {attempts} attempts]"
        return failure.error_type(
            message, method=method, url=redact_url(url, [self._token]), attempts=attempts
        )

    def _http_error(self, response: httpx.Response, attempts: int) -> ApiStatusError:
        status = response.status_code
        hint = _MISSING_TOKEN_HINT if status == 401 and not self._token else None
        if status == 404 and not urlsplit(self.api_url).path.endswith("/v2"):
            hint = (
                f"the API URL {redact_url(self.api_url)} does not end in /v2, where the "
                "control plane's routes are (for the emulator: http://HOST:PORT/v2)"
            )
        return error_for_status(
            status,
            method=response.request.method,
            url=str(response.request.url),
            headers=response.headers,
            body=response.text,
            secrets=[self._token],
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            attempts=attempts,
            hint=hint,
        )

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Server advice when given (capped); else ``factor * 2**(attempt-1)``, capped, jittered."""
        if response is not None:
            advice = parse_retry_after(response.headers.get("retry-after"))
            if advice is not None:
                return min(advice, self.max_retry_after)
        base = min(self.max_backoff, self.backoff_factor * 2.0 ** (attempt - 1))
        return base * self._random.uniform(0.5, 1.0)

    def _wait(self, attempt: int, method: str, url: str, response: httpx.Response | None) -> None:
        delay = self._delay(attempt, response)
        reason = describe_status(response.status_code) if response is not None else "no answer"
        logger.debug(
            "retrying %s %s in %.2f s (attempt %d failed: %s)",
            method,
            redact_url(url, [self._token]),
            delay,
            attempt,
            reason,
        )
        self._sleep(delay)

    def _attempts(
        self,
        method: str,
        url: str,
        policy: Policy,
        *,
        retries: int | None = None,
        **send: Any,
    ) -> Any:
        """The one attempt loop of every request: send, let `policy` judge the outcome (done,
        send again after a wait, or raise), and wait between attempts as `_delay` says."""
        attempts = Attempts()
        limit = self.max_retries if retries is None else retries
        while True:
            attempts.count += 1
            sent_at = time.monotonic()
            outcome = self._send_once(method, url, **send)
            verdict = policy(outcome, attempts, attempts.count <= limit, sent_at)
            if isinstance(verdict, Retry):
                self._wait(attempts.count, method, url, verdict.response)
                continue
            return verdict.value

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        gone_after_loss_ok: bool = False,
        settle_after_loss: bool = False,
        max_retries: int | None = None,
    ) -> httpx.Response:
        """Send an idempotent request, retrying transient failures; return the 2xx answer.

        ``max_retries`` overrides the client's for this call (a caller that has something more
        important to report keeps a side call short). ``settle_after_loss``: see
        :meth:`_settle`."""

        def idempotent(
            outcome: Outcome, attempts: Attempts, may_retry: bool, sent_at: float
        ) -> Verdict:
            if isinstance(outcome, httpx.Response):
                status = outcome.status_code
                if outcome.is_success or (status == 404 and attempts.lost and gone_after_loss_ok):
                    if settle_after_loss and attempts.in_flight_since is not None:
                        self._settle(method, url, attempts.in_flight_since)
                    return Done(outcome)
                if may_retry and status in RETRY_STATUSES:
                    attempts.lost = attempts.lost or status in _MAYBE_PROCESSED_STATUSES
                    return Retry(outcome)
                raise self._http_error(outcome, attempts.count)
            if may_retry and outcome.retryable:
                attempts.lost = attempts.lost or outcome.sent
                if outcome.sent and attempts.in_flight_since is None:
                    attempts.in_flight_since = sent_at
                return Retry(None)
            raise self._transport_error(outcome, method, url, attempts.count)

        response: httpx.Response = self._attempts(
            method,
            url,
            idempotent,
            retries=max_retries,
            params=params,
            json=json,
            headers=headers,
        )
        return response

    def _settle(self, method: str, url: str, sent_at: float) -> None:
        """Wait until an attempt whose answer was lost has most likely been processed.

        A request that timed out may still be applied after a retry of it succeeded: a late
        ``DELETE`` of a name deletes whatever bears the name by then, such as the replacement
        a delete-before-replace creates right after. The service gives no way to fence it, so
        the call returns only once twice the read timeout has passed since the lost attempt
        was sent: a server that let one timeout pass is expected to have answered by then
        (the emulator's stalled requests land 1.2 timeouts late in the reliability suite)."""
        read = self.timeout.read
        if read is None:
            return
        delay = sent_at + 2 * read - time.monotonic()
        if delay > 0:
            logger.info(
                "%s %s: an earlier attempt got no answer and may still be applied; waiting "
                "%.1f s before going on",
                method,
                self.redact_url(url),
                delay,
            )
            self._sleep(delay)

    @contextmanager
    def stream(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: str = "text/event-stream",
    ) -> Iterator[httpx.Response]:
        """``GET`` an answer that is read as it comes (a followed log), closed on exit.

        Opening it is retried like :meth:`call`. Once it has started, a break is the caller's to
        report (:meth:`broken_stream`), never a reason to send it again: what was read would be
        read twice. A stream may stay quiet for as long as its source does, so it has no read
        timeout; the other limits are the client's.
        """
        limits = self.timeout
        timeout = httpx.Timeout(
            connect=limits.connect, read=None, write=limits.write, pool=limits.pool
        )
        headers = {"accept": accept}

        def opened(
            outcome: Outcome, attempts: Attempts, may_retry: bool, sent_at: float
        ) -> Verdict:
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    return Done(outcome)
                try:
                    outcome.read()  # the error's body, for its message
                except httpx.TransportError:
                    pass
                finally:
                    outcome.close()
                if may_retry and outcome.status_code in RETRY_STATUSES:
                    return Retry(outcome)
                raise self._http_error(outcome, attempts.count)
            if may_retry and outcome.retryable:
                return Retry(None)
            raise self._transport_error(outcome, "GET", url, attempts.count)

        outcome: httpx.Response = self._attempts(
            "GET",
            url,
            opened,
            params=params,
            json=None,
            headers=headers,
            stream=True,
            timeout=timeout,
        )
        try:
            yield outcome
        finally:
            outcome.close()

    def broken_stream(self, exc: httpx.TransportError, url: str) -> EndpointsApiError:
        """The error for a stream of :meth:`stream` that broke after it started."""
        safe_url = redact_url(url, [self._token])
        failure = self._describe_failure(exc, "GET", safe_url)
        return failure.error_type(
            f"{failure.description} (the stream broke after it started)",
            method="GET",
            url=safe_url,
        )

    def create(
        self,
        url: str,
        payload: dict[str, Any],
        recover: Recover | None,
    ) -> dict[str, Any]:
        """POST that must not run twice.

        ``recover`` looks the resource up after a lost answer: it returns it, or None if absent.
        Without it, a POST that may have reached the service is never sent again.
        """

        def once(outcome: Outcome, attempts: Attempts, may_retry: bool, sent_at: float) -> Verdict:
            response: httpx.Response | None = None
            if isinstance(outcome, httpx.Response):
                response = outcome
                status = response.status_code
                if response.is_success:
                    return Done(self.json_object(response, "POST"))
                if status == 409 and attempts.lost and recover is not None:
                    found = recover()
                    if found is not None:
                        logger.debug("POST %s: 409 after a lost answer; it was created", url)
                        return Done(found)
                if status == 429 and may_retry:  # rejected before processing: safe to resend
                    return Retry(response)
                give_up: EndpointsApiError = self._http_error(response, attempts.count)
                if status not in _MAYBE_PROCESSED_STATUSES or recover is None:
                    raise give_up
            else:
                give_up = self._transport_error(outcome, "POST", url, attempts.count)
                if not outcome.sent and outcome.retryable and may_retry:
                    return Retry(None)
                if not outcome.sent or not outcome.retryable or recover is None:
                    raise give_up
            # The service may have processed the POST: look before sending it again.
            attempts.lost = True
            found = recover()
            if found is not None:
                logger.debug("POST %s: answer lost, but the resource exists; not resending", url)
                return Done(found)
            if not may_retry:
                raise give_up
            return Retry(response)

        created: dict[str, Any] = self._attempts("POST", url, once, params=None, json=payload)
        return created

    def json_object(self, response: httpx.Response, method: str) -> dict[str, Any]:
        """The answer's JSON object. An empty body (``204``, or delete's ``200 {}``) is ``{}``."""
        url = str(response.request.url)
        if not response.content.strip():
            return {}
        try:
            data = response.json()
            decoded = True
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            decoded = False  # raised outside: a JSONDecodeError keeps the whole body in `.doc`
        if not decoded:
            text = response.text
            content_type = response.headers.get("content-type")
            got = summarize_html(text) if looks_like_html(text, content_type) else one_line(text)
            raise self.malformed(
                method, url, response.status_code, f"expected JSON, got {got}", response.headers
            )
        if not isinstance(data, dict):
            raise self.malformed(
                method,
                url,
                response.status_code,
                f"expected a JSON object, got {type(data).__name__}",
                response.headers,
            )
        return data

    def malformed(
        self,
        method: str,
        url: str,
        status: int,
        problem: str,
        headers: Mapping[str, str] | None = None,
    ) -> MalformedResponseError:
        secrets = [self._token]
        safe_url = redact_url(url, secrets)
        problem = redact(problem, secrets)
        request_id = extract_request_id(headers) if headers is not None else None
        message = f"{describe_status(status)} on {method} {urlsplit(safe_url).path}: {problem}"
        if request_id:
            request_id = redact(request_id, secrets)
            message += f" (request id: {request_id})"
        return MalformedResponseError(
            message,
            status_code=status,
            server_message=problem,
            request_id=request_id,
            method=method,
            url=safe_url,
        )
