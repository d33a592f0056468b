"""Errors as the service answers them: `{"error": "<message>"}` with its status codes.

Body parse errors are worded like the service's Rust stack (axum + serde), e.g.
`Failed to parse the request body as JSON: model.task: expected value`, so that messages a
user sees against the emulator match those of the real service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PARSE_PREFIX = "Failed to parse the request body as JSON: "
VALIDATION_PREFIX = "VALIDATION_FAILED: "


class ApiError(Exception):
    """An error answered to the client; never a 500."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def invalid(path: str, message: str) -> ApiError:
    """A value the service parses but rejects (`VALIDATION_FAILED: <path>: <message>`)."""
    return ApiError(400, f"{VALIDATION_PREFIX}{path}: {message}")


def not_found(message: str = "Endpoint not found") -> ApiError:
    return ApiError(404, message)


def _describe(value: Any) -> str:
    """serde's description of an unexpected JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list | tuple):
        return "a sequence"
    return "a map"


_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "a boolean",
    "float_type": "a number",
    "list_type": "a sequence",
    "dict_type": "a map",
    "model_type": "a map",
    "model_attributes_type": "a map",
}


def _message(error: Mapping[str, Any]) -> tuple[str, str]:
    """(path, message) for one pydantic error, in serde's words."""
    loc = [str(part) for part in error.get("loc", ()) if part != "body"]
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        return (
            "",
            f"{str(ctx.get('error', 'invalid JSON')).lower()} at position {loc[-1] if loc else 0}",
        )
    if kind == "missing":
        if not loc:
            return "", "EOF while parsing a value at line 1 column 0"
        return ".".join(loc[:-1]), f"missing field `{loc[-1]}`"
    if kind == "value_error":
        text = str(error.get("msg", ""))
        return ".".join(loc), text.removeprefix("Value error, ")
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "`").replace(" or ", ", ")
        return ".".join(loc), f"unknown variant `{error.get('input')}`, expected one of {expected}"
    wanted = _EXPECTED.get(kind)
    if wanted is not None:
        return ".".join(loc), f"invalid type: {_describe(error.get('input'))}, expected {wanted}"
    return ".".join(loc), str(error.get("msg", "invalid value")).lower()


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """The message for a request that failed to parse (the first error, as serde stops there)."""
    if not errors:
        return PARSE_PREFIX + "invalid request"
    path, message = _message(errors[0])
    return PARSE_PREFIX + (f"{path}: {message}" if path else message)


def describe_parameter_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """The message for a bad query or path parameter."""
    if not errors:
        return "Invalid request parameters"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    name = loc[-1] if loc else "parameter"
    _, message = _message(first)
    return f"Failed to deserialize query string: {name}: {message}"
