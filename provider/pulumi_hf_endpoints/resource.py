"""`InferenceEndpoint`, the Pulumi resource a Python program declares (the dynamic provider).

Its argument classes and output types (`resource_types.py`) and its typed outputs (the block
between the `generated outputs` comments below) are generated from schema.json by
`scripts/generate_surface.py`. Attribute names are the snake_case twins of the camelCase
properties (`instance_type` <-> `instanceType`), as in every Pulumi Python SDK: state, stack
outputs and `pulumi preview` keep the camelCase names. `spec/` owns the rules and the API
mapping.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic

from . import ownership
from .names import to_camel, to_snake, unexpected_keywords
from .property_paths import Shape, state_path
from .provider import LOGICAL_NAME_KEY, URN_KEY, InferenceEndpointProvider
from .resource_types import (
    CustomImage,
    CustomImageArgs,
    InferenceEndpointArgs,
    PrivateService,
    PrivateServiceArgs,
    RegistryCredentials,
    RegistryCredentialsArgs,
)
from .spec.properties import OUTPUT_ONLY, SECRET_PROPERTIES
from .spec.vocabulary import LEGACY_TYPES

__all__ = [
    "CustomImage",
    "CustomImageArgs",
    "InferenceEndpoint",
    "InferenceEndpointArgs",
    "PrivateService",
    "PrivateServiceArgs",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
]


def _secret(value: Any) -> Any:
    return None if value is None else pulumi.Output.secret(value)


def _credentials_props(credentials: Any) -> Any:
    if isinstance(credentials, RegistryCredentialsArgs):
        credentials = {"username": credentials.username, "password": credentials.password}
    if isinstance(credentials, Mapping):
        creds = {k: v for k, v in credentials.items() if v is not None}
        if "password" in creds:
            creds["password"] = _secret(creds["password"])
        return creds
    return credentials


def _image_props(image: Any) -> Any:
    """The image as a plain dict; the registry password wrapped as a secret."""
    if isinstance(image, CustomImageArgs):
        image = _dataclass_props(image)
    if isinstance(image, Mapping) and "credentials" in image:
        image = {**image, "credentials": _credentials_props(image["credentials"])}
    return image


def _dataclass_props(value: Any) -> dict[str, Any]:
    """An argument class as the plain dict of its set fields, camelCase as in state."""
    return {
        to_camel(f.name): getattr(value, f.name)
        for f in dataclasses.fields(value)
        if getattr(value, f.name) is not None
    }


def _shape(cls: type[Any]) -> Shape:
    """The names a property path may walk in `cls`'s properties (see property_paths.py)."""
    nested: dict[str, type[Any]] = {
        "customImage": CustomImageArgs,
        "privateService": PrivateServiceArgs,
        "credentials": RegistryCredentialsArgs,
    }
    return {
        to_camel(f.name): (_shape(nested[to_camel(f.name)]) if to_camel(f.name) in nested else None)
        for f in dataclasses.fields(cls)
    }


def _properties(args: InferenceEndpointArgs) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in dataclasses.fields(args):
        value = getattr(args, f.name)
        key = to_camel(f.name)
        if key == "customImage":
            value = _image_props(value)
        elif key == "privateService" and isinstance(value, PrivateServiceArgs):
            value = _dataclass_props(value)
        elif key in SECRET_PROPERTIES:
            value = _secret(value)
        props[key] = value
    if isinstance(args.type, str) and args.type in LEGACY_TYPES:
        pulumi.log.warn(
            f"type '{args.type}' is deprecated and no longer accepted by the service; "
            f"'{LEGACY_TYPES[args.type]}' is used instead"
        )
    return props


_SHAPE = _shape(InferenceEndpointArgs)
DYNAMIC_TYPE = "pulumi-python:dynamic/hf-endpoints:InferenceEndpoint"
"""The type the engine records for the resource below: the dynamic type and its module."""


