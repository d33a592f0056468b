"""Functions that read the service from a Pulumi program: the hardware a namespace can deploy on
(with price, quota and availability) and the namespace's endpoints.

They follow the convention of Pulumi's provider functions (`aws.ec2.get_ami` and
`get_ami_output`): `get_hardware(...)` returns a result object, `get_hardware_output(...)` takes
Inputs and returns an `Output` of it. Unlike those, they run in the program's own process, not in
a provider: they find the server, namespace and token as the provider does, from the stack config
`huggingface:*` (token, apiUrl, namespace, requestTimeout, maxRetries), then the environment,
then the token file of `hf auth login`.

Like any Pulumi data source they call the service on every run, `pulumi preview` included (the
resource's own check and diff stay local). The `_output` forms wait for their Inputs: while one is
unknown (a preview that depends on a resource not created yet), their result stays unknown and
nothing is called. Results hold no token, and read as the mapping of their fields, so that
`pulumi.export` takes them whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi

from . import settings
from .client.errors import AuthenticationError, EndpointsApiError, PermissionDeniedError
from .client.models import Hardware, Record

if TYPE_CHECKING:
    from .client import ApiConfig, Endpoint, EndpointsApi

__all__ = [
    "EndpointSummary",
    "FunctionError",
    "GetHardwareResult",
    "Hardware",
    "ListEndpointsResult",
    "get_hardware",
    "get_hardware_output",
    "list_endpoints",
    "list_endpoints_output",
]

_R = TypeVar("_R")
_CONFIG_NAMESPACE = "huggingface"
_USER_AGENT = "program-function"


class FunctionError(RuntimeError):
    """`get_hardware` or `list_endpoints` could not read the service; the message says what the
    service answered and, for a refused token, where the token came from (never what it is)."""


# ------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GetHardwareResult(Record):
    """What `get_hardware` found: the namespace it asked for, the filters it applied, and the
    matching rows, sorted by vendor, region, accelerator, instance type and size."""

    namespace: str
    """The namespace whose quota `hardware` reports (prices are the same for all)."""
    vendor: str | None
    region: str | None
    accelerator: str | None
    instance_type: str | None
    hardware: tuple[Hardware, ...]
    """Every matching instance, deployable or not: see `Hardware.deployable`."""


@dataclass(frozen=True)
class EndpointSummary(Record):
    """One endpoint of `list_endpoints`, under the names of `InferenceEndpoint`'s outputs (so
    `summary.instance_type` means what `endpoint.instance_type` does). Read one whole with
    `InferenceEndpoint.get(name, summary.id)`."""

    id: str
    """``namespace/name``: the id `InferenceEndpoint.get` takes."""
    name: str
    namespace: str
    repository: str
    revision: str | None
    framework: str | None
    task: str | None
    type: str
    accelerator: str
    vendor: str
    region: str
    instance_type: str
    instance_size: str
    min_replica: int
    max_replica: int
    scale_to_zero_timeout: int | None
    tags: tuple[str, ...]
    status: str
    """The state the service reports: `running`, `paused`, `scaledToZero`, `failed`..."""
    status_message: str | None
    url: str | None
    ready_replica: int | None
    target_replica: int | None
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True)
class ListEndpointsResult(Record):
    """What `list_endpoints` found: every endpoint of the namespace (every page), by name."""

    namespace: str
    endpoints: tuple[EndpointSummary, ...]


# ------------------------------------------------------------------------------------- plain


def get_hardware(
    vendor: str | None = None,
    region: str | None = None,
    accelerator: str | None = None,
    instance_type: str | None = None,
    namespace: str | None = None,
) -> GetHardwareResult:
    """The instances the namespace can order (`GET /v2/provider/{namespace}`), with their price
    per hour, the namespace's quota and their availability.

    Args:
        vendor, region, accelerator, instance_type: keep only matching rows (compared without
            regard to case, as `hf endpoints hardware` does). A value that no row has at all is
            an error naming the values that exist; a combination with no row is an empty result.
        namespace: whose quota to report; default the `huggingface:namespace` stack setting,
            else the token's user.

    Raises:
        FunctionError: the service could not be read (the message says why).
        ValueError: a filter names a value the list does not have, or a setting is invalid.
    """
    with _api() as (api, config):
        return find_hardware(api, config, vendor, region, accelerator, instance_type, namespace)


def find_hardware(
    api: EndpointsApi,
    config: ApiConfig,
    vendor: str | None = None,
    region: str | None = None,
    accelerator: str | None = None,
    instance_type: str | None = None,
    namespace: str | None = None,
) -> GetHardwareResult:
    """`get_hardware` with a client: the program's function and the native provider's
    `getHardware` (which uses the provider's client) both run this."""
    filters = {
        "vendor": vendor,
        "region": region,
        "accelerator": accelerator,
        "instance_type": instance_type,
    }
    resolved = _namespace(api, config, namespace, "get_hardware")
    try:
        rows = api.list_hardware(resolved).hardware()
    except EndpointsApiError as exc:
        what = f"get_hardware: reading the hardware list of {resolved}"
        raise _failure(what, exc, config) from None
    for field, wanted in filters.items():
        if wanted is not None and not any(_same(getattr(r, field), wanted) for r in rows):
            known = ", ".join(sorted({str(getattr(r, field)) for r in rows}))
            raise ValueError(
                f"get_hardware: {field} {wanted!r} is in no row of the hardware list of "
                f"{resolved} (there: {known})"
            )
    matching = [
        r for r in rows if all(w is None or _same(getattr(r, f), w) for f, w in filters.items())
    ]
    matching.sort(
        key=lambda r: (r.vendor, r.region, r.accelerator, r.instance_type, r.num_accelerators)
    )
    return GetHardwareResult(namespace=resolved, hardware=tuple(matching), **filters)


def list_endpoints(
    namespace: str | None = None,
    tags: Sequence[str] | None = None,
    search: str | None = None,
) -> ListEndpointsResult:
    """Every endpoint of the namespace (`GET /v2/endpoint/{namespace}`), every page read
    (following `nextCursor`; huggingface_hub's `list_inference_endpoints` reads only the first).

    Args:
        namespace: default the `huggingface:namespace` stack setting, else the token's user.
        tags: keep endpoints that have all these tags (filtered by the service); one tag may
            be given as a string.
        search: keep endpoints whose name contains this (filtered by the service).

    Raises:
        FunctionError: the service could not be read (the message says why).
    """
    with _api() as (api, config):
        return find_endpoints(api, config, namespace, tags, search)


def find_endpoints(
    api: EndpointsApi,
    config: ApiConfig,
    namespace: str | None = None,
    tags: Sequence[str] | None = None,
    search: str | None = None,
) -> ListEndpointsResult:
    """`list_endpoints` with a client (see `find_hardware`)."""
    resolved = _namespace(api, config, namespace, "list_endpoints")
    try:
        wanted = [tags] if isinstance(tags, str) else list(tags or ())
        found = api.list_endpoints(resolved, tags=wanted or None, search=search)
    except EndpointsApiError as exc:
        what = f"list_endpoints: listing the endpoints of {resolved}"
        raise _failure(what, exc, config) from None
    summaries = sorted((_summary(e, resolved) for e in found), key=lambda s: s.name)
    return ListEndpointsResult(namespace=resolved, endpoints=tuple(summaries))


# ------------------------------------------------------------------------------------- outputs


def get_hardware_output(
    vendor: pulumi.Input[str | None] = None,
    region: pulumi.Input[str | None] = None,
    accelerator: pulumi.Input[str | None] = None,
    instance_type: pulumi.Input[str | None] = None,
    namespace: pulumi.Input[str | None] = None,
) -> pulumi.Output[GetHardwareResult]:
    """`get_hardware` with Inputs: called once they are all known; unknown while one is not
    (then nothing is called). The call runs in a worker thread, not on the program's loop."""
    args = pulumi.Output.all(vendor, region, accelerator, instance_type, namespace)
    return args.apply(lambda a: _in_thread(get_hardware, *a))


def list_endpoints_output(
    namespace: pulumi.Input[str | None] = None,
    tags: pulumi.Input[Sequence[pulumi.Input[str]] | None] = None,
    search: pulumi.Input[str | None] = None,
) -> pulumi.Output[ListEndpointsResult]:
    """`list_endpoints` with Inputs: called once they are all known; unknown while one is not
    (then nothing is called). The call runs in a worker thread, not on the program's loop."""
    args = pulumi.Output.all(namespace, tags, search)
    return args.apply(lambda a: _in_thread(list_endpoints, *a))


# ------------------------------------------------------------------------------------- plumbing


def _in_thread(fn: Callable[..., _R], *args: Any) -> Awaitable[_R]:
    """Run `fn` in a worker thread with the caller's context (Pulumi's config lives in context
    variables), so that the program's event loop keeps going while the service answers."""
    return asyncio.to_thread(fn, *args)


def _stack_settings() -> dict[str, Any]:
    """The `huggingface:*` settings of the stack, by full key (`huggingface:token`...)."""
    config = pulumi.Config(_CONFIG_NAMESPACE)
    keys = settings.CONNECTION + settings.CLIENT
    return {key: config.get(key.split(":", 1)[1]) for key in keys}


@contextmanager
def _api() -> Iterator[tuple[EndpointsApi, ApiConfig]]:
    """A client configured as the provider's would be, closed after use."""
    from .client.api import EndpointsApi

    values = _stack_settings()
    options = settings.client_settings(values).options()
    config = settings.api_config(settings.connection(values))
    with EndpointsApi.from_config(config, user_agent=_USER_AGENT, **options) as api:
        yield api, config


def _namespace(api: EndpointsApi, config: ApiConfig, namespace: str | None, what: str) -> str:
    if namespace and namespace.strip():
        return namespace.strip()
    if config.namespace:
        return config.namespace
    try:
        return api.default_namespace()
    except EndpointsApiError as exc:
        raise _failure(f"{what}: finding the token's namespace (whoami)", exc, config) from None


def _failure(what: str, exc: EndpointsApiError, config: ApiConfig) -> FunctionError:
    message = f"{what} failed: {exc}"
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        if config.token is None:
            message += (
                ". No Hugging Face token was found: run `pulumi config set --secret "
                "huggingface:token <token>`, set HF_TOKEN, or log in with `hf auth login`"
            )
        else:
            message += f". The token came from {config.token_source}"
    return FunctionError(message)


def _same(value: Any, wanted: str) -> bool:
    return isinstance(value, str) and value.lower() == str(wanted).strip().lower()


def _summary(info: Endpoint, namespace: str) -> EndpointSummary:
    """The endpoint under the resource's output names, through the one mapping (spec.live)."""
    from . import spec
    from .names import to_snake

    values = {
        to_snake(key): value
        for key, value in {
            **spec.spec_from_api(info, namespace).to_properties(),
            **spec.status_outputs(info),
        }.items()
    }
    return EndpointSummary(
        id=f"{namespace}/{info.name}",
        name=info.name,
        namespace=namespace,
        repository=values["repository"],
        revision=values.get("revision"),
        framework=values.get("framework"),
        task=values.get("task"),
        type=values["type"],
        accelerator=values["accelerator"],
        vendor=values["vendor"],
        region=values["region"],
        instance_type=values["instance_type"],
        instance_size=values["instance_size"],
        min_replica=values["min_replica"],
        max_replica=values["max_replica"],
        scale_to_zero_timeout=values.get("scale_to_zero_timeout"),
        tags=tuple(values.get("tags") or ()),
        status=values["status"],
        status_message=values.get("status_message"),
        url=values.get("url"),
        ready_replica=values.get("ready_replica"),
        target_replica=values.get("target_replica"),
        created_at=values.get("created_at"),
        updated_at=values.get("updated_at"),
    )
