"""How the lanes talk with the event loop (no model): every lane's outputs for one loop go
through its mailbox, which wakes the loop only when it is not already due to empty it and
gives back what a closed loop will never read; requests on their way count until they
arrive or their window ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("numpy")

from hf_endpoints_emulator.serving.backends.base import Step
from hf_endpoints_emulator.serving.backends.batching import (
    ARRIVAL_WINDOW,
    PREFILLED,
    Arrivals,
    Generation,
    Mailbox,
    mailbox,
)


class HeldLoop:
    """An event loop stand-in that only records what it was asked to run."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], object]] = []
        self.closed = False

    def call_soon_threadsafe(self, callback: Callable[[], object]) -> None:
        if self.closed:
            raise RuntimeError("Event loop is closed")
        self.callbacks.append(callback)

    def run(self) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()


def generation(inbox: list[Any]) -> Generation:
    return Generation([1, 2, 3], False, receive=inbox.append)


def test_a_busy_loop_is_woken_once_for_every_lane_s_outputs() -> None:
    loop = HeldLoop()
    box = Mailbox(loop)  # type: ignore[arg-type]
    a_inbox: list[Any] = []
    b_inbox: list[Any] = []
    a, b = generation(a_inbox), generation(b_inbox)
    step = Step(7, -0.5, [])
    assert box.post([(a, PREFILLED), (a, step)]) == []
    assert box.post([(b, PREFILLED)]) == []  # the loop has not run yet: no second wake-up
    assert len(loop.callbacks) == 1 and a_inbox == [] and b_inbox == []
    loop.run()
    assert a_inbox == [PREFILLED, step] and b_inbox == [PREFILLED]
    assert box.post([(b, None)]) == []  # emptied since: this one wakes it again
    assert len(loop.callbacks) == 1
    loop.run()
    assert b_inbox == [PREFILLED, None]


def test_a_closed_loop_gives_back_what_nobody_will_read() -> None:
    loop = HeldLoop()
    box = Mailbox(loop)  # type: ignore[arg-type]
    inbox: list[Any] = []
    a = generation(inbox)
    loop.closed = True
    assert box.post([(a, PREFILLED)]) == [(a, PREFILLED)]
    loop.closed = False  # nothing is left behind: the next post wakes the loop again
    assert box.post([(a, None)]) == [] and len(loop.callbacks) == 1
    loop.run()
    assert inbox == [None]


def test_each_event_loop_has_one_mailbox() -> None:
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        assert mailbox(first) is mailbox(first)
        assert mailbox(first) is not mailbox(second)
    finally:
        first.close()
        second.close()


def test_a_request_on_its_way_counts_until_it_arrives_or_its_window_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hf_endpoints_emulator.serving.backends import batching

    now = [100.0]
    monkeypatch.setattr(batching.time, "monotonic", lambda: now[0])
    woken: list[int] = []
    arrivals = Arrivals(lambda: woken.append(1))
    assert arrivals.remaining() == 0
    first = arrivals.begin()
    now[0] += 0.01
    second = arrivals.begin()
    assert arrivals.remaining() == pytest.approx(ARRIVAL_WINDOW)  # the youngest counts
    second()
    assert woken == [1]
    assert arrivals.remaining() == pytest.approx(ARRIVAL_WINDOW - 0.01)
    second()  # once only
    assert woken == [1]
    now[0] += ARRIVAL_WINDOW  # the first never arrived (it failed): it stops counting
    assert arrivals.remaining() == 0
    first()
    assert woken == [1]
