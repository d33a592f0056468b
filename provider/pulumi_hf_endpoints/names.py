"""The two spellings of a property: camelCase in schema.json, state and the service's JSON,
snake_case in Python. One pair of functions, used by the resource, the spec, the client's models
and the property paths alike; and the "did you mean" of a misspelt keyword."""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Iterable
from typing import Any, TypeVar


def to_camel(name: str) -> str:
    """`instance_type` -> `instanceType`; names already in camelCase are kept."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    """`instanceType` -> `instance_type`: the Python name of a property."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


_C = TypeVar("_C", bound=type)


def unexpected_keywords(owner: str, given: Iterable[str], allowed: Iterable[str]) -> str | None:
    """The message for keywords `owner` does not take, each with the closest allowed one (a
    misspelt `min_replicas=` says: did you mean 'min_replica'?); None when all are allowed."""
    known = sorted(allowed)
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, [*known, *map(to_camel, known)], n=1)
        suggestion = to_snake(close[0]) if close else None
        hints.append(f"{name!r} (did you mean {suggestion!r}?)" if suggestion else repr(name))
    return (
        f"{owner}() got unexpected keyword argument(s) {', '.join(hints)}; "
        f"it takes: {', '.join(known)}"
    )


def suggest_keywords(cls: _C) -> _C:
    """A dataclass whose constructor names the closest field of a keyword it does not take,
    instead of Python's bare "unexpected keyword argument"."""
    init = cls.__init__  # type: ignore[misc]
    allowed = [f.name for f in dataclasses.fields(cls)]

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        message = unexpected_keywords(cls.__name__, kwargs, allowed)
        if message is not None:
            raise TypeError(message)
        init(self, *args, **kwargs)

    cls.__init__ = checked  # type: ignore[misc]
    return cls
