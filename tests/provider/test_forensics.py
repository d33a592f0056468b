"""Failure forensics through Pulumi's provider host: when a deployment fails or the wait times
out, the error carries the endpoint's last log lines (read before a rollback deletes it), with
no secret value; logs that cannot be read never hide the original error."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_hf_endpoints.forensics import MAX_LINES
from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of, names_in

OOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB"
SECRET = "sk-live-forensics-4f3e2d1c"
HEADING = "Last log lines of {user}/{name}:"


def quoted(message: str) -> list[str]:
    """The log lines quoted in an error message."""
    return [line[2:] for line in message.splitlines() if line.startswith("| ")]


def assert_no_secret(message: str, emulator: Any) -> None:
    assert SECRET not in message
    assert emulator.token not in message


def test_a_failed_create_reports_the_logs_read_before_the_rollback(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    emulator.faults.fail_deployments(1, f"{OOM}\nthe key is {SECRET}", operations=["create"])
    res = declare("chat", **GPT2, name="oom-create", secrets={"API_KEY": SECRET})
    with pytest.raises(ProviderError) as info:
        engine.up(res.urn, res.inputs)
    message = info.value.message
    # The service's own message first (it quotes the container: redacted too), then what was
    # done, then the logs.
    assert f"failed to deploy: {OOM}" in message.splitlines()[0]
    assert "the key is ***; the endpoint" in message
    assert "was deleted so that it does not keep billing" in message
    assert HEADING.format(user=emulator.user, name="oom-create") in message
    lines = quoted(message)
    assert 0 < len(lines) <= MAX_LINES
    assert any(OOM in line and "ERROR" in line for line in lines)
    assert any("Loading model weights from gpt2" in line for line in lines)
    assert any("the key is ***" in line for line in lines)  # the secret's value, redacted
    assert_no_secret(message, emulator)
    # The lines could only be read while the endpoint existed: it is gone now.
    assert names_in(emulator) == set()


def test_a_failed_update_reports_the_logs(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="oom-update", secrets={"API_KEY": SECRET})
    engine.up(res.urn, res.inputs)
    emulator.faults.fail_deployments(1, OOM, operations=["update"])
    bigger = declare("chat", **GPT2, name="oom-update", secrets={"API_KEY": SECRET}, max_replica=3)
    with pytest.raises(ProviderError) as info:
        engine.up(bigger.urn, bigger.inputs)
    message = info.value.message
    assert f"failed to update: {OOM}" in message.splitlines()[0]
    assert "run `pulumi up` again" in message
    lines = quoted(message)
    assert any("Rolling out a new configuration" in line for line in lines)
    assert any(OOM in line for line in lines)
    assert_no_secret(message, emulator)
    engine.destroy_all()


def test_a_failed_resume_reports_the_logs(live_host: ProviderHost, emulator: Any) -> None:
    engine = Engine(live_host)
    paused = declare("batch", **GPT2, name="oom-resume", paused=True)
    engine.up(paused.urn, paused.inputs)
    emulator.faults.fail_deployments(1, OOM, operations=["resume"])
    running = declare("batch", **GPT2, name="oom-resume")
    with pytest.raises(ProviderError) as info:
        engine.up(running.urn, running.inputs)
    message = info.value.message
    assert f"failed to deploy: {OOM}" in message.splitlines()[0]
    lines = quoted(message)
    assert any("Endpoint paused" in line for line in lines)
    assert any(OOM in line for line in lines)
    engine.destroy_all()


def test_a_wait_timeout_reports_the_logs(live_host: ProviderHost, emulator: Any) -> None:
    """The endpoint initializes for an hour: a wait of half a second times out whatever the
    machine's speed."""
    engine = Engine(live_host)
    emulator.faults.set_timings(initializing_seconds=3600)
    res = declare("chat", **GPT2, name="slow-start", wait_timeout=0.5)
    with pytest.raises(ProviderError) as info:
        engine.up(res.urn, res.inputs)
    message = info.value.message
    assert "waiting for it to be running" in message.splitlines()[0]
    assert HEADING.format(user=emulator.user, name="slow-start") in message
    assert any("Scheduling replica" in line for line in quoted(message))
    assert names_in(emulator) == set()


def test_a_wait_timeout_of_an_update_reports_the_logs(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="slow-update", wait_timeout=60)
    engine.up(res.urn, res.inputs)
    emulator.faults.set_timings(updating_seconds=3600)
    changed = declare("chat", **GPT2, name="slow-update", wait_timeout=0.5, max_replica=3)
    with pytest.raises(ProviderError) as info:
        engine.up(changed.urn, changed.inputs)
    message = info.value.message
    assert "updating endpoint" in message.splitlines()[0]
    assert "waiting for it to be running" in message.splitlines()[0]
    assert any("Rolling out a new configuration" in line for line in quoted(message))
    emulator.faults.set_timings(updating_seconds=0.2)
    engine.destroy_all()


def test_logs_that_cannot_be_read_leave_the_original_error(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    emulator.faults.respond(
        500, method="GET", path="/v2/endpoint/*/logs", times=None, message=f"logs down {SECRET}"
    )
    emulator.faults.fail_deployments(1, OOM, operations=["create"])
    res = declare("chat", **GPT2, name="no-logs", secrets={"API_KEY": SECRET})
    with pytest.raises(ProviderError) as info:
        engine.up(res.urn, res.inputs)
    message = info.value.message
    lines = message.splitlines()
    assert f"failed to deploy: {OOM}" in lines[0]
    assert "was deleted so that it does not keep billing" in lines[0]
    assert "Last log lines" not in message and quoted(message) == []
    # One short line says why there are no logs; the secret is not in it.
    assert len(lines) == 2 and lines[1].startswith("(its logs could not be read: 500")
    assert_no_secret(message, emulator)
    assert names_in(emulator) == set()
    (rule,) = [f for f in emulator.faults.list() if f["type"] == "response"]
    assert rule["fired"] >= 1  # the logs were asked for, and refused


def test_failures_that_are_not_deployments_carry_no_logs(
    live_host: ProviderHost, emulator: Any
) -> None:
    """A refused update (400) is the service's answer, not a container's: no logs are read."""
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="refused")
    engine.up(res.urn, res.inputs)
    emulator.faults.respond(400, method="PUT", path="/v2/endpoint/*", message="bad size")
    changed = declare("chat", **GPT2, name="refused", max_replica=3)
    with pytest.raises(ProviderError) as info:
        engine.up(changed.urn, changed.inputs)
    assert "bad size" in info.value.message
    assert "Last log lines" not in info.value.message
    with api_of(emulator) as api:
        assert api.get_logs(emulator.user, "refused")  # logs there were, but not for this
    engine.destroy_all()
