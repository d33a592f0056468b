"""Randomised, seeded lifecycles of `InferenceEndpoint` through Pulumi's provider host while the
emulated control plane misbehaves, and the invariants checked after every sequence.

A sequence is a plan drawn from `random.Random(seed)`: 3 to 6 steps (create, update, pause,
resume, refresh, replace, destroy, a no-op `up`), each with zero to two fault rules scoped to the
sequence's namespace (429 with Retry-After, 500, 502, 503, connection reset, a stall longer than
the client's timeout, a failed deployment), or (process emulator) a SIGKILL and restart of the
emulator while the step runs. The plan is reproducible from the seed; how the races between
client and server fall is not, which is the point of running many.

After every step: its duration is within the bound derived from its timeouts, an error is a
clean one-line provider error (no token, no KeyError/TypeError), and a step that succeeded left
the service as it says. After every sequence, with faults cleared:
- no orphan: every endpoint in the namespace is one the engine state (or its pending deletes)
  knows about;
- every endpoint in state exists, or a step on it failed (and said so) since it was last seen;
- `destroy` of everything succeeds and leaves the namespace empty.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from hf_endpoints_emulator.testing import FaultsClient
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import NotFoundError
from tests.harness import Engine, EngineError, ProviderError, ProviderHost
from tests.reliability.support import FIGURES, props

# Exception names that must never end a provider error: they mean a bug, not a report.
RAW_EXCEPTIONS = (
    "KeyError",
    "TypeError",
    "AttributeError",
    "IndexError",
    "AssertionError",
    "UnboundLocalError",
    "NameError",
    "pydantic_core._pydantic_core.ValidationError",
    "JSONDecodeError",
)

FAULT_KINDS = ("429", "500", "502", "503", "reset", "stall", "deploymentFailure")
FAULT_WEIGHTS = (2.0, 1.2, 1.0, 1.5, 1.5, 1.0, 1.2)


@dataclass
class Limits:
    """Timing knobs of a run: what the provider host's client uses, and the bounds it implies."""

    wait_timeout: float
    http_timeout: float
    stall_seconds: float
    #: Extra seconds a step may take beyond its waits (retries, Retry-After, restarts).
    slack: float

    def bound(self, waits: int) -> float:
        return waits * self.wait_timeout + self.slack


@dataclass
class StepRecord:
    index: int
    urn: str
    op: str
    faults: list[dict[str, Any]]
    kill_after: float | None = None
    ok: bool = True
    actual: str | None = None
    error: str | None = None
    details: str = ""
    seconds: float = 0.0


@dataclass
class SequenceResult:
    seed: str
    steps: list[StepRecord] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def describe(self) -> str:
        plan = "; ".join(
            f"{s.index}:{s.op}"
            + (f"[{','.join(f['kind'] for f in s.faults)}]" if s.faults else "")
            + (f"[kill@{s.kill_after:.2f}]" if s.kill_after is not None else "")
            + ("" if s.ok else f" -> ERROR {s.error}")
            for s in self.steps
        )
        return f"sequence {self.seed}: {plan}"


class Restarter:
    """Kills and restarts the emulator process while a step runs (process emulator only).

    `lock` is held during a restart and its `after` check, and by the test's own calls to the
    emulator (fault rules, invariant checks, cleanup), which must not meet a dead emulator.
    """

    def __init__(
        self, restart: Callable[[], None], after: Callable[[], None] | None = None
    ) -> None:
        self._restart = restart
        self._after = after
        self.lock = threading.RLock()

    def __call__(self) -> None:
        with self.lock:
            self._restart()
            FIGURES.add("faults fired: kill-restart")
            if self._after is not None:
                self._after()


def remove_fault(faults: FaultsClient, fault_id: str) -> None:
    with contextlib.suppress(Exception):  # already used up
        faults._call("DELETE", f"/faults/{fault_id}")


