"""Data-plane traffic per endpoint: the idle clock of scale-to-zero, counters for tests, and
the recent requests that the endpoint's log shows as access lines.

The last-activity time is written to the store on every request start and end (so the idle
clock survives a restart); in-flight, counters and recent requests live in memory only, the
requests up to `RECENT_REQUESTS` per endpoint.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from .logs import RequestLine
from .store import Store

RECENT_REQUESTS = 200


@dataclass
class Traffic:
    requests: int = 0
    disconnects: int = 0
    in_flight: int = 0


class ActivityTracker:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._traffic: dict[str, Traffic] = {}
        self._recent: dict[str, deque[RequestLine]] = {}

    def _get(self, endpoint_id: str) -> Traffic:
        return self._traffic.setdefault(endpoint_id, Traffic())

    def started(self, endpoint_id: str, now: float) -> None:
        with self._lock:
            traffic = self._get(endpoint_id)
            traffic.requests += 1
            traffic.in_flight += 1
        self._store.touch(endpoint_id, now)

    def finished(self, endpoint_id: str, now: float, disconnected: bool) -> None:
        with self._lock:
            traffic = self._get(endpoint_id)
            traffic.in_flight = max(0, traffic.in_flight - 1)
            traffic.disconnects += int(disconnected)
        self._store.touch(endpoint_id, now)

    def served(self, endpoint_id: str, request: RequestLine) -> None:
        """A replica answered `request`: keep it for the endpoint's log."""
        with self._lock:
            recent = self._recent.get(endpoint_id)
            if recent is None:
                recent = self._recent[endpoint_id] = deque(maxlen=RECENT_REQUESTS)
            recent.append(request)

    def recent_requests(self, endpoint_id: str) -> list[RequestLine]:
        with self._lock:
            return list(self._recent.get(endpoint_id, ()))

    def busy(self, endpoint_id: str) -> bool:
        with self._lock:
            traffic = self._traffic.get(endpoint_id)
            return traffic is not None and traffic.in_flight > 0

    def snapshot(self, endpoint_id: str) -> Traffic:
        with self._lock:
            traffic = self._traffic.get(endpoint_id, Traffic())
            return Traffic(traffic.requests, traffic.disconnects, traffic.in_flight)

    def forget(self, endpoint_id: str) -> None:
        with self._lock:
            self._traffic.pop(endpoint_id, None)
            self._recent.pop(endpoint_id, None)
