"""Run a Pulumi program under `pulumi.runtime.set_mocks`, with the engine model as its engine.

Registrations are taken from the raw `RegisterResourceRequest`, so the inputs are what the engine
would receive: the `__provider` blob included, secrets unwrapped (their top-level keys listed in
`secret_keys`), preview unknowns kept as `Unknown`, and round-tripped through
serialize/deserialize (floats, `None` keys dropped), ready for `Check`. `EngineMonitor` sends each
dynamic resource to an `Engine` as it registers, so the program sees the real outputs (as under
`pulumi up`); `run_program` runs a program body under such a monitor.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2

from .engine import Engine, RegisteredResource, ResourceState, Step, secret_outputs
from .wire import from_struct, round_trip, run_coroutine, to_struct, to_wire, without_internal

STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
"""Type prefix of dynamic resources: the only ones the provider host manages."""

_PROGRAM_LOCK = threading.Lock()  # Pulumi's runtime settings are process-global


def engine_urn(project: str, stack: str, type_: str, name: str, parent: str = "") -> str:
    """The engine's URN: the parent's qualified type is prefixed, the root stack's is not.

    `parent` may be an engine URN or a mock-monitor URN (which wrongly includes the stack type).
    """
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2].removeprefix(f"{STACK_TYPE}$")
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def alias_urns(request: Any, project: str, stack: str) -> tuple[str, ...]:
    """The URNs a registration's `aliases` name: given whole, or as specs whose empty fields
    default to the resource's own name, type, parent, project and stack."""
    urns = []
    for alias in request.aliases:
        if alias.urn:
            urns.append(alias.urn)
            continue
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or request.parent)
        urns.append(
            engine_urn(
                spec.project or project,
                spec.stack or stack,
                spec.type or request.type,
                spec.name or request.name,
                parent,
            )
        )
    return tuple(urns)


def registration(request: Any, urn: str, aliases: tuple[str, ...] = ()) -> RegisteredResource:
    """A `RegisterResourceRequest` as the engine takes it: inputs ready for Check, and the
    resource options the engine acts on."""
    inputs, secret = engine_inputs(request.object)
    dbr = request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
    trigger = None
    if request.HasField("replacement_trigger"):
        trigger = rpc.deserialize_property(
            json_format.MessageToDict(request.replacement_trigger), keep_unknowns=True
        )
    return RegisteredResource(
        type=request.type,
        name=request.name,
        urn=urn,
        inputs=inputs,
        custom=bool(request.custom),
        secret_keys=secret,
        delete_before_replace=dbr,
        ignore_changes=tuple(request.ignoreChanges),
        replace_on_changes=tuple(request.replaceOnChanges),
        replacement_trigger=trigger,
        additional_secret_outputs=tuple(request.additionalSecretOutputs),
        dependencies=tuple(request.dependencies),
        protect=bool(request.protect),
        retain_on_delete=bool(request.retainOnDelete),
        deleted_with=request.deletedWith,
        aliases=aliases,
        options={
            "protect": request.protect,
            "ignore_changes": list(request.ignoreChanges),
            "replace_on_changes": list(request.replaceOnChanges),
            "additional_secret_outputs": list(request.additionalSecretOutputs),
            "import_id": request.importId or None,
            "parent": request.parent or None,
        },
    )


