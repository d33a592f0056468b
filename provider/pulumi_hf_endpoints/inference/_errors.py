"""Errors of the generation helpers, and how HTTP answers and in-band events map onto them.

The same classes come out of an HTTP error (``422`` before any byte streams) and out of an
error event inside a ``200`` stream (``data: {"error": ..., "error_type": ...}``), so callers
handle a failure once, whichever way the server chose to report it.

Like :mod:`pulumi_hf_endpoints.client.errors`, errors keep no ``httpx.Request``/``httpx.Response``
(they carry the ``Authorization`` header) and every text they hold went through ``redact``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..client.errors import ServiceError
from ..client.messages import (
    describe_status,
    extract_request_id,
    one_line,
    redact,
    redact_url,
)

__all__ = [
    "EndpointPausedError",
    "ForbiddenError",
    "GenerationError",
    "IncompleteGenerationError",
    "InferenceConnectionError",
    "InferenceError",
    "InferenceHTTPError",
    "InferenceTimeoutError",
    "OverloadedError",
    "ServiceUnavailableError",
    "TextGenerationError",
    "UnauthorizedError",
    "ValidationError",
]


class InferenceError(ServiceError):
    """Base class of every error raised by :class:`EndpointClient` and :class:`AsyncEndpointClient`.

    Attributes:
        message: the whole one-line message (also ``str(error)``).
        server_message: what the server said, if anything (redacted).
        status_code: HTTP status of the answer; ``None`` for in-stream events and local checks.
        error_type: TGI's ``error_type`` tag (``"validation"``, ``"overloaded"``...), if any.
        request_id: the server's request id, to quote when asking for support.
        url: the URL called, without credentials.
        attempts: how many times the request was sent (retries on cold start and overload).
    """

    def __init__(self, message: str, *, error_type: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.error_type = error_type


class InferenceHTTPError(InferenceError):
    """A non-success HTTP answer that no more specific class below describes."""


class EndpointPausedError(InferenceHTTPError):
    """400 from the endpoint proxy: the endpoint is paused. Resume it (``for_endpoint(...,
    resume=True)`` or the control plane); requests do not wake a paused endpoint."""


class UnauthorizedError(InferenceHTTPError):
    """401: the endpoint needs a valid token (pass ``token=``, set ``HF_TOKEN`` or log in)."""


class ForbiddenError(UnauthorizedError):
    """403: the token may not call this endpoint (or it is private: PrivateLink only)."""


class ServiceUnavailableError(InferenceHTTPError):
    """503 that outlived the retry deadline: the endpoint did not wake up (or stayed unhealthy)
    within ``retry_timeout`` seconds."""


class TextGenerationError(InferenceError):
    """A failure TGI reports with an ``error_type``, as an HTTP error or an in-stream event."""


class ValidationError(TextGenerationError, ValueError):
    """The request's parameters are invalid (TGI ``validation``, HTTP 422).

    Raised locally, before any request is sent, for what can be checked without the server
    (``errors`` lists each problem), and for the server's own 422 answers and events.
    """

    def __init__(self, message: str, *, errors: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors: list[str] = list(errors) or [message]


class OverloadedError(TextGenerationError):
    """More requests in flight than the endpoint accepts (TGI ``overloaded``, HTTP 429); still
    overloaded after retrying until the deadline, or reported inside a stream."""


class GenerationError(TextGenerationError):
    """The model failed while generating (TGI ``generation``, HTTP 424). Never retried."""


class IncompleteGenerationError(TextGenerationError):
    """The stream ended, or the connection broke, before the final token."""


class InferenceTimeoutError(InferenceError, TimeoutError):
    """No answer within the configured connect (or, if set, read) timeout."""


class InferenceConnectionError(InferenceError, ConnectionError):
    """The connection could not be made, or broke before the server answered."""


_TYPE_CLASSES: dict[str, type[TextGenerationError]] = {
    "validation": ValidationError,
    "template_error": ValidationError,
    "missing_template_variable": ValidationError,
    "tool_error": ValidationError,
    "overloaded": OverloadedError,
    "generation": GenerationError,
    "incomplete_generation": IncompleteGenerationError,
    "incomplete_generation_stream": IncompleteGenerationError,
}

_STATUS_CLASSES: dict[int, type[InferenceError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    422: ValidationError,
    424: GenerationError,
    429: OverloadedError,
    503: ServiceUnavailableError,
}


def _server_text(data: Any) -> tuple[str | None, str | None]:
    """``(message, error_type)`` from an error body or event, in any of the shapes seen:
    TGI ``{"error", "error_type"}``, TGI ≥2.4.1 chat ``{"error": {"message", ...}}``, the IE
    proxy ``{"error", "code"}``, and the OpenAI-style ``{"message": ...}``."""
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, str):
        return data, None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    error_type = data.get("error_type")
    if isinstance(error, dict):
        error_type = error_type or error.get("type") or error.get("error_type")
        error = error.get("message")
    if error is None:
        error = data.get("message") or data.get("detail")
    if error is not None and not isinstance(error, str):
        error = json.dumps(error)
    return error, error_type if isinstance(error_type, str) else None


def _describe_body(body: bytes) -> tuple[str | None, str | None]:
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None, None
    try:
        data = json.loads(text)
    except ValueError:
        head = text[:200].lower()
        if "<html" in head or "<!doctype" in head:
            return f"HTML page ({len(text)} characters)", None
        return text, None
    return _server_text(data)


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    url: str,
    secrets: Iterable[str | None],
    attempts: int = 1,
    waited: float | None = None,
) -> InferenceError:
    """The typed error for an HTTP answer that is not a success."""
    secrets = tuple(secrets)
    server_message, error_type = _describe_body(body)
    if server_message is not None:
        server_message = redact(one_line(server_message), secrets)
    request_id = extract_request_id(headers)
    if request_id is not None:
        request_id = redact(one_line(request_id, 200), secrets)
    safe_url = redact_url(url, secrets)
    cls: type[InferenceError] | None = _TYPE_CLASSES.get(error_type or "")
    if cls is None:
        cls = _STATUS_CLASSES.get(status_code, InferenceHTTPError)
        if status_code == 400 and "paused" in (server_message or "").lower():
            cls = EndpointPausedError
    message = server_message or describe_status(status_code)
    message += f" (HTTP {describe_status(status_code)} from {method} {safe_url}"
    if request_id:
        message += f", request id {request_id}"
    if attempts > 1:
        message += f"; gave up after {attempts} attempts"
        if waited is not None:
            message += f" over {waited:.1f}s"
    message += ")"
    if cls is UnauthorizedError and not _has_token(secrets):
        message += "; no token was sent: pass token=..., set HF_TOKEN, or run `hf auth login`"
    return cls(
        redact(message, secrets),
        server_message=server_message,
        status_code=status_code,
        error_type=error_type,
        request_id=request_id,
        url=safe_url,
        attempts=attempts,
    )


def _has_token(secrets: tuple[str | None, ...]) -> bool:
    return any(secrets)


def error_from_event(
    data: Any, *, url: str, secrets: Iterable[str | None], attempts: int = 1
) -> InferenceError:
    """The typed error for an ``{"error": ...}`` event inside a ``200`` stream."""
    secrets = tuple(secrets)
    server_message, error_type = _server_text(data)
    server_message = redact(one_line(server_message or "unknown error"), secrets)
    status = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        code = data["error"].get("http_status_code")
        status = code if isinstance(code, int) else None
    cls: type[InferenceError] = _TYPE_CLASSES.get(error_type or "") or _STATUS_CLASSES.get(
        status or 0, TextGenerationError
    )
    if cls is ServiceUnavailableError or not issubclass(cls, TextGenerationError):
        cls = TextGenerationError
    safe_url = redact_url(url, secrets)
    return cls(
        redact(f"{server_message} (error event in the stream from {safe_url})", secrets),
        server_message=server_message,
        error_type=error_type,
        url=safe_url,
        attempts=attempts,
    )
