"""What a configuration the service accepted does when its replicas start: the failures that
come from the configuration itself, with the log line a user sees.

The service's replicas are Kubernetes pods (its logs page names them `6pajyw3k-z7ghx`,
deployment then replica), and a container is a process, so two things the control plane does not
check fail the deployment instead of the request:

- an environment variable name Kubernetes refuses (letters, digits, '_', '-' and '.', not
  starting with a digit: Kubernetes' `IsEnvVarName`): the pod cannot be created;
- an environment larger than the kernel takes (execve(2): 128 KiB per `NAME=value` string, a
  quarter of the 8 MiB stack limit, 2 MiB, for all of them): the container cannot start.

Both are assumptions (docs/service-api.md); the provider refuses both at preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ENV_NAME_RE = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
VARIABLE_MAX_BYTES = 128 * 1024
ENVIRONMENT_MAX_BYTES = 2 * 1024 * 1024


def _variables(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    model = config["model"]
    return [
        *((model.get("env") or {}).items()),
        *((model.get("secrets") or {}).items()),
    ]


def failure(config: Mapping[str, Any]) -> str | None:
    """The error a deployment of `config` ends with, or None when its replicas can start."""
    variables = _variables(config)
    for index, (name, _) in enumerate(variables):
        if not ENV_NAME_RE.match(name):
            return (
                f'pod spec invalid: spec.containers[0].env[{index}].name: Invalid value: "{name}":'
                " must consist of letters, digits, '_', '-' or '.', and must not start with a digit"
            )
    total = 0
    for name, value in variables:
        size = len(name.encode()) + len(value.encode()) + 2
        total += size
        if size > VARIABLE_MAX_BYTES or total > ENVIRONMENT_MAX_BYTES:
            return "exec container entrypoint: argument list too long"
    return None
