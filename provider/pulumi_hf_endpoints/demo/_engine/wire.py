"""Property bags as the engine sends them to a provider host, serialised by the SDK itself.

The SDK's `rpc.serialize_properties` and `rpc.deserialize_properties(..., keep_unknowns=True)`
give providers exactly the shapes they get under `pulumi up`: floats for numbers, no `None` keys,
`Unknown` for preview unknowns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

UNKNOWN = rpc.UNKNOWN
"""The wire value of an unknown (preview-time) property; usable anywhere in a property bag."""

INTERNAL_PREFIX = "__"
"""Keys the engine and the SDK keep for themselves, such as `__provider`."""

_T = TypeVar("_T")


def run_coroutine(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine on a fresh event loop, in a helper thread if this thread runs a loop."""

    def run() -> _T:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(make())
        finally:
            loop.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def to_wire(value: Any) -> Any:
    """What the engine sends for `value`: `Unknown` -> `UNKNOWN`, secret wrappers removed.

    The dynamic host answers `acceptSecrets: False`, so the engine strips secrets before sending.
    """
    if isinstance(value, Unknown):
        return UNKNOWN
    if rpc.is_rpc_secret(value):
        return to_wire(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Serialise a property bag the way the SDK and the engine do."""
    wire = to_wire(props)
    struct: struct_pb2.Struct = run_coroutine(lambda: rpc.serialize_properties(wire, {}))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Deserialise a property bag as the engine reads it: unknowns and internal keys kept.

    The engine keeps every key, `__`-prefixed ones included; the SDK drops those other than
    `__provider` unless told otherwise (its default until 3.235).
    """
    props: dict[str, Any] = rpc.deserialize_properties(
        struct, keep_unknowns=True, keep_internal=True
    )
    return props


def round_trip(props: Mapping[str, Any]) -> dict[str, Any]:
    """`props` as a provider receives it: numbers as floats, `None` keys dropped."""
    return from_struct(to_struct(props))


def without_internal(props: Mapping[str, Any]) -> dict[str, Any]:
    """`props` minus the `__` keys: what a program (or a person) sees of a resource."""
    return {k: v for k, v in props.items() if not k.startswith(INTERNAL_PREFIX)}
