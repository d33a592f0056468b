"""Deploy a Pulumi program without the Pulumi CLI, through Pulumi's own Python provider host.

`pulumi-hf-endpoints demo` uses this when the `pulumi` CLI is not installed. The program runs in
this process under `pulumi.runtime.set_mocks`, and a monitor plays the engine's part for each
dynamic resource: it starts `python -m pulumi.dynamic` (the process `pulumi up` starts), sends
Configure, then Check, Diff and Create/Update/Delete over gRPC with the SDK's own serialisation,
so the provider runs exactly as under `pulumi up`. Stack outputs resolve from the real outputs.

Deliberately small: one stack, one host per operation (as the CLI does), no refresh or import.
The full engine model used by the test-suite lives in tests/harness.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import runpy
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Coroutine, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import grpc
import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc, resource_pb2

__all__ = ["DynamicProviderHost", "LocalStack", "StackError", "Step", "project_name"]

Op = Literal["create", "update", "replace", "same", "delete"]
Phase = Literal["plan", "start", "done"]
StepListener = Callable[[Phase, "Step"], None]

STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
_INTERNAL = "__"
_PROGRAM_LOCK = threading.Lock()  # Pulumi's runtime settings are process-global
_T = TypeVar("_T")


class StackError(RuntimeError):
    """An operation failed; the message is the provider's (or the engine's) own."""


@dataclass
class Step:
    """What happened, or in a preview would happen, to one resource."""

    op: Op
    urn: str
    type: str
    name: str
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Inputs that differ from the last deployment: key -> (old, new)."""
    id: str | None = None
    outputs: dict[str, Any] | None = None
    seconds: float = 0.0


@dataclass
class _Resource:
    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


def project_name(project_dir: Path) -> str:
    """The `name:` of a project's Pulumi.yaml."""
    match = re.search(r"^name:\s*(\S+)", (project_dir / "Pulumi.yaml").read_text(), re.M)
    if match is None:
        raise StackError(f"{project_dir / 'Pulumi.yaml'} has no project name")
    return match.group(1)


# --- wire helpers ------------------------------------------------------------------------------


