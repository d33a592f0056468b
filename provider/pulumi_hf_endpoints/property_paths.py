"""Property paths in resource options, from the names users write to the names in state.

`ignore_changes` takes property paths (`min_replica`, `custom_image.env`, `env["KEY"]`), and
the engine matches them against the inputs in state, which are camelCase (`minReplica`,
`customImage.env`). Pulumi's Python SDK translates these paths with the resource's
`translate_input_property`, which is the identity for a dynamic resource: a snake_case name
matches nothing and the option is silently ignored. So the resource translates the paths
itself: every name that is a property (or a field of an object property) is written as in
state; the keys of user maps (`env`, `secrets`, an image's `env` and `options`) are kept as
written; a first name that is no property is refused, with the closest one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Union

from .names import to_camel

Shape = Mapping[str, Union["Shape", None]]
"""The names a path may walk: a property maps to the shape of its object value, or to None
(a scalar, a list, or a map whose keys are the user's)."""

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|(\[[^\]]*\])|\.?(\*)")


def state_path(path: str, shape: Shape, *, option: str, resource: str) -> str:
    """`path` with its property names as in state; ValueError when the first is unknown."""
    parts: list[str] = []
    position = 0
    current: Shape | None = shape
    for match in _TOKEN.finditer(path):
        if match.start() != position:
            raise ValueError(f"{option}: {path!r} is not a property path")
        position = match.end()
        name, bracket, star = match.groups()
        if name is not None:
            camel = to_camel(name)
            if current is not None and camel in current:
                name, current = camel, current[camel]
            elif not parts:
                raise ValueError(_unknown(option, path, name, shape, resource))
            else:
                current = None
            parts.append(("." if parts else "") + name)
        else:
            current = None
            parts.append(bracket if bracket is not None else ("." if parts else "") + star)
    if position != len(path) or not parts:
        raise ValueError(f"{option}: {path!r} is not a property path")
    return "".join(parts)


def _unknown(option: str, path: str, name: str, shape: Shape, resource: str) -> str:
    snake = [_snake(key) for key in shape]
    close = difflib.get_close_matches(name, [*snake, *shape], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"{option}: {name!r} (in {path!r}) is not a property of {resource}{hint} "
        f"Properties: {', '.join(sorted(snake))}"
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
