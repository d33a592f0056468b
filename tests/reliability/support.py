"""Shared pieces of the reliability suite: iteration scaling, figures, property bags, and a
provider whose HTTP client has test-sized timeouts.

The provider host runs `InferenceEndpointProvider` unchanged except for one thing: the HTTP
client it creates. `TunedProvider` builds it with the timeout and retry backoff given in the
host's environment (`RELIABILITY_HTTP_TIMEOUT`, `RELIABILITY_BACKOFF`, `RELIABILITY_MAX_BACKOFF`),
so that a request stalled "past the timeout" costs about a second instead of a minute. Without
those variables it is the shipped client. Everything else (retries, create recovery, waiting,
rollback) is the code under test.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic.dynamic import serialize_provider

from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.provider import DEFAULTS_KEY, LOGICAL_NAME_KEY, InferenceEndpointProvider

PROVIDER_KEY = "__provider"
SCALE_ENV = "RELIABILITY_SCALE"
REPORT_ENV = "RELIABILITY_REPORT"


def scale() -> float:
    """Multiplier of iteration counts (`RELIABILITY_SCALE=5` for a long local run)."""
    try:
        value = float(os.environ.get(SCALE_ENV, "1"))
    except ValueError:
        return 1.0
    return max(value, 0.05)


def scaled(default: int, minimum: int = 1) -> int:
    """`default` iterations times the scale; the defaults meet the issue's minimums."""
    return max(minimum, round(default * scale()))


# --------------------------------------------------------------------------- figures


class Figures:
    """Counters the suite reports at the end of the run (the closing note's figures)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.values: dict[str, Any] = {}

    def add(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[key] += amount

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self.values[key] = value

    def maximum(self, key: str, value: float) -> None:
        with self._lock:
            if value > self.values.get(key, float("-inf")):
                self.values[key] = value

    def lines(self) -> list[str]:
        with self._lock:
            rows = [f"{k}: {v}" for k, v in sorted(self.counters.items())]
            for k, v in sorted(self.values.items()):
                rows.append(f"{k}: {round(v, 2) if isinstance(v, float) else v}")
        return rows

    def dump(self) -> dict[str, Any]:
        with self._lock:
            return {"counters": dict(self.counters), "values": dict(self.values)}


FIGURES = Figures()


def write_report() -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(FIGURES.dump(), handle, indent=2, sort_keys=True, default=str)


# --------------------------------------------------------------------------- the provider


def _float_env(name: str) -> float | None:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


class TunedProvider(InferenceEndpointProvider):
    """`InferenceEndpointProvider` with the HTTP client's timeout/backoff from the environment.

    The shipped provider's stack settings (`huggingface:requestTimeout`, from 1 s) cannot go as
    low as these, and the backoff has none; the override is the only difference and touches
    client construction alone.
    """

    def _client(self) -> tuple[EndpointsApi, Any]:
        config = self._api_config()
        options: dict[str, Any] = {}
        timeout = _float_env("RELIABILITY_HTTP_TIMEOUT")
        if timeout is not None:
            options["timeout"] = timeout
        backoff = _float_env("RELIABILITY_BACKOFF")
        if backoff is not None:
            options["backoff_factor"] = backoff
        max_backoff = _float_env("RELIABILITY_MAX_BACKOFF")
        if max_backoff is not None:
            options["max_backoff"] = max_backoff
        with self._lock:
            if self._api is None:
                self._api = EndpointsApi.from_config(config, **options)
            return self._api, config


@functools.cache
def tuned_blob() -> str:
    """The `__provider` value of a program using `TunedProvider` (pickled by reference; computed
    after import, since dill pickles a class by value while its module is still importing)."""
    return str(serialize_provider(TunedProvider()))


@functools.cache
def real_blob() -> str:
    return str(serialize_provider(InferenceEndpointProvider()))


# --------------------------------------------------------------------------- property bags

BASE: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "authenticated",
    "instanceSize": "x2",
    "instanceType": "intel-spr",
}


def props(logical: str, blob: str | None = None, **values: Any) -> dict[str, Any]:
    """Program inputs as the engine sends them to Check (camelCase, `__provider` included)."""
    bag = {**BASE, **values}
    bag = {k: v for k, v in bag.items() if v is not None}
    bag[LOGICAL_NAME_KEY] = logical
    bag[PROVIDER_KEY] = blob if blob is not None else tuned_blob()
    return bag


def public(bag: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bag.items() if not k.startswith("__")}


__all__ = [
    "BASE",
    "DEFAULTS_KEY",
    "FIGURES",
    "PROVIDER_KEY",
    "TunedProvider",
    "props",
    "public",
    "real_blob",
    "scale",
    "scaled",
    "tuned_blob",
]
