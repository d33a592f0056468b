"""A create whose answer was lost: is the endpoint found under its name the one it made?

When the answer to a create never arrives, the client looks the name up before sending the
create again, and the provider looks before rolling back. Someone else's endpoint of that name
must never be taken for ours: a rollback or a destroy would delete it. The service does not say
who created an endpoint, so the test is what it can see: the endpoint was created no earlier
than the request (give or take clock skew) and asks for the same model and hardware.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..timestamps import older_than

#: Where an endpoint's identity shows, in a create payload and in the service's answer alike.
_IDENTITY_PATHS = (
    ("model", "repository"),
    ("model", "framework"),
    ("model", "task"),
    ("compute", "accelerator"),
    ("compute", "instanceType"),
    ("compute", "instanceSize"),
    ("provider", "vendor"),
    ("provider", "region"),
)


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def not_made_by(payload: Mapping[str, Any], found: Mapping[str, Any], started: float) -> str:
    """Why `found` cannot be what the create of `payload` made ("" when it can be): it is older
    than the create (sent at `started`), or asks for another model or other hardware."""
    status = found.get("status")
    created_at = status.get("createdAt") if isinstance(status, Mapping) else None
    if isinstance(created_at, str) and older_than(created_at, started):
        return f"created at {created_at}, older than this create"
    for path in _IDENTITY_PATHS:
        asked, got = _dig(payload, path), _dig(found, path)
        if asked is not None and got is not None and asked != got:
            return f"{'.'.join(path)} is {got!r}, not {asked!r}"
    return ""
