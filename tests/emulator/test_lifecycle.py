"""The endpoint state machine: derived from timestamps (pure), then over HTTP with real timers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.emulator import lifecycle as lc
from pulumi_hf_endpoints.emulator.config import Timings
from pulumi_hf_endpoints.emulator.testing import EmulatorHandle, loopback_client

T = Timings(
    pending_seconds=10,
    initializing_seconds=20,
    updating_seconds=5,
    resume_seconds=7,
    wake_seconds=3,
    time_scale=1 / 60,
)
ONE = lc.Scaling(min_replica=1, scale_to_zero_minutes=None)
ZERO_15 = lc.Scaling(min_replica=0, scale_to_zero_minutes=15)  # 15 s with time_scale 1/60


def states(
    schedule: lc.Schedule, scaling: lc.Scaling, times: list[float], **kwargs: Any
) -> list[str]:
    return [lc.observe(schedule, scaling, T, t, **kwargs).state for t in times]


def test_deploy_goes_pending_initializing_running() -> None:
    schedule = lc.deploy(100, T)
    assert states(schedule, ONE, [100, 109.9, 110, 129.9, 130, 10_000]) == [
        "pending",
        "pending",
        "initializing",
        "initializing",
        "running",
        "running",
    ]
    running = lc.observe(schedule, lc.Scaling(3, None), T, 200)
    assert (running.ready_replica, running.target_replica, running.since) == (3, 3, 130)
    pending = lc.observe(schedule, lc.Scaling(3, None), T, 101)
    assert (pending.ready_replica, pending.target_replica, pending.message) == (
        0,
        3,
        "Endpoint waiting to be scheduled",
    )


def test_failed_deployment_carries_its_message() -> None:
    observed = lc.observe(lc.deploy(0, T, error="OOM"), ONE, T, 31)
    assert (observed.state, observed.error, observed.ready_replica, observed.target_replica) == (
        "failed",
        "OOM",
        0,
        1,
    )
    assert not observed.serving
    assert lc.observe(lc.deploy(0, T, error="OOM"), ONE, T, 29).state == "initializing"


def test_roll_out_keeps_old_replicas_serving_then_fails_or_runs() -> None:
    ok = lc.roll_out(0, T, ready=2)
    during = lc.observe(ok, lc.Scaling(4, None), T, 1)
    assert (during.state, during.ready_replica, during.target_replica, during.serving) == (
        "updating",
        2,
        4,
        True,
    )
    assert lc.observe(ok, lc.Scaling(4, None), T, 5).ready_replica == 4
    failed = lc.observe(lc.roll_out(0, T, ready=2, error="bad image"), ONE, T, 6)
    assert (failed.state, failed.error, failed.ready_replica, failed.serving) == (
        "updateFailed",
        "bad image",
        2,
        True,
    )


def test_pause_and_scale_to_zero_have_no_replicas() -> None:
    for final in ("paused", "scaledToZero"):
        observed = lc.observe(lc.settle(5, final), ONE, T, 6)
        assert (
            observed.state,
            observed.ready_replica,
            observed.target_replica,
            observed.since,
        ) == (final, 0, 0, 5)


def test_resume_and_wake_schedules() -> None:
    assert states(lc.resume(0, T), ONE, [1, 12, 17]) == ["pending", "initializing", "running"]
    assert states(lc.wake(0, T), ONE, [1, 3]) == ["initializing", "running"]


def test_auto_scale_to_zero_after_idle_timeout() -> None:
    schedule = lc.deploy(0, T)  # running at 30, idle timeout 15 s
    assert states(schedule, ZERO_15, [44.9, 45]) == ["running", "scaledToZero"]
    assert lc.observe(schedule, ZERO_15, T, 50).since == 45
    # Activity pushes the deadline; a request in flight holds it.
    assert states(schedule, ZERO_15, [50, 54.9, 55], last_activity=40) == [
        "running",
        "running",
        "scaledToZero",
    ]
    assert states(schedule, ZERO_15, [100], last_activity=40, busy=True) == ["running"]
    # minReplica > 0 never scales to zero; minReplica 0 without a timeout uses the default 15 min.
    assert states(schedule, lc.Scaling(1, 15), [10_000]) == ["running"]
    assert states(schedule, lc.Scaling(0, None), [44.9, 45]) == ["running", "scaledToZero"]


def test_schedule_round_trips_through_json() -> None:
    schedule = lc.roll_out(12.5, T, ready=3, error="x")
    assert lc.Schedule.from_json(schedule.to_json()) == schedule


# The same over HTTP, with real timers


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    with loopback_client(
        base_url=f"{emulator.base_url}/v2/endpoint/{emulator.user}",
        headers=emulator.headers,
        timeout=10,
    ) as c:
        yield c


def body(name: str, min_replica: int = 1, timeout: int | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": "public",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-spr",
            "instanceSize": "x1",
            "scaling": {"minReplica": min_replica, "maxReplica": 2, "scaleToZeroTimeout": timeout},
        },
        "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
    }


def create(client: httpx.Client, endpoint: dict[str, Any]) -> dict[str, Any]:
    response = client.post(str(client.base_url).rstrip("/"), json=endpoint)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def watch(client: httpx.Client, name: str, until: str, timeout: float = 10) -> list[str]:
    """Poll the endpoint and return the distinct states seen, in order, until `until`."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/{name}").json()["status"]["state"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == until:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"{name} never reached {until}: {seen}")


def test_create_runs_through_the_states(client: httpx.Client) -> None:
    create(client, body("ep"))
    assert watch(client, "ep", "running") == ["pending", "initializing", "running"]
    status = client.get("/ep").json()["status"]
    assert (status["readyReplica"], status["targetReplica"], status["message"]) == (
        1,
        1,
        "Endpoint is ready",
    )


