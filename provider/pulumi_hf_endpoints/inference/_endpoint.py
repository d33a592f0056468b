"""Finding an endpoint's URL through the control plane (``for_endpoint``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..spec.vocabulary import FAILED_STATES
from ._errors import EndpointPausedError, InferenceError, InferenceTimeoutError

if TYPE_CHECKING:
    from ..client.api import EndpointsApi

#: States in which the endpoint's URL answers (scaledToZero: the first request wakes it).
SERVING_STATES = frozenset({"running", "scaledToZero"})
POLL_INTERVAL = 1.0


def split_endpoint(endpoint: str) -> tuple[str | None, str]:
    """``"namespace/name"`` or ``"name"`` (the token owner's namespace)."""
    namespace, _, name = endpoint.strip().rpartition("/")
    if not name or "/" in namespace:
        raise ValueError(f"expected 'namespace/name' or 'name', got {endpoint!r}")
    return namespace or None, name


def resolve_endpoint_url(
    endpoint: str,
    *,
    resume: bool,
    wait_timeout: float | None,
    token: str | None,
    api_url: str | None,
    api: EndpointsApi | None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Look the endpoint up, resume it if asked, wait until its URL serves, return the URL.

    Blocking (the control-plane client is synchronous); the async client runs it in a thread.
    """
    from ..client.api import EndpointsApi

    namespace, name = split_endpoint(endpoint)
    own = api is None
    client = EndpointsApi(token, api_url=api_url) if api is None else api
    try:
        namespace = client.resolve_namespace(namespace)
        key = f"{namespace}/{name}"
        info = client.get_endpoint(namespace, name)
        if info.paused:
            if not resume:
                raise EndpointPausedError(
                    f"endpoint {key} is paused: pass resume=True to resume it (billing "
                    "restarts), or resume it from the control plane"
                )
            info = client.resume_endpoint(namespace, name)
        deadline = None if wait_timeout is None else time.monotonic() + wait_timeout
        while True:
            state, url = info.state, info.status.url
            if state in SERVING_STATES and url:
                return url
            if state in FAILED_STATES:
                why = info.status.error_message or info.status.message or "no message"
                raise InferenceError(f"endpoint {key} is {state}: {why}")
            if state == "paused":
                raise EndpointPausedError(f"endpoint {key} was paused while waiting for it")
            if deadline is not None and time.monotonic() >= deadline:
                raise InferenceTimeoutError(
                    f"endpoint {key} is still {state} after {wait_timeout}s "
                    "(wait_timeout); it may still come up"
                )
            sleep(POLL_INTERVAL)
            info = client.get_endpoint(namespace, name)
    finally:
        if own:
            client.close()
