"""The two spellings of a property: camelCase in schema.json, state and the service's JSON,
snake_case in Python. One pair of functions, used by the resource, the spec, the client's models
and the property paths alike."""

from __future__ import annotations


def to_camel(name: str) -> str:
    """`instance_type` -> `instanceType`; names already in camelCase are kept."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    """`instanceType` -> `instance_type`: the Python name of a property."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