class SequenceRunner:
    """Runs sequences for one namespace through one provider host."""

    def __init__(
        self,
        *,
        host: ProviderHost,
        faults: FaultsClient,
        admin: EndpointsApi,
        token: str,
        namespace: str,
        tag: str,
        limits: Limits,
        fault_rate: float,
        restarter: Restarter | None = None,
        kill_rate: float = 0.0,
    ) -> None:
        self.host = host
        self.faults = faults
        self.admin = admin
        self.token = token
        self.namespace = namespace
        self.tag = tag
        self.limits = limits
        self.fault_rate = fault_rate
        self.restarter = restarter
        self.kill_rate = kill_rate
        self._quiet_lock = restarter.lock if restarter is not None else None

    def _quiet(self) -> contextlib.AbstractContextManager[Any]:
        """No restart happens inside this block."""
        return self._quiet_lock if self._quiet_lock is not None else contextlib.nullcontext()

    # ----------------------------------------------------------------- planning

    def _fault(self, rng: random.Random) -> dict[str, Any]:
        kind = rng.choices(FAULT_KINDS, FAULT_WEIGHTS)[0]
        path = f"/v2/endpoint/{self.namespace}*"
        method = rng.choice(("*", "*", "GET", "GET", "POST", "PUT", "DELETE"))
        times: int | None = rng.choice((1, 1, 2, 3))
        if kind == "deploymentFailure":
            ops = rng.choice((["create"], ["update"], ["resume"], ["create", "update", "resume"]))
            return {
                "kind": kind,
                "type": "deploymentFailure",
                "times": 1,
                "name": f"{self.tag}*",
                "operations": ops,
                "message": f"emulated capacity error ({self.tag})",
            }
        if kind == "stall":
            return {
                "kind": kind,
                "type": "stall",
                "seconds": self.limits.stall_seconds,
                "method": method,
                "path": path,
                "times": rng.choice((1, 1, 2)),
            }
        if kind == "reset":
            return {"kind": kind, "type": "reset", "method": method, "path": path, "times": times}
        if kind in ("500", "503") and rng.random() < 0.12:
            times = None  # an outage until the step ends: the step must give up cleanly
        rule: dict[str, Any] = {
            "kind": kind,
            "type": "response",
            "status": int(kind),
            "method": method,
            "path": path,
            "times": times,
        }
        if kind == "429":
            rule["times"] = rng.choice((1, 1, 2, 3, 5))  # 5: more than the client's retries
            rule["retryAfter"] = 1 if rule["times"] <= 2 and rng.random() < 0.4 else 0
        elif kind == "503" and rng.random() < 0.5:
            rule["retryAfter"] = 0
        return rule

    def plan(
        self, rng: random.Random, length: int
    ) -> list[tuple[str, list[dict[str, Any]], float | None]]:
        steps = []
        present = False
        for _ in range(length):
            if not present:
                op = "create"
            else:
                op = rng.choices(
                    ("update", "pause", "resume", "refresh", "replace", "destroy", "same"),
                    (3.0, 1.5, 1.5, 2.0, 1.0, 1.2, 0.5),
                )[0]
            present = op != "destroy"
            faults = []
            if rng.random() < self.fault_rate:
                faults.append(self._fault(rng))
                if rng.random() < 0.25:
                    faults.append(self._fault(rng))
            kill = None
            if self.restarter is not None and rng.random() < self.kill_rate:
                kill = rng.uniform(0.05, 0.6)
            steps.append((op, faults, kill))
        return steps

    # ----------------------------------------------------------------- running

    def run(self, seed: str) -> SequenceResult:
        rng = random.Random(seed)
        result = SequenceResult(seed)
        engine = Engine(self.host)
        index = int(seed.rsplit("-", 1)[-1])
        logical = f"{self.tag}s{index:03d}"
        urn = f"urn:pulumi:stack::project::pulumi-python:dynamic:InferenceEndpoint::{logical}"
        desired: dict[str, Any] = {
            "namespace": self.namespace,
            "maxReplica": rng.choice((1, 2)),
            "waitTimeout": self.limits.wait_timeout,
            "tags": [f"seq-{index}"],
        }
        if rng.random() < 0.5:
            desired["name"] = f"{logical}-fixed"
        if rng.random() < 0.3:
            desired["env"] = {"MODE": "a"}
        verified_at = -1  # index of the last step that saw the endpoint as the state says
        plan = self.plan(rng, rng.randint(3, 6))
        for i, (op, faults, kill) in enumerate(plan):
            self._mutate(rng, op, desired)
            step = StepRecord(i, urn, op, faults, kill)
            result.steps.append(step)
            self._run_step(engine, step, desired)
            FIGURES.add(f"lifecycle steps: {op}")
            bound = self.limits.bound(self._waits(op))
            if step.seconds > bound:
                result.violations.append(
                    f"step {i} ({op}) took {step.seconds:.1f} s > its bound {bound:.1f} s"
                )
                FIGURES.add("hangs")
            if step.ok:
                if step.actual in ("create", "update", "replace", "refresh"):
                    verified_at = i  # the step saw the endpoint live
                with self._quiet():
                    self._check_step(engine, step, desired, result)
            else:
                FIGURES.add("lifecycle steps failed with a reported error")
        with self._quiet():
            self._check_sequence(engine, result, verified_at)
        return result

    def _mutate(self, rng: random.Random, op: str, desired: dict[str, Any]) -> None:
        if op == "update":
            choice = rng.choice(("maxReplica", "tags", "env"))
            if choice == "maxReplica":
                desired["maxReplica"] = rng.choice(
                    [n for n in (1, 2, 3, 4) if n != desired["maxReplica"]]
                )
            elif choice == "tags":
                desired["tags"] = [*desired["tags"][:1], f"t{rng.randint(0, 999)}"]
            else:
                desired["env"] = {"MODE": rng.choice("bcdefgh")}
        elif op == "pause":
            desired["paused"] = True
        elif op == "resume":
            desired["paused"] = False
        elif op == "replace":
            desired["region"] = "eu-west-1" if desired.get("region") != "eu-west-1" else "us-east-1"

    def _inject(self, faults: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        added = []
        for rule in faults:
            body = {k: v for k, v in rule.items() if k != "kind"}
            added.append((rule, self.faults.add(body)["id"]))
        return added

    def _collect(self, added: list[tuple[dict[str, Any], str]], restarted: bool) -> None:
        """Count what fired, then remove what is left of this step's rules. (A restart wipes
        the emulator's rules, so after one only the injection is counted.)"""
        if not added:
            return
        live = {f["id"]: f for f in self.faults.list()}
        for rule, fault_id in added:
            if fault_id in live:
                fired = int(live[fault_id]["fired"])
                remove_fault(self.faults, fault_id)
            elif restarted or rule["times"] is None:
                fired = 0
            else:
                fired = int(rule["times"])  # used up, hence removed by the emulator
            if fired:
                FIGURES.add(f"faults fired: {rule['kind']}", fired)
            FIGURES.add(f"faults injected: {rule['kind']}")

    def _waits(self, op: str) -> int:
        return {"replace": 3, "destroy": 1, "refresh": 0}.get(op, 1) + 1

    def _run_step(self, engine: Engine, step: StepRecord, desired: dict[str, Any]) -> None:
        with self._quiet():
            added = self._inject(step.faults)
        killer: threading.Thread | None = None
        finished = threading.Event()
        if step.kill_after is not None and self.restarter is not None:
            restarter = self.restarter

            def kill_later(delay: float = step.kill_after) -> None:
                time.sleep(delay)
                if not finished.is_set():
                    FIGURES.add("kill-restarts that landed while an operation ran")
                restarter()

            killer = threading.Thread(target=kill_later, daemon=True)
        started = time.monotonic()
        if killer is not None:
            killer.start()
        try:
            if step.op == "refresh":
                step.actual = engine.refresh(step.urn).op
            elif step.op == "destroy":
                step.actual = engine.destroy(step.urn).op
            else:
                step.actual = engine.up(step.urn, props(step.urn.rsplit("::", 1)[-1], **desired)).op
        except ProviderError as error:
            step.ok = False
            step.error = error.message
            step.details = error.details
            if error.code == grpc.StatusCode.DEADLINE_EXCEEDED:
                step.error = f"HANG: no answer within the RPC deadline ({error.details})"
        except EngineError as error:  # refresh/destroy of a resource a failed step removed
            step.ok = False
            step.error = f"engine: {error}"
        step.seconds = time.monotonic() - started
        finished.set()
        if killer is not None:
            killer.join()
        stall = any(rule["type"] == "stall" for rule in step.faults)
        with self._quiet():
            self._collect(added, killer is not None)
        if stall:  # let a stalled request finish at the server before anything is checked
            time.sleep(self.limits.stall_seconds + 0.1)
        FIGURES.maximum("lifecycle slowest step (s)", step.seconds)

    # ----------------------------------------------------------------- checking

    def _live(self, name: str) -> dict[str, Any] | None:
        try:
            return self.admin.get_endpoint(self.namespace, name)
        except NotFoundError:
            return None

    def _check_step(
        self, engine: Engine, step: StepRecord, desired: dict[str, Any], result: SequenceResult
    ) -> None:
        entry = engine.state.get(step.urn)
        if step.actual in ("create", "update", "replace"):
            assert entry is not None
            live = self._live(entry.id.split("/", 1)[1])
            if live is None:
                result.violations.append(
                    f"step {step.index} ({step.actual}) succeeded but {entry.id} is gone"
                )
                return
            want = "paused" if desired.get("paused") else "running"
            if live["status"]["state"] != want:
                result.violations.append(
                    f"step {step.index} ({step.actual}) succeeded but {entry.id} is "
                    f"{live['status']['state']}, not {want}"
                )
            if live["compute"]["scaling"]["maxReplica"] != desired["maxReplica"]:
                result.violations.append(f"step {step.index}: maxReplica not applied to {entry.id}")
        elif step.actual == "delete":
            assert step.urn not in engine.state

    def _check_error(self, step: StepRecord, result: SequenceResult) -> None:
        message = step.error or ""
        details = step.details
        if self.token in details:
            result.violations.append(f"step {step.index}: the token appears in the error")
        if not message.strip():
            result.violations.append(f"step {step.index}: empty error message")
        last = message.splitlines()[-1] if message else ""
        if last.split(":", 1)[0].strip() in RAW_EXCEPTIONS:
            result.violations.append(f"step {step.index}: raw exception: {last}")

    def _check_sequence(self, engine: Engine, result: SequenceResult, verified_at: int) -> None:
        for step in result.steps:
            if not step.ok and (step.error or "").startswith("HANG"):
                FIGURES.add("hangs")
                result.violations.append(f"step {step.index} ({step.op}): {step.error}")
            elif not step.ok and step.error and not step.error.startswith("engine:"):
                self._check_error(step, result)
        live = {e["name"]: e for e in self.admin.list_endpoints(self.namespace)}
        known = {entry.id for entry in engine.state.values()}
        known |= {entry.id for entry in engine.pending_deletes}
        orphans = sorted(
            f"{self.namespace}/{n}" for n in live if f"{self.namespace}/{n}" not in known
        )
        for orphan in orphans:
            reported = any(
                not s.ok and orphan in (s.error or "") and "ALSO FAILED" in (s.error or "")
                for s in result.steps
            )
            FIGURES.add("orphans (reported by the failed step)" if reported else "orphans")
            result.violations.append(f"orphan {orphan}" + (" (reported)" if reported else ""))
        failed_after = any(not s.ok for s in result.steps if s.index > verified_at)
        for entry in engine.state.values():
            if entry.id.split("/", 1)[1] not in live:
                if failed_after:
                    FIGURES.add("state entries gone after a reported failure")
                else:
                    FIGURES.add("state entries lost")
                    result.violations.append(f"{entry.id} is in state but gone, and no step failed")
        try:
            engine.destroy_all()
        except (ProviderError, EngineError) as error:
            result.violations.append(f"destroy without faults failed: {error}")
        leftover = [e["name"] for e in self.admin.list_endpoints(self.namespace)]
        for name in leftover:
            self.admin.delete_endpoint(self.namespace, name, missing_ok=True)
        if leftover and not orphans:
            result.violations.append(f"destroy left endpoints behind: {leftover}")
        FIGURES.add("lifecycle sequences")
