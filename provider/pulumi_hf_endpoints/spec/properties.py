# Generated from schema.json by scripts/generate_surface.py: edit the schema and regenerate
# (`python scripts/generate_surface.py`). `make lint` fails when this file is stale.
"""The property names of `InferenceEndpoint` and their roles, as schema.json has them.

Free of pydantic on purpose: a Pulumi program that declares endpoints, and a provider
process until its first check, load only this (both start on every `pulumi` command).
"""

from __future__ import annotations

RESOURCE_TOKEN = "hf-endpoints:index:InferenceEndpoint"

INPUTS: tuple[str, ...] = (
    "name",
    "namespace",
    "repository",
    "revision",
    "framework",
    "task",
    "accelerator",
    "vendor",
    "region",
    "type",
    "privateService",
    "instanceSize",
    "instanceType",
    "minReplica",
    "maxReplica",
    "scaleToZeroTimeout",
    "scalingMetric",
    "scalingThreshold",
    "customImage",
    "containerCommand",
    "containerArgs",
    "env",
    "secrets",
    "tags",
    "domain",
    "path",
    "cacheHttpResponses",
    "paused",
    "wait",
    "waitTimeout",
    "adoptExisting",
)
"""Every input property, in the schema's order."""
REQUIRED_INPUTS: tuple[str, ...] = (
    "repository",
    "framework",
    "accelerator",
    "vendor",
    "region",
    "instanceType",
    "instanceSize",
)
"""Inputs a program must set."""
OUTPUT_ONLY: tuple[str, ...] = (
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
"""Properties that exist only in outputs: the service (or the provider) computes them."""
REPLACE_ON_CHANGES: tuple[str, ...] = (
    "name",
    "namespace",
    "vendor",
    "region",
    "type",
    "privateService",
)
"""Inputs whose change replaces the endpoint: the service cannot change them in place."""
SECRET_PROPERTIES: tuple[str, ...] = ("secrets",)
"""Inputs kept secret in state and never echoed in messages."""
NESTED_SECRETS: tuple[tuple[str, str], ...] = (
    ("hf-endpoints:index:RegistryCredentials", "password"),
)
"""Secret keys of object types: (type token, key)."""
INPUT_DEFAULTS: dict[str, object] = {
    "type": "authenticated",
    "minReplica": 1,
    "maxReplica": 1,
    "paused": False,
    "wait": True,
    "waitTimeout": 1800,
    "adoptExisting": False,
}
"""The defaults the schema documents, which check fills in."""
