"""Drive Pulumi's real Python dynamic-provider host over gRPC, without the Pulumi CLI.

The driver lives in the package (`pulumi_hf_endpoints._hostdriver`, also used by the `demo`
command); this is its test-suite face:

- `ProviderHost`: the `python -m pulumi.dynamic` process and engine-shaped RPC methods, run from
  the repository root with it on PYTHONPATH, so providers pickled by reference from `tests.*`
  (such as `echo_provider`) import in the host.
- `Engine`: a fake stack state with up/preview/refresh/destroy/get over a host.
- `capture_program`: what a Pulumi program registers, under `set_mocks`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pulumi_hf_endpoints._hostdriver import host as _host
from pulumi_hf_endpoints._hostdriver.engine import (
    CheckFailedError,
    Engine,
    EngineError,
    ResourceState,
    Step,
)
from pulumi_hf_endpoints._hostdriver.host import (
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
from pulumi_hf_endpoints._hostdriver.program import (
    RegisteredResource,
    capture_program,
    engine_urn,
)
from pulumi_hf_endpoints._hostdriver.wire import (
    UNKNOWN,
    from_struct,
    round_trip,
    to_struct,
    to_wire,
)

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
    "to_struct",
    "to_wire",
]
