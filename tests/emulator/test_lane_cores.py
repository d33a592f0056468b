"""The lanes' turns at the cores (no model): a wide prompt runs with no other lane's
`llama_decode` beside it, and is only taken when no lane is decoding. Conditions are
waited for, never timed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

pytest.importorskip("numpy")

from hf_endpoints_emulator.serving.backends.batching import Cores


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # only stops a broken run from hanging
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.005)


def test_a_lane_waits_while_a_wide_prompt_runs() -> None:
    cores = Cores()
    assert cores.try_alone()
    assert not cores.try_alone()  # one wide prompt at a time
    entered = threading.Event()

    def other_lane() -> None:
        with cores.shared():
            entered.set()

    thread = threading.Thread(target=other_lane)
    thread.start()
    wait_until(lambda: cores.waiting == 1, "the other lane waits")
    assert not entered.is_set()
    cores.done_alone()
    thread.join(60)
    assert entered.is_set() and cores.waiting == 0


def test_no_wide_prompt_while_a_lane_decodes() -> None:
    cores = Cores()
    with cores.shared(), cores.shared():  # two lanes decoding at once is fine
        assert not cores.try_alone()
    assert cores.try_alone()
    cores.done_alone()
    with cores.shared():
        pass  # nothing left waiting or held
