"""A local emulator of the Hugging Face Inference Endpoints service (control plane and serving).

Needs the `[emulator]` extra. Nothing in the Pulumi provider imports this package. Public names
load lazily so that reading the config does not import the web stack:

- `EmulatorConfig`, `Timings`, `User` (config.py): what one emulator runs with;
- `create_app(config)` (app.py): the FastAPI application;
- `run_emulator(...)`, `run_emulator_process(...)` (testing.py): start one from tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import EmulatorConfig, Timings, User
    from .testing import run_emulator, run_emulator_process

__all__ = [
    "EmulatorConfig",
    "Timings",
    "User",
    "create_app",
    "run_emulator",
    "run_emulator_process",
]

_LAZY = {
    "EmulatorConfig": ".config",
    "Timings": ".config",
    "User": ".config",
    "create_app": ".app",
    "run_emulator": ".testing",
    "run_emulator_process": ".testing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
