"""The property names of `InferenceEndpoint` and their roles.

Free of pydantic on purpose: a Pulumi program that declares endpoints, and the provider host
until its first check, load only this (both start on every `pulumi` command).
"""

from __future__ import annotations

NAME_MAX_LENGTH = 32

# Older names the service no longer takes, and what is sent instead.
LEGACY_TYPES = {"protected": "authenticated"}
# Properties that exist only in outputs: the service computes them.
OUTPUT_ONLY = (
    "url",
    "status",
    "statusMessage",
    "readyReplica",
    "targetReplica",
    "createdAt",
    "updatedAt",
    "healthRoute",
    "pricePerHour",
    "privateServiceName",
)
PRICE_PER_HOUR = "pricePerHour"
"""An output the provider adds from the namespace's hardware list, not from the endpoint."""
# Inputs that steer the provider and never reach the service.
LIFECYCLE_INPUTS = ("paused", "wait", "waitTimeout", "adoptExisting")
# Properties whose change replaces the endpoint: the service cannot change them in place (the
# "Update or replacement" in docs/resource.md gives the evidence for `type` and `privateService`).
REPLACE_ON_CHANGES = ("name", "namespace", "vendor", "region", "type", "privateService")
# Properties kept secret in state and never echoed in messages.
SECRET_PROPERTIES = ("secrets",)


def to_camel(name: str) -> str:
    """`instance_type` -> `instanceType`; names already in camelCase are kept."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    """`instanceType` -> `instance_type`: the Python name of a property."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