def engine_inputs(struct: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A registration's property struct as the engine forwards it to Check, and its secret keys."""
    raw = from_struct(struct)
    return round_trip(to_wire(raw)), frozenset(_secret_paths(raw))


def _secret_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the secret values in `value`: `pw`, `customImage.credentials.password`."""
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        path = f"{prefix}{key}"
        if rpc.is_rpc_secret(item):
            yield path
            item = rpc.unwrap_rpc_secret(item)
        yield from _secret_paths(item, f"{path}.")


class EchoMocks(mocks.Mocks):
    """Outputs for registrations no engine handles (components, reads): the inputs echoed."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return (args.resource_id or f"{args.name}-id", dict(args.inputs))

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def run_program(
    fn: Callable[[], Any],
    monitor: mocks.MockMonitor,
    *,
    project: str,
    stack: str,
    preview: bool,
    timeout: float | None = None,
) -> None:
    """Run `fn` (a program body) under `set_mocks` with `monitor`; raise what it raised.

    Runs in a fresh thread with its own event loop and Pulumi settings context, so it works from
    sync and async code alike. Runs are serialised: Pulumi's settings are process-global.
    """
    failure: list[BaseException] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            pulumi.runtime.set_mocks(
                monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor
            )
            pulumi.runtime.test(fn)()  # type: ignore[no-untyped-call]
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    with _PROGRAM_LOCK:
        thread = threading.Thread(target=run, name="pulumi-program", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"program did not finish within {timeout}s")
    if failure:
        raise failure[0]


class StackMonitor(mocks.MockMonitor):
    """A mock monitor that names registrations with the engine's URNs for one stack."""

    def __init__(self, mocks_: mocks.Mocks, project: str, stack: str) -> None:
        super().__init__(mocks_)
        self.project = project
        self.stack = stack
        self._lock = threading.Lock()  # registrations arrive on several threads

    def urn_of(self, request: Any) -> str:
        return engine_urn(self.project, self.stack, request.type, request.name, request.parent)


class EngineMonitor(StackMonitor):
    """Plays the engine while a program runs: each dynamic resource goes to `engine.up` (or, in
    preview, `engine.preview`) as it registers, and the program gets its outputs back.

    Other resources (components) get their inputs as outputs. A failed registration is kept in
    `errors` and answered with its inputs, so that the program finishes; `declared` lists the
    URNs of the dynamic resources, for `Engine.remove_undeclared`.
    """

    def __init__(
        self,
        engine: Engine,
        project: str,
        stack: str,
        *,
        preview: bool,
        replace: Collection[str] = (),
    ) -> None:
        super().__init__(EchoMocks(), project, stack)
        self.engine = engine
        self.preview = preview
        self.replace = frozenset(replace)
        """URNs to replace, as `pulumi up --replace URN` asks."""
        self.declared: list[str] = []
        self.errors: list[Exception] = []

    def RegisterResource(self, request: Any) -> Any:
        if not (request.custom and request.type.startswith(DYNAMIC_PREFIX)):
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        aliases = alias_urns(request, self.project, self.stack)
        goal = registration(request, self.urn_of(request), aliases)
        taken_over = self.engine.aliased(goal)
        with self._lock:
            self.declared.append(goal.urn)
            if taken_over is not None:  # not undeclared: renamed
                self.declared.append(taken_over.urn)
        old = self.engine.state.get(goal.urn)
        try:
            step = self.engine.register(
                goal, replace=goal.urn in self.replace, preview=self.preview
            )
            id_, outputs = _program_view(step, old, preview=self.preview)
        except Exception as exc:  # reported once the program has finished
            with self._lock:
                self.errors.append(exc)
            id_, outputs = "", goal.inputs
        secret = secret_outputs(outputs, goal.secret_keys, goal.additional_secret_outputs)
        return resource_pb2.RegisterResourceResponse(
            urn=goal.urn, id=id_, object=_with_secrets(without_internal(outputs), secret)
        )

    def ReadResource(self, request: Any) -> Any:
        """`Resource.get`: the engine reads the resource through its provider (ST ReadStep),
        in a preview too, and the program gets what the provider answered."""
        if not request.type.startswith(DYNAMIC_PREFIX):
            return super().ReadResource(request)  # type: ignore[no-untyped-call]
        urn = self.urn_of(request)
        inputs, _ = engine_inputs(request.properties)
        with self._lock:
            self.declared.append(urn)  # read resources stay in the state while read
        try:
            outputs = self.engine.get(urn, request.id, inputs).outputs or {}
        except Exception as exc:  # reported once the program has finished
            with self._lock:
                self.errors.append(exc)
            outputs = inputs
        return resource_pb2.ReadResourceResponse(
            urn=urn, properties=to_struct(without_internal(outputs))
        )


def _with_secrets(outputs: dict[str, Any], secret: Collection[str]) -> Any:
    """The outputs as the engine returns them to the program: the secret ones wrapped as
    secrets (the monitor supports the "secrets" feature), so that the program's outputs built
    from them are secret too, as `pulumi.export` then stores them."""
    wire = to_wire(outputs)
    marked = {k: rpc.wrap_rpc_secret(v) if k in secret else v for k, v in wire.items()}
    struct: Any = run_coroutine(lambda: rpc.serialize_properties(marked, {}))
    return struct


def _program_view(
    step: Step, old: ResourceState | None, *, preview: bool
) -> tuple[str, dict[str, Any]]:
    """The id and outputs a program sees for `step`.

    In a preview, a planned create, update or replacement gives the program the checked inputs
    and nothing else: the host does not declare preview support, so the engine answers for it
    with the inputs (PP Create/Update: `!protocol.supportsPreview`), and every other output is
    unknown to the program. A "same" step keeps the old outputs.
    """
    if step.outputs is not None:
        return step.id or "", step.outputs
    if not preview or old is None or step.op in ("create", "replace"):
        return (old.id if old is not None and step.op != "replace" else ""), step.inputs
    return old.id, step.inputs
