"""One chat endpoint per environment, from a table that stack config can amend.

The table below is the default; `environments` in stack config is merged over it, key by key:

    pulumi config set --path environments.prod.maxReplica 8       # prod: update in place
    pulumi config set --path environments.dev.region eu-west-1    # dev: replacement
    pulumi config set --path environments.staging.accelerator cpu ...   # a new endpoint
    pulumi config set --path environments.dev.enabled false       # dev: deleted

Keys are the resource's property names as in schema.json (camelCase). The URLs are stack
outputs (`urls`, and `devUrl`, `prodUrl`, ...) that other stacks read with a StackReference:
see consumer/.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from pulumi_hf_endpoints import InferenceEndpoint, InferenceEndpointArgs

#: What every environment shares unless its row says otherwise.
COMMON: dict[str, Any] = {
    "repository": "HuggingFaceTB/SmolLM2-1.7B-Instruct",
    "framework": "pytorch",
    "task": "text-generation",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "authenticated",
}

#: dev: CPU, scales to zero after 15 idle minutes. prod: GPU, always at least one replica.
ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "dev": {
        "accelerator": "cpu",
        "instanceType": "intel-spr",
        "instanceSize": "x4",
        "minReplica": 0,
        "maxReplica": 1,
        "scaleToZeroTimeout": 15,
    },
    "prod": {
        "accelerator": "gpu",
        "instanceType": "nvidia-a10g",
        "instanceSize": "x1",
        "minReplica": 1,
        "maxReplica": 4,
    },
}

_INTEGERS = {"minReplica", "maxReplica", "scaleToZeroTimeout"}
_NUMBERS = {"scalingThreshold", "waitTimeout"}
_BOOLEANS = {"paused", "wait", "adoptExisting", "cacheHttpResponses"}
_FIELDS = set(InferenceEndpointArgs.__dataclass_fields__)


def _coerce(key: str, value: Any) -> Any:
    """Config values set with `--path` arrive as strings: give them the property's type."""
    if key in _INTEGERS:
        return int(value)
    if key in _NUMBERS:
        return float(value)
    if key in _BOOLEANS:
        return str(value).lower() in ("true", "1", "yes")
    return value


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def _args(env: str, row: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of one environment's endpoint."""
    args: dict[str, Any] = {}
    for key, value in {**COMMON, **row}.items():
        if key == "enabled":
            continue
        name = _snake(key)
        if name not in _FIELDS:
            raise ValueError(f"environments.{env}.{key} is not a property of InferenceEndpoint")
        args[name] = _coerce(key, value)
    args.setdefault("tags", [f"env:{env}"])
    return args


def _enabled(row: dict[str, Any]) -> bool:
    return str(row.get("enabled", True)).lower() not in ("false", "0", "no")


config = pulumi.Config()
overrides: dict[str, dict[str, Any]] = config.get_object("environments") or {}
table = {
    env: {**ENVIRONMENTS.get(env, {}), **overrides.get(env, {})}
    for env in [*ENVIRONMENTS, *(e for e in overrides if e not in ENVIRONMENTS)]
}

endpoints = {
    env: InferenceEndpoint(f"chat-{env}", **_args(env, row))
    for env, row in table.items()
    if _enabled(row)
}

pulumi.export("urls", {env: endpoint.url for env, endpoint in endpoints.items()})
pulumi.export("endpoints", {env: endpoint.id for env, endpoint in endpoints.items()})
for env, endpoint in endpoints.items():
    pulumi.export(f"{env}Url", endpoint.url)