def test_update_pause_resume_scale(client: httpx.Client) -> None:
    create(client, body("ep"))
    watch(client, "ep", "running")
    updated = client.put("/ep", json={"compute": {"scaling": {"minReplica": 2}}}).json()["status"]
    assert (updated["state"], updated["readyReplica"], updated["targetReplica"]) == (
        "updating",
        1,
        2,
    )
    assert watch(client, "ep", "running") == ["updating", "running"]
    assert client.get("/ep").json()["status"]["readyReplica"] == 2

    paused = client.post("/ep/pause").json()["status"]
    assert (paused["state"], paused["readyReplica"], paused["targetReplica"]) == ("paused", 0, 0)
    assert client.post("/ep/pause").json()["status"]["state"] == "paused"  # idempotent
    assert client.post("/ep/scale-to-zero").json()["status"]["state"] == "paused"  # stays paused
    updated_while_paused = client.put(
        "/ep", json={"compute": {"scaling": {"maxReplica": 3}}}
    ).json()
    assert updated_while_paused["status"]["state"] == "paused"
    assert client.post("/ep/resume").json()["status"]["state"] == "pending"
    assert watch(client, "ep", "running")[-2:] == ["initializing", "running"]
    already = client.post("/ep/resume")
    assert already.status_code == 400 and "already running" in already.json()["error"]

    scaled = client.post("/ep/scale-to-zero").json()["status"]
    assert (scaled["state"], scaled["readyReplica"], scaled["targetReplica"]) == (
        "scaledToZero",
        0,
        0,
    )
    assert client.post("/ep/resume").json()["status"]["state"] == "pending"
    watch(client, "ep", "running")


def test_update_during_deployment_restarts_it(
    client: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.faults.set_timings(pending_seconds=0.4)
    create(client, body("ep"))
    time.sleep(0.2)
    restarted = client.put("/ep", json={"model": {"revision": "abc"}}).json()["status"]
    assert restarted["state"] == "pending"
    assert watch(client, "ep", "running") == ["pending", "initializing", "running"]


def test_failed_endpoint_can_be_resumed(client: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.faults.fail_deployments(message="CUDA out of memory", operations=["create"])
    create(client, body("ep"))
    assert watch(client, "ep", "failed") == ["pending", "initializing", "failed"]
    status = client.get("/ep").json()["status"]
    assert (status["errorMessage"], status["message"], status["readyReplica"]) == (
        "CUDA out of memory",
        "Endpoint failed to start",
        0,
    )
    client.post("/ep/resume")
    watch(client, "ep", "running")
    assert client.get("/ep").json()["status"]["errorMessage"] is None


def test_update_failure_then_fix(client: httpx.Client, emulator: EmulatorHandle) -> None:
    create(client, body("ep"))
    watch(client, "ep", "running")
    emulator.faults.fail_deployments(message="bad revision", operations=["update"])
    client.put("/ep", json={"model": {"revision": "broken"}})
    assert watch(client, "ep", "updateFailed") == ["updating", "updateFailed"]
    assert client.get("/ep").json()["status"]["errorMessage"] == "bad revision"
    client.put("/ep", json={"model": {"revision": "fixed"}})
    assert watch(client, "ep", "running") == ["updating", "running"]


def test_failed_update_sent_again_changes_nothing_and_pause_resume_redeploys(
    client: httpx.Client, emulator: EmulatorHandle
) -> None:
    """The service keeps the configuration of a failed update: the same PUT again is nothing to
    do. Pausing and resuming (the console's advice for an endpoint in error) redeploys it."""
    create(client, body("ep"))
    watch(client, "ep", "running")
    emulator.faults.fail_deployments(message="bad revision", operations=["update"])
    client.put("/ep", json={"model": {"revision": "broken"}})
    watch(client, "ep", "updateFailed")
    again = client.put("/ep", json={"model": {"revision": "broken"}}).json()["status"]
    assert (again["state"], again["errorMessage"]) == ("updateFailed", "bad revision")
    paused = client.post("/ep/pause").json()["status"]
    assert (paused["state"], paused["errorMessage"]) == ("paused", None)
    assert client.post("/ep/resume").json()["status"]["state"] == "pending"
    watch(client, "ep", "running")
    assert client.get("/ep").json()["model"]["revision"] == "broken"  # the kept configuration


def test_empty_update_changes_nothing(client: httpx.Client) -> None:
    create(client, body("ep"))
    watch(client, "ep", "running")
    before = client.get("/ep").json()
    after = client.put("/ep", json={}).json()
    assert after["status"]["state"] == "running"
    assert after["status"]["updatedAt"] == before["status"]["updatedAt"]


def test_updated_at_moves_with_transitions(client: httpx.Client) -> None:
    created = create(client, body("ep"))["status"]
    watch(client, "ep", "running")
    running = client.get("/ep").json()["status"]
    assert running["createdAt"] == created["createdAt"]
    assert running["updatedAt"] > created["updatedAt"]


def test_auto_scale_to_zero_after_idle_minutes(
    make_emulator: Callable[..., EmulatorHandle],
) -> None:
    emu = make_emulator(time_scale=0.5 / (15 * 60))  # 15 minutes last 0.5 s
    with loopback_client(
        base_url=f"{emu.base_url}/v2/endpoint/{emu.user}", headers=emu.headers, timeout=10
    ) as client:
        create(client, body("idle", min_replica=0, timeout=15))
        create(client, body("kept", min_replica=1, timeout=15))
        assert watch(client, "idle", "scaledToZero") == [
            "pending",
            "initializing",
            "running",
            "scaledToZero",
        ]
        time.sleep(0.3)
        assert client.get("/kept").json()["status"]["state"] == "running"
