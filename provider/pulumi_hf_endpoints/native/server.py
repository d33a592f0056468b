"""Pulumi's ResourceProvider gRPC service for `hf-endpoints:index:InferenceEndpoint` and the
functions of schema.json, on the core the dynamic provider uses (`core.EndpointCore`).

Each RPC decodes its request once, asks the core, and encodes the answer; the core does every
check, request and wait. What only a native provider can do is done here: the schema
(GetSchema), the provider's own configuration (CheckConfig, DiffConfig, Configure), a diff by
property (`detailedDiff`: update or replace, added or removed), the engine's timeout for an
operation (`customTimeouts`), Cancel (a wait ends within a poll interval and the endpoint is
recorded as a partial create or update), status lines while an endpoint deploys, Read with no
state (`pulumi import`), and Invoke.
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, empty_pb2
from google.rpc import status_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from .. import ownership, settings
from .._version import __version__
from ..core import (
    LOGICAL_NAME_KEY,
    EndpointCore,
    Interrupted,
    ResourceError,
    Watch,
)
from ..engine_log import EngineLog
from ..spec.properties import RESOURCE_TOKEN
from . import config, urns, wire

log = logging.getLogger("pulumi_hf_endpoints.native")

_KINDS = {
    ("add", False): provider_pb2.PropertyDiff.ADD,
    ("add", True): provider_pb2.PropertyDiff.ADD_REPLACE,
    ("delete", False): provider_pb2.PropertyDiff.DELETE,
    ("delete", True): provider_pb2.PropertyDiff.DELETE_REPLACE,
    ("update", False): provider_pb2.PropertyDiff.UPDATE,
    ("update", True): provider_pb2.PropertyDiff.UPDATE_REPLACE,
}
ERROR_DETAILS_KEY = "grpc-status-details-bin"

_Response = TypeVar("_Response")


def schema_text() -> str:
    """schema.json as GetSchema answers it: with this package's version."""
    text = resources.files("pulumi_hf_endpoints").joinpath("schema.json").read_text()
    schema = json.loads(text)
    schema["version"] = __version__
    return json.dumps(schema)


class _Status(
    collections.namedtuple("_Status", ("code", "details", "trailing_metadata")),
    grpc.Status,  # type: ignore[misc]
):
    """A gRPC status with details, as `abort_with_status` takes it."""


def _partial(context: grpc.ServicerContext, exc: Interrupted, inputs: Mapping[str, Any]) -> None:
    """End a create or update that was interrupted with the engine's partial failure: the
    endpoint is recorded with what is known of it, and the operation reported as failed."""
    detail = provider_pb2.ErrorResourceInitFailed(
        id=exc.id,
        properties=wire.encode(exc.outputs),
        reasons=[str(exc)],
        inputs=wire.encode(inputs),
    )
    packed = any_pb2.Any()
    packed.Pack(detail)
    status = status_pb2.Status(
        code=grpc.StatusCode.UNKNOWN.value[0], message=str(exc), details=[packed]
    )
    metadata = ((ERROR_DETAILS_KEY, status.SerializeToString()),)
    context.abort_with_status(_Status(grpc.StatusCode.UNKNOWN, str(exc), metadata))


