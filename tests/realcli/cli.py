"""The real Pulumi CLI on a throw-away stack: a copied project, a `file://` backend, no network.

`make pulumi-cli` builds the CLI (tools/pulumi-cli/build.sh) into `.tools/pulumi/bin`; when it
cannot, it writes why in `.tools/pulumi/unavailable` and the tests of this package skip with that
line, unless `HF_ENDPOINTS_REQUIRE_PULUMI_CLI=1` (CI) makes a missing CLI an error.

Every command runs in a session of its own, so that everything it starts (the language host,
the program, the provider host, which the CLI puts in process groups of their own) can be found
and stopped: a test never leaves a process behind, even after it killed the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = Path(os.environ.get("HF_ENDPOINTS_PULUMI_TOOLS", REPO_ROOT / ".tools" / "pulumi"))
REQUIRE_ENV = "HF_ENDPOINTS_REQUIRE_PULUMI_CLI"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
ENDPOINT_TYPE = "pulumi-python:dynamic/hf-endpoints:InferenceEndpoint"
"""The type the engine records for an endpoint: the dynamic type with the resource's module."""


def tools_bin() -> Path | str:
    """The folder holding `pulumi` and its plugins, or why there is none."""
    bin_dir = TOOLS_DIR / "bin"
    if (bin_dir / "pulumi").exists() and (bin_dir / "pulumi-language-python").exists():
        return bin_dir
    reason_file = TOOLS_DIR / "unavailable"
    if reason_file.exists():
        return reason_file.read_text().strip() or "the build of the Pulumi CLI failed"
    return f"the Pulumi CLI is not built ({bin_dir} is empty): run `make pulumi-cli`"


