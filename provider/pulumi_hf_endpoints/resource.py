"""`InferenceEndpoint`, the Pulumi resource, its argument classes and its output types.

Argument and output attribute names are the snake_case twins of the camelCase properties in
`schema.json` (`instance_type` ↔ `instanceType`), as in every Pulumi Python SDK: state, stack
outputs and `pulumi preview` keep the camelCase names. `spec.py` owns the rules and the API
mapping.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import pulumi
import pulumi.dynamic

from . import ownership
from .properties import LEGACY_TYPES, OUTPUT_ONLY, SECRET_PROPERTIES, to_camel, to_snake
from .property_paths import Shape, state_path
from .provider import LOGICAL_NAME_KEY, InferenceEndpointProvider

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


@dataclass(kw_only=True)
class RegistryCredentialsArgs:
    """Credentials of a private container registry. The password is kept secret in state."""

    username: pulumi.Input[str]
    password: pulumi.Input[str] | None = None


@dataclass(kw_only=True)
class CustomImageArgs:
    """A container image to run instead of the default Hugging Face toolkit.

    `engine` is `custom` (default), one the service configures itself (`tgi`, `tei`, `vLLM`,
    `sGLang`, `llamacpp`, `tgiNeuron`, `vLLMNeuron`, `hfServe`), each needing `url`, or a
    managed Hugging Face image that takes none (`huggingface`, `huggingfaceNeuron`); an
    engine's own settings go in `options`. `env` is the endpoint's environment, as the
    huggingface_hub guide writes it here.
    """

    url: pulumi.Input[str] | None = None
    engine: pulumi.Input[str] | None = None
    health_route: pulumi.Input[str] | None = None
    port: pulumi.Input[int] | None = None
    env: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    credentials: RegistryCredentialsArgs | Mapping[str, Any] | None = None
    tensor_parallel_size: pulumi.Input[int] | None = None
    data_parallel_size: pulumi.Input[int] | None = None
    options: pulumi.Input[Mapping[str, Any]] | None = None


@dataclass(kw_only=True)
class PrivateServiceArgs:
    """The AWS account that may reach a `type="private"` endpoint through AWS PrivateLink.

    `account_id` is the 12-digit id of the account owning the VPC, as a string. `region` is the
    AWS region of the PrivateLink entry point (`us-east-1` or `eu-west-1`); it defaults to the
    endpoint's own region when that is one of them. `shared` lets endpoints of the namespace
    share one VPC endpoint. Changing any of it replaces the endpoint.
    """

    account_id: pulumi.Input[str]
    region: pulumi.Input[str] | None = None
    shared: pulumi.Input[bool] = False


@dataclass(kw_only=True)
class InferenceEndpointArgs:
    """The arguments of an `InferenceEndpoint`; see schema.json or docs/resource.md for each one."""

    repository: pulumi.Input[str]
    framework: pulumi.Input[str]
    accelerator: pulumi.Input[str]
    vendor: pulumi.Input[str]
    region: pulumi.Input[str]
    instance_type: pulumi.Input[str]
    instance_size: pulumi.Input[str]
    name: pulumi.Input[str] | None = None
    namespace: pulumi.Input[str] | None = None
    revision: pulumi.Input[str] | None = None
    task: pulumi.Input[str] | None = None
    type: pulumi.Input[str] | None = None
    private_service: PrivateServiceArgs | pulumi.Input[Mapping[str, Any]] | None = None
    min_replica: pulumi.Input[int] | None = None
    max_replica: pulumi.Input[int] | None = None
    scale_to_zero_timeout: pulumi.Input[int] | None = None
    scaling_metric: pulumi.Input[str] | None = None
    scaling_threshold: pulumi.Input[float] | None = None
    custom_image: CustomImageArgs | pulumi.Input[Mapping[str, Any]] | None = None
    container_command: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    container_args: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    env: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    secrets: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    tags: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    domain: pulumi.Input[str] | None = None
    path: pulumi.Input[str] | None = None
    cache_http_responses: pulumi.Input[bool] | None = None
    paused: pulumi.Input[bool] | None = None
    wait: pulumi.Input[bool] | None = None
    wait_timeout: pulumi.Input[float] | None = None
    adopt_existing: pulumi.Input[bool] | None = None


@pulumi.output_type
class RegistryCredentials(dict[str, Any]):
    """`custom_image.credentials` as the stack records it; the password stays secret."""

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        if username is not None:
            pulumi.set(self, "username", username)
        if password is not None:
            pulumi.set(self, "password", password)

    @property
    @pulumi.getter
    def username(self) -> str | None:
        return cast("str | None", pulumi.get(self, "username"))

    @property
    @pulumi.getter
    def password(self) -> str | None:
        return cast("str | None", pulumi.get(self, "password"))


@pulumi.output_type
class CustomImage(dict[str, Any]):
    """The `custom_image` output, read the way `CustomImageArgs` writes it: attributes
    (`image.health_route`) or snake_case keys (`image["health_route"]`)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        engine: str | None = None,
        health_route: str | None = None,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        credentials: RegistryCredentials | None = None,
        tensor_parallel_size: int | None = None,
        data_parallel_size: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        values = {
            "url": url,
            "engine": engine,
            "health_route": health_route,
            "port": port,
            "env": env,
            "credentials": credentials,
            "tensor_parallel_size": tensor_parallel_size,
            "data_parallel_size": data_parallel_size,
            "options": options,
        }
        for key, value in values.items():
            if value is not None:
                pulumi.set(self, key, value)

    @property
    @pulumi.getter
    def url(self) -> str | None:
        return cast("str | None", pulumi.get(self, "url"))

    @property
    @pulumi.getter
    def engine(self) -> str | None:
        return cast("str | None", pulumi.get(self, "engine"))

    @property
    @pulumi.getter(name="healthRoute")
    def health_route(self) -> str | None:
        return cast("str | None", pulumi.get(self, "health_route"))

    @property
    @pulumi.getter
    def port(self) -> int | None:
        return cast("int | None", pulumi.get(self, "port"))

    @property
    @pulumi.getter
    def env(self) -> Mapping[str, str] | None:
        return cast("Mapping[str, str] | None", pulumi.get(self, "env"))

    @property
    @pulumi.getter
    def credentials(self) -> RegistryCredentials | None:
        return cast("RegistryCredentials | None", pulumi.get(self, "credentials"))

    @property
    @pulumi.getter(name="tensorParallelSize")
    def tensor_parallel_size(self) -> int | None:
        return cast("int | None", pulumi.get(self, "tensor_parallel_size"))

    @property
    @pulumi.getter(name="dataParallelSize")
    def data_parallel_size(self) -> int | None:
        return cast("int | None", pulumi.get(self, "data_parallel_size"))

    @property
    @pulumi.getter
    def options(self) -> Mapping[str, Any] | None:
        return cast("Mapping[str, Any] | None", pulumi.get(self, "options"))


