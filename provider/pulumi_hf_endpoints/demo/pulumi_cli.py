"""The demo's stack when the `pulumi` CLI is installed: the real CLI on a throw-away backend.

A copy of the example project in a temporary directory, a local file backend next to it, an
empty passphrase, and this Python for the program and the dynamic provider: the user sees
Pulumi's own preview/up/destroy output and nothing touches their Pulumi account or config.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .stack import StackError, project_name


class PulumiCli:
    """`pulumi` commands on one stack of a copied project; output goes to `echo` line by line."""

    def __init__(
        self,
        executable: str,
        project_dir: Path,
        work_dir: Path,
        *,
        stack: str = "demo",
        env: Mapping[str, str] | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.executable = executable
        self.stack = stack
        self.project = project_name(project_dir)
        self.project_dir = work_dir / "project"
        self.backend_dir = work_dir / "backend"
        self._echo = echo
        shutil.copytree(
            project_dir,
            self.project_dir,
            ignore=shutil.ignore_patterns("venv", ".venv", "__pycache__", "Pulumi.*.yaml"),
        )
        # Run the program with this interpreter (which has the package) instead of a venv.
        manifest = self.project_dir / "Pulumi.yaml"
        description = next(
            (line for line in manifest.read_text().splitlines() if line.startswith("description:")),
            "",
        )
        manifest.write_text(f"name: {self.project}\n{description}\nruntime: python\n".lstrip())
        self.backend_dir.mkdir(parents=True)
        self.env = {
            **os.environ,
            **(env or {}),
            "PULUMI_BACKEND_URL": self.backend_dir.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
        }

    @property
    def shell_env(self) -> str:
        """The `export` line that makes plain `pulumi` commands use this stack."""
        return (
            f"export PULUMI_BACKEND_URL={self.env['PULUMI_BACKEND_URL']} "
            f"PULUMI_CONFIG_PASSPHRASE= PULUMI_PYTHON_CMD={sys.executable}"
        )

    def run(self, *args: str, stdin: str | None = None, capture: bool = False) -> str:
        """Run `pulumi ARGS --non-interactive`; raise StackError when it fails."""
        command = [self.executable, *args, "--non-interactive"]
        self._echo(f"$ pulumi {' '.join(args)}")
        process = subprocess.Popen(
            command,
            cwd=self.project_dir,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(stdin or "")
        process.stdin.close()
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if not capture:
                self._echo(line.rstrip("\n"))
        if process.wait() != 0:
            tail = "".join(lines[-20:]).strip()
            raise StackError(f"`pulumi {' '.join(args)}` failed ({process.returncode}):\n{tail}")
        return "".join(lines)

    def init(self) -> None:
        self.run("stack", "init", self.stack)

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        """`pulumi config set`; a secret goes through stdin, never on the command line."""
        if secret:
            self.run("config", "set", "--secret", key, stdin=value, capture=True)
        else:
            self.run("config", "set", key, value, capture=True)

    def preview(self) -> None:
        self.run("preview", "--diff")

    def up(self) -> None:
        self.run("up", "--yes", "--skip-preview")

    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run("stack", "output", "--json", capture=True))
        return result

    def destroy(self) -> None:
        self.run("destroy", "--yes", "--skip-preview")

    def remove(self) -> None:
        self.run("stack", "rm", "--yes", self.stack, capture=True)
