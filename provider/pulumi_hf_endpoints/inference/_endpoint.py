"""Finding an endpoint's URL through the control plane (``for_endpoint``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import EndpointPausedError, InferenceError, InferenceTimeoutError

if TYPE_CHECKING:
    from ..client.api import EndpointsApi
    from ..client.models import Endpoint

POLL_INTERVAL = 1.0


def split_endpoint(endpoint: str) -> tuple[str | None, str]:
    """``"namespace/name"`` or ``"name"`` (the token owner's namespace)."""
    namespace, _, name = endpoint.strip().rpartition("/")
    if not name or "/" in namespace:
        raise ValueError(f"expected 'namespace/name' or 'name', got {endpoint!r}")
    return namespace or None, name


def _serving_url(
    client: EndpointsApi,
    namespace: str,
    name: str,
    info: Endpoint,
    wait_timeout: float | None,
    sleep: Callable[[float], None],
) -> str:
    """Wait, as the provider waits (`waiting.Waiter`), until the endpoint serves; its URL. The
    waiter's errors become the helpers' own."""
    from ..client.errors import DeploymentFailedError, WaitTimeoutError
    from ..waiting import PausedWhileWaiting, Waiter

    key = f"{namespace}/{name}"
    states = [info.state]
    waiter = Waiter(
        client,
        namespace,
        name,
        interval=POLL_INTERVAL,
        sleep=sleep,
        on_state=states.append,
        paused_ends_wait=True,
    )
    try:
        ready = waiter.wait(
            "running", math.inf if wait_timeout is None else wait_timeout, initial=info
        )
    except PausedWhileWaiting:
        raise EndpointPausedError(f"endpoint {key} was paused while waiting for it") from None
    except DeploymentFailedError as exc:
        raise InferenceError(str(exc)) from None
    except WaitTimeoutError:
        raise InferenceTimeoutError(
            f"endpoint {key} is still {states[-1]} after {wait_timeout}s "
            "(wait_timeout); it may still come up"
        ) from None
    assert ready is not None
    if ready.status.url:
        return ready.status.url
    raise InferenceError(f"endpoint {key} is {ready.state} but has no URL yet")


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
        return _serving_url(client, namespace, name, info, wait_timeout, sleep)
    finally:
        if own:
            client.close()
