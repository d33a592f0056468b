"""The hourly price of an endpoint's instance (`pricePerHour`), from its namespace's hardware list.

The provider looks it up after create, update and read, never at check or diff (a `pulumi
preview` stays local). The list is kept per provider process for `CACHE_SECONDS`, per server
and namespace: a `pulumi up` of many endpoints asks once. A lookup that fails, or an instance the
list does not have, leaves the price out with a warning: the price is information, and never
fails the operation that created or read the endpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .client.errors import EndpointsApiError
from .client.messages import one_line, redact

if TYPE_CHECKING:
    from .client import Endpoint, EndpointsApi, Hardware

log = logging.getLogger("pulumi_hf_endpoints.provider")

CACHE_SECONDS = 300.0
"""How long a namespace's hardware list is reused. Prices change rarely; a new `pulumi up`
within these minutes, in the same provider process, sees the list of its first lookup."""

_Key = tuple[str, str]
_lists: dict[_Key, tuple[float, list[Hardware]]] = {}
_locks: dict[_Key, threading.Lock] = {}
_guard = threading.Lock()


def hardware_of(
    api: EndpointsApi, namespace: str, *, clock: Callable[[], float] = time.monotonic
) -> list[Hardware]:
    """The namespace's hardware list, from the cache while it is fresh. One lookup at a time
    per namespace: endpoints created together wait for the first one's answer."""
    key = (api.api_url, namespace)
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        cached = _lists.get(key)
        if cached is not None and clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        rows = api.list_hardware(namespace).hardware()
        _lists[key] = (clock(), rows)
        return rows


def forget() -> None:
    """Empty the cache (tests; a process that must see new prices at once)."""
    with _guard:
        _lists.clear()


def price_per_hour(api: EndpointsApi, namespace: str, endpoint: Endpoint) -> float | None:
    """USD per replica per hour of `endpoint`'s instance, or None (with a warning) when the
    hardware list cannot be read or does not have it."""
    where = f"{namespace}/{endpoint.name}"
    try:
        rows = hardware_of(api, namespace)
    except EndpointsApiError as exc:  # its message is redacted already
        log.warning("pricePerHour of %s left out: the hardware list failed: %s", where, exc)
        return None
    except Exception as exc:  # a price must never fail the operation
        reason = one_line(redact(f"{type(exc).__name__}: {exc}"))
        log.warning(
            "pricePerHour of %s left out: reading the hardware list failed: %s", where, reason
        )
        return None
    compute, provider = endpoint.compute, endpoint.provider
    wanted = (
        provider.vendor,
        provider.region,
        compute.accelerator,
        compute.instance_type,
        compute.instance_size,
    )
    for row in rows:
        found = (row.vendor, row.region, row.accelerator, row.instance_type, row.instance_size)
        if [v.lower() for v in found] == [v.lower() for v in wanted]:
            if row.price_per_hour is None:
                log.warning("pricePerHour of %s left out: the hardware list has no price", where)
            return row.price_per_hour
    log.warning(
        "pricePerHour of %s left out: %s is not in the hardware list of %s",
        where,
        "/".join(wanted),
        namespace,
    )
    return None
