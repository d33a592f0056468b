"""Deploy a Pulumi program without the Pulumi CLI, through Pulumi's own Python provider host.

`pulumi-hf-endpoints demo` uses this when the `pulumi` CLI is not installed. The program runs in
this process under `pulumi.runtime.set_mocks`, and the engine model of `_engine` (the one the
test-suite uses) plays the engine's part for each dynamic resource: it starts
`python -m pulumi.dynamic` (the process `pulumi up` starts), sends Configure, then Check, Diff and
Create/Update/Delete over gRPC with the SDK's own serialisation, so the provider runs exactly as
under `pulumi up`. Stack outputs resolve from the real outputs.

What is the demo's own: one stack, one host per operation (as the CLI does), stack config, the
state written to `stack.json`, and errors reported as `StackError` with the provider's message.
"""

from __future__ import annotations

import functools
import json
import runpy
import sys
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi

from ._engine.engine import CheckFailedError, Engine, EngineError, Phase, Step, StepListener
from ._engine.host import HostStartError, ProviderError, ProviderHost, urn_name_type
from ._engine.monitor import EngineMonitor, run_program
from .stack import StackError, project_name

__all__ = [
    "UNKNOWN",
    "LocalStack",
    "Phase",
    "Step",
    "StepListener",
]


UNKNOWN = "[known after pulumi up]"
"""How a stack output appears in a plan when its value comes from the service."""


@contextmanager
def _stack_errors() -> Iterator[None]:
    """Report the host's and the engine's failures as `StackError`s that say what failed."""
    try:
        yield
    except CheckFailedError as exc:
        reasons = "; ".join(f"{f.property or '(resource)'}: {f.reason}" for f in exc.failures)
        raise StackError(f"{urn_name_type(exc.urn)[0]} has invalid properties: {reasons}") from None
    except ProviderError as exc:
        subject = urn_name_type(exc.urn)[0] or "provider"
        raise StackError(f"{exc.method} {subject}: {exc.message}") from None
    except HostStartError as exc:
        raise StackError(f"the provider host did not start: {exc}") from None
    except EngineError as exc:
        raise StackError(str(exc)) from None


SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""The key Pulumi's state uses to mark a secret value (`sig.Secret` in the SDK)."""
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def _sealed(props: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """`props` as Pulumi's state writes them: each secret value in a secret envelope. Pulumi
    encrypts the value with the stack's secrets provider; this local stack has none and never
    reads its file back, so the envelope holds no value at all."""
    return {
        key: {SECRET_SIG: SECRET_SIG_VALUE, "ciphertext": "[not kept by this local stack]"}
        if key in secret
        else value
        for key, value in props.items()
    }


def _note_secret(output: pulumi.Output[Any], key: str, secret: set[str]) -> pulumi.Output[None]:
    """An output that adds `key` to `secret` once `output` is known to be secret."""

    async def note() -> None:
        if await output.is_secret():
            secret.add(key)

    noted: pulumi.Output[None] = pulumi.Output.from_input(note())
    return noted


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
        self.planned_outputs: dict[str, Any] = {}
        """The stack outputs a preview knows; those known only after `up` are `UNKNOWN`."""
        self.secret_outputs: set[str] = set()
        """Stack outputs built from a secret: the state seals them, as Pulumi's does."""
        self._secret_keys: set[str] = set()
        self._env = {"PULUMI_STACK": stack, **(env or {})}
        self._listener = listener
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._steps: list[Step] = []

    # --- configuration ---------------------------------------------------------------------

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        """`pulumi config set [--secret] key value`; bare keys belong to the project."""
        key = key if ":" in key else f"{self.project}:{key}"
        self.config[key] = value
        if secret:
            self._secret_keys.add(key)

    # --- operations ------------------------------------------------------------------------

    def preview(self) -> list[Step]:
        """`pulumi preview`: Check and Diff only; nothing changes."""
        return self._operation(preview=True)

    def up(self, *, replace: Collection[str] = ()) -> list[Step]:
        """`pulumi up`: apply the program, delete what it no longer declares; `replace` lists
        the URNs `pulumi up --replace` names."""
        return self._operation(preview=False, replace=replace)

    def refresh(self, *, clear_pending_creates: bool = False) -> list[Step]:
        """`pulumi refresh`: read every resource back from the service; the provider is
        configured as the last `up` left it in the state, as the CLI does without
        `--run-program`. `clear_pending_creates` drops the creates an interrupted run left."""
        with self._deployment(saved_config=True) as engine:
            if clear_pending_creates:
                engine.clear_pending_creates()
            engine.refresh_all()
            self._save()
            return list(self._steps)

    def destroy(self) -> list[Step]:
        """`pulumi destroy`: delete every resource; the provider is configured as the last `up`
        left it in the state, as the CLI does without `--run-program`."""
        with self._deployment(saved_config=True) as engine:
            engine.destroy_all()
            self.outputs = {}
            self._save()
            return list(self._steps)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """URN -> outputs of every resource in the stack's state."""
        entries = self._engine.snapshot() if self._engine is not None else []
        return {entry.urn: dict(entry.outputs) for entry in entries}

    # --- internals -------------------------------------------------------------------------

    @contextmanager
    def _deployment(self, *, saved_config: bool = False) -> Iterator[Engine]:
        """The stack's engine, with a fresh, configured host; failures become `StackError`s."""
        self._steps = []
        host = ProviderHost(
            project=self.project,
            env=self._env,
            cwd=self.project_dir,
            log_dir=self.work_dir,
            rpc_timeout=None,  # Create/Update wait for the endpoint as long as it takes
            start_timeout=60,
        )
        with _stack_errors(), host:
            if self._engine is None:
                self._engine = Engine(host, listener=self._on_step)
            if saved_config:
                self._engine.use_host(host)
            else:
                self._engine.use_host(host, self.config, secret_keys=self._secret_keys)
            yield self._engine

    def _operation(self, *, preview: bool, replace: Collection[str] = ()) -> list[Step]:
        with self._deployment() as engine, engine.deployment(preview=preview):
            monitor = EngineMonitor(
                engine, self.project, self.stack, preview=preview, replace=replace
            )
            exports = self._run_program(monitor)
            if monitor.errors:
                if not preview:
                    self._save()
                raise monitor.errors[0]
            engine.remove_undeclared(monitor.declared, preview=preview)
            if preview:
                self.planned_outputs = exports
            else:
                self.outputs = exports
        if not preview:
            self._save()
        return list(self._steps)

    def _run_program(self, monitor: EngineMonitor) -> dict[str, Any]:
        """Run `__main__.py` with the stack's config; return its stack outputs (and note in
        `secret_outputs` those that are secret)."""
        exports: dict[str, Any] = {}
        secret: set[str] = set()
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
            settled = []
            for key, value in dict(root.outputs).items():
                exports[key] = UNKNOWN  # until it resolves: in a preview, some never do
                output = pulumi.Output.from_input(value)
                settled.append(output.apply(functools.partial(exports.__setitem__, key)))
                settled.append(_note_secret(output, key, secret))
            return pulumi.Output.all(*settled)

        try:
            run_program(
                body, monitor, project=self.project, stack=self.stack, preview=monitor.preview
            )
        except BaseException as exc:
            if not monitor.errors:  # else the first failed registration is the one to report
                raise StackError(f"the program failed: {exc}") from exc
        if not monitor.preview:
            self.secret_outputs = secret
        return exports

    def _on_step(self, phase: Phase, step: Step) -> None:
        if phase == "done":
            self._save()
        if phase != "start":
            with self._lock:
                self._steps.append(step)
        if self._listener is not None:
            self._listener(phase, step)

    def _save(self) -> None:
        with self._lock:  # steps finish concurrently: snapshot and write in the same order
            entries = self._engine.snapshot() if self._engine is not None else []
            resources = [
                {
                    "urn": entry.urn,
                    "type": urn_name_type(entry.urn)[1],
                    "name": urn_name_type(entry.urn)[0],
                    "id": entry.id,
                    "inputs": _sealed(entry.inputs, entry.secret_inputs),
                    "outputs": _sealed(entry.outputs, entry.secret_outputs),
                }
                for entry in entries
            ]
            pending = self._engine.pending_operations if self._engine is not None else []
            state = {
                "project": self.project,
                "stack": self.stack,
                "pending_operations": [{"urn": op.urn, "type": op.type} for op in pending],
                "config": {k: v for k, v in self.config.items() if k not in self._secret_keys},
                "resources": resources,
                "outputs": _sealed(self.outputs, self.secret_outputs),
            }
            self.state_path.write_text(json.dumps(state, indent=2, default=str))
