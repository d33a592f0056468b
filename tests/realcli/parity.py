"""The engine model against the real engine: one scenario run both ways, their RPCs compared.

A scenario is a list of operations (`preview`, `up`, `refresh`, `destroy`), each with the program
it runs. It runs once through the real CLI and once through the model's `LocalStack` (what
`pulumi-hf-endpoints demo` uses without a CLI), each provider host recording the calls it
receives (`recorder/sitecustomize.py`). `calls()` reads a recording back as what can be
compared: per provider process (one per command), the Configure call and, per resource, the
calls that run provider code, with their arguments normalised where they may differ by chance
(a random auto-name, timestamps, the emulator's URLs).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.demo.local_stack import LocalStack
from pulumi_hf_endpoints.demo.stack import StackError

from .cli import ENDPOINT_TYPE, REPO_ROOT, CliStack

RECORDER = REPO_ROOT / "tests" / "realcli" / "recorder"
LOG_ENV = "HF_ENDPOINTS_RPC_LOG"

PROVIDER_CODE = ("Configure", "Check", "Diff", "Create", "Read", "Update", "Delete")
"""The calls whose handler runs provider code. The engine also sends Handshake, GetPluginInfo,
CheckConfig, DiffConfig and Cancel, which the Python host answers itself (UNIMPLEMENTED, a
constant, or nothing): docs/architecture.md lists them with the other harmless differences."""

ENGINE_ONLY_FIELDS = {
    "Configure": {"id", "urn"},
    "Check": {"old_outputs", "randomSeed"},
    "Create": {"resource_status_address", "resource_status_token"},
    "Update": {"resource_status_address", "resource_status_token"},
    "Delete": {"resource_status_address", "resource_status_token"},
    "Read": {"resource_status_address", "resource_status_token"},
}
"""Fields of the engine's requests that the Python host never reads (docs/architecture.md)."""

_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z$")
_VOLATILE = {"readyReplica", "targetReplica", "status", "statusMessage", "updatedAt", "createdAt"}


@dataclass(frozen=True)
class Operation:
    verb: str
    program: str | None = None
    """The program text to write before the verb runs (None: keep the current one)."""
    replace: tuple[str, ...] = ()
    """Logical names for `up --replace`."""
    fails: bool = False
    """The operation is expected to fail (both ways)."""


def recording_env(log: Path) -> dict[str, str]:
    return {LOG_ENV: str(log), "PYTHONPATH": str(RECORDER)}


def run_real(stack: CliStack, operations: Iterable[Operation]) -> None:
    for op in operations:
        if op.program is not None:
            stack.write_program(op.program)
        args = [arg for name in op.replace for arg in ("--replace", stack.urn(name))]
        if op.verb == "preview":
            result = stack.preview(check=False)
        elif op.verb == "up":
            result = stack.up(*args, check=False)
        elif op.verb == "refresh":
            result = stack.refresh(check=False)
        elif op.verb == "destroy":
            result = stack.destroy(check=False)
        else:
            raise ValueError(op.verb)
        assert (result.code != 0) == op.fails, result.output


def model_stack(
    project: Path, work: Path, emulator: EmulatorHandle, log: Path, *, env: dict[str, str]
) -> LocalStack:
    """The model's stack of a copy of `project`, configured for `emulator`, recording to `log`."""
    copy = work / "model-project"
    shutil.copytree(project, copy)
    stack = LocalStack(copy, work, stack="test", env={**env, **recording_env(log)})
    stack.set_config("huggingface:apiUrl", emulator.api_url)
    stack.set_config("huggingface:token", emulator.token, secret=True)
    return stack


def run_model(stack: LocalStack, operations: Iterable[Operation]) -> None:
    for op in operations:
        if op.program is not None:
            (stack.project_dir / "__main__.py").write_text(op.program)
        kwargs: dict[str, Any] = {}
        if op.replace:
            kwargs["replace"] = [_urn(stack, name) for name in op.replace]
        try:
            getattr(stack, op.verb)(**kwargs)
        except StackError:
            assert op.fails, f"{op.verb} failed"
        else:
            assert not op.fails, f"{op.verb} did not fail"


def _urn(stack: LocalStack, name: str) -> str:
    return f"urn:pulumi:{stack.stack}::{stack.project}::{ENDPOINT_TYPE}::{name}"


def _normalise(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: ("<volatile>" if k in _VOLATILE else _normalise(v, names))
            for k, v in value.items()
            if k != "__provider"
        }
    if isinstance(value, list):
        return [_normalise(v, names) for v in value]
    if isinstance(value, str):
        if _TIME.match(value):
            return "<time>"
        value = re.sub(r"http://127\.0\.0\.1:\d+/endpoints/\w+", "<endpoint-url>", value)
        value = re.sub(r"http://127\.0\.0\.1:\d+/v2", "<api-url>", value)
        for real, alias in names.items():
            value = value.replace(real, alias)
        return value
    return value


def _auto_names(lines: list[dict[str, Any]], logical: Iterable[str]) -> dict[str, str]:
    """Each auto-name (a logical name, "-", 7 random characters) -> an alias numbered in order
    of first appearance: the model and the engine draw different suffixes."""
    found: dict[str, str] = {}
    text = "\n".join(json.dumps(line) for line in lines)
    for name in logical:
        pattern = re.compile(rf"\b{re.escape(name)}-[a-z0-9]{{7}}\b")
        for match in pattern.finditer(text):
            found.setdefault(
                match.group(0),
                f"{name}-<auto{len([v for v in found.values() if v.startswith(name + '-')]) + 1}>",
            )
    return found


def calls(log: Path, logical: Iterable[str]) -> list[dict[str, Any]]:
    """Per provider process, in order: its Configure args and, per resource (by logical name),
    its calls. `logical` names the auto-named resources."""
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    lines = [line for line in lines if line["method"] in PROVIDER_CODE]
    names = _auto_names(lines, logical)
    sessions: dict[int, dict[str, Any]] = {}
    for line in lines:
        session = sessions.setdefault(line["pid"], {"configure": None, "resources": {}})
        method, request = line["method"], dict(line["request"])
        for field in ENGINE_ONLY_FIELDS.get(method, ()):
            request.pop(field, None)
        if method == "Configure":
            args = request.get("args", {})
            session["configure"] = _normalise(
                {k: ("<secret>" if "token" in k else v) for k, v in args.items()}, names
            )
            continue
        urn = request.pop("urn", "")
        body = _normalise({k: v for k, v in request.items() if k not in ("name", "type")}, names)
        session["resources"].setdefault(urn.split("::")[-1], []).append([method, body])
    return list(sessions.values())


def methods(recorded: list[dict[str, Any]]) -> list[dict[str, list[str]]]:
    """Just the methods, per process and resource: the shape of a scenario."""
    return [
        {name: [m for m, _ in made] for name, made in session["resources"].items()}
        for session in recorded
    ]
