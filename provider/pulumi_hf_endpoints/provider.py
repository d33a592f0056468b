"""The dynamic provider of `InferenceEndpoint`: Pulumi's Python host calls it, `core` acts.

Pulumi pickles the provider instance into state and unpickles it in its provider process on
every command, by reference to this module's `InferenceEndpointProvider`: that path must stay
importable for as long as stacks exist that hold it (the golden-state test replays one). The
instance carries nothing: configuration is read in `configure()`, and the HTTP client is created
lazily in the provider process. What each operation does is `EndpointCore`'s (core.py), which
the native provider (`native/`) calls too; this module only speaks the dynamic host's types.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from . import settings
from .core import (
    DEFAULTS_KEY,
    INPUT_KEYS_KEY,
    LOGICAL_NAME_KEY,
    MIN_CLI_FOR_CONFIG,
    OWNERSHIP,
    STACK_CONFIG_TOKEN,
    URN_KEY,
    EndpointCore,
    ResourceError,
    Watch,
    auto_name,
    failure,
)
from .engine_log import EngineLog, engine_address

__all__ = [
    "DEFAULTS_KEY",
    "INPUT_KEYS_KEY",
    "LOGICAL_NAME_KEY",
    "MIN_CLI_FOR_CONFIG",
    "OWNERSHIP",
    "STACK_CONFIG_TOKEN",
    "URN_KEY",
    "InferenceEndpointProvider",
    "ResourceError",
    "auto_name",
    "failure",
]

log = logging.getLogger("pulumi_hf_endpoints.provider")

_ENGINE = EngineLog(engine_address(sys.argv[1:]))
"""The engine that started this host (`python -m pulumi.dynamic <address>`); none elsewhere."""


def _watch(props: Mapping[str, Any]) -> Watch:
    """Status lines beside the resource while it waits, when its URN is known (the program
    computes it: `URN_KEY`). Cancel and the engine's timeout never reach a dynamic provider."""
    urn = props.get(URN_KEY)
    if not isinstance(urn, str) or not urn:
        return Watch()
    return Watch(progress=lambda message: _ENGINE.status(urn, message))


class InferenceEndpointProvider(ResourceProvider, EndpointCore):
    """Manages one Hugging Face Inference Endpoint per resource, for Python programs."""

    def __init__(self) -> None:
        EndpointCore.__init__(self)

    # Pickled by reference into state: nothing of the instance may travel with it.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def configure(self, req: ConfigureRequest) -> None:
        """Read the stack's `huggingface:*` settings; the token stays in this process only."""
        keys = (*settings.CONNECTION, *settings.CLIENT)
        self.configure_settings({key: req.config.get(key) for key in keys})
        self._widen_host(req.config.get(settings.HOST_WORKERS))

    @staticmethod
    def _widen_host(setting: Any) -> None:
        """Let up to `huggingface:hostWorkers` operations (default 32) wait at once; 4 or less
        keeps Pulumi's own limit. See hostpool.py."""
        from .hostpool import DEFAULT_HOST_WORKERS, HOST_WORKERS_ENV, widen_current_pool

        raw = setting if setting not in (None, "") else os.environ.get(HOST_WORKERS_ENV)
        try:
            workers = int(raw) if raw not in (None, "") else DEFAULT_HOST_WORKERS
        except (TypeError, ValueError):
            log.warning("ignoring %s=%r: not a whole number", settings.HOST_WORKERS, raw)
            workers = DEFAULT_HOST_WORKERS
        if workers > 4:
            widen_current_pool(workers)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked = self.check_inputs(_olds, news)
        failures = [CheckFailure(f.property, f.reason) for f in checked.failures]
        return CheckResult(checked.inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan = self.plan(olds, news)
        return DiffResult(
            changes=plan.changes,
            replaces=plan.replaces,
            stables=[],
            delete_before_replace=plan.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        created = self.create_endpoint(props, _watch(props))
        return CreateResult(created.id, created.outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        read = self.read_endpoint(id_, props)
        return ReadResult(id_=read.id, outs=read.outputs, inputs=read.inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self.update_endpoint(id_, olds, news, _watch(news)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.delete_endpoint(id_, props)