@pulumi.output_type
class PrivateService(dict[str, Any]):
    """The `private_service` output, read the way `PrivateServiceArgs` writes it."""

    def __init__(
        self,
        *,
        account_id: str | None = None,
        region: str | None = None,
        shared: bool | None = None,
    ) -> None:
        for key, value in (("account_id", account_id), ("region", region), ("shared", shared)):
            if value is not None:
                pulumi.set(self, key, value)

    @property
    @pulumi.getter(name="accountId")
    def account_id(self) -> str | None:
        return cast("str | None", pulumi.get(self, "account_id"))

    @property
    @pulumi.getter
    def region(self) -> str | None:
        return cast("str | None", pulumi.get(self, "region"))

    @property
    @pulumi.getter
    def shared(self) -> bool | None:
        return cast("bool | None", pulumi.get(self, "shared"))


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

    # Outputs, by their Python names; `pulumi.property` gives each one's name in state, which
    # the SDK uses to type what the engine returns (whole numbers as int, the image as
    # `CustomImage`).
    name: pulumi.Output[str] = pulumi.property("name")
    namespace: pulumi.Output[str] = pulumi.property("namespace")
    repository: pulumi.Output[str] = pulumi.property("repository")
    revision: pulumi.Output[str | None] = pulumi.property("revision")
    framework: pulumi.Output[str] = pulumi.property("framework")
    task: pulumi.Output[str | None] = pulumi.property("task")
    accelerator: pulumi.Output[str] = pulumi.property("accelerator")
    vendor: pulumi.Output[str] = pulumi.property("vendor")
    region: pulumi.Output[str] = pulumi.property("region")
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
    paused: pulumi.Output[bool] = pulumi.property("paused")
    wait: pulumi.Output[bool] = pulumi.property("wait")
    wait_timeout: pulumi.Output[float] = pulumi.property("waitTimeout")
    adopt_existing: pulumi.Output[bool] = pulumi.property("adoptExisting")
    url: pulumi.Output[str] = pulumi.property("url")
    status: pulumi.Output[str] = pulumi.property("status")
    status_message: pulumi.Output[str] = pulumi.property("statusMessage")
    ready_replica: pulumi.Output[int] = pulumi.property("readyReplica")
    target_replica: pulumi.Output[int] = pulumi.property("targetReplica")
    created_at: pulumi.Output[str] = pulumi.property("createdAt")
    updated_at: pulumi.Output[str] = pulumi.property("updatedAt")
    health_route: pulumi.Output[str] = pulumi.property("healthRoute")
    price_per_hour: pulumi.Output[float | None] = pulumi.property("pricePerHour")
    private_service: pulumi.Output[PrivateService | None] = pulumi.property("privateService")
    private_service_name: pulumi.Output[str | None] = pulumi.property("privateServiceName")
    type: pulumi.Output[str] = pulumi.property("type")  # last: shadows the builtin below it

    def __init__(
        self,
        resource_name: str,
        args: InferenceEndpointArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        if args is None:
            args = InferenceEndpointArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either an InferenceEndpointArgs or keyword arguments, not both")
        props = _properties(args)
        props[LOGICAL_NAME_KEY] = resource_name
        props[ownership.OWNER_KEY] = ownership.owner_id(
            pulumi.get_project(), pulumi.get_stack(), resource_name
        )
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
