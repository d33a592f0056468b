"""Drive Pulumi's real Python dynamic-provider host over gRPC, without the Pulumi CLI.

- `ProviderHost`: the `python -m pulumi.dynamic` process and engine-shaped RPC methods.
- `Engine`: a fake stack state with up/preview/refresh/destroy/get over a host.
- `capture_program`: what a Pulumi program registers, under `set_mocks`.
"""

from .engine import CheckFailedError, Engine, EngineError, ResourceState, Step
from .host import (
    UNKNOWN,
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    HostStartError,
    ProviderError,
    ProviderHost,
    ReadResult,
    TranscriptEntry,
    exception_text,
    from_struct,
    round_trip,
    to_struct,
    to_wire,
)
from .program import RegisteredResource, capture_program, engine_urn

__all__ = [
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
