"""Typed errors of the Inference Endpoints control-plane client.

Each error is a one-line message that says what failed, where, and what the server said, e.g.
``404 Not Found on GET /v2/endpoint/ns/name: Endpoint not found (request id: abc)``.

Errors deliberately keep no ``httpx.Request``/``httpx.Response``: those carry the
``Authorization`` header, and an exception travels far (logs, tracebacks, Pulumi diagnostics,
pickles). Everything an error holds has been passed through :func:`redact` first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "ApiConnectionError",
    "ApiTimeoutError",
    "BadRequestError",
    "ConflictError",
    "EndpointsApiError",
    "ForbiddenError",
    "MalformedResponseError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "ServiceError",
    "UnauthorizedError",
    "error_for_status",
    "extract_request_id",
    "extract_server_message",
    "redact",
]

REDACTED = "***"
MAX_MESSAGE_CHARS = 300

# Hugging Face tokens look like `hf_` + ~34 alphanumerics; scrub any that a server echoes back,
# even when it is not the token we sent.
_HF_TOKEN_RE = re.compile(r"\bhf_[A-Za-z0-9]{8,}")
_BEARER_RE = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_TITLE_RE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_H1_RE = re.compile(r"(?is)<h1[^>]*>(.*?)</h1>")
_TAG_RE = re.compile(r"(?s)<[^>]+>")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]+$")
_REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-trace-id", "x-amz-cf-id")


class ServiceError(Exception):
    """An HTTP call to a Hugging Face service failed. Shared by the control-plane client and the
    generation helpers; pickles with its attributes, and never holds a token or httpx objects
    (they carry the Authorization header)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.server_message = server_message
        self.request_id = request_id
        self.url = url
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes would be lost by Exception's default pickling.
        return (self.__class__, (self.message,), self.__dict__)


