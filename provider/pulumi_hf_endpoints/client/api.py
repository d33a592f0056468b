"""`EndpointsApi`: the Inference Endpoints control plane (`/v2/endpoint`, `/v2/provider`) and
the Hub's `whoami`, one method per route, answers as typed models."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote

import httpx

from .._version import __version__
from .config import ApiConfig
from .errors import BadRequestError, ConflictError, MalformedResponseError, NotFoundError
from .http import DEFAULT_TIMEOUT, Http
from .logs import LogStream, Moment, log_params
from .models import Account, Endpoint, HardwareList
from .recovery import not_made_by

logger = logging.getLogger("pulumi_hf_endpoints.client")

_T = TypeVar("_T", Endpoint, Account, HardwareList)


class EndpointsApi:
    """Client of the Inference Endpoints control plane.

    Args:
        token: a Hugging Face token; when omitted, discovered like huggingface_hub does.
        api_url: control-plane base URL, e.g. an emulator's ``http://127.0.0.1:8000/v2``.
        hub_url: overrides the Hub URL derived from ``api_url`` (see :class:`ApiConfig`).
        timeout: seconds, or an ``httpx.Timeout`` for separate connect/read/write/pool limits.
        max_retries: extra attempts after the first, for transient failures.
        backoff_factor, max_backoff: exponential backoff ``factor * 2**n``, capped, with jitter.
        max_retry_after: ceiling on a server's ``Retry-After`` advice, in seconds.
        user_agent: appended to ``pulumi-hf-endpoints/<version>`` to name the caller.
        transport: an ``httpx`` transport, for tests (``httpx.MockTransport``).
        sleep: how to wait between attempts; tests pass a recorder.
        environ: read instead of ``os.environ`` for the token and URL variables.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        api_url: str | None = None,
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
        config = ApiConfig.resolve(token=token, api_url=api_url, hub_url=hub_url, environ=environ)
        self.api_url = config.api_url
        self.hub_url = config.hub_url
        agent = f"pulumi-hf-endpoints/{__version__}; python-httpx/{httpx.__version__}"
        self._http = Http(
            config.token,
            api_url=config.api_url,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            user_agent=f"{agent}; {user_agent}" if user_agent else agent,
            transport=transport,
            sleep=sleep,
        )
        self._account: Account | None = None

    @classmethod
    def from_config(cls, config: ApiConfig, **options: Any) -> EndpointsApi:
        """A client for a resolved :class:`ApiConfig`; ``options`` are the constructor's."""
        return cls(config.token, api_url=config.api_url, hub_url=config.hub_url, **options)

    @property
    def has_token(self) -> bool:
        return self._http.has_token

    @property
    def timeout(self) -> httpx.Timeout:
        return self._http.timeout

    @property
    def max_retries(self) -> int:
        return self._http.max_retries

    @property
    def user_agent(self) -> str:
        return self._http.user_agent

    def __repr__(self) -> str:
        token = "set" if self.has_token else "none"
        return f"EndpointsApi(api_url={self.api_url!r}, token={token})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "EndpointsApi holds a token and a connection pool and must not be pickled; "
            "create it lazily where it is used"
        )

    def close(self) -> None:
        """Close pooled connections. The client stays usable: a new pool opens on next use."""
        self._http.close()

    def __enter__(self) -> EndpointsApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- identity

    def whoami(self) -> Account:
        """``GET {hub}/api/whoami-v2``: who the token belongs to."""
        url = f"{self.hub_url}/api/whoami-v2"
        return self._parse(Account, self._get(url), "GET", url)

    def default_namespace(self) -> str:
        """The token owner's name, the namespace used when none is configured (cached)."""
        if self._account is None:
            self._account = self.whoami()
        return self._account.name

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
    ) -> Iterator[Endpoint]:
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
            body = self._get(url, params=params or None)
            items = body.get("items")
            if not isinstance(items, list):
                raise self._http.malformed("GET", url, 200, "list answer has no 'items' list")
            for item in items:
                if not isinstance(item, dict):
                    raise self._http.malformed("GET", url, 200, "list item is not a JSON object")
                yield self._parse(Endpoint, item, "GET", url)
            cursor = body.get("nextCursor")
            if not cursor or not isinstance(cursor, str):
                return
            if cursor in seen:  # a server bug must not become an infinite loop
                raise self._http.malformed(
                    "GET", url, 200, f"pagination cursor repeats: {cursor!r}"
                )
            seen.add(cursor)
            params = {**params, "cursor": cursor}

    def list_endpoints(
        self,
        namespace: str,
        *,
        tags: Sequence[str] | str | None = None,
        search: str | None = None,
        page_size: int | None = None,
    ) -> list[Endpoint]:
        """``GET /v2/endpoint/{namespace}``: all endpoints, every page read."""
        return list(self.iter_endpoints(namespace, tags=tags, search=search, page_size=page_size))

    def get_endpoint(self, namespace: str, name: str) -> Endpoint:
        """``GET /v2/endpoint/{namespace}/{name}``. Raises NotFoundError when it does not exist."""
        url = self._endpoint_url(namespace, name)
        return self._parse(Endpoint, self._get(url), "GET", url)

    def create_endpoint(self, namespace: str, payload: Mapping[str, Any]) -> Endpoint:
        """``POST /v2/endpoint/{namespace}`` with ``payload`` (an ``Endpoint`` built by the spec).

        A create is not blindly retried. When the request may have reached the service but its
        answer was lost (connection dropped or timed out after sending, or a 502/503/504), the
        endpoint is first looked up by ``payload["name"]``: if it exists, that is what the POST
        made, and it is returned; only a 404 lets the POST be sent again. A 409 after such a loss
        is resolved the same way. So one call never creates two endpoints.

        An endpoint found that way is only taken as this create's when it can be (see
        :mod:`.recovery`). Otherwise it belongs to someone else and :class:`ConflictError` is
        raised, so that a later rollback or destroy can never delete it.
        """
        url = self._endpoint_url(namespace)
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            return self._parse(Endpoint, self._http.create(url, dict(payload), None), "POST", url)
        started = time.time()

        def lookup() -> dict[str, Any] | None:
            try:
                found = self.get_endpoint(namespace, name).raw
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

        return self._parse(Endpoint, self._http.create(url, dict(payload), lookup), "POST", url)

    def update_endpoint(self, namespace: str, name: str, payload: Mapping[str, Any]) -> Endpoint:
        """``PUT /v2/endpoint/{namespace}/{name}`` with a partial ``EndpointUpdate``."""
        url = self._endpoint_url(namespace, name)
        body = self._http.json_object(self._http.call("PUT", url, json=dict(payload)), "PUT")
        return self._parse(Endpoint, body, "PUT", url)

    def delete_endpoint(self, namespace: str, name: str, *, missing_ok: bool = False) -> None:
        """``DELETE /v2/endpoint/{namespace}/{name}``.

        With ``missing_ok``, an endpoint that is already gone is success. A 404 on a retry whose
        previous attempt was lost also counts as success: that attempt did the delete. After a
        lost attempt it returns only once that attempt can be expected to have landed, so that
        it cannot delete an endpoint created next under the same name.
        """
        url = self._endpoint_url(namespace, name)
        try:
            self._http.call("DELETE", url, gone_after_loss_ok=True, settle_after_loss=True)
        except NotFoundError:
            if not missing_ok:
                raise

    def pause_endpoint(self, namespace: str, name: str) -> Endpoint:
        """``POST .../{name}/pause``: stop all replicas until resumed (no billing)."""
        return self._action(namespace, name, "pause")

    def resume_endpoint(self, namespace: str, name: str, *, running_ok: bool = True) -> Endpoint:
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

    def get_logs(
        self,
        namespace: str,
        name: str,
        *,
        tail: int | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        replica: str | None = None,
        max_retries: int | None = None,
    ) -> list[str]:
        """``GET .../{name}/logs``: the log lines of the endpoint's replicas, oldest first.

        ``tail``: only the last lines, at most this many. ``since`` (inclusive) and ``until``
        (exclusive): a time range, as aware datetimes or Unix seconds (the service takes whole
        seconds). ``replica``: only that replica's lines (its ``deployment-replica`` id, as the
        lines show it). Each line is redacted like the client's errors (its token, ``hf_...``
        tokens, bearer credentials). ``max_retries`` overrides the client's for this call.
        """
        url = f"{self._endpoint_url(namespace, name)}/logs"
        params = log_params(tail=tail, since=since, until=until, replica=replica)
        response = self._http.call(
            "GET",
            url,
            params=params or None,
            headers={"accept": "text/plain"},
            max_retries=max_retries,
        )
        return [self._http.redact(line) for line in response.text.splitlines()]

    def follow_logs(
        self, namespace: str, name: str, *, tail: int | None = None, replica: str | None = None
    ) -> LogStream:
        """``GET .../{name}/logs/sse``: the log lines (the last ``tail`` ones, where the service
        honours it; only ``replica``'s when given), then each new line as it is written, until
        the endpoint is deleted or the stream is closed. See :class:`LogStream`; nothing is
        sent before it is iterated."""
        url = f"{self._endpoint_url(namespace, name)}/logs/sse"
        return LogStream(self._http, url, log_params(tail=tail, replica=replica))

    def list_hardware(self, namespace: str) -> HardwareList:
        """``GET /v2/provider/{namespace}``: every vendor, region and compute, with its price and
        the namespace's quota (``.hardware()`` flattens them; ``["vendors"]`` reads the JSON)."""
        url = f"{self.api_url}/provider/{_segment(namespace, 'namespace')}"
        return self._parse(HardwareList, self._get(url), "GET", url)

    def probe(self, url: str, timeout: float = 10.0) -> int | None:
        """``GET`` an endpoint's own URL once (its health route), with this client's token and
        connections: the status code, or None when nothing answered. Never retried: the caller
        polls."""
        return self._http.probe(url, timeout)

    # ----------------------------------------------------------------- plumbing

    def _endpoint_url(self, namespace: str, name: str | None = None) -> str:
        url = f"{self.api_url}/endpoint/{_segment(namespace, 'namespace')}"
        if name is not None:
            url += f"/{_segment(name, 'name')}"
        return url

    def _action(self, namespace: str, name: str, action: str) -> Endpoint:
        url = f"{self._endpoint_url(namespace, name)}/{action}"
        body = self._http.json_object(self._http.call("POST", url), "POST")
        return self._parse(Endpoint, body, "POST", url)

    def _get(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self._http.json_object(self._http.call("GET", url, params=params), "GET")

    def _parse(self, model: type[_T], body: Mapping[str, Any], method: str, url: str) -> _T:
        """A typed answer; a malformed one names the call it answered."""
        try:
            return model.from_raw(body)
        except MalformedResponseError as exc:
            raise self._http.malformed(method, url, 200, exc.message) from None


def _segment(value: str, what: str) -> str:
    """One URL path segment, percent-encoded; rejects values that would change the path."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    if value in (".", ".."):
        raise ValueError(f"{what} cannot be {value!r}")
    return quote(value, safe="")
