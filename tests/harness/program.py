"""Run a Pulumi program under `pulumi.runtime.set_mocks` and capture what it registers.

Each registration is captured from the raw `RegisterResourceRequest` (or `ReadResourceRequest` for
`get`), so the inputs are what the engine would receive: the `__provider` blob included, secrets
unwrapped (their top-level keys listed in `secret_keys`), preview unknowns kept as `Unknown`, and
round-tripped through serialize/deserialize (floats, `None` keys dropped), ready for `Check`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc

from .host import from_struct, round_trip, to_wire

NewResource = Callable[[mocks.MockResourceArgs], tuple[str | None, dict[str, Any]]]
"""Optional mock for outputs: (id, outputs) for a registration; default echoes the inputs."""

_ROOT_STACK = "pulumi:pulumi:Stack"
_CAPTURE_LOCK = threading.Lock()


@dataclass(frozen=True)
class RegisteredResource:
    """One resource the program declared, as the engine would see it."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool = True
    secret_keys: frozenset[str] = frozenset()
    read_id: str | None = None
    """Set for `get`-style registrations (`opts.id`): the engine reads instead of creating."""
    delete_before_replace: bool | None = None
    options: dict[str, Any] = field(default_factory=dict)


def engine_urn(project: str, stack: str, type_: str, name: str, parent: str = "") -> str:
    """The engine's URN: the parent's qualified type is prefixed, the root stack's is not.

    `parent` may be an engine URN or a mock-monitor URN (which wrongly includes the stack type).
    """
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2].removeprefix(f"{_ROOT_STACK}$")
        if parent_type != _ROOT_STACK:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _plain_inputs(struct: Any) -> tuple[dict[str, Any], frozenset[str]]:
    raw = from_struct(struct)
    secret = frozenset(k for k, v in raw.items() if rpc.is_rpc_secret(v))
    return round_trip(to_wire(raw)), secret


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mocks_: mocks.Mocks, project: str, stack: str) -> None:
        super().__init__(mocks_)
        self.project = project
        self.stack = stack
        self.captured: list[RegisteredResource] = []
        self._lock = threading.Lock()

    def _add(self, res: RegisteredResource) -> None:
        with self._lock:
            self.captured.append(res)

    def RegisterResource(self, request: Any) -> Any:
        if request.type != _ROOT_STACK:
            inputs, secret = _plain_inputs(request.object)
            dbr = request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
            self._add(
                RegisteredResource(
                    type=request.type,
                    name=request.name,
                    urn=engine_urn(
                        self.project, self.stack, request.type, request.name, request.parent
                    ),
                    inputs=inputs,
                    custom=bool(request.custom),
                    secret_keys=secret,
                    read_id=None,
                    delete_before_replace=dbr,
                    options={
                        "protect": request.protect,
                        "ignore_changes": list(request.ignoreChanges),
                        "replace_on_changes": list(request.replaceOnChanges),
                        "additional_secret_outputs": list(request.additionalSecretOutputs),
                        "import_id": request.importId or None,
                        "parent": request.parent or None,
                    },
                )
            )
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        inputs, secret = _plain_inputs(request.properties)
        self._add(
            RegisteredResource(
                type=request.type,
                name=request.name,
                urn=engine_urn(
                    self.project, self.stack, request.type, request.name, request.parent
                ),
                inputs=inputs,
                secret_keys=secret,
                read_id=request.id,
                options={"parent": request.parent or None},
            )
        )
        return super().ReadResource(request)  # type: ignore[no-untyped-call]


class _Mocks(mocks.Mocks):
    def __init__(self, new_resource: NewResource | None) -> None:
        self._new_resource = new_resource

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if self._new_resource is not None:
            return self._new_resource(args)
        return (args.resource_id or f"{args.name}-id", dict(args.inputs))

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def capture_program(
    fn: Callable[[], Any],
    *,
    project: str = "project",
    stack: str = "stack",
    preview: bool = False,
    new_resource: NewResource | None = None,
    timeout: float = 120.0,
) -> list[RegisteredResource]:
    """Run `fn` (a program body) under mocks; return its registrations in order.

    Runs in a fresh thread with its own event loop and Pulumi settings context, so it works from
    sync and async tests alike. Captures are serialised: Pulumi's settings are process-global.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            monitor = _RecordingMonitor(_Mocks(new_resource), project, stack)
            pulumi.runtime.set_mocks(
                monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor
            )
            pulumi.runtime.test(fn)()  # type: ignore[no-untyped-call]
            outcome["resources"] = list(monitor.captured)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    with _CAPTURE_LOCK:
        thread = threading.Thread(target=run, name="capture_program", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"program did not finish within {timeout}s")
    if "error" in outcome:
        raise outcome["error"]
    resources: list[RegisteredResource] = outcome["resources"]
    return resources