def session_pids(sid: int) -> list[int]:
    """The processes of session `sid` (the CLI's and every plugin's; they share it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


def kill_session(sid: int, sig: int = signal.SIGKILL) -> None:
    for pid in session_pids(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class CliFailed(AssertionError):
    """A command that should have worked exited non-zero; the message has its output."""


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    output: str

    def json(self) -> Any:
        return json.loads(self.output)


@dataclass
class CliStack:
    """One stack of one project, driven with the real `pulumi`.

    The project is copied into `work/project` (`Pulumi.yaml` unchanged); its `venv` is a link to
    the interpreter's environment running the tests, which has this package installed, so the
    program and the provider host run exactly as `runtime.options.virtualenv` says.
    """

    bin_dir: Path
    project_src: Path
    work: Path
    stack: str = "test"
    env_extra: Mapping[str, str] = field(default_factory=dict)
    backend: Path | None = None
    """Another stack's backend folder, to share it (stack references); default: a new one."""
    sessions: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.project_dir = self.work / "project"
        self.backend_dir = self.backend or self.work / "backend"
        self.home = self.work / "pulumi-home"
        shutil.copytree(
            self.project_src,
            self.project_dir,
            ignore=shutil.ignore_patterns("venv", ".venv", "__pycache__", "Pulumi.*.yaml"),
        )
        (self.project_dir / "venv").symlink_to(sys.prefix, target_is_directory=True)
        self.backend_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "HF_"))}
        env.update(
            {
                "PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}",
                "PULUMI_HOME": str(self.home),
                "PULUMI_BACKEND_URL": self.backend_dir.as_uri(),
                "PULUMI_CONFIG_PASSPHRASE": "",
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PULUMI_SKIP_CONFIRMATIONS": "true",
                "HF_TOKEN_PATH": os.environ.get("HF_TOKEN_PATH", str(self.work / "no-token")),
                "NO_COLOR": "1",
            }
        )
        env.update(self.env_extra)
        self.env = env

    # --- running commands -------------------------------------------------------------------

    def start(self, *args: str, stdin: str | None = None) -> subprocess.Popen[str]:
        """`pulumi ARGS` in the background, in a session of its own."""
        process = subprocess.Popen(
            [str(self.bin_dir / "pulumi"), "--non-interactive", *args],
            cwd=self.project_dir,
            env=self.env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.sessions.append(process.pid)
        if stdin is not None:
            assert process.stdin is not None
            process.stdin.write(stdin)
            process.stdin.close()
            process.stdin = None  # written and closed: communicate() must not touch it
        return process

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 600
    ) -> Result:
        process = self.start(*args, stdin=stdin)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_session(process.pid)
            output, _ = process.communicate()
            raise CliFailed(f"`pulumi {' '.join(args)}` ran over {timeout} s:\n{output}") from None
        result = Result(tuple(args), process.returncode, output)
        if check and result.code != 0:
            raise CliFailed(f"`pulumi {' '.join(args)}` exited {result.code}:\n{output}")
        return result

    def close(self) -> None:
        """Stop whatever the commands left running (a killed CLI's plugins)."""
        for sid in self.sessions:
            kill_session(sid)

    # --- the stack ----------------------------------------------------------------------------

    def init(self, config: Mapping[str, str] = {}, secrets: Mapping[str, str] = {}) -> None:
        self.run("stack", "init", self.stack)
        for key, value in config.items():
            self.config_set(key, value)
        for key, value in secrets.items():
            self.config_set(key, value, secret=True)

    def config_set(self, key: str, value: str, *, secret: bool = False) -> None:
        """A secret goes through stdin, never on the command line."""
        if secret:
            self.run("config", "set", "--secret", key, stdin=value)
        else:
            self.run("config", "set", key, "--", value)

    def use_emulator(self, api_url: str, token: str) -> None:
        self.config_set("huggingface:apiUrl", api_url)
        self.config_set("huggingface:token", token, secret=True)

    def up(self, *args: str, check: bool = True) -> Result:
        return self.run("up", "--yes", "--skip-preview", *args, check=check)

    def preview(self, *args: str, check: bool = True) -> Result:
        return self.run("preview", *args, check=check)

    def preview_steps(self, *args: str) -> list[dict[str, Any]]:
        """`pulumi preview --json`'s steps, without the stack's own."""
        result = self.run("preview", "--json", *args)
        steps: list[dict[str, Any]] = result.json().get("steps", [])
        return [s for s in steps if s.get("urn", "").split("::")[2] != "pulumi:pulumi:Stack"]

    def refresh(self, *args: str, check: bool = True) -> Result:
        return self.run("refresh", "--yes", "--skip-preview", *args, check=check)

    def destroy(self, *args: str, check: bool = True) -> Result:
        return self.run("destroy", "--yes", "--skip-preview", *args, check=check)

    def export(self) -> dict[str, Any]:
        """`pulumi stack export` (secrets encrypted, as stored)."""
        exported: dict[str, Any] = self.run("stack", "export").json()
        return exported

    def deployment(self) -> dict[str, Any]:
        deployment: dict[str, Any] = self.export().get("deployment", {})
        return deployment

    def resources(self, type_: str = ENDPOINT_TYPE) -> list[dict[str, Any]]:
        return [r for r in self.deployment().get("resources") or [] if r.get("type") == type_]

    def endpoint_states(self) -> dict[str, dict[str, Any]]:
        """The endpoints in state by logical name."""
        return {r["urn"].split("::")[-1]: r for r in self.resources()}

    def pending_operations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.deployment().get("pending_operations") or []
        return result

    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = self.run("stack", "output", "--json", "--show-secrets").json()
        return result

    def urn(self, name: str, type_: str = ENDPOINT_TYPE) -> str:
        project = self.project_dir.joinpath("Pulumi.yaml").read_text().split("name:", 1)[1]
        project = project.split()[0]
        return f"urn:pulumi:{self.stack}::{project}::{type_}::{name}"

    def write_program(self, text: str) -> None:
        (self.project_dir / "__main__.py").write_text(text)

    def edit_program(self, old: str, new: str) -> None:
        program = self.project_dir / "__main__.py"
        text = program.read_text()
        assert old in text, f"{old!r} is not in the program"
        program.write_text(text.replace(old, new))


def wait_for(predicate: Any, *, timeout: float = 120, interval: float = 0.1) -> Any:
    """Poll `predicate()` until it returns something truthy; fail after `timeout` s. Used to act
    at a moment (an endpoint appeared), never to assert how long something took."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s: {predicate}")
        time.sleep(interval)


@contextlib.contextmanager
def stacks(bin_dir: Path, tmp: Path) -> Iterator[list[CliStack]]:
    made: list[CliStack] = []
    try:
        yield made
    finally:
        for stack in made:
            stack.close()


def steps_by_name(steps: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {step["urn"].split("::")[-1]: step for step in steps}