def _run(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion, on a helper thread if this one already runs a loop."""

    def run() -> _T:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(make())
        finally:
            loop.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _wire(value: Any) -> Any:
    """What the engine sends to this host: unknowns as the wire sentinel, secrets unwrapped
    (the dynamic host does not accept secrets)."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if rpc.is_rpc_secret(value):
        return _wire(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def _struct(props: Mapping[str, Any]) -> Any:
    """A `google.protobuf.Struct`, serialised by the SDK as the engine would."""
    wire = _wire(props)
    return _run(lambda: rpc.serialize_properties(wire, {}))


def _props(struct: Any) -> dict[str, Any]:
    props: dict[str, Any] = rpc.deserialize_properties(struct, keep_unknowns=True)
    return props


def _public(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith(_INTERNAL)}


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    old, new = _public(old), _public(new)
    return {k: (old.get(k), new.get(k)) for k in sorted({*old, *new}) if old.get(k) != new.get(k)}


def _exception_text(details: str) -> str:
    """The exception line(s) that end the host's traceback."""
    lines = details.rstrip().splitlines()
    last = max((i for i, line in enumerate(lines) if line[:1].isspace()), default=-1)
    tail = [line for line in lines[last + 1 :] if line.strip()]
    return "\n".join(tail) if tail else details.strip()


# --- the provider host -------------------------------------------------------------------------


class DynamicProviderHost:
    """`python -m pulumi.dynamic` and a gRPC client that calls it the way the engine does."""

    def __init__(self, *, env: Mapping[str, str], cwd: Path, log_dir: Path) -> None:
        self._env = {**os.environ, **env}
        self._cwd = cwd
        self._out = log_dir / "provider-host.stdout"
        self._err = log_dir / "provider-host.stderr"
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None

    def start(self, timeout: float = 60.0) -> None:
        with open(self._out, "wb") as out, open(self._err, "ab") as err:
            self._process = subprocess.Popen(
                [sys.executable, "-u", "-m", "pulumi.dynamic"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:  # the host prints its port, then serves
            first, newline, _ = self._out.read_bytes().partition(b"\n")
            if newline:
                break
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise StackError(f"the provider host did not start:\n{self._err.read_text()}")
            time.sleep(0.02)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{int(first)}")
        grpc.channel_ready_future(self._channel).result(timeout=timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)

    def _call(self, method: str, request: Any, name: str, timeout: float | None = None) -> Any:
        if self._stub is None:
            raise StackError("the provider host is not running")
        try:
            return getattr(self._stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            raise StackError(f"{method} {name}: {_exception_text(details or str(exc))}") from None

    def configure(self, config: Mapping[str, str], secret_keys: Collection[str]) -> None:
        args = {k: rpc.wrap_rpc_secret(v) if k in secret_keys else v for k, v in config.items()}
        struct = _run(lambda: rpc.serialize_properties(args, {}))
        request = provider_pb2.ConfigureRequest(
            args=struct, acceptSecrets=True, acceptResources=True
        )
        self._call("Configure", request, "provider", timeout=60)

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        name = urn.rsplit("::", 1)[-1]
        request = provider_pb2.CheckRequest(
            urn=urn, olds=_struct(olds), news=_struct(news), randomSeed=os.urandom(32), name=name
        )
        response = self._call("Check", request, name, timeout=60)
        failures = [(f.property, f.reason) for f in response.failures]
        return _props(response.inputs), failures

    def diff(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[bool | None, list[str], bool]:
        """(changes: None when the provider cannot tell, replace keys, delete-before-replace)."""
        name = urn.rsplit("::", 1)[-1]
        request = provider_pb2.DiffRequest(
            id=id_, urn=urn, olds=_struct(olds), news=_struct(news), name=name
        )
        response = self._call("Diff", request, name, timeout=60)
        changes = {
            provider_pb2.DiffResponse.DIFF_SOME: True,
            provider_pb2.DiffResponse.DIFF_NONE: False,
        }.get(response.changes)
        return changes, list(response.replaces), bool(response.deleteBeforeReplace)

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        name = urn.rsplit("::", 1)[-1]
        request = provider_pb2.CreateRequest(urn=urn, properties=_struct(props), name=name)
        response = self._call("Create", request, name)
        return str(response.id), _props(response.properties)

    def update(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        name = urn.rsplit("::", 1)[-1]
        request = provider_pb2.UpdateRequest(
            id=id_, urn=urn, olds=_struct(olds), news=_struct(news), name=name
        )
        return _props(self._call("Update", request, name).properties)

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        name = urn.rsplit("::", 1)[-1]
        request = provider_pb2.DeleteRequest(id=id_, urn=urn, properties=_struct(props), name=name)
        self._call("Delete", request, name)


# --- the program and the engine's part ---------------------------------------------------------


class _EchoMocks(mocks.Mocks):
    """Outputs for what is not a dynamic resource (components): the inputs."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class _EngineMonitor(mocks.MockMonitor):
    """Receives the program's registrations and sends dynamic resources to the host."""

    def __init__(self, stack: LocalStack, host: DynamicProviderHost, preview: bool) -> None:
        super().__init__(_EchoMocks())
        self._stack = stack
        self._host = host
        self._preview = preview

    def RegisterResource(self, request: Any) -> Any:
        if not (request.custom and request.type.startswith(DYNAMIC_PREFIX)):
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        urn = self._stack.urn(request.type, request.name, request.parent)
        news = _props(_struct(_props(request.object)))  # as the engine forwards them
        try:
            id_, outputs = self._stack._register(
                self._host, urn, request.type, request.name, news, self._preview
            )
        except Exception as exc:  # reported once the program has finished
            self._stack._fail(exc)
            id_, outputs = "", news
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=id_, object=_struct(_public(outputs))
        )


class LocalStack:
    """One stack of a Pulumi project, deployed through the provider host; state in `work_dir`.

    `listener(phase, step)` hears each step: "plan" (preview), "start" and "done" (up/destroy).
    """

    def __init__(
        self,
        project_dir: Path,
        work_dir: Path,
        *,
        stack: str = "demo",
        env: Mapping[str, str] | None = None,
        listener: StepListener | None = None,
    ) -> None:
        self.project_dir = project_dir
        self.project = project_name(project_dir)
        self.stack = stack
        self.work_dir = work_dir
        self.state_path = work_dir / "stack.json"
        self.config: dict[str, str] = {}
        self.outputs: dict[str, Any] = {}
        self._secret_keys: set[str] = set()
        self._env = {"PULUMI_PROJECT": self.project, "PULUMI_STACK": stack, **(env or {})}
        self._listener = listener
        self._resources: dict[str, _Resource] = {}
        self._lock = threading.Lock()
        self._errors: list[Exception] = []
        self._seen: set[str] = set()
        self._steps: list[Step] = []

    # --- configuration ---------------------------------------------------------------------

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        """`pulumi config set [--secret] key value`; bare keys belong to the project."""
        key = key if ":" in key else f"{self.project}:{key}"
        self.config[key] = value
        if secret:
            self._secret_keys.add(key)

    def urn(self, type_: str, name: str, parent: str = "") -> str:
        qualified = type_
        if parent and parent.split("::")[2].split("$")[-1] != STACK_TYPE:
            qualified = f"{parent.split('::')[2]}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    # --- operations ------------------------------------------------------------------------

    def preview(self) -> list[Step]:
        """`pulumi preview`: Check and Diff only; nothing changes."""
        return self._operation(preview=True)

    def up(self) -> list[Step]:
        """`pulumi up`: apply the program, delete what it no longer declares."""
        return self._operation(preview=False)

    def destroy(self) -> list[Step]:
        """`pulumi destroy`: delete every resource, newest first."""
        with self._host() as host:
            self._steps = []
            for entry in reversed(list(self._resources.values())):
                self._delete(host, entry)
            self.outputs = {}
            self._save()
            return list(self._steps)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """URN -> outputs of every resource in the stack's state."""
        return {urn: dict(r.outputs) for urn, r in self._resources.items()}

    # --- internals -------------------------------------------------------------------------

    @contextmanager
    def _host(self) -> Iterator[DynamicProviderHost]:
        host = DynamicProviderHost(env=self._env, cwd=self.project_dir, log_dir=self.work_dir)
        host.start()
        try:
            host.configure(self.config, self._secret_keys)
            yield host
        finally:
            host.close()

    def _operation(self, *, preview: bool) -> list[Step]:
        with self._host() as host:
            self._steps, self._errors, self._seen = [], [], set()
            exports = self._run_program(host, preview)
            if self._errors:
                if not preview:
                    self._save()
                raise self._errors[0]
            for urn in reversed([u for u in self._resources if u not in self._seen]):
                entry = self._resources[urn]
                if preview:
                    self._emit("plan", Step("delete", urn, entry.type, entry.name, id=entry.id))
                else:
                    self._delete(host, entry)
            if not preview:
                self.outputs = exports
                self._save()
            return list(self._steps)

    def _run_program(self, host: DynamicProviderHost, preview: bool) -> dict[str, Any]:
        """Run `__main__.py` with the stack's config; return its stack outputs."""
        exports: dict[str, Any] = {}
        outcome: list[BaseException] = []
        config, secret_keys = dict(self.config), sorted(self._secret_keys)
        main = self.project_dir / "__main__.py"

        def body() -> Any:
            pulumi.runtime.set_all_config(config, secret_keys)
            sys.path.insert(0, str(self.project_dir))
            try:
                runpy.run_path(str(main), run_name="__main__")
            finally:
                sys.path.remove(str(self.project_dir))
            root: Any = pulumi.runtime.get_root_resource()
            return pulumi.Output.from_input(dict(root.outputs)).apply(exports.update)

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                monitor = _EngineMonitor(self, host, preview)
                pulumi.runtime.set_mocks(
                    monitor.mocks,
                    project=self.project,
                    stack=self.stack,
                    preview=preview,
                    monitor=monitor,
                )
                pulumi.runtime.test(body)()  # type: ignore[no-untyped-call]
            except BaseException as exc:
                outcome.append(exc)
            finally:
                asyncio.set_event_loop(None)
                loop.close()

        with _PROGRAM_LOCK:
            thread = threading.Thread(target=run, name="pulumi-program", daemon=True)
            thread.start()
            thread.join()
        if outcome and not self._errors:
            raise StackError(f"the program failed: {outcome[0]}") from outcome[0]
        return exports

    def _fail(self, exc: Exception) -> None:
        with self._lock:
            self._errors.append(exc)

    def _emit(self, phase: Phase, step: Step) -> None:
        if phase != "start":
            with self._lock:
                self._steps.append(step)
        if self._listener is not None:
            self._listener(phase, step)

    def _keep(self, entry: _Resource) -> None:
        with self._lock:
            self._resources[entry.urn] = entry
        self._save()

    def _save(self) -> None:
        with self._lock:
            state = {
                "project": self.project,
                "stack": self.stack,
                "config": {k: v for k, v in self.config.items() if k not in self._secret_keys},
                "resources": [asdict(r) for r in self._resources.values()],
                "outputs": self.outputs,
            }
            self.state_path.write_text(json.dumps(state, indent=2, default=str))

    def _check(
        self, host: DynamicProviderHost, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        inputs, failures = host.check(urn, olds, news)
        if failures:
            reasons = "; ".join(f"{prop or '(resource)'}: {why}" for prop, why in failures)
            raise StackError(f"{urn.rsplit('::', 1)[-1]} has invalid properties: {reasons}")
        return inputs

    def _register(
        self,
        host: DynamicProviderHost,
        urn: str,
        type_: str,
        name: str,
        news: dict[str, Any],
        preview: bool,
    ) -> tuple[str, dict[str, Any]]:
        """The engine's step for one registration (step_generator.go, reduced)."""
        with self._lock:
            old = self._resources.get(urn)
            self._seen.add(urn)
        inputs = self._check(host, urn, old.inputs if old else {}, news)
        if old is None:
            step = Step("create", urn, type_, name)
            if preview:
                self._emit("plan", step)
                return "", inputs
            return self._create(host, step, inputs)

        changes, replaces, delete_first = host.diff(urn, old.id, old.outputs, inputs)
        changed = _changes(old.inputs, inputs)
        if not (changes if changes is not None else changed):
            step = Step("same", urn, type_, name, id=old.id, outputs=old.outputs)
            self._emit("plan" if preview else "done", step)
            if not preview:
                self._keep(_Resource(urn, type_, name, old.id, inputs, old.outputs))
            return old.id, old.outputs
        if not replaces:
            step = Step("update", urn, type_, name, changed, id=old.id)
            if preview:
                self._emit("plan", step)
                return old.id, {**old.outputs, **inputs}
            self._emit("start", step)
            started = time.monotonic()
            outputs = host.update(urn, old.id, old.outputs, inputs)
            self._keep(_Resource(urn, type_, name, old.id, inputs, outputs))
            step.outputs, step.seconds = outputs, time.monotonic() - started
            self._emit("done", step)
            return old.id, outputs

        step = Step("replace", urn, type_, name, changed, id=old.id)
        if preview:
            self._emit("plan", step)
            return old.id, {**old.outputs, **inputs}
        inputs = self._check(host, urn, {}, news)  # a replacement recomputes auto-names
        if delete_first:
            self._delete(host, old, record=False)
            return self._create(host, step, inputs)
        result = self._create(host, step, inputs)
        self._delete(host, old, record=False)  # keeps the new entry: same URN, other object
        return result

    def _create(
        self, host: DynamicProviderHost, step: Step, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        self._emit("start", step)
        started = time.monotonic()
        id_, outputs = host.create(step.urn, inputs)
        self._keep(_Resource(step.urn, step.type, step.name, id_, inputs, outputs))
        step.id, step.outputs, step.seconds = id_, outputs, time.monotonic() - started
        self._emit("done", step)
        return id_, outputs

    def _delete(
        self,
        host: DynamicProviderHost,
        entry: _Resource,
        *,
        record: bool = True,
    ) -> None:
        step = Step("delete", entry.urn, entry.type, entry.name, id=entry.id)
        if record:
            self._emit("start", step)
        started = time.monotonic()
        host.delete(entry.urn, entry.id, entry.outputs)
        step.seconds = time.monotonic() - started
        with self._lock, suppress(KeyError):
            if self._resources[entry.urn] is entry:
                del self._resources[entry.urn]
        self._save()
        if record:
            self._emit("done", step)
