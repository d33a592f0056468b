"""What a Pulumi program registers, captured under `set_mocks`, and an engine that replays it.

Registrations are taken from the raw `RegisterResourceRequest` (or `ReadResourceRequest` for
`get`) by the same code as the demo's `EngineMonitor`, so the inputs are what the engine would
receive: the `__provider` blob included, secrets unwrapped, preview unknowns kept, ready for
`Check`. `capture_program` records them; `Engine.up_program` runs them afterwards as one
deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from pulumi.runtime import mocks

from pulumi_hf_endpoints.demo._engine import engine as _engine
from pulumi_hf_endpoints.demo._engine.engine import RegisteredResource, Step
from pulumi_hf_endpoints.demo._engine.monitor import (
    STACK_TYPE,
    StackMonitor,
    engine_inputs,
    registration,
    run_program,
)
from pulumi_hf_endpoints.demo._engine.monitor import EchoMocks as _InputsEchoed

NewResource = Callable[[mocks.MockResourceArgs], tuple[str | None, dict[str, Any]]]
"""Optional mock for outputs: (id, outputs) for a registration; default echoes the inputs."""


class EchoMocks(_InputsEchoed):
    """Outputs for the registrations: `new_resource`'s, else the inputs echoed."""

    def __init__(self, new_resource: NewResource | None = None) -> None:
        self._new_resource = new_resource

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if self._new_resource is not None:
            return self._new_resource(args)
        return super().new_resource(args)


class _RecordingMonitor(StackMonitor):
    def __init__(self, mocks_: mocks.Mocks, project: str, stack: str) -> None:
        super().__init__(mocks_, project, stack)
        self.captured: list[RegisteredResource] = []

    def _add(self, res: RegisteredResource) -> None:
        with self._lock:
            self.captured.append(res)

    def RegisterResource(self, request: Any) -> Any:
        if request.type != STACK_TYPE:
            self._add(registration(request, self.urn_of(request)))
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:
        inputs, secret = engine_inputs(request.properties)
        self._add(
            RegisteredResource(
                type=request.type,
                name=request.name,
                urn=self.urn_of(request),
                inputs=inputs,
                secret_keys=secret,
                read_id=request.id,
                options={"parent": request.parent or None},
            )
        )
        return super().ReadResource(request)


def capture_program(
    fn: Callable[[], Any],
    *,
    project: str = "project",
    stack: str = "stack",
    preview: bool = False,
    new_resource: NewResource | None = None,
    timeout: float = 120.0,
) -> list[RegisteredResource]:
    """Run `fn` (a program body) under mocks; return its registrations as they arrived.

    Resources that do not depend on each other may register in any order: look them up by name.
    """
    monitor = _RecordingMonitor(EchoMocks(new_resource), project, stack)
    run_program(fn, monitor, project=project, stack=stack, preview=preview, timeout=timeout)
    return list(monitor.captured)


class Engine(_engine.Engine):
    """The engine model, able to replay a captured program (`up_program`)."""

    def up_program(
        self,
        resources: Iterable[RegisteredResource],
        *,
        preview: bool = False,
        replace: Collection[str] = (),
    ) -> list[Step]:
        """Run a captured program as one deployment: register each custom resource (reads for
        `get`), then delete what it dropped and what it replaced. `replace` lists the URNs of
        `pulumi up --replace`."""
        steps: list[Step] = []
        seen: set[str] = set()
        with self.deployment(preview=preview) as deployment:
            for res in resources:
                if not res.custom:
                    continue
                seen.add(res.urn)
                if res.read_id is not None:
                    if not preview:
                        steps.append(self.get(res.urn, res.read_id, res.inputs))
                    continue
                steps.append(self.register(res, replace=res.urn in replace, preview=preview))
            steps += self.remove_undeclared(seen, preview=preview)
        return steps + deployment.steps
