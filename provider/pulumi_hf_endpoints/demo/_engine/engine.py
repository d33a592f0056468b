"""What the Pulumi engine does with a custom resource across `pulumi up/preview/refresh/destroy`.

A model of the engine of pulumi/pulumi (3.260), driving a real provider host. Every step below
names the Go function it follows; the paths are in that repository:

- SG = `pkg/resource/deploy/step_generator.go` (which steps a registration becomes);
- ST = `pkg/resource/deploy/step.go` (what each step sends to the provider);
- DE = `pkg/resource/deploy/deployment_executor.go` (ordering and parallelism);
- PP = `pkg/resource/plugin/provider_plugin.go` (the gRPC calls themselves).

In short: Check gets the previous *inputs* (with `ignoreChanges` applied), Diff the previous
*outputs*; Check and Diff run one at a time on the engine's main loop, steps in parallel. A
replacement re-runs Check with no olds and creates before deleting unless delete-before-replace
is asked for; the old resource's Delete waits until every create and update of the run is
done. A forced replacement (`--replace`, taint, a replacement trigger) skips Diff. Refresh is a
Read followed by a Diff of the refreshed outputs against the stored inputs; `get` is a Read
whose state is the program's inputs. Deletes run in parallel, in dependency order.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc

from .host import CheckFailure, DiffResult, ProviderError, ProviderHost, urn_name_type
from .wire import INTERNAL_PREFIX, UNKNOWN, without_internal

Op = Literal[
    "create",
    "update",
    "replace",
    "same",
    "refresh",
    "removed",
    "delete",
    "delete-replaced",
    "read",
    "import",
]
"""As the CLI names them; "delete-replaced" is the old half of a replacement, deleted after
every create and update of the run (the engine's OpDeleteReplaced)."""
Phase = Literal["plan", "start", "done"]
StepListener = Callable[[Phase, "Step"], None]
"""Hears every step: "plan" for each step a preview plans; "start" before a step's first
Create/Update/Delete; "done" when an applied step has finished (steps that call none of those,
such as "same", "refresh" and "read", only have "done"). Called from the thread running it."""

ReplaceReason = Literal["diff", "forced", "trigger"]

DEFAULT_PARALLEL = 4 * (os.cpu_count() or 1)

_INTERRUPTED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
"""How a call ends when the provider host went away mid-call (the CLI was killed)."""
"""`--parallel`'s default: 4 × GOMAXPROCS (`pkg/cmd/pulumi/operations/up.go`, defaultParallel)."""


class EngineError(Exception):
    """An error the engine itself would report (not a provider failure)."""


class CheckFailedError(EngineError):
    """Check returned failures; the engine stops before Diff/Create."""

    def __init__(self, urn: str, failures: list[CheckFailure]) -> None:
        self.urn = urn
        self.failures = failures
        lines = "; ".join(f"{f.property or '<resource>'}: {f.reason}" for f in failures)
        super().__init__(f"resource {urn} has check errors: {lines}")


@dataclass(frozen=True)
class RegisteredResource:
    """One resource a program declared, as the engine receives it (the engine's `resource.Goal`).

    `inputs` are what the engine forwards to Check: the `__provider` blob included, secrets
    unwrapped (their dotted paths in `secret_keys`), numbers as floats, preview unknowns kept.
    """

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool = True
    secret_keys: frozenset[str] = frozenset()
    """Dotted paths of the inputs the program marked secret (`pw`, `image.credentials.password`)."""
    read_id: str | None = None
    """Set for `get`-style registrations (`opts.id`): the engine reads instead of creating."""
    delete_before_replace: bool | None = None
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    replacement_trigger: Any = None
    additional_secret_outputs: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    deleted_with: str = ""
    """The URN of a resource whose deletion deletes this one (the `deleted_with` option)."""
    aliases: tuple[str, ...] = ()
    """URNs the resource had before (its `aliases`): state found under one is taken over."""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResourceState:
    """One entry of the stack state (`resource.State`)."""

    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    external: bool = False
    secret_outputs: frozenset[str] = frozenset()
    """Top-level output keys the engine stores as secrets (see `secret_outputs`)."""
    secret_inputs: frozenset[str] = frozenset()
    """Top-level input keys the program marked secret; stored as secrets too."""
    dependencies: tuple[str, ...] = ()
    replacement_trigger: Any = None
    protect: bool = False
    retain_on_delete: bool = False
    deleted_with: str = ""
    pending_replacement: bool = False
    """Deleted by a delete-before-replace whose create then failed (ST `PendingReplacement`):
    the next `up` replaces it without a Delete; refresh skips it; destroy drops it."""


@dataclass(frozen=True)
class PendingOperation:
    """An operation the state records as begun (`resource.Operation`): a create in flight."""

    urn: str
    type: Literal["creating"]
    inputs: dict[str, Any]


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
    key -> (old, new), as the CLI lists them (`[diff: ~maxReplica]`, rows.go getDiffInfo); a
    replacement's fresh auto-name is listed too, as the real CLI's plan shows it (`~name`). For
    a refresh that found drift: the stored inputs against the refreshed ones."""
    seconds: float = 0.0
    """How long an applied step's Create/Update/Delete calls took."""
    replace_reason: ReplaceReason | None = None
    """Why a replacement happens: the provider's Diff, a forced replacement, or a trigger."""
    drift: bool | None = None
    """For a refresh: whether the refresh Diff found the resource changed (ST RefreshStep)."""

    @property
    def name(self) -> str:
        return urn_name_type(self.urn)[0]

    @property
    def type(self) -> str:
        return urn_name_type(self.urn)[1]


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The CLI's view of an update without a detailed diff: old vs new inputs, `__` keys
    skipped (pkg/backend/display/rows.go getDiffInfo, `IsInternalPropertyKey`)."""
    old, new = without_internal(old), without_internal(new)
    return {k: (old.get(k), new.get(k)) for k in sorted({*old, *new}) if old.get(k) != new.get(k)}


def _has_unknown(value: Any) -> bool:
    if value == UNKNOWN or type(value).__name__ == "Unknown":
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in value)
    return False


WILDCARD = object()
"""A `*` segment of a property path."""
_MISSING = object()


def parse_path(path: str) -> list[Any]:
    """A Pulumi property path (`a.b`, `a["k.x"]`, `a[0]`, `a.*`) as its segments: str keys, int
    indexes, `WILDCARD` (the syntax of `resource.PropertyPath`, pkg/resource/properties_path.go)."""
    segments: list[Any] = []
    i, n = 0, len(path)
    while i < n:
        if path[i] == ".":
            i += 1
        if i < n and path[i] == "[":
            close = path.index("]", i)
            inner = path[i + 1 : close]
            if inner.startswith('"') and inner.endswith('"') and len(inner) >= 2:
                segments.append(inner[1:-1])
            elif inner == "*":
                segments.append(WILDCARD)
            else:
                segments.append(int(inner))
            i = close + 1
            continue
        j = i
        while j < n and path[j] not in ".[":
            j += 1
        name = path[i:j]
        segments.append(WILDCARD if name == "*" else name)
        i = j
    return segments


def _lookup(value: Any, segment: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(segment, str):
        return value.get(segment, _MISSING)
    if isinstance(value, list) and isinstance(segment, int):
        return value[segment] if -len(value) <= segment < len(value) else _MISSING
    return _MISSING


def _keys(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value)
    if isinstance(value, list):
        return list(range(len(value)))
    return []


def _reset(old: Any, new: Any, segments: list[Any]) -> None:
    """PropertyPath.Reset(old, new): the value at the path in `new` becomes the one in `old`, or
    goes when `old` has none; no intermediate object is created in `new`."""
    head, rest = segments[0], segments[1:]
    keys = _keys(new) if head is WILDCARD else [head]
    for key in keys:
        before, after = _lookup(old, key), _lookup(new, key)
        if rest:
            if after is not _MISSING:
                _reset(before if before is not _MISSING else None, after, rest)
            continue
        if before is _MISSING:
            if isinstance(new, dict):
                new.pop(key, None)
        else:
            in_map = isinstance(new, dict) and isinstance(key, str)
            in_list = isinstance(new, list) and isinstance(key, int) and after is not _MISSING
            if in_map or in_list:
                new[key] = _deep_copy(before)


def apply_ignore_changes(
    news: Mapping[str, Any], olds: Mapping[str, Any], paths: Iterable[str]
) -> dict[str, Any]:
    """Each ignored path takes its value from the previous inputs (SG processIgnoreChanges:
    `path.Reset(oldInputs, ignoredInputs)`); a path absent before is removed."""
    result: dict[str, Any] = _deep_copy(news)
    for path in paths:
        _reset(olds, result, parse_path(path))
    return result


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def secret_outputs(
    outputs: Mapping[str, Any], secret_inputs: Collection[str], additional: Collection[str]
) -> frozenset[str]:
    """Outputs the engine stores as secrets: those whose key is a secret input (the host does
    not accept secrets, so the engine re-marks them; `annotateSecrets`) and those listed in
    `additionalSecretOutputs` (`pkg/resource/deploy/step_executor.go`)."""
    top_level = {path.split(".")[0] for path in secret_inputs}
    return frozenset(k for k in outputs if k in top_level or k in additional)


def _should_trigger_replace(old: Any, new: Any) -> bool:
    """SG shouldTriggerReplace: an unknown on either side replaces (tested first); a change
    from or to nothing triggers nothing."""
    if _has_unknown(old) or _has_unknown(new):
        return True
    if old is None or new is None:
        return False
    return bool(old != new)


class Engine:
    """A stack state driven through a `ProviderHost`, as the engine drives a provider plugin.

    `state` maps URN -> ResourceState. `host` may be replaced between operations (the CLI
    starts a host per operation; `use_host`); `listener` hears every step. A create-before-delete
    replacement whose Delete fails leaves the old resource in `pending_deletes`, as the engine
    keeps it in state marked for deletion. `provider_inputs` is the provider configuration the
    last `pulumi up` stored in state: refresh and destroy reuse it (`use_host(host)`).
    """

    def __init__(
        self,
        host: ProviderHost,
        *,
        listener: StepListener | None = None,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        self.host = host
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self.pending_operations: list[PendingOperation] = []
        """Operations begun and never finished (an interrupted run): the engine warns of them
        until `pulumi refresh --clear-pending-creates` (journal.go; `clear_pending_creates`)."""
        self.parallel = max(1, parallel)
        self.provider_inputs: tuple[dict[str, str], frozenset[str]] | None = None
        self._configured: tuple[dict[str, str], frozenset[str]] | None = None
        self._listener = listener
        self._lock = threading.Lock()
        # Check and Diff run on the engine's single main loop, one at a time, unless
        # PULUMI_PARALLEL_DIFF (DE handleSingleEvent; SG diff).
        self._main_loop = threading.RLock()
        self._deployment: _Deployment | None = None

    # --- the provider ---------------------------------------------------------------------

    def use_host(
        self,
        host: ProviderHost,
        config: Mapping[str, Any] | None = None,
        *,
        secret_keys: Iterable[str] = (),
    ) -> None:
        """Start an operation on `host`, configured as the engine configures its provider.

        With `config` (what `pulumi up` and `--run-program` do), the stack's config goes out:
        every key, namespaced, as strings (target.go GetPackageConfig sends the whole config to
        dynamic providers since CLI 3.139). Without it (`pulumi refresh` and `pulumi destroy`),
        the provider is configured from its inputs stored in state by the last `up`
        (deployment.go EnsureProvider -> providers/registry.go Same -> Configure(res.Inputs)).
        """
        if config is None:
            saved, secret = self.provider_inputs or ({}, frozenset())
        else:
            saved = {k: _config_string(v) for k, v in config.items()}
            secret = frozenset(secret_keys)
            self._configured = (saved, secret)
        host.configure(saved, secret_keys=secret)
        self.host = host

    # --- state ----------------------------------------------------------------------------

    def snapshot(self) -> list[ResourceState]:
        """The state's entries, in order, safe to read while other threads register."""
        with self._lock:
            return list(self.state.values())

    def _save(self, entry: ResourceState) -> None:
        with self._lock:
            self.state[entry.urn] = entry

    def _drop(self, urn: str, entry: ResourceState | None = None) -> None:
        with self._lock:
            if entry is None or self.state.get(urn) is entry:
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

    # --- deployments ----------------------------------------------------------------------

    @contextmanager
    def deployment(self, *, preview: bool = False) -> Iterator[_Deployment]:
        """One `pulumi up` (or preview): registrations inside, then the deletes they generated.

        The old half of a create-before-delete replacement, and whatever `remove_undeclared`
        finds, are deleted once every registration has been handled (DE performPostSteps ->
        SG GenerateDeletes), in parallel, in dependency order (SG ScheduleDeletes). The delete
        steps are in the yielded deployment's `steps` afterwards.
        """
        outer = self._deployment
        if outer is not None:  # nested (a program's registrations): the outer one deletes
            yield outer
            return
        if not preview and self._configured is not None:
            # The default provider is registered, with the config in force, in the state.
            self.provider_inputs = self._configured
        deployment = _Deployment(preview)
        self._deployment = deployment
        try:
            yield deployment
        except BaseException:
            # The old halves of finished replacements stay in state, marked for deletion.
            with self._lock:
                self.pending_deletes += [
                    entry
                    for entry, _ in deployment.deletes
                    if self.state.get(entry.urn) is not entry
                ]
            raise
        finally:
            self._deployment = None
        if preview:
            return
        # SG GenerateDeletes: deletes left pending by an earlier run are tried again at the end.
        with self._lock:
            retried, self.pending_deletes = self.pending_deletes, []
        deletes = [*deployment.deletes, *((entry, []) for entry in retried)]
        if deletes:
            self._delete_all(deletes, pending=True, steps=deployment.steps)

    def up(
        self, urn: str, news: Mapping[str, Any], *, replace: bool = False, **options: Any
    ) -> Step:
        """Register `news` for `urn` as `pulumi up` would, and apply the resulting step.

        `replace=True` is `pulumi up --replace URN` (or `--target-replace`, or `pulumi state
        taint`). `options` are the registration's resource options, named as the fields of
        `RegisteredResource` (`delete_before_replace`, `ignore_changes`, `replacement_trigger`...).
        """
        with self.deployment():
            step = self.register(registration(urn, news, **options), replace=replace)
        return step

    def preview(
        self, urn: str, news: Mapping[str, Any], *, replace: bool = False, **options: Any
    ) -> Step:
        """The step `pulumi preview` would plan (Check and Diff only; state is untouched)."""
        return self.register(registration(urn, news, **options), replace=replace, preview=True)

    def register(
        self, goal: RegisteredResource, *, replace: bool = False, preview: bool = False
    ) -> Step:
        """One registration: Check and Diff on the main loop, then the step, unless `preview`."""
        if not preview and goal.urn in self.state and _has_unknown(goal.replacement_trigger):
            # SG generateStepsFromDiff: fine in a preview, an error in an update.
            raise EngineError(f"replacement trigger contains unknowns for {goal.urn}")
        with self._main_loop:
            step, apply = self._generate(goal, replace)
        if preview:
            return self._emit("plan", step)
        if step.op == "same":
            apply(step)
            return self._emit("done", step)
        with self._applying(step):
            apply(step)
        return step

    def _generate(
        self, goal: RegisteredResource, replace: bool
    ) -> tuple[Step, Callable[[Step], None]]:
        """The step a registration becomes (SG generateSteps), and how to apply it."""
        old = self.state.get(goal.urn) or self.aliased(goal)
        if old is not None and old.external:
            old = None  # a resource that was only read is created when it is declared
        rpcs: list[str] = []
        # SG continueStepsFromImport: a new resource, or a targeted replacement, is checked
        # without olds; otherwise with the old inputs, `ignoreChanges` applied first
        # (processIgnoreChanges).
        if old is None or replace:
            inputs = self._check(goal.urn, {}, goal.inputs, rpcs)
        else:
            news = apply_ignore_changes(goal.inputs, old.inputs, goal.ignore_changes)
            inputs = self._check(goal.urn, old.inputs, news, rpcs)
        if old is None:
            return Step("create", goal.urn, inputs=inputs, rpcs=rpcs), self._creator(goal)
        if replace:  # SG diff(): isTargetedReplace -> ReplaceKeys ["id"]; Diff is not called
            return self._replacement(goal, old, inputs, rpcs, None, "forced")
        if _should_trigger_replace(old.replacement_trigger, goal.replacement_trigger):
            # SG generateStepsFromDiff: a changed trigger skips Diff; the news are re-checked.
            inputs = self._check(goal.urn, {}, goal.inputs, rpcs)
            return self._replacement(goal, old, inputs, rpcs, None, "trigger")
        rpcs.append("Diff")
        diff = self.host.diff(
            goal.urn,
            old.id,
            old.outputs,
            inputs,
            old_inputs=old.inputs,
            ignore_changes=goal.ignore_changes,
        )
        changes, replaces = diff.changes, list(diff.replaces)
        if changes is None:
            # SG diffResource: DIFF_UNKNOWN -> the engine compares old and new inputs, and only
            # then do `replaceOnChanges` paths have changed keys to act on
            # (applyReplaceOnChanges needs the provider's changed keys otherwise).
            changed_keys = _changed(old.inputs, inputs)
            changes = bool(changed_keys)
            replaces += [k for k in changed_keys if k in goal.replace_on_changes]
        if not changes:
            step = Step("same", goal.urn, old.id, old.id, inputs, old.outputs, diff, rpcs=rpcs)

            def keep(step: Step) -> None:  # ST SameStep: old outputs, new inputs
                self._record(goal, old.id, inputs, old.outputs)

            return step, keep
        if not replaces:
            step = Step("update", goal.urn, old.id, old.id, inputs, None, diff, rpcs=rpcs)
            step.changed = _changed(old.inputs, inputs)

            def update(step: Step) -> None:
                rpcs.append("Update")
                step.outputs = self.host.update(
                    goal.urn,
                    old.id,
                    old.outputs,
                    inputs,
                    old_inputs=old.inputs,
                    ignore_changes=goal.ignore_changes,
                )
                self._record(goal, old.id, inputs, step.outputs)

            return step, update
        # SG continueStepsFromDiff: before a replacement the news are checked again, no olds.
        inputs = self._check(goal.urn, {}, goal.inputs, rpcs)
        return self._replacement(goal, old, inputs, rpcs, diff, "diff")

    def _check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any], rpcs: list[str]
    ) -> dict[str, Any]:
        rpcs.append("Check")
        result = self.host.check(urn, olds, news)
        if result.failures:
            raise CheckFailedError(urn, result.failures)
        return result.inputs

    def aliased(self, goal: RegisteredResource) -> ResourceState | None:
        """The state of the resource under one of its aliases, if it has none under its URN
        (SG generateSteps: the aliased state is taken over; its old URN is not deleted)."""
        if goal.urn in self.state:
            return None
        return next((self.state[a] for a in goal.aliases if a in self.state), None)

    def _record(
        self, goal: RegisteredResource, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]
    ) -> None:
        for alias in goal.aliases:  # the state moves to the new URN
            self._drop(alias)
        secret = secret_outputs(outputs, goal.secret_keys, goal.additional_secret_outputs)
        self._save(
            ResourceState(
                goal.urn,
                id_,
                inputs,
                outputs,
                secret_outputs=secret,
                secret_inputs=frozenset(path.split(".")[0] for path in goal.secret_keys),
                dependencies=goal.dependencies,
                replacement_trigger=goal.replacement_trigger,
                protect=goal.protect,
                retain_on_delete=goal.retain_on_delete,
                deleted_with=goal.deleted_with,
            )
        )

    def _creator(self, goal: RegisteredResource) -> Callable[[Step], None]:
        def create(step: Step) -> None:
            """The journal records the operation before the call (journal.go): a create that
            never returns (the CLI interrupted or killed) stays a pending operation."""
            step.rpcs.append("Create")
            operation = PendingOperation(goal.urn, "creating", dict(step.inputs))
            with self._lock:
                self.pending_operations.append(operation)
            try:
                step.id, step.outputs = self.host.create(goal.urn, step.inputs)
            except ProviderError as exc:
                if exc.code not in _INTERRUPTED:  # a failed create is no pending one
                    self._settled(operation)
                raise
            self._settled(operation)
            self._record(goal, step.id, step.inputs, step.outputs)

        return create

    def _settled(self, operation: PendingOperation) -> None:
        with self._lock:
            self.pending_operations = [op for op in self.pending_operations if op is not operation]

    def clear_pending_creates(self) -> None:
        """`pulumi refresh --clear-pending-creates`: drop the pending creates from the state."""
        with self._lock:
            self.pending_operations = [
                op for op in self.pending_operations if op.type != "creating"
            ]

    def _replacement(
        self,
        goal: RegisteredResource,
        old: ResourceState,
        inputs: dict[str, Any],
        rpcs: list[str],
        diff: DiffResult | None,
        reason: ReplaceReason,
    ) -> tuple[Step, Callable[[Step], None]]:
        if old.protect or goal.protect:  # SG: a protected resource is never replaced
            raise EngineError(
                f"unable to replace resource {goal.urn!r} as it is currently marked for "
                "protection: unprotect it first (`pulumi state unprotect`)"
            )
        # SG continueStepsFromDiff: the registration's option overrides the provider's answer;
        # a forced replacement has no answer, so the option alone decides (default: false).
        dbr = diff.delete_before_replace if diff is not None else False
        if goal.delete_before_replace is not None:
            dbr = goal.delete_before_replace
        step = Step("replace", goal.urn, None, old.id, inputs, None, diff, dbr, rpcs)
        step.changed = _changed(old.inputs, inputs)
        step.replace_reason = reason
        create = self._creator(goal)

        def replace(step: Step) -> None:
            if dbr:  # delete now, then create
                if not old.pending_replacement:
                    self._delete_one(old, rpcs)
                    # ST DeleteStep: the old entry stays, marked, until the create succeeds.
                    self._save(dataclasses.replace(old, pending_replacement=True))
                create(step)
                return
            create(step)
            # "the delete step is generated 'later' on, after all creates/updates finish"
            deployment = self._deployment
            assert deployment is not None, "a replacement runs inside a deployment"
            deployment.deletes.append((old, rpcs))

        return step, replace

    # --- deletes --------------------------------------------------------------------------

    def _delete_one(self, old: ResourceState, rpcs: list[str], *, skip: bool = False) -> None:
        """ST DeleteStep: no Delete for a resource only read, one with `retain_on_delete`, or
        one whose `deleted_with` resource goes in the same operation (`skip`); it leaves the
        state all the same."""
        if old.protect:
            raise EngineError(
                f"resource {old.urn!r} cannot be deleted because it is protected: unprotect it "
                "first (`pulumi state unprotect`)"
            )
        if not (old.external or old.retain_on_delete or old.pending_replacement or skip):
            rpcs.append("Delete")
            self.host.delete(old.urn, old.id, old.outputs, old_inputs=old.inputs)
        self._drop(old.urn, old)

    def _delete_all(
        self,
        entries: Sequence[tuple[ResourceState, list[str]]],
        *,
        pending: bool = False,
        steps: list[Step] | None = None,
    ) -> None:
        """Delete `entries` as the engine does: in antichains of the dependency graph, each one
        in parallel up to `--parallel`, each finished before the next (SG ScheduleDeletes; DE
        performPostSteps -> ExecuteParallel + Wait). The first failure stops what has not
        started; a failed replacement delete stays pending."""
        remaining = list(entries)
        going = {entry.urn for entry, _ in entries}
        while remaining:
            urns = {entry.urn for entry, _ in remaining}
            layer = [
                (entry, rpcs)
                for entry, rpcs in remaining
                if not any(
                    entry.urn in other.dependencies
                    for other, _ in remaining
                    if other.urn != entry.urn and other.urn in urns
                )
            ] or remaining
            remaining = [item for item in remaining if item not in layer]
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                outcomes = list(
                    pool.map(lambda item: self._delete_step(item, pending, going), layer)
                )
            if steps is not None:
                steps += [step for step, _ in outcomes]
            errors = [error for _, error in outcomes if error is not None]
            if errors:
                raise errors[0]

    def _delete_step(
        self, item: tuple[ResourceState, list[str]], pending: bool, going: Collection[str]
    ) -> tuple[Step, BaseException | None]:
        entry, rpcs = item
        op: Op = "delete" if self.state.get(entry.urn) is entry else "delete-replaced"
        step = Step(op, entry.urn, None, entry.id, entry.inputs, None, rpcs=rpcs)
        try:
            with self._applying(step):
                self._delete_one(entry, step.rpcs, skip=entry.deleted_with in going)
        except Exception as exc:  # reported once the layer is done
            if pending:
                with self._lock:
                    self.pending_deletes.append(entry)
            return step, exc
        return step, None

    # --- refresh, get, import -------------------------------------------------------------

    def refresh(self, urn: str) -> Step:
        """`pulumi refresh` of one resource (ST RefreshStep.Apply).

        Read(id, state = old outputs, inputs = old inputs). An empty id means the resource is
        gone: it leaves the state. Returned inputs replace the stored ones. Then the engine asks
        the provider what the refresh changed: Diff with the refreshed outputs (and inputs) as
        the olds and the *stored* inputs as the news, and inverts the answer; DIFF_UNKNOWN falls
        back to comparing the two sets of inputs. No Diff for external resources.
        """
        old = self._require(urn)
        if old.pending_replacement:  # SG: refresh skips a resource pending replacement
            return self._emit("done", Step("same", urn, old.id, old.id, old.inputs, old.outputs))
        rpcs = ["Read"]
        result = self.host.read(urn, old.id, old.outputs, inputs=old.inputs)
        if not result.id:
            self._drop(urn, old)
            step = Step("removed", urn, None, old.id, old.inputs, None, rpcs=rpcs)
            return self._emit("done", step)
        inputs = result.inputs if result.inputs is not None else old.inputs
        step = Step("refresh", urn, result.id, old.id, inputs, result.outputs, rpcs=rpcs)
        if not old.external:
            rpcs.append("Diff")
            diff = self.host.diff(urn, result.id, result.outputs, old.inputs, old_inputs=inputs)
            step.diff = diff
            changed = _changed(old.inputs, inputs)
            step.drift = bool(changed) if diff.changes is None else diff.changes
            step.changed = changed
        secret = frozenset(k for k in result.outputs if k in old.secret_outputs)
        self._save(
            ResourceState(
                urn,
                result.id,
                inputs,
                result.outputs,
                old.external,
                secret,
                old.secret_inputs,
                old.dependencies,
                old.replacement_trigger,
                old.protect,
                old.retain_on_delete,
                old.deleted_with,
            )
        )
        return self._emit("done", step)

    def refresh_all(self) -> list[Step]:
        """`pulumi refresh`: every resource's refresh step at once (DE refresh: one
        ExecuteParallel over all of them, in no dependency order)."""
        urns = [entry.urn for entry in self.snapshot()]
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            return list(pool.map(self.refresh, urns))

    def get(self, urn: str, id: str, inputs: Mapping[str, Any]) -> Step:
        """`Resource.get` / `opts.id` (ST ReadStep.Apply): Read with both the inputs and the
        state set to the program's inputs. Nil outputs mean "does not exist"; the host never
        answers nil (it adds `__provider`), so that is the provider's to report. An empty id
        keeps the requested one."""
        result = self.host.read(urn, id, inputs, inputs=inputs)
        stored = dict(inputs)
        found = result.id or id
        self._save(ResourceState(urn, found, stored, result.outputs, external=True))
        step = Step("read", urn, found, None, stored, result.outputs, rpcs=["Read"])
        return self._emit("done", step)

    def import_(self, urn: str, id: str) -> Step:
        """`pulumi import` / the `import` option (ST ImportStep.Apply): Read with the id alone,
        neither inputs nor state; the engine needs inputs back to continue."""
        result = self.host.read(urn, id, None, inputs=None)
        if result.inputs is None:
            raise EngineError(
                f"provider does not support importing resources; please try updating the "
                f"'{urn_name_type(urn)[1]}' plugin"
            )
        self._save(ResourceState(urn, result.id or id, result.inputs, result.outputs))
        step = Step("import", urn, result.id or id, None, result.inputs, result.outputs)
        step.rpcs = ["Read"]
        return self._emit("done", step)

    # --- destroy --------------------------------------------------------------------------

    def destroy(self, urn: str) -> Step:
        """Delete(id, props = outputs) and drop the resource from state."""
        old = self._require(urn)
        steps: list[Step] = []
        self._delete_all([(old, [])], steps=steps)
        return steps[0]

    def destroy_all(self) -> list[Step]:
        """`pulumi destroy`: every resource deleted, independent ones in parallel (their
        Deletes are a fresh host's first resource calls), pending deletes included."""
        entries = [*self.snapshot(), *self.pending_deletes]
        self.pending_deletes = []
        steps: list[Step] = []
        self._delete_all([(entry, []) for entry in entries], steps=steps)
        return steps

    def remove_undeclared(self, declared: Collection[str], *, preview: bool = False) -> list[Step]:
        """What the state holds and the program no longer declares: planned in preview; in a
        deployment, deleted with its other deletes (SG GenerateDeletes); otherwise now."""
        gone = [entry for entry in self.snapshot() if entry.urn not in declared]
        if preview:
            return [self._emit("plan", Step("delete", e.urn, None, e.id, e.inputs)) for e in gone]
        if self._deployment is not None:
            self._deployment.deletes += [(entry, []) for entry in gone]
            return []
        steps: list[Step] = []
        self._delete_all([(entry, []) for entry in gone], steps=steps)
        return steps


@dataclass
class _Deployment:
    """What one deployment has left to delete, and the delete steps once done."""

    preview: bool
    deletes: list[tuple[ResourceState, list[str]]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def registration(urn: str, news: Mapping[str, Any], **options: Any) -> RegisteredResource:
    """What a program registering `news` under `urn`, with resource `options`, sends the engine."""
    for key in ("ignore_changes", "replace_on_changes", "additional_secret_outputs"):
        if key in options:
            options[key] = tuple(options[key])
    if "secret_keys" in options:
        options["secret_keys"] = frozenset(options["secret_keys"])
    name, type_ = urn_name_type(urn)
    return RegisteredResource(type=type_, name=name, urn=urn, inputs=dict(news), **options)


def _config_string(value: Any) -> str:
    """A config value as the engine sends it: text; structured values as JSON (config/value.go)."""
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value)


__all__ = [
    "DEFAULT_PARALLEL",
    "INTERNAL_PREFIX",
    "CheckFailedError",
    "Engine",
    "EngineError",
    "Op",
    "Phase",
    "RegisteredResource",
    "ResourceState",
    "Step",
    "StepListener",
    "apply_ignore_changes",
]
