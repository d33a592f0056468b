"""Run the example projects' programs as `pulumi up` would, through Pulumi's real provider host
(tests/harness) against the in-process emulator, and read back their stack outputs."""

from __future__ import annotations

import json
import re
import runpy
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.harness import (
    Engine,
    ProviderHost,
    RegisteredResource,
    Step,
    capture_program,
    engine_urn,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STACK = "test"
DYNAMIC = "pulumi-python:dynamic"
"""Type prefix of dynamic resources: the only ones the provider host manages. The engine
resolves built-ins such as `pulumi:pulumi:StackReference` itself (here: `lookup`)."""

Lookup = Callable[[mocks.MockResourceArgs], tuple[str | None, dict[str, Any]] | None]


def project_name(project_dir: Path) -> str:
    match = re.search(r"^name:\s*(\S+)", (project_dir / "Pulumi.yaml").read_text(), re.M)
    assert match, f"{project_dir}/Pulumi.yaml has no name"
    return match.group(1)


def run_program(
    project_dir: Path,
    config: Mapping[str, Any],
    *,
    preview: bool = False,
    lookup: Lookup | None = None,
) -> tuple[list[RegisteredResource], dict[str, Any]]:
    """Run `__main__.py` under mocks with `config` (bare keys belong to the project).

    Returns what it registers and its stack outputs; `lookup` supplies resource outputs
    (default: the inputs echoed, as the mocks do)."""
    project = project_name(project_dir)
    values = {
        (key if ":" in key else f"{project}:{key}"): (
            value if isinstance(value, str) else json.dumps(value)
        )
        for key, value in config.items()
    }
    exports: dict[str, Any] = {}

    def program() -> Any:
        pulumi.runtime.set_all_config(values)
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        stack = pulumi.runtime.get_root_resource()
        assert stack is not None
        return pulumi.Output.from_input(dict(stack.outputs)).apply(exports.update)  # type: ignore[attr-defined]

    def new_resource(args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        found = lookup(args) if lookup is not None else None
        if found is not None:
            return found
        return (args.resource_id or f"{args.name}-id", dict(args.inputs))

    resources = capture_program(
        program, project=project, stack=STACK, preview=preview, new_resource=new_resource
    )
    return resources, exports


def _managed(resources: list[RegisteredResource]) -> list[RegisteredResource]:
    return [r for r in resources if r.type.startswith(DYNAMIC)]


class ExampleStack:
    """One stack of an example project: config, the engine's state, and the stack outputs."""

    def __init__(
        self,
        host: ProviderHost,
        project_dir: Path,
        config: Mapping[str, Any] | None = None,
        *,
        lookup: Lookup | None = None,
    ) -> None:
        self.project_dir = project_dir
        self.project = project_name(project_dir)
        self.config: dict[str, Any] = dict(config or {})
        self.engine = Engine(host)
        self.outputs: dict[str, Any] = {}
        self._lookup = lookup

    def _state_lookup(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]] | None:
        urn = engine_urn(self.project, STACK, args.typ, args.name)
        entry = self.engine.state.get(urn)
        if entry is not None:
            outputs = {k: v for k, v in entry.outputs.items() if not k.startswith("__")}
            return entry.id, outputs
        found = self._lookup(args) if self._lookup is not None else None
        return found  # type: ignore[return-value]

    def preview(self) -> list[Step]:
        resources, _ = run_program(self.project_dir, self.config, preview=True, lookup=self._lookup)
        return self.engine.up_program(_managed(resources), preview=True)

    def up(self) -> list[Step]:
        """`pulumi up`: apply the program, then read the stack outputs it exports."""
        resources, _ = run_program(self.project_dir, self.config, lookup=self._lookup)
        steps = self.engine.up_program(_managed(resources))
        _, self.outputs = run_program(self.project_dir, self.config, lookup=self._state_lookup)
        return steps

    def destroy(self) -> list[Step]:
        steps = self.engine.destroy_all()
        self.outputs = {}
        return steps

    def endpoint(self, logical_name: str) -> dict[str, Any]:
        """The state outputs of the InferenceEndpoint named `logical_name`."""
        for urn, entry in self.engine.state.items():
            if urn.endswith(f"::{logical_name}"):
                return entry.outputs
        raise KeyError(logical_name)


def live_names(emulator: EmulatorHandle) -> set[str]:
    """Every endpoint the emulator holds in the user's namespace."""
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        return {e["name"] for e in api.list_endpoints(emulator.user)}


@pytest.fixture
def host(emulator: EmulatorHandle) -> Iterator[ProviderHost]:
    """Pulumi's provider host, configured as a stack targeting the emulator would be."""
    with ProviderHost(env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}) as provider_host:
        provider_host.configure(
            {"huggingface:token": emulator.token, "huggingface:apiUrl": emulator.api_url},
            secret_keys=["huggingface:token"],
        )
        yield provider_host


@pytest.fixture
def script_env(emulator: EmulatorHandle) -> dict[str, str]:
    """The environment a user sets to run an example's script against the emulator."""
    import os

    return {
        **os.environ,
        "HF_TOKEN": emulator.token,
        "HF_ENDPOINTS_API_URL": emulator.api_url,
    }