class EndpointsApiError(ServiceError):
    """Base class of every error raised by :class:`pulumi_hf_endpoints.api.EndpointsApi`.

    Attributes:
        status_code: HTTP status of the answer, or ``None`` when no answer arrived.
        server_message: what the server said (``{"error": ...}`` and friends), redacted.
        request_id: the server's request id, to quote when contacting support.
        method: HTTP method of the failed call.
        url: URL of the failed call, without credentials.
        attempts: how many times the call was sent before giving up.
    """

    def __init__(self, message: str, *, method: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.method = method


class BadRequestError(EndpointsApiError):
    """400 or 422: the service rejected the request's content (validation, unknown hardware...)."""


class UnauthorizedError(EndpointsApiError):
    """401: the token is missing, invalid or expired."""


class ForbiddenError(EndpointsApiError):
    """403: the token lacks a permission, or the namespace cannot pay."""


class NotFoundError(EndpointsApiError):
    """404: the endpoint (or namespace) does not exist."""


class ConflictError(EndpointsApiError):
    """409: an endpoint with that name already exists in the namespace."""


class RateLimitedError(EndpointsApiError):
    """429: too many requests. ``retry_after`` is the server's advice, in seconds, if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(EndpointsApiError):
    """5xx: the service failed. Often transient; idempotent calls were retried already."""


class ApiTimeoutError(EndpointsApiError):
    """No answer within the configured timeout (connect, read, write or pool)."""


class ApiConnectionError(EndpointsApiError):
    """The connection could not be made, or broke before an answer arrived."""


class MalformedResponseError(EndpointsApiError):
    """A 2xx answer whose body is not the JSON expected (an HTML page, truncated JSON...)."""


_STATUS_CLASSES: dict[int, type[EndpointsApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitedError,
}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets from ``text``: the given values, ``hf_...`` tokens and bearer credentials."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _HF_TOKEN_RE.sub(REDACTED, text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_url(url: str, secrets: Iterable[str | None] = ()) -> str:
    """``url`` without user-info (``https://user:pass@host``) and without secrets."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return redact(url, secrets)


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace and cut to ``limit`` characters, so messages stay one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def extract_request_id(headers: Mapping[str, str]) -> str | None:
    """The request id the service or its CDN attached, in huggingface_hub's order of preference."""
    lowered = _lower_headers(headers)
    for name in _REQUEST_ID_HEADERS:
        value = lowered.get(name, "").strip()
        if value:
            return value
    return None


def looks_like_html(body: str, content_type: str | None = None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = body.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def summarize_html(body: str) -> str:
    """A proxy's error page is noise; keep only its title (or first heading)."""
    for pattern in (_TITLE_RE, _H1_RE):
        match = pattern.search(body)
        if match:
            title = one_line(_TAG_RE.sub(" ", match.group(1)), 120)
            if title:
                return f"HTML page: {title}"
    return f"HTML page ({len(body)} characters)"


def _texts(value: Any) -> list[str]:
    """Strings found in an error field that may be a string, a list, or an object."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        found: list[str] = []
        for item in value:
            found.extend(_texts(item))
        return found
    if isinstance(value, dict):
        for key in ("message", "msg", "error"):
            if isinstance(value.get(key), str):
                loc = value.get("loc")
                if isinstance(loc, list) and loc:
                    # FastAPI validation item: {"loc": ["body", "name"], "msg": "..."}
                    return [f"{'.'.join(str(p) for p in loc)}: {value[key]}"]
                return [str(value[key])]
    return []


def _messages_from_json(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if not isinstance(data, dict):
        return []
    errors = _texts(data.get("error"))
    message = data.get("message")
    if len(errors) == 1 and _CODE_RE.match(errors[0]) and isinstance(message, str):
        # {"error": "VALIDATION_FAILED", "message": "model.image.vLLM: missing field `url`"}
        errors = [f"{errors[0]}: {message}"]
        message = None
    found = errors
    found += _texts(data.get("error_description"))
    found += _texts(message)
    found += _texts(data.get("errors"))
    found += _texts(data.get("detail"))  # FastAPI's default error shape
    return found


def extract_server_message(
    headers: Mapping[str, str],
    body: str,
    content_type: str | None = None,
    secrets: Iterable[str | None] = (),
) -> str | None:
    """What the server said about the failure, as one line, or ``None``.

    Sources, as huggingface_hub reads them: the ``X-Error-Message`` header, then the JSON body's
    ``error`` (string or list), ``error_description`` and ``errors[].message``; this client also
    reads ``message`` and FastAPI's ``detail``. A body that is not JSON is used as text, except
    HTML pages, which are reduced to their title. ``secrets`` are removed before any cut.
    """
    parts: list[str] = []
    header = _lower_headers(headers).get("x-error-message", "").strip()
    if header:
        parts.append(header)
    stripped = body.strip()
    if stripped:
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            data = None
            parts.append(
                summarize_html(stripped) if looks_like_html(stripped, content_type) else stripped
            )
        else:
            parts.extend(_messages_from_json(data))
    secrets = tuple(secrets)
    unique: list[str] = []
    for part in parts:
        cleaned = one_line(redact(part, secrets))  # redact first: a cut must not split a secret
        if cleaned and cleaned not in unique:
            unique.append(cleaned)
    return redact(one_line("; ".join(unique)), secrets) if unique else None


def describe_status(status_code: int) -> str:
    """``"404 Not Found"``; only the number when the code is not a known one."""
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return str(status_code)


def error_for_status(
    status_code: int,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: str,
    secrets: Iterable[str | None] = (),
    retry_after: float | None = None,
    attempts: int = 1,
    hint: str | None = None,
) -> EndpointsApiError:
    """Build the typed error for an HTTP answer that is not a success."""
    secrets = tuple(secrets)
    lowered = _lower_headers(headers)
    server_message = extract_server_message(lowered, body, lowered.get("content-type"), secrets)
    request_id = extract_request_id(lowered)
    if request_id is not None:
        request_id = redact(one_line(request_id, 200), secrets)
    safe_url = redact_url(url, secrets)
    message = f"{describe_status(status_code)} on {method} {urlsplit(safe_url).path or '/'}"
    if server_message:
        message += f": {server_message}"
    if request_id:
        message += f" (request id: {request_id})"
    if attempts > 1:
        message += f" [gave up after {attempts} attempts]"
    if hint:
        message += f"; {hint}"
    message = redact(message, secrets)
    common: dict[str, Any] = {
        "status_code": status_code,
        "server_message": server_message,
        "request_id": request_id,
        "method": method,
        "url": safe_url,
        "attempts": attempts,
    }
    if status_code == 429:
        return RateLimitedError(message, retry_after=retry_after, **common)
    cls = _STATUS_CLASSES.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else EndpointsApiError
    return cls(message, **common)


class EndpointFailedError(RuntimeError):
    """The service reports that the endpoint failed to deploy or to update."""


class WaitTimeoutError(TimeoutError):
    """The endpoint did not reach the wanted state in time."""
