"""What the Pulumi engine does with a custom resource across `pulumi up/preview/refresh/destroy`.

Mirrors `pkg/resource/deploy/step_generator.go`: Check with the previous *inputs*; Diff against
the previous *outputs*; `DIFF_UNKNOWN` falls back to comparing old and new inputs; a replacement
re-runs Check with no olds, then creates before deleting unless delete-before-replace is asked
for (by the provider's diff or by the resource option). Works with any dynamic resource's props.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .host import CheckFailure, DiffResult, ProviderHost, urn_name_type
from .wire import without_internal

if TYPE_CHECKING:
    from .program import RegisteredResource

Op = Literal["create", "update", "replace", "same", "refresh", "removed", "delete", "read"]
Phase = Literal["plan", "start", "done"]
StepListener = Callable[[Phase, "Step"], None]
"""Hears every step: "plan" for each step a preview plans; "start" before a step's first
Create/Update/Delete; "done" when an applied step has finished (steps that call none of those,
such as "same", "refresh" and "read", only have "done"). Called from the registering thread."""


class EngineError(Exception):
    """An error the engine itself would report (not a provider failure)."""


class CheckFailedError(EngineError):
    """Check returned failures; the engine stops before Diff/Create."""

    def __init__(self, urn: str, failures: list[CheckFailure]) -> None:
        self.urn = urn
        self.failures = failures
        lines = "; ".join(f"{f.property or '<resource>'}: {f.reason}" for f in failures)
        super().__init__(f"resource {urn} has check errors: {lines}")


@dataclass
class ResourceState:
    """One entry of the fake stack state."""

    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    external: bool = False


@dataclass
class Step:
    """What happened to one resource (or, in preview, what would happen)."""

    op: Op
    urn: str
    id: str | None = None
    old_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    diff: DiffResult | None = None
    delete_before_replace: bool | None = None
    rpcs: list[str] = field(default_factory=list)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """For an update or replace: the inputs (`__` keys aside) that differ from the previous ones,
    key -> (old, new), as checked against them (a replacement's fresh auto-name is not listed)."""
    seconds: float = 0.0
    """How long an applied step's Create/Update/Delete calls took."""

    @property
    def name(self) -> str:
        return urn_name_type(self.urn)[0]

    @property
    def type(self) -> str:
        return urn_name_type(self.urn)[1]


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    old, new = without_internal(old), without_internal(new)
    return {k: (old.get(k), new.get(k)) for k in sorted({*old, *new}) if old.get(k) != new.get(k)}


class Engine:
    """A fake stack state driven through a `ProviderHost`, one resource operation at a time.

    `state` maps URN -> ResourceState. A create-before-delete replacement whose Delete fails
    leaves the old resource in `pending_deletes`, as the engine does. `host` may be replaced
    between operations (the CLI starts a host per operation); `listener` hears every step.
    """

    def __init__(self, host: ProviderHost, *, listener: StepListener | None = None) -> None:
        self.host = host
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self._listener = listener
        self._lock = threading.Lock()

    def snapshot(self) -> list[ResourceState]:
        """The state's entries, in order, safe to read while other threads register."""
        with self._lock:
            return list(self.state.values())

    def _save(self, entry: ResourceState) -> None:
        with self._lock:
            self.state[entry.urn] = entry

    def _drop(self, urn: str) -> None:
        with self._lock:
            self.state.pop(urn, None)

    def _require(self, urn: str) -> ResourceState:
        entry = self.state.get(urn)
        if entry is None:
            raise EngineError(f"no resource {urn} in state")
        return entry

    def _emit(self, phase: Phase, step: Step) -> Step:
        if self._listener is not None:
            self._listener(phase, step)
        return step

    @contextmanager
    def _applying(self, step: Step) -> Iterator[None]:
        """Announce `step`, time the provider calls of the body, then report it done."""
        self._emit("start", step)
        started = time.monotonic()
        yield
        step.seconds = time.monotonic() - started
        self._emit("done", step)

    def _check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any], rpcs: list[str]
    ) -> dict[str, Any]:
        rpcs.append("Check")
        result = self.host.check(urn, olds, news)
        if result.failures:
            raise CheckFailedError(urn, result.failures)
        return result.inputs

    def up(
        self,
        urn: str,
        news: Mapping[str, Any],
        *,
        delete_before_replace: bool | None = None,
    ) -> Step:
        """Register `news` for `urn` as `pulumi up` would, and apply the resulting step."""
        return self._register(urn, news, delete_before_replace, preview=False)

    def preview(
        self,
        urn: str,
        news: Mapping[str, Any],
        *,
        delete_before_replace: bool | None = None,
    ) -> Step:
        """The step `pulumi preview` would plan (Check and Diff only; state is untouched)."""
        return self._register(urn, news, delete_before_replace, preview=True)

    def _register(
        self,
        urn: str,
        news: Mapping[str, Any],
        dbr_option: bool | None,
        *,
        preview: bool,
    ) -> Step:
        old = self.state.get(urn)
        rpcs: list[str] = []
        inputs = self._check(urn, old.inputs if old else {}, news, rpcs)
        if old is None:
            step = Step("create", urn, inputs=inputs, rpcs=rpcs)
            if preview:
                return self._emit("plan", step)
            with self._applying(step):
                rpcs.append("Create")
                step.id, step.outputs = self.host.create(urn, inputs)
                self._save(ResourceState(urn, step.id, inputs, step.outputs))
            return step

        rpcs.append("Diff")
        diff = self.host.diff(urn, old.id, old.outputs, inputs, old_inputs=old.inputs)
        changes = diff.changes if diff.changes is not None else old.inputs != inputs
        if not changes:
            step = Step("same", urn, old.id, old.id, inputs, old.outputs, diff, rpcs=rpcs)
            if preview:
                return self._emit("plan", step)
            # a "same" step keeps the old outputs and records the new inputs
            self._save(ResourceState(urn, old.id, inputs, old.outputs, old.external))
            return self._emit("done", step)

        changed = _changed(old.inputs, inputs)
        if not diff.replaces:
            step = Step("update", urn, old.id, old.id, inputs, None, diff, rpcs=rpcs)
            step.changed = changed
            if preview:
                return self._emit("plan", step)
            with self._applying(step):
                rpcs.append("Update")
                step.outputs = self.host.update(
                    urn, old.id, old.outputs, inputs, old_inputs=old.inputs
                )
                self._save(ResourceState(urn, old.id, inputs, step.outputs))
            return step

        inputs = self._check(urn, {}, news, rpcs)  # replacements recompute defaults/autonames
        dbr = diff.delete_before_replace if dbr_option is None else dbr_option
        step = Step("replace", urn, None, old.id, inputs, None, diff, dbr, rpcs, changed)
        if preview:
            return self._emit("plan", step)
        with self._applying(step):
            if dbr:
                self._delete(old, rpcs)
                rpcs.append("Create")
                step.id, step.outputs = self.host.create(urn, inputs)
                self._save(ResourceState(urn, step.id, inputs, step.outputs))
            else:
                rpcs.append("Create")
                step.id, step.outputs = self.host.create(urn, inputs)
                self._save(ResourceState(urn, step.id, inputs, step.outputs))
                try:
                    self._delete(old, rpcs)
                except Exception:
                    self.pending_deletes.append(old)
                    raise
        return step

    def _delete(self, old: ResourceState, rpcs: list[str]) -> None:
        if not old.external:  # the engine never deletes resources it only read
            rpcs.append("Delete")
            self.host.delete(old.urn, old.id, old.outputs, old_inputs=old.inputs)
        with self._lock:
            if self.state.get(old.urn) is old:
                del self.state[old.urn]

    def refresh(self, urn: str) -> Step:
        """Read(id, props = outputs, inputs); an empty id removes the resource from state."""
        old = self._require(urn)
        result = self.host.read(urn, old.id, old.outputs, inputs=old.inputs)
        if not result.id:
            self._drop(urn)
            return self._emit(
                "done", Step("removed", urn, None, old.id, old.inputs, None, rpcs=["Read"])
            )
        inputs = result.inputs if result.inputs is not None else old.inputs
        self._save(ResourceState(urn, result.id, inputs, result.outputs, old.external))
        step = Step("refresh", urn, result.id, old.id, inputs, result.outputs, rpcs=["Read"])
        return self._emit("done", step)

    def destroy(self, urn: str) -> Step:
        """Delete(id, props = outputs) and drop the resource from state."""
        old = self._require(urn)
        step = Step("delete", urn, None, old.id, old.inputs, None)
        with self._applying(step):
            self._delete(old, step.rpcs)
        return step

    def destroy_all(self) -> list[Step]:
        """Destroy everything in state, newest first (pending deletes last)."""
        steps = [self.destroy(urn) for urn in reversed(list(self.state))]
        while self.pending_deletes:
            old = self.pending_deletes.pop()
            step = Step("delete", old.urn, None, old.id, old.inputs, rpcs=["Delete"])
            with self._applying(step):
                self.host.delete(old.urn, old.id, old.outputs, old_inputs=old.inputs)
            steps.append(step)
        return steps

    def remove_undeclared(self, declared: Collection[str], *, preview: bool = False) -> list[Step]:
        """Delete, newest first, what the state holds and the program no longer declares; in
        preview, plan it."""
        steps: list[Step] = []
        for urn in reversed([u for u in self.state if u not in declared]):
            if preview:
                old = self.state[urn]
                steps.append(self._emit("plan", Step("delete", urn, None, old.id, old.inputs)))
            else:
                steps.append(self.destroy(urn))
        return steps

    def get(self, urn: str, id: str, inputs: Mapping[str, Any]) -> Step:
        """`Resource.get` / `opts.id`: Read with only inputs; stored as an external resource."""
        result = self.host.read(urn, id, None, inputs=inputs)
        if not result.id:
            raise EngineError(f"resource '{id}' does not exist")
        stored = dict(inputs)
        self._save(ResourceState(urn, result.id, stored, result.outputs, external=True))
        step = Step("read", urn, result.id, None, stored, result.outputs, rpcs=["Read"])
        return self._emit("done", step)

    def up_program(
        self, resources: Iterable[RegisteredResource], *, preview: bool = False
    ) -> list[Step]:
        """Run a captured program: register each custom resource, then delete what it dropped."""
        steps: list[Step] = []
        seen: set[str] = set()
        for res in resources:
            if not res.custom:
                continue
            seen.add(res.urn)
            if res.read_id is not None:
                if not preview:
                    steps.append(self.get(res.urn, res.read_id, res.inputs))
                continue
            run = self.preview if preview else self.up
            steps.append(run(res.urn, res.inputs, delete_before_replace=res.delete_before_replace))
        return steps + self.remove_undeclared(seen, preview=preview)