def _guarded(
    method: Callable[[NativeProvider, Any, grpc.ServicerContext], _Response],
) -> Callable[[NativeProvider, Any, grpc.ServicerContext], _Response]:
    """Errors as the engine shows them: a `ResourceError` by its message alone (it says what
    happened and what to do), anything else with its type and a traceback on stderr."""

    @functools.wraps(method)
    def guarded(self: NativeProvider, request: Any, context: grpc.ServicerContext) -> _Response:
        try:
            return method(self, request, context)
        except ResourceError as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        except Exception as exc:
            if isinstance(exc, grpc.RpcError) or type(exc).__name__ == "_AbortError":
                raise  # an abort already under way
            log.error("%s failed:\n%s", method.__name__, traceback.format_exc())
            context.abort(grpc.StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")  # abort raises

    return guarded


class NativeProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The provider plugin's servicer; one per process, as the engine starts one per provider
    configuration (the default provider, and each explicit `Provider` resource)."""

    def __init__(self, engine_address: str | None, core: EndpointCore | None = None) -> None:
        self.core = core if core is not None else EndpointCore()
        self.engine = EngineLog(engine_address)
        self.cancelled = threading.Event()

    # --- the plugin ------------------------------------------------------------------------

    def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=__version__)

    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: Any
    ) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema=schema_text())

    def Cancel(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:
        """The engine stops (Ctrl-C): every wait ends at its next poll, its endpoint recorded."""
        self.cancelled.set()
        return empty_pb2.Empty()

    # --- the provider's configuration ------------------------------------------------------

    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: Any
    ) -> provider_pb2.CheckResponse:
        news = wire.decode(request.news)
        failures = [
            provider_pb2.CheckFailure(property=key, reason=reason)
            for key, reason in config.check(news)
        ]
        return provider_pb2.CheckResponse(inputs=request.news, failures=failures)

    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: Any
    ) -> provider_pb2.DiffResponse:
        """A changed setting (a rotated token, another API URL) reconfigures the provider; it
        never replaces it, which would replace every endpoint it manages."""
        olds = wire.decode(request.old_inputs if request.HasField("old_inputs") else request.olds)
        news = wire.decode(request.news)
        changed = sorted(
            key
            for key in set(olds) | set(news)
            if key in config.KEYS and olds.get(key) != news.get(key)
        )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: Any
    ) -> provider_pb2.ConfigureResponse:
        args = wire.decode(request.args) if request.HasField("args") else {}
        if not args:  # an engine that sends only the older `variables` ("pkg:config:key")
            prefix = f"{config.PACKAGE}:config:"
            args = {k.removeprefix(prefix): v for k, v in request.variables.items()}
        self.core.configure_settings(
            config.as_settings(args),
            token_key=config.TOKEN_KEY,
            token_source=settings.NATIVE_CONFIG_TOKEN,
        )
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=False, acceptResources=False
        )

    # --- resources -------------------------------------------------------------------------

    @staticmethod
    def _resource(urn: str, type_: str) -> urns.Urn:
        parsed = urns.parse(urn)
        own = type_ or parsed.type.rsplit("$", 1)[-1]
        if own != RESOURCE_TOKEN:
            raise ResourceError(f"this provider manages {RESOURCE_TOKEN} only, not {own}")
        return parsed

    def _watch(self, urn: str, timeout: float) -> Watch:
        return Watch(
            timeout=timeout or None,
            progress=lambda message: self.engine.status(urn, message),
            cancel=self.cancelled,
        )

    @_guarded
    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        urn = self._resource(request.urn, request.type)
        name = request.name or urn.name
        news = wire.decode(request.news)
        # What the Python resource computes in the program, from the URN here: the logical
        # name (auto-names start with it) and the owner id (ownership.py), the same for the
        # same project, stack and name, whichever front end made the endpoint.
        news.setdefault(LOGICAL_NAME_KEY, name)
        news.setdefault(ownership.OWNER_KEY, ownership.owner_id(urn.project, urn.stack, name))
        checked = self.core.check_inputs(wire.decode(request.olds), news)
        failures = [
            provider_pb2.CheckFailure(property=f.property, reason=f.reason)
            for f in checked.failures
        ]
        return provider_pb2.CheckResponse(inputs=wire.encode(checked.inputs), failures=failures)

    @_guarded
    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        self._resource(request.urn, request.type)
        old_inputs = wire.decode(request.old_inputs) if request.HasField("old_inputs") else None
        plan = self.core.plan(wire.decode(request.olds), wire.decode(request.news), old_inputs)
        detailed = {
            prop: provider_pb2.PropertyDiff(
                kind=_KINDS[(plan.kinds.get(prop, "update"), prop in plan.replaces)],
                inputDiff=True,
            )
            for prop in plan.changed
        }
        none, some = provider_pb2.DiffResponse.DIFF_NONE, provider_pb2.DiffResponse.DIFF_SOME
        return provider_pb2.DiffResponse(
            changes=some if plan.changes else none,
            replaces=plan.replaces,
            deleteBeforeReplace=plan.delete_before_replace,
            diffs=plan.changed,
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    @_guarded
    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        self._resource(request.urn, request.type)
        props = wire.decode(request.properties)
        try:
            created = self.core.create_endpoint(props, self._watch(request.urn, request.timeout))
        except Interrupted as exc:
            _partial(context, exc, props)
            raise
        return provider_pb2.CreateResponse(id=created.id, properties=wire.encode(created.outputs))

    @_guarded
    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        self._resource(request.urn, request.type)
        read = self.core.read_endpoint(request.id, wire.decode(request.properties))
        inputs = wire.encode(read.inputs) if read.inputs is not None else None
        return provider_pb2.ReadResponse(
            id=read.id, properties=wire.encode(read.outputs), inputs=inputs
        )

    @_guarded
    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        self._resource(request.urn, request.type)
        news = wire.decode(request.news)
        watch = self._watch(request.urn, request.timeout)
        try:
            outputs = self.core.update_endpoint(request.id, wire.decode(request.olds), news, watch)
        except Interrupted as exc:
            _partial(context, exc, news)
            raise
        return provider_pb2.UpdateResponse(properties=wire.encode(outputs))

    @_guarded
    def Delete(self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext) -> Any:
        self._resource(request.urn, request.type)
        props = wire.decode(request.properties)
        self.core.delete_endpoint(request.id, props, self._watch(request.urn, request.timeout))
        return empty_pb2.Empty()

    # --- functions -------------------------------------------------------------------------

    @_guarded
    def Invoke(
        self, request: provider_pb2.InvokeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.InvokeResponse:
        from . import invoke

        if request.tok not in invoke.FUNCTIONS:
            known = ", ".join(sorted(invoke.FUNCTIONS))
            raise ResourceError(f"unknown function {request.tok!r} (this provider has: {known})")
        api, api_config = self.core._client()
        try:
            result = invoke.invoke(request.tok, api, api_config, wire.decode(request.args))
        except (ValueError, RuntimeError, TypeError) as exc:
            failure = provider_pb2.CheckFailure(property="", reason=str(exc))
            return provider_pb2.InvokeResponse(failures=[failure])
        response = provider_pb2.InvokeResponse()
        getattr(response, "return").CopyFrom(wire.encode(result))
        return response


__all__ = ["NativeProvider", "schema_text"]
