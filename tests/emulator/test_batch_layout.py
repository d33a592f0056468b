"""The layout of a decode step: llama.cpp computes each run of consecutive sequence ids as a
micro-batch of its own (a pass over the weights each), so a step's rows go in slot order and
small gaps of free slots are filled with throw-away rows."""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")

from hf_endpoints_emulator.serving.backends.batching import (
    MAX_GAP,
    Row,
    decode_rows,
    runs,
)


def layout(running: set[int], free: set[int], slots: int = 16) -> list[tuple[int, bool]]:
    return [(row.slot, row.filler) for row in decode_rows(running, free, slots)]


def test_runs_counts_what_llama_cpp_computes_apart() -> None:
    assert runs([]) == 0
    assert runs([0, 1, 2, 3]) == 1
    assert runs([3, 2, 1, 0]) == 4  # arrival order after a burst left: one pass each
    assert runs([0, 1, 3, 4]) == 2
    assert runs([5, 6, 7]) == 1


def test_rows_go_in_slot_order_whatever_order_the_sequences_came_in() -> None:
    rows = decode_rows([3, 0, 2, 1], set(range(4, 16)), 16)
    assert rows == [Row(0), Row(1), Row(2), Row(3)]


def test_a_small_gap_of_free_slots_is_filled_and_the_run_padded_to_a_multiple_of_4() -> None:
    running = {0, 1, 2, 5, 6}
    free = set(range(16)) - running
    assert layout(running, free) == [
        (0, False),
        (1, False),
        (2, False),
        (3, True),
        (4, True),
        (5, False),
        (6, False),
        (7, True),
    ]


def test_a_gap_wider_than_max_gap_or_held_by_another_sequence_stays() -> None:
    far = {0, MAX_GAP + 2}
    assert layout(far, set(range(16)) - far) == [(0, False), (MAX_GAP + 2, False)]
    # Slot 1 holds a sequence that is not decoding (its prompt is being processed).
    assert layout({0, 2}, set(range(3, 16))) == [(0, False), (2, False)]


def test_padding_takes_free_neighbours_below_when_above_is_taken() -> None:
    assert layout({3, 4, 5, 6, 7}, {0, 1, 2}, slots=8) == [
        (0, True),
        (1, True),
        (2, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
        (7, False),
    ]
    # Not enough free neighbours: no padding (it would split the step instead).
    assert layout({2, 3, 4, 5, 6}, {0, 7}, slots=8) == [(s, False) for s in range(2, 7)]
