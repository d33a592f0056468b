"""Shared fixtures: a real emulator per test, and an environment that cannot leak credentials.

The environment is cleaned when this file is imported, before any test module imports
huggingface_hub (which reads some variables at import time): no test sees the developer's
token, stored token file or Hub URL, and nothing runs offline by accident.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle, run_emulator

for _var in (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_ENDPOINT",
    "HF_ENDPOINTS_API_URL",
    "HF_HUB_OFFLINE",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
):
    os.environ.pop(_var, None)
os.environ["HF_TOKEN_PATH"] = os.path.join(tempfile.mkdtemp(prefix="no-hf-token-"), "token")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_EXPERIMENTAL_WARNING"] = "1"

#: Lifecycle phases of the `emulator` fixture, in seconds: fast, yet long enough to observe.
FAST_TIMINGS: dict[str, float] = {
    "pending_seconds": 0.2,
    "initializing_seconds": 0.2,
    "updating_seconds": 0.2,
    "resume_seconds": 0.2,
    "wake_seconds": 0.2,
    # 15 minutes (the shortest scale-to-zero timeout) last 1.5 s.
    "time_scale": 1.5 / (15 * 60),
}


# Garbage and pauses. A stopped in-process emulator leaves ~1,800 objects in reference cycles
# (FastAPI's per-app routes: fields, validators, dependants). Left to the cyclic collector, the
# garbage of a few emulators went with full collections that scanned the whole heap (~220k
# objects after the imports) and stopped every thread for 200-450 ms, in the middle of a later
# test: the emulator's lifecycle follows the wall clock, so a 0.2 s phase passed unseen. So: the
# heap as imported is frozen (never scanned again), and emulators' garbage is freed when they
# stop, between tests, where a pause disturbs nothing.


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True, scope="module")
def _free_module_garbage() -> Iterator[None]:
    """Module-scoped emulators stop after the module's last test: free what they leave."""
    yield
    gc.collect()


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., EmulatorHandle]]:
    """Start emulators with overrides (`EmulatorConfig` or `Timings` fields); all stop after."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> EmulatorHandle:
            options: dict[str, Any] = {"backend": "synthetic", **FAST_TIMINGS, **overrides}
            return stack.enter_context(run_emulator(**options))

        yield start
    gc.collect()  # the stopped emulators' cycles, now rather than mid-test later


@pytest.fixture
def emulator(make_emulator: Callable[..., EmulatorHandle]) -> EmulatorHandle:
    """A fresh in-process emulator on a free port: synthetic serving, fast timings, `:memory:`."""
    return make_emulator()
