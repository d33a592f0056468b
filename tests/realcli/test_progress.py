"""What the CLI shows while `up` waits for an endpoint, with the dynamic resource (Python): the
provider's status lines beside the resource, as the native provider's (test_native.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle

from .cli import CliStack
from .programs import PROJECT, endpoint, program

pytestmark = pytest.mark.realcli


def test_up_shows_the_state_and_replicas_while_it_waits(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    emulator.faults.set_timings(initializing_seconds=2)
    stack = make_stack(PROJECT, emulator=emulator, env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.1"})
    stack.write_program(program(endpoint("chat")))
    up = stack.up()
    lines = [line for line in up.output.splitlines() if "InferenceEndpoint chat" in line]
    assert any("endpoint initializing, 0/1 replicas ready" in line for line in lines), up.output
    assert any("endpoint running, 1/1 replicas ready" in line for line in lines), up.output
    # Status lines are the CLI's passing display, not diagnostics kept in the summary.
    assert "Diagnostics:" not in up.output
