"""Drive Pulumi's real Python dynamic-provider host over gRPC, without the Pulumi CLI.

The engine model ships in the package for the `demo` command
(`pulumi_hf_endpoints.demo._engine`); this is its test-suite face, with what only tests need:

- `ProviderHost`: the `python -m pulumi.dynamic` process and engine-shaped RPC methods, run from
  the repository root with it on PYTHONPATH, so providers pickled by reference from `tests.*`
  (such as `echo_provider`) import in the host.
- `Engine`: a fake stack state with up/preview/refresh/destroy/get over a host, which also
  replays captured programs (`up_program`).
- `capture_program`: what a Pulumi program registers, under `set_mocks` (`program`).
- `EngineMonitor`, `run_program`: a program run with the engine model as its engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pulumi_hf_endpoints.demo._engine import host as _host
from pulumi_hf_endpoints.demo._engine.engine import (
    CheckFailedError,
    EngineError,
    RegisteredResource,
    ResourceState,
    Step,
)
from pulumi_hf_endpoints.demo._engine.host import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    HostStartError,
    ProviderError,
    ReadResult,
    TranscriptEntry,
    exception_text,
)
from pulumi_hf_endpoints.demo._engine.monitor import EngineMonitor, engine_urn, run_program
from pulumi_hf_endpoints.demo._engine.wire import (
    UNKNOWN,
    from_struct,
    round_trip,
    to_struct,
    to_wire,
)

from .program import Engine, capture_program

REPO_ROOT = Path(__file__).resolve().parents[2]


class ProviderHost(_host.ProviderHost):
    """`ProviderHost` running in the repository root (default `cwd`), which is added to the end
    of `pythonpath`."""

    def __init__(
        self,
        *,
        cwd: str | os.PathLike[str] | None = None,
        pythonpath: Iterable[str | os.PathLike[str]] = (),
        **options: Any,
    ) -> None:
        super().__init__(
            cwd=REPO_ROOT if cwd is None else cwd,
            pythonpath=[*pythonpath, REPO_ROOT],
            **options,
        )


__all__ = [
    "REPO_ROOT",
    "UNKNOWN",
    "CheckFailedError",
    "CheckFailure",
    "CheckResult",
    "CreateResult",
    "DiffResult",
    "Engine",
    "EngineError",
    "EngineMonitor",
    "HostStartError",
    "ProviderError",
    "ProviderHost",
    "ReadResult",
    "RegisteredResource",
    "ResourceState",
    "Step",
    "TranscriptEntry",
    "capture_program",
    "engine_urn",
    "exception_text",
    "from_struct",
    "round_trip",
    "run_program",
    "to_struct",
    "to_wire",
]
