"""HTTP client of the Hugging Face Inference Endpoints control-plane API.

:class:`EndpointsApi` speaks JSON dicts: it sends payloads built by :mod:`pulumi_hf_endpoints.spec`
and returns the decoded answers. What it adds over a bare ``httpx.Client``:

- URLs, token and hub resolved the way the provider is configured (:class:`ApiConfig`), so one
  setting (``HF_ENDPOINTS_API_URL``) points everything at the local emulator;
- typed, one-line, token-free errors (:mod:`pulumi_hf_endpoints.errors`);
- retries with capped, jittered exponential backoff that honour ``Retry-After``, on calls the
  service treats as idempotent;
- a create that can never create twice: when its answer is lost, the endpoint is looked up by
  name before the POST is sent again.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from . import auth
from ._version import __version__
from .errors import (
    ApiConnectionError,
    ApiTimeoutError,
    BadRequestError,
    ConflictError,
    EndpointsApiError,
    MalformedResponseError,
    NotFoundError,
    describe_status,
    error_for_status,
    extract_request_id,
    looks_like_html,
    one_line,
    redact,
    redact_url,
    summarize_html,
)
from .timestamps import older_than

__all__ = [
    "API_URL_ENV",
    "CATALOG_URL_ENV",
    "DEFAULT_API_URL",
    "DEFAULT_CATALOG_URL",
    "DEFAULT_HUB_URL",
    "DEFAULT_TIMEOUT",
    "ApiConfig",
    "EndpointsApi",
    "not_made_by",
    "parse_retry_after",
    "resolve_api_url",
    "resolve_catalog_url",
    "resolve_hub_url",
]

logger = logging.getLogger("pulumi_hf_endpoints.api")

DEFAULT_API_URL = "https://api.endpoints.huggingface.cloud/v2"
DEFAULT_CATALOG_URL = "https://endpoints.huggingface.co/api/v1/catalog"
DEFAULT_HUB_URL = "https://huggingface.co"
API_URL_ENV = "HF_ENDPOINTS_API_URL"
CATALOG_URL_ENV = "HF_ENDPOINTS_CATALOG_URL"
HUB_URL_ENV = "HF_ENDPOINT"  # huggingface_hub's variable: moves whoami with the Hub

# Control-plane calls answer in seconds; the read timeout leaves room for a slow create.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)

# 429 means "rejected, try later". 502/503/504 come from gateways and may hide a request that
# did reach the service, which matters for create (see EndpointsApi.create_endpoint).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAYBE_PROCESSED_STATUSES = frozenset({502, 503, 504})
# Transport failures raised before any byte of the request left: always safe to send again.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_MISSING_TOKEN_HINT = (
    "no Hugging Face token was sent: pass one, set HF_TOKEN, or run `hf auth login`"
)


# --------------------------------------------------------------------------- configuration


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _normalize_url(url: str, what: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an http(s) URL, got {redact_url(url)!r}")
    if parts.username is not None or parts.password is not None:
        # httpx would log it with every request; the token is the one credential.
        raise ValueError(f"{what} must not contain credentials, got {redact_url(url)!r}")
    return url


def _is_default_api(api_url: str) -> bool:
    return urlsplit(api_url).netloc == urlsplit(DEFAULT_API_URL).netloc


def _service_root(api_url: str) -> str:
    """``http://127.0.0.1:8000/v2`` -> ``http://127.0.0.1:8000``, where an emulator serves all."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/")
    path = path[: -len("/v2")] if path.endswith("/v2") else ""
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def resolve_api_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Control-plane base URL: the argument, else ``HF_ENDPOINTS_API_URL``, else the service.

    A server's root (``http://127.0.0.1:8765``, what the emulator prints first) means its
    ``/v2`` API: every control-plane route lives there.
    """
    value = explicit or _env(environ).get(API_URL_ENV) or DEFAULT_API_URL
    url = _normalize_url(value, "the Inference Endpoints API URL")
    return url + "/v2" if not urlsplit(url).path else url


def resolve_catalog_url(
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    api_url: str = DEFAULT_API_URL,
) -> str:
    """Catalog base URL: the argument, else ``HF_ENDPOINTS_CATALOG_URL``, else next to the API.

    With a non-default API URL (an emulator), the catalog is assumed to live on the same server
    under ``/api/v1/catalog``, so that one setting never sends half the calls to the real service.
    """
    value = explicit or _env(environ).get(CATALOG_URL_ENV)
    if not value:
        if _is_default_api(api_url):
            value = DEFAULT_CATALOG_URL
        else:
            value = _service_root(api_url) + "/api/v1/catalog"
    return _normalize_url(value, "the Inference Catalog URL")


def resolve_hub_url(
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    api_url: str = DEFAULT_API_URL,
) -> str:
    """Hub base URL (for ``whoami``): the argument; else the API's server when it is not the
    real service (an emulator serves ``/api/whoami-v2`` itself); else ``HF_ENDPOINT`` like
    huggingface_hub; else https://huggingface.co."""
    if explicit:
        return _normalize_url(explicit, "the Hub URL")
    if not _is_default_api(api_url):
        return _service_root(api_url)
    return _normalize_url(_env(environ).get(HUB_URL_ENV) or DEFAULT_HUB_URL, "the Hub URL")


