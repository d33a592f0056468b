"""A failed deployment does not wedge the stack: the next `pulumi up` redeploys the endpoint.

The service keeps the configuration of an update that failed to deploy, so sending the same
update again changes nothing and the endpoint stays `updateFailed`. The provider restarts a
failed endpoint (pause, then resume, as the console advises) and waits for it again.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of


def live_state(emulator: Any, name: str) -> dict[str, Any]:
    with api_of(emulator) as api:
        return api.get_endpoint(emulator.user, name)


def test_update_that_failed_once_converges_on_the_next_up(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="flaky-update")
    engine.up(res.urn, res.inputs)
    emulator.faults.fail_deployments(1, "CUDA out of memory", operations=["update"])
    bigger = declare("chat", **GPT2, name="flaky-update", max_replica=3)
    with pytest.raises(ProviderError) as info:
        engine.up(bigger.urn, bigger.inputs)
    assert "failed to update: CUDA out of memory" in info.value.message
    assert "run `pulumi up` again" in info.value.message
    assert live_state(emulator, "flaky-update")["status"]["state"] == "updateFailed"

    step = engine.up(bigger.urn, bigger.inputs)  # the same program, nothing else done
    assert step.op == "update" and step.outputs is not None
    assert step.outputs["status"] == "running" and step.outputs["maxReplica"] == 3
    live = live_state(emulator, "flaky-update")
    assert live["status"]["state"] == "running"
    assert live["compute"]["scaling"]["maxReplica"] == 3
    assert engine.preview(bigger.urn, bigger.inputs).op == "same"
    engine.destroy_all()


def test_after_a_refresh_the_failed_status_alone_plans_the_redeployment(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="refreshed-failure")
    engine.up(res.urn, res.inputs)
    emulator.faults.fail_deployments(1, "image pull failed", operations=["update"])
    changed = declare("chat", **GPT2, name="refreshed-failure", revision="abc123")
    with pytest.raises(ProviderError):
        engine.up(changed.urn, changed.inputs)

    refreshed = engine.refresh(changed.urn)
    assert refreshed.outputs is not None and refreshed.outputs["status"] == "updateFailed"
    # The service kept the new configuration (the stored inputs are those of the last success).
    assert refreshed.outputs["revision"] == "abc123" and "revision" not in refreshed.inputs
    plan = engine.preview(changed.urn, changed.inputs)
    assert plan.op == "update"  # nothing differs from the program but the status
    step = engine.up(changed.urn, changed.inputs)
    assert step.outputs is not None and step.outputs["status"] == "running"
    assert live_state(emulator, "refreshed-failure")["status"]["state"] == "running"
    assert engine.preview(changed.urn, changed.inputs).op == "same"
    engine.destroy_all()


def test_endpoint_that_failed_to_start_is_restarted_by_the_next_up(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    paused = declare("batch", **GPT2, name="failed-resume", paused=True)
    engine.up(paused.urn, paused.inputs)
    emulator.faults.fail_deployments(1, "no capacity", operations=["resume"])
    running = declare("batch", **GPT2, name="failed-resume")
    with pytest.raises(ProviderError) as info:
        engine.up(running.urn, running.inputs)
    assert "failed to deploy: no capacity" in info.value.message
    assert live_state(emulator, "failed-resume")["status"]["state"] == "failed"

    step = engine.up(running.urn, running.inputs)
    assert step.outputs is not None and step.outputs["status"] == "running"
    assert live_state(emulator, "failed-resume")["status"]["state"] == "running"
    engine.destroy_all()


def test_a_failed_endpoint_meant_to_be_paused_is_paused(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="failed-then-paused")
    engine.up(res.urn, res.inputs)
    emulator.faults.fail_deployments(1, "boom", operations=["update"])
    changed = declare("chat", **GPT2, name="failed-then-paused", max_replica=2)
    with pytest.raises(ProviderError):
        engine.up(changed.urn, changed.inputs)
    paused = declare("chat", **GPT2, name="failed-then-paused", max_replica=2, paused=True)
    step = engine.up(paused.urn, paused.inputs)
    assert step.outputs is not None and step.outputs["status"] == "paused"
    assert live_state(emulator, "failed-then-paused")["status"]["state"] == "paused"
    engine.destroy_all()


def test_updating_an_endpoint_deleted_elsewhere_says_to_refresh(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="deleted-elsewhere")
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        api.delete_endpoint(emulator.user, "deleted-elsewhere")
    changed = declare("chat", **GPT2, name="deleted-elsewhere", max_replica=2)
    with pytest.raises(ProviderError) as info:
        engine.up(changed.urn, changed.inputs)
    message = info.value.message
    assert "no longer exists" in message and "`pulumi refresh`" in message
    assert "404" not in message
    assert engine.refresh(changed.urn).op == "removed"
    assert engine.up(changed.urn, changed.inputs).op == "create"
    engine.destroy_all()
