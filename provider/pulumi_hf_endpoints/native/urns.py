"""What a resource's URN says: its stack, project, type and name."""

from __future__ import annotations

from typing import NamedTuple

_PREFIX = "urn:pulumi:"


class Urn(NamedTuple):
    stack: str
    project: str
    type: str
    """The qualified type: parent types, then the resource's own, joined by `$`."""
    name: str


def parse(urn: str) -> Urn:
    """`urn:pulumi:<stack>::<project>::<qualified type>::<name>`; a name may hold `::`."""
    if not urn.startswith(_PREFIX):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    parts = urn[len(_PREFIX) :].split("::", 3)
    if len(parts) != 4:
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    stack, project, type_, name = parts
    return Urn(stack, project, type_, name)
