"""Endpoint waits run side by side in Pulumi's provider host, beyond its own four workers.

Asserted by order, not by time: with four workers, the fifth Create cannot even send its POST
before one of the first four returns, so at most four endpoints exist until then.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pulumi_hf_endpoints import InferenceEndpoint
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.harness import ProviderHost, capture_program
from tests.provider.test_check_diff import GPT2

COUNT = 8


def _most_endpoints_before_first_create_returns(host: ProviderHost, emulator: Any) -> int:
    emulator.faults.set_timings(pending_seconds=0.5, initializing_seconds=2.0)

    def program() -> None:
        for i in range(COUNT):
            InferenceEndpoint(f"ep{i}", **GPT2)

    resources = capture_program(program)
    checked = [host.check(r.urn, {}, r.inputs).inputs for r in resources]
    first_return = threading.Event()
    errors: list[BaseException] = []

    def create(urn: str, inputs: dict[str, Any]) -> None:
        try:
            host.create(urn, inputs)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            first_return.set()

    threads = [
        threading.Thread(target=create, args=(r.urn, inputs))
        for r, inputs in zip(resources, checked, strict=True)
    ]
    for thread in threads:
        thread.start()
    most = 0
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        while not first_return.is_set():
            most = max(most, len(api.list_endpoints(emulator.user)))
            time.sleep(0.05)
    for thread in threads:
        thread.join(60)
    assert errors == []
    return most


def test_creates_wait_side_by_side(live_host: ProviderHost, emulator: Any) -> None:
    assert _most_endpoints_before_first_create_returns(live_host, emulator) > 4


def test_host_workers_setting_keeps_pulumis_limit(emulator: Any) -> None:
    with ProviderHost(env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}) as host:
        host.configure(
            {
                "huggingface:token": emulator.token,
                "huggingface:apiUrl": emulator.api_url,
                "huggingface:hostWorkers": "4",
            },
            secret_keys=["huggingface:token"],
        )
        assert _most_endpoints_before_first_create_returns(host, emulator) <= 4


def test_widening_starts_the_calls_already_queued() -> None:
    """The host's first call runs `configure()`, which widens the pool; calls queued before that
    (a destroy sends all its Deletes at once) must start too, not wait for a free worker."""
    from concurrent.futures import ThreadPoolExecutor

    from pulumi_hf_endpoints.hostpool import widen_current_pool

    all_queued = threading.Event()
    together = threading.Barrier(COUNT, timeout=20)
    widened: list[tuple[int, int] | None] = []

    def call(i: int) -> None:
        if i == 0:  # the first call configures the provider once every call is queued
            all_queued.wait(20)
            widened.append(widen_current_pool(32))
        together.wait()  # fails unless all COUNT calls run at the same time

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(call, i) for i in range(COUNT)]
        all_queued.set()
        for future in futures:
            future.result(timeout=60)
    assert widened == [(4, 32)]


def test_widening_outside_a_pool_changes_nothing() -> None:
    from pulumi_hf_endpoints.hostpool import widen_current_pool

    assert widen_current_pool(32) is None
