"""Data-plane traffic per endpoint: the idle clock of scale-to-zero, and counters for tests.

The last-activity time is written to the store on every request start and end (so the idle
clock survives a restart); in-flight and counters live in memory only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .store import Store


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