@dataclass(frozen=True)
class ApiConfig:
    """Where and as whom to call the service, resolved once from explicit values and environment.

    The provider builds one from its stack configuration (``huggingface:token``,
    ``huggingface:apiUrl``, ``huggingface:namespace``). It holds the token, so it refuses to be
    pickled: Pulumi pickles the provider into state, and a token must never land there.
    """

    token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    catalog_url: str = DEFAULT_CATALOG_URL
    hub_url: str = DEFAULT_HUB_URL
    namespace: str | None = None
    token_source: str | None = None
    """Where the token came from ("the HF_TOKEN environment variable"...), for messages."""

    @classmethod
    def resolve(
        cls,
        *,
        token: str | None = None,
        api_url: str | None = None,
        catalog_url: str | None = None,
        hub_url: str | None = None,
        namespace: str | None = None,
        environ: Mapping[str, str] | None = None,
        token_source: str = "the token given explicitly",
    ) -> ApiConfig:
        """Explicit values win; the rest comes from the environment (see the resolve_* helpers
        and :func:`pulumi_hf_endpoints.auth.find_token` for the token's search order).
        `token_source` names where an explicit `token` came from."""
        resolved_api = resolve_api_url(api_url, environ)
        found, source = auth.find_token(token, environ, explicit_source=token_source)
        return cls(
            token=found,
            token_source=source,
            api_url=resolved_api,
            catalog_url=resolve_catalog_url(catalog_url, environ, api_url=resolved_api),
            hub_url=resolve_hub_url(hub_url, environ, api_url=resolved_api),
            namespace=(namespace or "").strip() or None,
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiConfig holds a token and must not be pickled; resolve it when needed")


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


# --------------------------------------------------------------------------- the client


@dataclass
class _TransportFailure:
    """A request that got no HTTP answer, described without keeping httpx objects around."""

    error_type: type[EndpointsApiError]
    description: str
    sent: bool  # the service may have received and processed the request
    retryable: bool


class EndpointsApi:
    """Client of the Inference Endpoints control plane (``/v2/endpoint``, ``/v2/provider``),
    the Inference Catalog and the Hub's ``whoami``.

    Args:
        token: a Hugging Face token; when omitted, discovered like huggingface_hub does.
        api_url: control-plane base URL, e.g. an emulator's ``http://127.0.0.1:8000/v2``.
        catalog_url, hub_url: override what is derived from ``api_url`` (see :class:`ApiConfig`).
        timeout: seconds, or an ``httpx.Timeout`` for separate connect/read/write/pool limits.
        max_retries: extra attempts after the first, for transient failures.
        backoff_factor, max_backoff: exponential backoff ``factor * 2**n``, capped, with jitter.
        max_retry_after: ceiling on a server's ``Retry-After`` advice, in seconds.
        user_agent: appended to ``pulumi-hf-endpoints/<version>`` to name the caller.
        transport: an ``httpx`` transport, for tests (``httpx.MockTransport``).
        sleep: how to wait between attempts; tests pass a recorder.
        environ: read instead of ``os.environ`` for the token and URL variables.

    The underlying ``httpx.Client`` is created on first use and reused; call :meth:`close`, or
    use the client as a context manager.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        api_url: str | None = None,
        catalog_url: str | None = None,
        hub_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        backoff_factor: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
        user_agent: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        config = ApiConfig.resolve(
            token=token,
            api_url=api_url,
            catalog_url=catalog_url,
            hub_url=hub_url,
            environ=environ,
        )
        self._token = config.token
        self.api_url = config.api_url
        self.catalog_url = config.catalog_url
        self.hub_url = config.hub_url
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.user_agent = f"pulumi-hf-endpoints/{__version__}; python-httpx/{httpx.__version__}"
        if user_agent:
            self.user_agent += f"; {user_agent}"
        self._transport = transport
        self._sleep = sleep
        self._random = random.Random()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._whoami_name: str | None = None

    @classmethod
    def from_config(cls, config: ApiConfig, **options: Any) -> EndpointsApi:
        """A client for a resolved :class:`ApiConfig`; ``options`` are the constructor's."""
        return cls(
            config.token,
            api_url=config.api_url,
            catalog_url=config.catalog_url,
            hub_url=config.hub_url,
            **options,
        )

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"EndpointsApi(api_url={self.api_url!r}, token={token})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "EndpointsApi holds a token and a connection pool and must not be pickled; "
            "create it lazily where it is used"
        )

    # ----------------------------------------------------------------- lifecycle

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

    def __enter__(self) -> EndpointsApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- identity

    def whoami(self) -> dict[str, Any]:
        """``GET {hub}/api/whoami-v2``: who the token belongs to (``name``, ``type``, ``orgs``)."""
        return self._get_object(f"{self.hub_url}/api/whoami-v2")

    def default_namespace(self) -> str:
        """The token owner's name, the namespace used when none is configured (cached)."""
        if self._whoami_name is None:
            me = self.whoami()
            name = me.get("name")
            if not isinstance(name, str) or not name:
                raise self._malformed(
                    "GET", f"{self.hub_url}/api/whoami-v2", 200, "whoami answer has no 'name'"
                )
            self._whoami_name = name
        return self._whoami_name

    def resolve_namespace(self, namespace: str | None = None) -> str:
        """``namespace`` when given, else :meth:`default_namespace`."""
        return namespace if namespace else self.default_namespace()

    # ----------------------------------------------------------------- endpoints

    def iter_endpoints(
        self,
        namespace: str,
        *,
        tags: Sequence[str] | str | None = None,
        search: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every endpoint of ``namespace``, following ``nextCursor`` across pages.

        ``tags`` (all must match) and ``search`` (name substring) filter on the server;
        ``page_size`` is sent as ``limit`` (the service's default page is small).
        """
        url = self._endpoint_url(namespace)
        params: dict[str, str] = {}
        if tags:
            params["tags"] = tags if isinstance(tags, str) else ",".join(tags)
        if search:
            params["search"] = search
        if page_size is not None:
            params["limit"] = str(page_size)
        seen: set[str] = set()
        while True:
            body = self._get_object(url, params=params or None)
            items = body.get("items")
            if not isinstance(items, list):
                raise self._malformed("GET", url, 200, "list answer has no 'items' list")
            for item in items:
                if not isinstance(item, dict):
                    raise self._malformed("GET", url, 200, "list item is not a JSON object")
                yield item
            cursor = body.get("nextCursor")
            if not cursor or not isinstance(cursor, str):
                return
            if cursor in seen:  # a server bug must not become an infinite loop
                raise self._malformed("GET", url, 200, f"pagination cursor repeats: {cursor!r}")
            seen.add(cursor)
            params = {**params, "cursor": cursor}

    def list_endpoints(
        self,
        namespace: str,
        *,
        tags: Sequence[str] | str | None = None,
        search: str | None = None,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /v2/endpoint/{namespace}``: all endpoints, every page read."""
        return list(self.iter_endpoints(namespace, tags=tags, search=search, page_size=page_size))

    def get_endpoint(self, namespace: str, name: str) -> dict[str, Any]:
        """``GET /v2/endpoint/{namespace}/{name}``. Raises NotFoundError when it does not exist."""
        return self._get_object(self._endpoint_url(namespace, name))

    def create_endpoint(self, namespace: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v2/endpoint/{namespace}`` with ``payload`` (an ``Endpoint`` built by spec.py).

        A create is not blindly retried. When the request may have reached the service but its
        answer was lost (connection dropped or timed out after sending, or a 502/503/504), the
        endpoint is first looked up by ``payload["name"]``: if it exists, that is what the POST
        made, and it is returned; only a 404 lets the POST be sent again. A 409 after such a loss
        is resolved the same way. So one call never creates two endpoints.

        An endpoint found that way is only taken as this create's when it can be: created no
        earlier than the call began (give or take clock skew) and asking for the same model and
        hardware. Otherwise it belongs to someone else and :class:`ConflictError` is raised, so
        that a later rollback or destroy can never delete it.
        """
        url = self._endpoint_url(namespace)
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            return self._create(url, dict(payload), None)
        started = time.time()

        def lookup() -> dict[str, Any] | None:
            try:
                found = self.get_endpoint(namespace, name)
            except NotFoundError:
                return None
            mismatch = not_made_by(payload, found, started)
            if mismatch:
                raise ConflictError(
                    f"409 Conflict on POST {url}: the answer to the create was lost, and the "
                    f"endpoint named '{name}' that exists is not the one asked for ({mismatch})",
                    method="POST",
                    url=url,
                    status_code=409,
                )
            return found

        return self._create(url, dict(payload), lookup)

    def update_endpoint(
        self, namespace: str, name: str, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``PUT /v2/endpoint/{namespace}/{name}`` with a partial ``EndpointUpdate``."""
        url = self._endpoint_url(namespace, name)
        return self._object(self._call("PUT", url, json=dict(payload)), "PUT")

    def delete_endpoint(self, namespace: str, name: str, *, missing_ok: bool = False) -> None:
        """``DELETE /v2/endpoint/{namespace}/{name}``.

        With ``missing_ok``, an endpoint that is already gone is success. A 404 on a retry whose
        previous attempt was lost also counts as success: that attempt did the delete.
        """
        url = self._endpoint_url(namespace, name)
        try:
            self._call("DELETE", url, gone_after_loss_ok=True)
        except NotFoundError:
            if not missing_ok:
                raise

    def pause_endpoint(self, namespace: str, name: str) -> dict[str, Any]:
        """``POST .../{name}/pause``: stop all replicas until resumed (no billing)."""
        return self._action(namespace, name, "pause")

    def resume_endpoint(
        self, namespace: str, name: str, *, running_ok: bool = True
    ) -> dict[str, Any]:
        """``POST .../{name}/resume``. The service answers 400 "already running" for an endpoint
        that runs; with ``running_ok`` (default, as huggingface_hub) that is success and the
        current endpoint is returned."""
        try:
            return self._action(namespace, name, "resume")
        except BadRequestError as error:
            if not running_ok or "already running" not in (error.server_message or "").lower():
                raise
        logger.debug("resume: endpoint %s/%s is already running", namespace, name)
        return self.get_endpoint(namespace, name)

    def scale_to_zero_endpoint(self, namespace: str, name: str) -> dict[str, Any]:
        """``POST .../{name}/scale-to-zero``: drop replicas now; the next request wakes it."""
        return self._action(namespace, name, "scale-to-zero")

    def list_hardware(self, namespace: str) -> dict[str, Any]:
        """``GET /v2/provider/{namespace}``: ``{"vendors": [...]}`` with regions, computes and
        the namespace's quota."""
        return self._get_object(f"{self.api_url}/provider/{_segment(namespace, 'namespace')}")

    # ----------------------------------------------------------------- catalog

    def list_catalog(
        self,
        *,
        accelerator: str | None = None,
        engine: str | None = None,
        license: str | None = None,
        task: str | None = None,
        search: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET {catalog}/list``: curated models, each with its tested ``recipes``."""
        filters: dict[str, Any] = {
            "accelerator": accelerator,
            "engine": engine,
            "license": license,
            "task": task,
            "search": search,
            "limit": limit,
        }
        params = {key: str(value) for key, value in filters.items() if value is not None}
        url = f"{self.catalog_url}/list"
        body = self._get_object(url, params=params or None)
        items = body.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self._malformed("GET", url, 200, "catalog answer has no 'items' list of objects")
        return items

    def deploy_from_catalog(
        self,
        namespace: str,
        *,
        repo_id: str | None = None,
        recipe_id: str | None = None,
        name: str | None = None,
        accelerator: str | None = None,
        gguf_file: str | None = None,
    ) -> dict[str, Any]:
        """Deploy a catalog model (``POST {catalog}/model/{repo_id}/deploy``) or an exact recipe
        (``POST {catalog}/recipe/{recipe_id}/deploy``); returns the new endpoint (the answer's
        ``endpoint``). Like a create, a lost answer is resolved by name when ``name`` is given.
        """
        if (repo_id is None) == (recipe_id is None):
            raise ValueError("give exactly one of repo_id or recipe_id")
        if recipe_id is not None and (accelerator is not None or gguf_file is not None):
            raise ValueError("accelerator and gguf_file choose a recipe; they cannot go with one")
        payload: dict[str, Any] = {"namespace": namespace}
        if name is not None:
            payload["config"] = {"name": name}
        if recipe_id is not None:
            url = f"{self.catalog_url}/recipe/{_segment(recipe_id, 'recipe_id')}/deploy"
        else:
            assert repo_id is not None
            repo_path = "/".join(_segment(part, "repo_id") for part in repo_id.split("/"))
            url = f"{self.catalog_url}/model/{repo_path}/deploy"
            if accelerator is not None:
                payload["accelerator"] = accelerator
            if gguf_file is not None:
                payload["ggufFile"] = gguf_file

        def lookup() -> dict[str, Any] | None:
            assert name is not None
            try:
                return {"endpoint": self.get_endpoint(namespace, name)}
            except NotFoundError:
                return None

        body = self._create(url, payload, lookup if name else None)
        endpoint = body.get("endpoint")
        if not isinstance(endpoint, dict):
            raise self._malformed("POST", url, 200, "catalog deploy answer has no 'endpoint'")
        return endpoint

    # ----------------------------------------------------------------- plumbing

    def _endpoint_url(self, namespace: str, name: str | None = None) -> str:
        url = f"{self.api_url}/endpoint/{_segment(namespace, 'namespace')}"
        if name is not None:
            url += f"/{_segment(name, 'name')}"
        return url

    def _action(self, namespace: str, name: str, action: str) -> dict[str, Any]:
        url = f"{self._endpoint_url(namespace, name)}/{action}"
        return self._object(self._call("POST", url), "POST")

    def _get_object(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self._object(self._call("GET", url, params=params), "GET")

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
    ) -> httpx.Response | _TransportFailure:
        client = self._http()
        request = client.build_request(method, url, params=params, json=json)
        safe_url = redact_url(str(request.url.copy_with(query=None)), [self._token])
        started = time.monotonic()
        try:
            response = client.send(request)
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

    def _http_error(self, response: httpx.Response, attempts: int) -> EndpointsApiError:
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

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        gone_after_loss_ok: bool = False,
    ) -> httpx.Response:
        """Send an idempotent request, retrying transient failures; return the 2xx answer."""
        attempt = 0
        lost = False
        while True:
            attempt += 1
            outcome = self._send_once(method, url, params=params, json=json)
            may_retry = attempt <= self.max_retries
            if isinstance(outcome, httpx.Response):
                status = outcome.status_code
                if outcome.is_success or (status == 404 and lost and gone_after_loss_ok):
                    return outcome
                if may_retry and status in RETRY_STATUSES:
                    lost = lost or status in _MAYBE_PROCESSED_STATUSES
                    self._wait(attempt, method, url, outcome)
                    continue
                raise self._http_error(outcome, attempt)
            if may_retry and outcome.retryable:
                lost = lost or outcome.sent
                self._wait(attempt, method, url, None)
                continue
            raise self._transport_error(outcome, method, url, attempt)

    def _create(
        self,
        url: str,
        payload: dict[str, Any],
        recover: Callable[[], dict[str, Any] | None] | None,
    ) -> dict[str, Any]:
        """POST that must not run twice: see :meth:`create_endpoint`.

        ``recover`` looks the resource up after a lost answer: it returns it, or None if absent.
        Without it, a POST that may have reached the service is never sent again.
        """
        attempt = 0
        lost = False
        while True:
            attempt += 1
            outcome = self._send_once("POST", url, params=None, json=payload)
            may_retry = attempt <= self.max_retries
            response: httpx.Response | None = None
            if isinstance(outcome, httpx.Response):
                response = outcome
                status = response.status_code
                if response.is_success:
                    return self._object(response, "POST")
                if status == 409 and lost and recover is not None:
                    found = recover()
                    if found is not None:
                        logger.debug("POST %s: 409 after a lost answer; it was created", url)
                        return found
                if status == 429 and may_retry:  # rejected before processing: safe to resend
                    self._wait(attempt, "POST", url, response)
                    continue
                give_up = self._http_error(response, attempt)
                if status not in _MAYBE_PROCESSED_STATUSES or recover is None:
                    raise give_up
            else:
                give_up = self._transport_error(outcome, "POST", url, attempt)
                if not outcome.sent and outcome.retryable and may_retry:
                    self._wait(attempt, "POST", url, None)
                    continue
                if not outcome.sent or not outcome.retryable or recover is None:
                    raise give_up
            # The service may have processed the POST: look before sending it again.
            lost = True
            found = recover()
            if found is not None:
                logger.debug("POST %s: answer lost, but the resource exists; not resending", url)
                return found
            if not may_retry:
                raise give_up
            self._wait(attempt, "POST", url, response)

    def _object(self, response: httpx.Response, method: str) -> dict[str, Any]:
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
            raise self._malformed(
                method, url, response.status_code, f"expected JSON, got {got}", response.headers
            )
        if not isinstance(data, dict):
            raise self._malformed(
                method,
                url,
                response.status_code,
                f"expected a JSON object, got {type(data).__name__}",
                response.headers,
            )
        return data

    def _malformed(
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


#: Where an endpoint's identity shows, in a create payload and in the service's answer alike.
_IDENTITY_PATHS = (
    ("model", "repository"),
    ("model", "framework"),
    ("model", "task"),
    ("compute", "accelerator"),
    ("compute", "instanceType"),
    ("compute", "instanceSize"),
    ("provider", "vendor"),
    ("provider", "region"),
)


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def not_made_by(payload: Mapping[str, Any], found: Mapping[str, Any], started: float) -> str:
    """Why `found` cannot be what the create of `payload` made ("" when it can be): it is older
    than the create (sent at `started`), or asks for another model or other hardware."""
    status = found.get("status")
    created_at = status.get("createdAt") if isinstance(status, Mapping) else None
    if isinstance(created_at, str) and older_than(created_at, started):
        return f"created at {created_at}, older than this create"
    for path in _IDENTITY_PATHS:
        asked, got = _dig(payload, path), _dig(found, path)
        if asked is not None and got is not None and asked != got:
            return f"{'.'.join(path)} is {got!r}, not {asked!r}"
    return ""


def _segment(value: str, what: str) -> str:
    """One URL path segment, percent-encoded; rejects values that would change the path."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    if value in (".", ".."):
        raise ValueError(f"{what} cannot be {value!r}")
    return quote(value, safe="")
