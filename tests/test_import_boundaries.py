"""What each top-level package may import, checked in fresh interpreters.

The emulator is the oracle the control-plane client is tested against, so it must not share code
with the product: it never imports `pulumi_hf_endpoints`. The product runs inside Pulumi's
provider process on every `preview`, `up`, `refresh` and `destroy`, and the provider alone needs
no extra: it never loads the emulator or its web and model stack; only the `emulator` and `demo`
verbs start the emulator, and they do it when they run.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import hf_endpoints_emulator
import pulumi_hf_endpoints

EMULATOR_STACK = ("hf_endpoints_emulator", "fastapi", "starlette", "uvicorn", "llama_cpp")
"""Top-level packages the product must not load."""


def all_modules(package: object) -> list[str]:
    """Every module of `package`, by name (packages included)."""
    name = package.__name__  # type: ignore[attr-defined]
    walked = pkgutil.walk_packages(package.__path__, prefix=f"{name}.")  # type: ignore[attr-defined]
    return [name, *sorted(info.name for info in walked)]


def loaded_after_importing(modules: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after importing `modules`."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return set(loaded)


def under(loaded: set[str], tops: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in tops)


def test_the_emulator_imports_nothing_of_the_product() -> None:
    modules = all_modules(hf_endpoints_emulator)
    assert len(modules) > 30 and "hf_endpoints_emulator.serving.backends.llama" in modules
    loaded = loaded_after_importing(modules)
    assert set(modules) <= loaded
    assert under(loaded, ("pulumi_hf_endpoints",)) == []


@pytest.mark.parametrize(
    "module",
    [
        "pulumi_hf_endpoints",
        "pulumi_hf_endpoints.provider",
        "pulumi_hf_endpoints.resource",
        "pulumi_hf_endpoints.inference",
        "pulumi_hf_endpoints.demo.command",
    ],
)
def test_the_product_loads_no_emulator(module: str) -> None:
    loaded = loaded_after_importing([module])
    assert module in loaded
    assert under(loaded, EMULATOR_STACK) == []


def test_no_module_of_the_product_loads_the_emulator_when_imported() -> None:
    """The `emulator` and `demo` verbs import the emulator when they run, not before."""
    modules = all_modules(pulumi_hf_endpoints)
    assert "pulumi_hf_endpoints.demo.story" in modules
    assert "pulumi_hf_endpoints.demo._engine.monitor" in modules
    loaded = loaded_after_importing(modules)
    assert set(modules) <= loaded
    assert under(loaded, EMULATOR_STACK) == []


def test_the_command_line_parser_loads_no_web_or_model_stack() -> None:
    """`pulumi-hf-endpoints --help` builds every verb's parser: the `emulator` verb's module and
    the emulator's config load, the web server and the model do not."""
    code = (
        "import json, sys\n"
        "from pulumi_hf_endpoints.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "hf_endpoints_emulator.cli" in loaded
    assert under(loaded, EMULATOR_STACK[1:]) == []
    assert "hf_endpoints_emulator.app" not in loaded
