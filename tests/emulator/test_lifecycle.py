"""The endpoint state machine: derived from timestamps (pure), then over HTTP with real timers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hf_endpoints_emulator import lifecycle as lc
from hf_endpoints_emulator.config import Timings
from hf_endpoints_emulator.testing import EmulatorHandle, run_emulator
from tests.conftest import FAST_TIMINGS
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

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


# The same over HTTP, with real timers. Sequences of states are read from the emulator's record
# of transitions (`Endpoints.watch`), never sampled: a busy machine cannot make a test miss one.


def test_transitions_list_every_phase_with_its_start() -> None:
    schedule = lc.deploy(100, T)  # pending 10 s, initializing 20 s, running from 130
    assert lc.transitions(schedule, ONE, T, 99.9) == []
    assert lc.transitions(schedule, ONE, T, 100) == [("pending", 100)]
    assert lc.transitions(schedule, ONE, T, 10_000) == [
        ("pending", 100),
        ("initializing", 110),
        ("running", 130),
    ]
    assert lc.transitions(schedule, ZERO_15, T, 10_000) == [
        ("pending", 100),
        ("initializing", 110),
        ("running", 130),
        ("scaledToZero", 145),
    ]
    # A phase of zero length is never observable, so it is not listed.
    instant = Timings(pending_seconds=0, initializing_seconds=1, time_scale=1)
    assert [s for s, _ in lc.transitions(lc.deploy(0, instant), ONE, instant, 5)] == [
        "initializing",
        "running",
    ]
    failed = lc.roll_out(0, T, ready=1, error="x")
    assert lc.transitions(failed, ONE, T, 9) == [("updating", 0), ("updateFailed", 5)]


@pytest.mark.parametrize(
    "schedule",
    [lc.deploy(0, T), lc.deploy(0, T, "e"), lc.roll_out(0, T, 2), lc.wake(0, T), lc.resume(0, T)],
)
def test_last_transition_is_what_observe_sees(schedule: lc.Schedule) -> None:
    for now in [x / 4 for x in range(0, 400)]:
        for scaling in (ONE, ZERO_15):
            listed = lc.transitions(schedule, scaling, T, now)
            observed = lc.observe(schedule, scaling, T, now)
            if listed:
                assert listed[-1] == (observed.state, observed.since)
            assert [at for _, at in listed] == sorted(at for _, at in listed)


@pytest.fixture
def endpoints(emulator: EmulatorHandle) -> Iterator[Endpoints]:
    client = Endpoints(emulator)
    yield client
    client.close()


def body(name: str, min_replica: int = 1, timeout: int | None = None) -> dict[str, Any]:
    return endpoint_body(name, min_replica=min_replica, scale_to_zero_timeout=timeout)


def path(endpoints: Endpoints, name: str, action: str = "") -> str:
    suffix = f"/{action}" if action else ""
    return f"/v2/endpoint/{endpoints.namespace}/{name}{suffix}"


def test_create_runs_through_the_states(endpoints: Endpoints) -> None:
    endpoints.create(body("ep"))
    assert endpoints.watch("ep", "running") == ["pending", "initializing", "running"]
    status = endpoints.get("ep")["status"]
    assert (status["readyReplica"], status["targetReplica"], status["message"]) == (
        1,
        1,
        "Endpoint is ready",
    )
    (pending, p_at), (initializing, i_at), (running, r_at) = endpoints.transitions("ep")
    assert (pending, initializing, running) == ("pending", "initializing", "running")
    # The fixture's timings: pending and initializing last 0.2 s each.
    assert i_at - p_at == pytest.approx(0.2) and r_at - i_at == pytest.approx(0.2)


def test_update_pause_resume_scale(endpoints: Endpoints) -> None:
    http = endpoints.http
    endpoints.create(body("ep"))
    endpoints.watch("ep", "running")
    mark = endpoints.mark("ep")
    updated = endpoints.update("ep", {"compute": {"scaling": {"minReplica": 2}}})["status"]
    assert (updated["state"], updated["readyReplica"], updated["targetReplica"]) == (
        "updating",
        1,
        2,
    )
    assert endpoints.watch("ep", "running", since=mark) == ["updating", "running"]
    assert endpoints.get("ep")["status"]["readyReplica"] == 2

    paused = endpoints.action("ep", "pause")["status"]
    assert (paused["state"], paused["readyReplica"], paused["targetReplica"]) == ("paused", 0, 0)
    assert endpoints.action("ep", "pause")["status"]["state"] == "paused"  # idempotent
    assert endpoints.action("ep", "scale-to-zero")["status"]["state"] == "paused"  # stays paused
    updated_while_paused = endpoints.update("ep", {"compute": {"scaling": {"maxReplica": 3}}})
    assert updated_while_paused["status"]["state"] == "paused"
    mark = endpoints.mark("ep")
    assert endpoints.action("ep", "resume")["status"]["state"] == "pending"
    assert endpoints.watch("ep", "running", since=mark) == ["pending", "initializing", "running"]
    already = http.post(path(endpoints, "ep", "resume"))
    assert already.status_code == 400 and "already running" in already.json()["error"]

    scaled = endpoints.action("ep", "scale-to-zero")["status"]
    assert (scaled["state"], scaled["readyReplica"], scaled["targetReplica"]) == (
        "scaledToZero",
        0,
        0,
    )
    mark = endpoints.mark("ep")
    assert endpoints.action("ep", "resume")["status"]["state"] == "pending"
    assert endpoints.watch("ep", "running", since=mark) == ["pending", "initializing", "running"]
    assert [state for state, _ in endpoints.transitions("ep")] == [
        "pending",
        "initializing",
        "running",
        "updating",
        "running",
        "paused",
        "pending",
        "initializing",
        "running",
        "scaledToZero",
        "pending",
        "initializing",
        "running",
    ]


def test_update_during_deployment_restarts_it(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    # A pending phase far longer than the test: the update surely arrives while it lasts.
    emulator.faults.set_timings(pending_seconds=600)
    endpoints.create(body("ep"))
    emulator.faults.set_timings(pending_seconds=0.2)  # the restarted deployment is quick
    mark = endpoints.mark("ep")
    restarted = endpoints.update("ep", {"model": {"revision": "abc"}})["status"]
    assert restarted["state"] == "pending"
    assert endpoints.watch("ep", "running", since=mark) == ["pending", "initializing", "running"]
    (_, first), (_, second), *_ = endpoints.transitions("ep")
    assert second > first  # the second "pending" began at the update: the deployment restarted


def test_failed_endpoint_can_be_resumed(endpoints: Endpoints, emulator: EmulatorHandle) -> None:
    emulator.faults.fail_deployments(message="CUDA out of memory", operations=["create"])
    endpoints.create(body("ep"))
    assert endpoints.watch("ep", "failed") == ["pending", "initializing", "failed"]
    status = endpoints.get("ep")["status"]
    assert (status["errorMessage"], status["message"], status["readyReplica"]) == (
        "CUDA out of memory",
        "Endpoint failed to start",
        0,
    )
    mark = endpoints.mark("ep")
    endpoints.action("ep", "resume")
    assert endpoints.watch("ep", "running", since=mark) == ["pending", "initializing", "running"]
    assert endpoints.get("ep")["status"]["errorMessage"] is None


def test_update_failure_then_fix(endpoints: Endpoints, emulator: EmulatorHandle) -> None:
    endpoints.create(body("ep"))
    endpoints.watch("ep", "running")
    emulator.faults.fail_deployments(message="bad revision", operations=["update"])
    mark = endpoints.mark("ep")
    endpoints.update("ep", {"model": {"revision": "broken"}})
    assert endpoints.watch("ep", "updateFailed", since=mark) == ["updating", "updateFailed"]
    assert endpoints.get("ep")["status"]["errorMessage"] == "bad revision"
    mark = endpoints.mark("ep")
    endpoints.update("ep", {"model": {"revision": "fixed"}})
    assert endpoints.watch("ep", "running", since=mark) == ["updating", "running"]


def test_failed_update_sent_again_changes_nothing_and_pause_resume_redeploys(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    """The service keeps the configuration of a failed update: the same PUT again is nothing to
    do. Pausing and resuming (the console's advice for an endpoint in error) redeploys it."""
    endpoints.create(body("ep"))
    endpoints.watch("ep", "running")
    emulator.faults.fail_deployments(message="bad revision", operations=["update"])
    mark = endpoints.mark("ep")
    endpoints.update("ep", {"model": {"revision": "broken"}})
    endpoints.watch("ep", "updateFailed", since=mark)
    again = endpoints.update("ep", {"model": {"revision": "broken"}})["status"]
    assert (again["state"], again["errorMessage"]) == ("updateFailed", "bad revision")
    paused = endpoints.action("ep", "pause")["status"]
    assert (paused["state"], paused["errorMessage"]) == ("paused", None)
    mark = endpoints.mark("ep")
    assert endpoints.action("ep", "resume")["status"]["state"] == "pending"
    assert endpoints.watch("ep", "running", since=mark) == ["pending", "initializing", "running"]
    assert endpoints.get("ep")["model"]["revision"] == "broken"  # the kept configuration


def test_empty_update_changes_nothing(endpoints: Endpoints) -> None:
    endpoints.create(body("ep"))
    endpoints.watch("ep", "running")
    before = endpoints.get("ep")
    after = endpoints.update("ep", {})
    assert after["status"]["state"] == "running"
    assert after["status"]["updatedAt"] == before["status"]["updatedAt"]
    assert len(endpoints.transitions("ep")) == 3


def test_updated_at_moves_with_transitions(endpoints: Endpoints) -> None:
    created = endpoints.create(body("ep"))["status"]
    endpoints.watch("ep", "running")
    running = endpoints.get("ep")["status"]
    assert running["createdAt"] == created["createdAt"]
    assert running["updatedAt"] > created["updatedAt"]


def test_transitions_survive_a_restart_and_need_the_admin_token(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite3")
    with run_emulator(state=state, token="tok", backend="synthetic", **FAST_TIMINGS) as emu:
        client = Endpoints(emu)
        client.create(body("ep"))
        client.watch("ep", "running")
        mark = client.mark("ep")
        client.action("ep", "pause")
        assert client.watch("ep", "paused", since=mark) == ["paused"]
        before = client.transitions("ep")
        denied = client.http.get(
            f"/emulator/endpoints/{emu.user}/ep/transitions",
            headers={"authorization": "Bearer nobody"},
        )
        assert denied.status_code == 401
        missing = client.http.get(f"/emulator/endpoints/{emu.user}/nope/transitions")
        assert missing.status_code == 404
        client.close()
    with run_emulator(state=state, token="tok", backend="synthetic") as emu:
        client = Endpoints(emu)
        assert client.transitions("ep") == before
        client.close()


def test_auto_scale_to_zero_after_idle_minutes(
    make_emulator: Callable[..., EmulatorHandle],
) -> None:
    emu = make_emulator(time_scale=0.5 / (15 * 60))  # 15 minutes last 0.5 s
    endpoints = Endpoints(emu)
    try:
        endpoints.create(body("idle", min_replica=0, timeout=15))
        endpoints.create(body("kept", min_replica=1, timeout=15))
        assert endpoints.watch("idle", "scaledToZero") == [
            "pending",
            "initializing",
            "running",
            "scaledToZero",
        ]
        *_, (_, running_at), (_, idle_at) = endpoints.transitions("idle")
        assert idle_at - running_at == pytest.approx(0.5)  # the 15-minute timeout, scaled
        # "kept" has minReplica 1: past the instant it would have gone idle, it still runs.
        endpoints.watch("kept", "running")
        (*_, (_, kept_running_at)) = endpoints.transitions("kept")
        while time.time() < kept_running_at + 0.5:
            time.sleep(0.05)
        assert [state for state, _ in endpoints.transitions("kept")] == [
            "pending",
            "initializing",
            "running",
        ]
    finally:
        endpoints.close()
