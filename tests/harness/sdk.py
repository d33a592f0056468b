"""What the installed Pulumi SDK's provider host does, by version.

The suite runs on the newest 3.x, and its engine-model and demo tests also on the oldest SDK that
pyproject.toml allows (`make test-pulumi-floor`). Tests of a host behaviour that older SDKs lack
are skipped there, with these conditions; "Which Pulumi versions" in docs/resource.md lists them.
"""

from __future__ import annotations

import importlib.metadata
import re

import pytest

_MAJOR, _MINOR = (int(p) for p in re.findall(r"\d+", importlib.metadata.version("pulumi"))[:2])
PULUMI_SDK = (_MAJOR, _MINOR)
"""The installed SDK's (major, minor) version."""

HOST_KEEPS_INTERNAL_INPUTS = PULUMI_SDK >= (3, 235)
"""The host passes `__`-prefixed inputs other than `__provider` to the provider (the SDK's
`deserialize_properties` keeps them by default from 3.235). Before, the provider never sees
`__logicalName` and `__defaults`: auto-names are not derived from the resource's name and not
kept across updates, so changing an auto-named endpoint replaces it."""

HOST_SENDS_TRACEBACKS = PULUMI_SDK >= (3, 260)
"""A provider exception reaches the engine as its traceback; before 3.260, as gRPC's
"Exception calling application: <message>" (no traceback, no exception type)."""

HOST_READS_INPUTS_ON_GET = PULUMI_SDK >= (3, 268)
"""The host's Read falls back to the inputs when the engine sends no state (a `get`); before
3.268 it fails with KeyError '__provider', so `InferenceEndpoint.get` cannot work."""

needs_internal_inputs = pytest.mark.skipif(
    not HOST_KEEPS_INTERNAL_INPUTS,
    reason="pulumi < 3.235: the provider host drops `__` inputs (auto-names are not kept)",
)
needs_read_on_get = pytest.mark.skipif(
    not HOST_READS_INPUTS_ON_GET,
    reason="pulumi < 3.268: the provider host's Read has no inputs fallback (`get` fails)",
)
