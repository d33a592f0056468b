"""The errors of the control-plane client, one tree.

Each is one line that says what failed, where, and what the service said, e.g.
``404 Not Found on GET /v2/endpoint/ns/name: Endpoint not found (request id: abc)``. None keeps
an ``httpx`` request or response (they carry the Authorization header): an exception travels
far (logs, tracebacks, Pulumi diagnostics, pickles), so what it holds was redacted first.

::

    ServiceError                    a call to a Hugging Face service failed (shared root with
    │                               the generation helpers' InferenceError)
    └── EndpointsApiError           the control plane (EndpointsApi, Waiter)
        ├── ApiConnectionError      no answer: the connection failed or broke
        ├── ApiTimeoutError         no answer in time (also a TimeoutError)
        ├── MalformedResponseError  an answer that is not what was asked for
        ├── ApiStatusError          an error status; subclasses by status:
        │   ├── BadRequestError         400, 422: the request's content was refused
        │   ├── AuthenticationError     401: no token, or an invalid or expired one
        │   ├── PermissionDeniedError   403: the token may not do this here
        │   ├── NotFoundError           404
        │   ├── ConflictError           409: the name is taken
        │   ├── RateLimitedError        429 (``retry_after``: the service's advice)
        │   └── ServerError             5xx
        ├── DeploymentFailedError   the endpoint went to failed or updateFailed
        └── WaitTimeoutError        not in the wanted state in time (also a TimeoutError)

    WaitCancelled                   not an error of the service: the engine cancelled a wait
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .models import Endpoint

from .messages import (
    describe_status,
    extract_request_id,
    extract_server_message,
    one_line,
    redact,
    redact_url,
)

__all__ = [
    "ApiConnectionError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DeploymentFailedError",
    "EndpointsApiError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "ServiceError",
    "WaitTimeoutError",
    "error_for_status",
]


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
    """A failure of the control-plane client (:class:`pulumi_hf_endpoints.client.EndpointsApi`).

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


class ApiConnectionError(EndpointsApiError):
    """The connection could not be made, or broke before an answer arrived."""


class ApiTimeoutError(EndpointsApiError, TimeoutError):
    """No answer within the configured timeout (connect, read, write or pool)."""


class MalformedResponseError(EndpointsApiError):
    """An answer whose body is not what was asked for (an HTML page, truncated JSON, an
    endpoint without a name...)."""


class ApiStatusError(EndpointsApiError):
    """The service answered with an error status; the subclasses name the common ones."""


class BadRequestError(ApiStatusError):
    """400 or 422: the service rejected the request's content (validation, unknown hardware...)."""


class AuthenticationError(ApiStatusError):
    """401: the token is missing, invalid or expired."""


class PermissionDeniedError(ApiStatusError):
    """403: the token lacks a permission here, or the namespace cannot pay."""


class NotFoundError(ApiStatusError):
    """404: the endpoint (or namespace) does not exist."""


class ConflictError(ApiStatusError):
    """409: an endpoint with that name already exists in the namespace."""


class RateLimitedError(ApiStatusError):
    """429: too many requests. ``retry_after`` is the server's advice, in seconds, if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiStatusError):
    """5xx: the service failed. Often transient; idempotent calls were retried already."""


class DeploymentFailedError(EndpointsApiError):
    """The service reports that the endpoint failed to deploy or to update."""


class WaitTimeoutError(EndpointsApiError, TimeoutError):
    """The endpoint did not reach the wanted state in time."""


class WaitCancelled(Exception):
    """A wait stopped because the engine cancelled the operation (Ctrl-C). `last` is the
    endpoint as the last poll saw it, if any poll answered."""

    def __init__(self, last: Endpoint | None) -> None:
        super().__init__("cancelled")
        self.last = last


_STATUS_CLASSES: dict[int, type[ApiStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitedError,
}


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
) -> ApiStatusError:
    """Build the typed error for an HTTP answer that is not a success."""
    secrets = tuple(secrets)
    lowered = {key.lower(): value for key, value in headers.items()}
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
        cls = ServerError if status_code >= 500 else ApiStatusError
    return cls(message, **common)
