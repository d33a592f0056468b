"""Endpoint waits run side by side in Pulumi's provider host, beyond its own four workers.

Asserted by what the service saw, not by time: the emulator holds each create's POST until a
given number of them are in flight together (a `gather` fault), and counts whether they ever were.
"""

from __future__ import annotations

import threading
from typing import Any

from pulumi_hf_endpoints import InferenceEndpoint
from tests.harness import ProviderHost, capture_program
from tests.provider.test_check_diff import GPT2

COUNT = 8


def _gathered_creates(host: ProviderHost, emulator: Any, count: int, seconds: float) -> Any:
    """Create COUNT endpoints at once through `host`, the emulator holding each POST until
    `count` of them wait together (or `seconds` pass); the fault rule's record afterwards."""
    emulator.faults.gather(
        count, method="POST", path=f"/v2/endpoint/{emulator.user}", seconds=seconds
    )

    def program() -> None:
        for i in range(COUNT):
            InferenceEndpoint(f"ep{i}", **GPT2)

    resources = capture_program(program)
    checked = [host.check(r.urn, {}, r.inputs).inputs for r in resources]
    errors: list[BaseException] = []

    def create(urn: str, inputs: dict[str, Any]) -> None:
        try:
            host.create(urn, inputs)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=create, args=(r.urn, inputs))
        for r, inputs in zip(resources, checked, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    (rule,) = emulator.faults.list()
    return rule


def test_creates_wait_side_by_side(live_host: ProviderHost, emulator: Any) -> None:
    rule = _gathered_creates(live_host, emulator, count=COUNT, seconds=60)
    assert (rule["gathered"], rule["timedOut"]) == (COUNT, 0)  # all eight POSTs at once


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
        rule = _gathered_creates(host, emulator, count=5, seconds=2)
    # Never five POSTs in flight together: each waited alone until it gave up.
    assert (rule["gathered"], rule["timedOut"]) == (0, COUNT)


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
