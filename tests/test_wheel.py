"""The built wheel, installed in a fresh virtualenv outside the checkout, does what the README says.

The wheel is built with `pip wheel --no-deps` from a copy of the sources (so the checkout gets no
`build/` or `*.egg-info`), and installed with its `[emulator]` extra into a virtualenv in a
temporary directory. Its dependencies are this environment's installed distributions, already
built (llama-cpp-python compiles for minutes otherwise): the new virtualenv sees them through a
`.pth` file naming a directory of links to this environment's site-packages, minus this project's
own files (an editable install, or an installed copy), and pip installs with `--no-index`, so the
wheel's requirements must be met by what is already there. Nothing of the checkout is importable:
no PYTHONPATH, the working directory is a temporary one, and the editable install's `.pth` is not
linked (a `.pth` in a directory named by a `.pth` is never read).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pulumi_hf_endpoints import __version__
from pulumi_hf_endpoints.cli import COMMANDS
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.inference.inference_testkit import deploy

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pulumi_hf_endpoints", "hf_endpoints_emulator", "__editable__", "pulumi-hf-")
"""Names in site-packages that belong to this project: never seen by the wheel's virtualenv."""
TOKEN = "hf_emu_wheel_test_token_0123456789"


@dataclass
class Installed:
    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def cli(self) -> Path:
        return self.venv / "bin" / "pulumi-hf-endpoints"

    def run(self, *argv: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in argv],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"


def _site_packages() -> list[Path]:
    """This environment's site-packages directories (a virtualenv's, or the system's)."""
    paths = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    return list(dict.fromkeys(Path(p) for p in paths if Path(p).is_dir()))


def _clean_env(venv: Path) -> dict[str, str]:
    """This environment, minus anything that would import the checkout or another virtualenv,
    with the new virtualenv first on PATH and no `pulumi` CLI (the demo uses the provider host)."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    path = [p for p in path if not (Path(p) / "pulumi").exists()]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    src, dist, venv, work = base / "src", base / "dist", base / "venv", base / "work"
    src.mkdir()
    work.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "provider",
        src / "provider",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)])
    (wheel,) = dist.glob("pulumi_hf_endpoints-*.whl")

    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    links = base / "site-packages"
    links.mkdir()
    for directory in _site_packages():
        for entry in directory.iterdir():
            name = entry.name
            if name.startswith(PROJECT_FILES) or name.endswith(".pth") or name == "__pycache__":
                continue
            if not (links / name).exists():
                (links / name).symlink_to(entry)
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "project-environment.pth").write_text(f"{links}\n")

    env = _clean_env(venv)
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"),
            *("--no-index", "--no-cache-dir", "-q", f"{wheel}[emulator]"),
        ],
        cwd=work,
        env=env,
    )
    return Installed(wheel, venv, work, env)


def test_the_wheel_ships_the_product_and_the_demo_project(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {
        "pulumi_hf_endpoints",
        "hf_endpoints_emulator",
        f"pulumi_hf_endpoints-{__version__}.dist-info",
    }
    for data in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        assert f"pulumi_hf_endpoints/demo/project/{data}" in names
    assert "pulumi_hf_endpoints/demo/_engine/host.py" in names
    assert "pulumi_hf_endpoints/py.typed" in names
    assert not [n for n in names if "harness" in n or "_hostdriver" in n or n.startswith("tests/")]


def test_the_package_is_imported_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    code = (
        "import json, sys, importlib.metadata\n"
        "from pulumi_hf_endpoints import InferenceEndpoint\n"
        "import pulumi_hf_endpoints, hf_endpoints_emulator, pulumi_hf_endpoints.provider\n"
        "print(json.dumps({'product': pulumi_hf_endpoints.__file__,\n"
        "    'emulator': hf_endpoints_emulator.__file__, 'path': sys.path,\n"
        "    'resource': InferenceEndpoint.__module__,\n"
        "    'version': importlib.metadata.version('pulumi-hf-endpoints')}))\n"
    )
    result = installed.run(installed.python, "-c", code)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for module in ("product", "emulator"):
        assert Path(found[module]).is_relative_to(installed.venv), found
    assert found["resource"] == "pulumi_hf_endpoints.resource"
    assert found["version"] == __version__
    inside = [p for p in found["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert inside == [], "the checkout is importable from the wheel's virtualenv"


def test_the_command_line(installed: Installed) -> None:
    result = installed.run(installed.cli, "--help")
    assert result.returncode == 0, result.stderr
    for verb in COMMANDS:
        assert verb in result.stdout

    version = installed.run(installed.cli, "version")
    assert (version.returncode, version.stdout) == (0, f"{__version__}\n")

    for verb in COMMANDS:
        verb_help = installed.run(installed.cli, verb, "--help")
        assert verb_help.returncode == 0, verb_help.stderr
        assert verb_help.stdout.startswith(f"usage: pulumi-hf-endpoints {verb}"), verb_help.stdout


@pytest.fixture
def emulator_process(installed: Installed) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`pulumi-hf-endpoints emulator` from the wheel, on a free port; (process, base URL)."""
    log = installed.work / "emulator.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                *(str(installed.cli), "emulator", "--port", "0", "--backend", "synthetic"),
                *("--state", str(installed.work / "emulator.sqlite3"), "--token", TOKEN),
                *("--pending-seconds", "0", "--initializing-seconds", "0"),
            ],
            cwd=installed.work,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        base_url = ""
        while not base_url:
            match = re.search(r"running on (http://\S+)", log.read_text())
            if match:
                base_url = match.group(1)
            elif process.poll() is not None:
                pytest.fail(f"the emulator exited with {process.returncode}:\n{log.read_text()}")
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(0.05)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def test_the_emulator_serves_and_generate_calls_it(
    installed: Installed, emulator_process: tuple[subprocess.Popen[str], str]
) -> None:
    process, base_url = emulator_process
    whoami = httpx.get(
        f"{base_url}/api/whoami-v2", headers={"authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert whoami.status_code == 200 and whoami.json()["name"] == "emulator-user"

    with EndpointsApi(TOKEN, api_url=f"{base_url}/v2") as api:
        endpoint = deploy(api, "emulator-user", "wheel-gen")
    url = endpoint["status"]["url"]
    result = installed.run(
        installed.cli,
        "generate",
        url,
        "Once upon a time",
        "--max-new-tokens",
        "6",
        "--token",
        TOKEN,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 6, result.stdout  # the synthetic source: a word a token

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert "Emulator stopped." in (installed.work / "emulator.log").read_text()


def test_the_demo_runs_from_the_installed_package(installed: Installed) -> None:
    result = installed.run(
        installed.cli,
        "demo",
        "--backend",
        "synthetic",
        "--phase-seconds",
        "0.2",
        "--max-new-tokens",
        "8",
        timeout=300,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Pulumi CLI not found" in out  # so the stack ran through the shipped engine model
    program = re.search(r"program\s+(\S+)", out)
    assert program and Path(program.group(1)).is_relative_to(installed.venv)
    assert "endpoints left in the emulator: 0" in out
    assert re.search(
        r"Demo complete in [\d.]+ s: .*streamed 8 tokens.*left in the emulator: 0\.", out
    )
