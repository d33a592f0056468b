"""Waiting for an endpoint to reach a state: what a Pulumi operation asked for, or serving for
the generation helpers' `for_endpoint` (the one "wait until it serves" loop of the package).

Polls the control plane about once a second (huggingface_hub's `wait()` polls every 5 s), so
readiness is seen within about a second without hammering the API, and checks the endpoint's
health route before calling it ready, as huggingface_hub does since the URL can exist first.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from . import spec
from .client.api import EndpointsApi
from .client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    DeploymentFailedError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    WaitCancelled,
    WaitTimeoutError,
)
from .client.models import Endpoint

Target = Literal["running", "paused", "gone"]

POLL_INTERVAL_ENV = "PULUMI_HF_ENDPOINTS_POLL_INTERVAL"
DEFAULT_POLL_INTERVAL = 1.0
# A poll that meets one of these (after the client's own retries) is a hiccup of the service,
# not an answer: waiting goes on, until the deadline or this many failed polls in a row.
TRANSIENT_ERRORS = (ServerError, RateLimitedError, ApiConnectionError, ApiTimeoutError)
MAX_FAILED_POLLS = 5


def poll_interval() -> float:
    """Seconds between polls; `PULUMI_HF_ENDPOINTS_POLL_INTERVAL` overrides (tests, emulator)."""
    raw = os.environ.get(POLL_INTERVAL_ENV)
    try:
        value = float(raw) if raw else DEFAULT_POLL_INTERVAL
    except ValueError:
        return DEFAULT_POLL_INTERVAL
    return min(max(value, 0.01), 60.0)


class PausedWhileWaiting(DeploymentFailedError):
    """The endpoint was paused while a wait for it to serve went on (`paused_ends_wait`)."""


@dataclass
class Waiter:
    """Polls one endpoint until it reaches a target state.

    `on_progress` hears of every poll whose state or replica counts differ from the last one's
    (a front end shows it as a status line); `cancel`, once set, ends the wait within a poll
    interval with `WaitCancelled`. With `paused_ends_wait`, a wait for `running` that sees the
    endpoint paused ends with `PausedWhileWaiting` (a caller that did not resume it will not
    see it serve); the provider, which resumes endpoints itself, waits on.
    """

    api: EndpointsApi
    namespace: str
    name: str
    interval: float = DEFAULT_POLL_INTERVAL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    on_state: Callable[[str], None] | None = None
    on_progress: Callable[[Endpoint], None] | None = None
    cancel: threading.Event | None = None
    paused_ends_wait: bool = False

    def wait(
        self, target: Target, timeout: float, *, initial: Endpoint | None = None
    ) -> Endpoint | None:
        """Return the endpoint once it is in `target` (None for "gone"); raise
        DeploymentFailedError with the service's message, or WaitTimeoutError.

        `initial` is the service's answer to the request that started the change: it is judged
        first, and the first poll comes one interval later instead of right away.
        """
        deadline = self.clock() + timeout
        last_state = "unknown"
        last_progress: tuple[object, ...] | None = None
        seen: Endpoint | None = initial
        failed_polls = 0
        pending = initial
        while True:
            if self.cancel is not None and self.cancel.is_set():
                raise WaitCancelled(seen)
            try:
                info = pending if pending is not None else self.api.get_endpoint(*self._id)
            except NotFoundError:
                if target == "gone":
                    return None
                raise DeploymentFailedError(
                    f"endpoint {self.namespace}/{self.name} disappeared while waiting for it "
                    f"to be {target}"
                ) from None
            except TRANSIENT_ERRORS:
                failed_polls += 1
                if failed_polls >= MAX_FAILED_POLLS or self.clock() >= deadline:
                    raise
                self._pause(min(self.interval, max(0.0, deadline - self.clock())), seen)
                continue
            failed_polls = 0
            pending = None
            seen = info
            state = info.state
            if state != last_state and self.on_state is not None:
                self.on_state(state)
            last_state = state
            progress = (state, info.status.ready_replica, info.status.target_replica)
            if progress != last_progress and self.on_progress is not None:
                self.on_progress(info)
            last_progress = progress
            if target != "gone":
                self._raise_if_failed(info)
                if self.paused_ends_wait and target == "running" and state == "paused":
                    raise PausedWhileWaiting(
                        f"endpoint {self.namespace}/{self.name} was paused while waiting for it"
                    )
                if self._reached(info, target):
                    return info
            if self.clock() >= deadline:
                raise WaitTimeoutError(
                    f"endpoint {self.namespace}/{self.name} was still '{state}' after "
                    f"{timeout:g} s waiting for it to be {target} (raise waitTimeout, or set "
                    "wait to false to return without waiting)"
                )
            self._pause(min(self.interval, max(0.0, deadline - self.clock())), seen)

    def _pause(self, seconds: float, seen: Endpoint | None) -> None:
        """Sleep between polls; a cancel ends the sleep at once."""
        if self.cancel is None:
            self.sleep(seconds)
        elif self.cancel.wait(seconds):
            raise WaitCancelled(seen)

    @property
    def _id(self) -> tuple[str, str]:
        return self.namespace, self.name

    def _raise_if_failed(self, info: Endpoint) -> None:
        state = info.state
        if state in spec.FAILED_STATES:
            verb = "deploy" if state == "failed" else "update"
            reason = info.status.error_message or info.status.message or "no reason given"
            raise DeploymentFailedError(
                f"endpoint {self.namespace}/{self.name} failed to {verb}: {reason}"
            )

    def _reached(self, info: Endpoint, target: Target) -> bool:
        state = info.state
        if target == "paused":
            return state == "paused"
        if state == "scaledToZero":
            return True  # deployed; the next request wakes it, and a health probe would too
        if state != "running" or not info.status.url:
            return False
        if info.type == "private":
            return True  # reachable only through PrivateLink, not from here
        return self._healthy(info)

    def _healthy(self, info: Endpoint) -> bool:
        url = (
            f"{(info.status.url or '').rstrip('/')}/{(info.health_route or '/health').lstrip('/')}"
        )
        return self.api.probe(url) == 200
