"""The endpoint state machine, derived from stored timestamps.

An action (create, update, pause, resume, scale-to-zero, wake-up) stores a `Schedule`: when it
started, the transient states it passes through with their durations, and the state it ends in.
The current state is a pure function of the schedule, the clock and the last data-plane
activity, so timers survive a restart of the emulator and nothing needs a background task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import Timings

PENDING = "pending"
INITIALIZING = "initializing"
UPDATING = "updating"
UPDATE_FAILED = "updateFailed"
RUNNING = "running"
PAUSED = "paused"
FAILED = "failed"
SCALED_TO_ZERO = "scaledToZero"

#: Final states of a deployment that did not start.
FAILURES = (FAILED, UPDATE_FAILED)

STATES = (PENDING, INITIALIZING, UPDATING, UPDATE_FAILED, RUNNING, PAUSED, FAILED, SCALED_TO_ZERO)

#: The service's default when minReplica is 0 and no timeout is set (the Inference Endpoints
#: autoscaling guide, https://huggingface.co/docs/inference-endpoints/guides/autoscaling).
DEFAULT_SCALE_TO_ZERO_MINUTES = 15

MESSAGES = {
    PENDING: "Endpoint waiting to be scheduled",
    INITIALIZING: "Endpoint is initializing",
    UPDATING: "Endpoint is updating",
    UPDATE_FAILED: "Endpoint failed to update",
    RUNNING: "Endpoint is ready",
    PAUSED: "Endpoint is paused",
    FAILED: "Endpoint failed to start",
    SCALED_TO_ZERO: "Endpoint is scaled to zero",
}


@dataclass(frozen=True)
class Schedule:
    """What the last action set in motion: `steps` (state, seconds) from `started_at`, then `final`.

    `error` is the failure message when `final` is failed/updateFailed. `ready_before` is the
    number of replicas that keep serving while an update rolls out (and after it fails).
    """

    started_at: float
    steps: tuple[tuple[str, float], ...]
    final: str
    error: str | None = None
    ready_before: int = 0

    @property
    def ends_at(self) -> float:
        return self.started_at + sum(seconds for _, seconds in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "startedAt": self.started_at,
            "steps": [[state, seconds] for state, seconds in self.steps],
            "final": self.final,
            "error": self.error,
            "readyBefore": self.ready_before,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        return cls(
            started_at=float(data["startedAt"]),
            steps=tuple((str(s), float(d)) for s, d in data["steps"]),
            final=str(data["final"]),
            error=data.get("error"),
            ready_before=int(data.get("readyBefore", 0)),
        )


@dataclass(frozen=True)
class Observation:
    """The state at one instant, when it began, and the replica counts that go with it."""

    state: str
    since: float
    ready_replica: int
    target_replica: int
    error: str | None = None

    @property
    def message(self) -> str:
        return MESSAGES[self.state]

    @property
    def serving(self) -> bool:
        """Whether requests to the endpoint's URL reach a replica."""
        return self.ready_replica > 0 and self.state in (RUNNING, UPDATING, UPDATE_FAILED)


@dataclass(frozen=True)
class Scaling:
    """The scaling settings the lifecycle needs."""

    min_replica: int
    scale_to_zero_minutes: int | None

    @property
    def replicas(self) -> int:
        """Replicas running when the endpoint is up: scale-to-zero endpoints keep one."""
        return max(self.min_replica, 1)

    def idle_timeout(self, timings: Timings) -> float | None:
        """Real seconds of inactivity before an automatic scale-to-zero, or None if never."""
        if self.min_replica != 0:
            return None
        minutes = self.scale_to_zero_minutes or DEFAULT_SCALE_TO_ZERO_MINUTES
        return minutes * 60.0 * timings.time_scale


def observe(
    schedule: Schedule,
    scaling: Scaling,
    timings: Timings,
    now: float,
    last_activity: float | None = None,
    busy: bool = False,
) -> Observation:
    """The state of an endpoint at `now` (pure: same inputs, same answer)."""
    elapsed_until = schedule.started_at
    target = scaling.replicas
    for state, seconds in schedule.steps:
        elapsed_until += seconds
        if now < elapsed_until:
            ready = schedule.ready_before if state == UPDATING else 0
            return Observation(state, elapsed_until - seconds, ready, target)
    ends = schedule.ends_at
    final = schedule.final
    if final == RUNNING:
        timeout = scaling.idle_timeout(timings)
        if timeout is not None and not busy:
            deadline = max(ends, last_activity or ends) + timeout
            if now >= deadline:
                return Observation(SCALED_TO_ZERO, deadline, 0, 0)
        return Observation(RUNNING, ends, target, target)
    if final in (PAUSED, SCALED_TO_ZERO):
        return Observation(final, ends, 0, 0)
    if final == UPDATE_FAILED:
        return Observation(final, ends, schedule.ready_before, target, schedule.error)
    if final == FAILED:
        return Observation(final, ends, 0, target, schedule.error)
    raise ValueError(f"unknown final state {final!r}")


Transition = tuple[str, float]
"""A state and the instant (epoch seconds) the endpoint entered it."""

#: Transitions kept per endpoint once their schedule is over; older ones are dropped.
HISTORY_LIMIT = 200


def transitions(
    schedule: Schedule,
    scaling: Scaling,
    timings: Timings,
    now: float,
    last_activity: float | None = None,
    busy: bool = False,
) -> list[Transition]:
    """Every state `schedule` has entered by `now`, oldest first, each with when it began.

    Computed from the schedule, not sampled, so a phase of a few milliseconds is listed like a
    long one. The last entry is always `observe(...)` at `now`; phases of zero length, which no
    observation can see, are left out.
    """
    current = observe(schedule, scaling, timings, now, last_activity, busy)
    entered: list[Transition] = []
    start = schedule.started_at
    for state, seconds in schedule.steps:
        if seconds > 0 and start <= now:
            entered.append((state, start))
        start += seconds
    if now >= schedule.ends_at:
        if current.state != SCALED_TO_ZERO or schedule.final != RUNNING:
            entered.append((schedule.final, schedule.ends_at))
        elif current.since > schedule.ends_at:  # it ran before going idle
            entered.append((RUNNING, schedule.ends_at))
        if current.state != schedule.final:
            entered.append((current.state, current.since))
    return entered


def deploy(now: float, timings: Timings, error: str | None = None) -> Schedule:
    """A fresh deployment: pending, initializing, then running (or failed with `error`)."""
    steps = ((PENDING, timings.pending_seconds), (INITIALIZING, timings.initializing_seconds))
    return Schedule(now, steps, FAILED if error else RUNNING, error)


def resume(now: float, timings: Timings, error: str | None = None) -> Schedule:
    """Resuming a paused (or failed) endpoint redeploys it."""
    steps = ((PENDING, timings.pending_seconds), (INITIALIZING, timings.resume_seconds))
    return Schedule(now, steps, FAILED if error else RUNNING, error)


def roll_out(now: float, timings: Timings, ready: int, error: str | None = None) -> Schedule:
    """An update of a live endpoint: `ready` old replicas keep serving while it rolls out."""
    steps = ((UPDATING, timings.updating_seconds),)
    final = UPDATE_FAILED if error else RUNNING
    return Schedule(now, steps, final, error, ready_before=ready)


def wake(now: float, timings: Timings) -> Schedule:
    """A cold start after scale-to-zero, triggered by a request to the endpoint's URL."""
    return Schedule(now, ((INITIALIZING, timings.wake_seconds),), RUNNING)


def settle(now: float, final: str) -> Schedule:
    """An immediate change (pause, scale-to-zero)."""
    return Schedule(now, (), final)
