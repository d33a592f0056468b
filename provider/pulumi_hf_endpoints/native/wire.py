"""Property bags between the engine's protobuf `Struct`s and the plain values `core` takes.

The provider tells the engine it does not accept secrets (as Pulumi's Python dynamic host
does), so the engine strips them before sending and marks the outputs of secret inputs secret
again itself; a secret that still arrives (Configure comes before that answer) is unwrapped.
Numbers arrive as floats, as from every Pulumi SDK: validation turns whole ones back into ints.
Values unknown at preview are the engine's sentinel string on the wire and `Unknown` here, as
the dynamic host gives them to providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.output import Unknown

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The wire form of a value not known yet (Pulumi's `UnknownStringValue`)."""
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"


def _plain(value: Any) -> Any:
    if value == UNKNOWN:
        return Unknown()  # type: ignore[no-untyped-call]
    if isinstance(value, dict):
        if value.get(SIGNATURE_KEY) == SECRET_SIGNATURE:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def decode(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A request's property bag as plain values (no null keys, secrets unwrapped)."""
    if struct is None:
        return {}
    value = _plain(json_format.MessageToDict(struct))
    return value if isinstance(value, dict) else {}


def _wire(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def encode(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """A property bag for a response: unset values left out, unknowns as the sentinel."""
    struct = struct_pb2.Struct()
    struct.update({k: _wire(v) for k, v in props.items() if v is not None})
    return struct