class InferenceEndpoint(pulumi.dynamic.Resource, module="hf-endpoints", name="InferenceEndpoint"):
    """A Hugging Face Inference Endpoint: a model served on dedicated hardware.

    ```python
    endpoint = InferenceEndpoint(
        "gpt2",
        repository="gpt2", framework="pytorch", task="text-generation",
        accelerator="cpu", vendor="aws", region="us-east-1",
        instance_type="intel-spr", instance_size="x2",
    )
    pulumi.export("url", endpoint.url)
    ```

    Create and update wait until the endpoint serves (`wait`, `wait_timeout`). Changing
    `name`, `namespace`, `vendor`, `region`, `type` or `private_service` replaces it; the rest
    changes in place. A `type="private"` endpoint needs `private_service` (the AWS account that
    connects through PrivateLink) and exports `private_service_name` for its VPC endpoint.
    An endpoint with an explicit `name` is replaced by deleting it first (the name is unique);
    an auto-named one gets a new name and serves before the old one goes. Set the
    `delete_before_replace` resource option to choose otherwise. Pass the arguments as keywords
    or as an `InferenceEndpointArgs`.
    """

    _SECRET_OUTPUTS: ClassVar[list[str]] = list(SECRET_PROPERTIES)

    # BEGIN generated outputs: scripts/generate_surface.py from schema.json
    # The SDK types what the engine returns by these annotations (whole numbers as
    # int, the image as `CustomImage`); `pulumi.property` gives each output's name in
    # state.
    name: pulumi.Output[str] = pulumi.property("name")
    namespace: pulumi.Output[str] = pulumi.property("namespace")
    repository: pulumi.Output[str] = pulumi.property("repository")
    revision: pulumi.Output[str | None] = pulumi.property("revision")
    framework: pulumi.Output[str] = pulumi.property("framework")
    task: pulumi.Output[str | None] = pulumi.property("task")
    accelerator: pulumi.Output[str] = pulumi.property("accelerator")
    vendor: pulumi.Output[str] = pulumi.property("vendor")
    region: pulumi.Output[str] = pulumi.property("region")
    private_service: pulumi.Output[PrivateService | None] = pulumi.property("privateService")
    instance_size: pulumi.Output[str] = pulumi.property("instanceSize")
    instance_type: pulumi.Output[str] = pulumi.property("instanceType")
    min_replica: pulumi.Output[int] = pulumi.property("minReplica")
    max_replica: pulumi.Output[int] = pulumi.property("maxReplica")
    scale_to_zero_timeout: pulumi.Output[int | None] = pulumi.property("scaleToZeroTimeout")
    scaling_metric: pulumi.Output[str | None] = pulumi.property("scalingMetric")
    scaling_threshold: pulumi.Output[float | None] = pulumi.property("scalingThreshold")
    custom_image: pulumi.Output[CustomImage | None] = pulumi.property("customImage")
    container_command: pulumi.Output[Sequence[str] | None] = pulumi.property("containerCommand")
    container_args: pulumi.Output[Sequence[str] | None] = pulumi.property("containerArgs")
    env: pulumi.Output[Mapping[str, str] | None] = pulumi.property("env")
    secrets: pulumi.Output[Mapping[str, str] | None] = pulumi.property("secrets")
    tags: pulumi.Output[Sequence[str] | None] = pulumi.property("tags")
    domain: pulumi.Output[str | None] = pulumi.property("domain")
    path: pulumi.Output[str | None] = pulumi.property("path")
    cache_http_responses: pulumi.Output[bool | None] = pulumi.property("cacheHttpResponses")
    paused: pulumi.Output[bool | None] = pulumi.property("paused")
    wait: pulumi.Output[bool | None] = pulumi.property("wait")
    wait_timeout: pulumi.Output[float | None] = pulumi.property("waitTimeout")
    adopt_existing: pulumi.Output[bool | None] = pulumi.property("adoptExisting")
    url: pulumi.Output[str | None] = pulumi.property("url")
    status: pulumi.Output[str] = pulumi.property("status")
    status_message: pulumi.Output[str | None] = pulumi.property("statusMessage")
    ready_replica: pulumi.Output[int | None] = pulumi.property("readyReplica")
    target_replica: pulumi.Output[int | None] = pulumi.property("targetReplica")
    created_at: pulumi.Output[str | None] = pulumi.property("createdAt")
    updated_at: pulumi.Output[str | None] = pulumi.property("updatedAt")
    health_route: pulumi.Output[str | None] = pulumi.property("healthRoute")
    price_per_hour: pulumi.Output[float | None] = pulumi.property("pricePerHour")
    private_service_name: pulumi.Output[str | None] = pulumi.property("privateServiceName")
    type: pulumi.Output[str] = pulumi.property("type")
    # END generated outputs

    def __init__(
        self,
        resource_name: str,
        args: InferenceEndpointArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        if args is None:
            allowed = [f.name for f in dataclasses.fields(InferenceEndpointArgs)]
            misspelt = unexpected_keywords("InferenceEndpoint", kwargs, allowed)
            if misspelt is not None:
                raise TypeError(misspelt)
            args = InferenceEndpointArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either an InferenceEndpointArgs or keyword arguments, not both")
        props = _properties(args)
        props[LOGICAL_NAME_KEY] = resource_name
        props[ownership.OWNER_KEY] = ownership.owner_id(
            pulumi.get_project(), pulumi.get_stack(), resource_name
        )
        parent = opts.parent if opts is not None else None
        props[URN_KEY] = pulumi.resource.create_urn(resource_name, DYNAMIC_TYPE, parent=parent)
        ignored = opts.ignore_changes if opts is not None else None
        if opts is not None and ignored:
            opts = copy.copy(opts)  # the names users write, as the engine matches them in state
            opts.ignore_changes = [
                state_path(path, _SHAPE, option="ignore_changes", resource="InferenceEndpoint")
                for path in ignored
            ]
        if args.name is not None and (opts is None or opts.delete_before_replace is None):
            # A name is unique in its namespace. A replacement the engine forces (`up
            # --replace`, `state taint`, a replacement trigger) never asks the provider which
            # order it needs: without this, it would create the new endpoint under the name the
            # old one still holds.
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(delete_before_replace=True)
            )
        self._register(resource_name, props, opts)

    def _register(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> None:
        for key in OUTPUT_ONLY:
            props.setdefault(key, None)
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=self._SECRET_OUTPUTS)
        )
        super().__init__(InferenceEndpointProvider(), resource_name, props, opts)
        # The SDK made one output attribute per property, named as in state (camelCase); the
        # engine resolves them by that name, not through the attribute, so they can move to
        # their Python names. Keys of user dicts (env, secrets) are left as written.
        for key in list(props):
            snake = to_snake(key)
            if not key.startswith("__") and snake != key:
                self.__dict__[snake] = self.__dict__.pop(key)

    def __getattr__(self, name: str) -> Any:
        """`endpoint.instanceType` (the state name) still works, with a DeprecationWarning."""
        snake = to_snake(name)
        if snake != name and snake in self.__dict__:
            warnings.warn(
                f"InferenceEndpoint.{name} is deprecated: use InferenceEndpoint.{snake}",
                DeprecationWarning,
                stacklevel=2,
            )
            return self.__dict__[snake]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> InferenceEndpoint:
        """Read an existing endpoint (id `namespace/name`) into the program without managing
        it. `pulumi import` does not work for dynamic resources; to manage an existing
        endpoint, declare it with `adopt_existing=True` instead."""
        resource = InferenceEndpoint.__new__(InferenceEndpoint)
        props: dict[str, Any] = {
            to_camel(f.name): None for f in dataclasses.fields(InferenceEndpointArgs)
        }
        resource._register(
            resource_name, props, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        )
        return resource
