# Generated from schema.json by scripts/generate_surface.py: edit the schema and regenerate
# (`python scripts/generate_surface.py`). `make lint` fails when this file is stale.
"""The argument classes and output types of `InferenceEndpoint`, from schema.json.

Attribute names are the snake_case twins of the schema's camelCase properties
(`instance_type` <-> `instanceType`); state, stack outputs and `pulumi preview` keep the
camelCase names. `resource.py` turns these arguments into the properties it registers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi

from .names import suggest_keywords

__all__ = [
    "CustomImage",
    "CustomImageArgs",
    "InferenceEndpointArgs",
    "PrivateService",
    "PrivateServiceArgs",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
]


@suggest_keywords
@dataclass(kw_only=True)
class RegistryCredentialsArgs:
    """Credentials of a private container registry. The service never returns the password."""

    username: pulumi.Input[str]
    """The registry user."""
    password: pulumi.Input[str] | None = None
    """The registry password or token. Secret."""


@suggest_keywords
@dataclass(kw_only=True)
class CustomImageArgs:
    """A container image for the endpoint. Every engine but the managed ones (`huggingface`,
    `huggingfaceNeuron`) requires `url`. Sent whole when any part changes: the service replaces
    the image.
    """

    url: pulumi.Input[str] | None = None
    """The image to run, such as `ghcr.io/huggingface/text-generation-inference:3.3.4`; without a
    tag the container runtime pulls `latest`. Required except for the managed engines.
    """
    engine: pulumi.Input[str] | None = None
    """The kind of image. One of: `custom`, `huggingface`, `huggingfaceNeuron`, `hfServe`,
    `llamacpp`, `sGLang`, `tei`, `tgi`, `tgiNeuron`, `vLLM`, `vLLMNeuron`. Default: `"custom"`.
    """
    health_route: pulumi.Input[str] | None = None
    """The route that answers 200 when the container is ready, such as `/health`."""
    port: pulumi.Input[int] | None = None
    """The port the container listens on (1 to 65535)."""
    env: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Environment variables, as the huggingface_hub guide puts them inside `custom_image`: they
    become the endpoint's `env`.
    """
    credentials: RegistryCredentialsArgs | pulumi.Input[Mapping[str, Any]] | None = None
    """Credentials of a private registry (only with engine `custom`)."""
    tensor_parallel_size: pulumi.Input[int] | None = None
    """Tensor parallelism for vLLM and SGLang on multi-accelerator instances."""
    data_parallel_size: pulumi.Input[int] | None = None
    """Data parallelism for vLLM."""
    options: pulumi.Input[Mapping[str, Any]] | None = None
    """Further engine settings, sent as written inside the engine's block (for example
    `maxInputLength` for TGI).
    """


@suggest_keywords
@dataclass(kw_only=True)
class PrivateServiceArgs:
    """The AWS account that may reach a private endpoint through AWS PrivateLink. The service cannot
    change it on an existing endpoint: changing any key replaces the endpoint.
    """

    account_id: pulumi.Input[str]
    """The 12-digit id of the AWS account that owns the VPC allowed to connect, as a string (ids may
    start with 0).
    """
    region: pulumi.Input[str] | None = None
    """The AWS region of the PrivateLink entry point, where the account's VPC endpoint connects:
    `us-east-1` or `eu-west-1`. Defaults to the endpoint's own region when it runs on aws in one
    of them; required otherwise. One of: `us-east-1`, `eu-west-1`.
    """
    shared: pulumi.Input[bool] | None = None
    """Share one VPC endpoint (one PrivateLink connection) between the private endpoints of the
    namespace that also set it, instead of one per endpoint. Default: `false`.
    """


@suggest_keywords
@dataclass(kw_only=True)
class InferenceEndpointArgs:
    """The arguments of an `InferenceEndpoint`; the docs' property table (docs/resource.md) says
    what each one does and what changing it does.
    """

    repository: pulumi.Input[str]
    """The Hub model repository to serve, such as `gpt2` or `HuggingFaceH4/zephyr-7b-beta`."""
    framework: pulumi.Input[str]
    """The model's framework. One of: `pytorch`, `custom`, `llamacpp`, `tensorflow`."""
    accelerator: pulumi.Input[str]
    """The kind of hardware. One of: `cpu`, `gpu`, `neuron`."""
    vendor: pulumi.Input[str]
    """The cloud vendor. Changing it replaces the endpoint. One of: `aws`, `azure`, `gcp`."""
    region: pulumi.Input[str]
    """The vendor's region, such as `us-east-1`, `eu-west-1` (aws), `eastus` (azure) or `us-east4`
    (gcp). Changing it replaces the endpoint.
    """
    instance_size: pulumi.Input[str]
    """The instance size, such as `x1`, `x2`, `x4` (sizes named `small` or `medium` were retired in
    2024).
    """
    instance_type: pulumi.Input[str]
    """The instance type, such as `intel-spr`, `nvidia-t4`, `nvidia-l4` or `nvidia-a10g`.
    `pulumi-hf-endpoints` validates the combination at the service: see the hardware list of your
    namespace.
    """
    name: pulumi.Input[str] | None = None
    """The endpoint's name, unique within its namespace: lowercase letters, digits and `-`, at most
    32 characters, not starting or ending with `-`. When omitted, a name is derived from the
    resource's logical name plus a random suffix, and kept on later runs. Changing it replaces
    the endpoint.
    """
    namespace: pulumi.Input[str] | None = None
    """The user or organisation that owns the endpoint. Defaults to the `huggingface:namespace`
    stack setting, else the user the token belongs to. Changing it replaces the endpoint.
    """
    revision: pulumi.Input[str] | None = None
    """A commit SHA or branch of the repository to pin. Unset means the service's default."""
    task: pulumi.Input[str] | None = None
    """The task the endpoint serves, such as `text-generation` or `feature-extraction`. Left unset,
    the service infers it; it is never sent as null, so removing it leaves the service's value
    and plans no change.
    """
    type: pulumi.Input[str] | None = None
    """Who may call the endpoint: `public` (anyone), `authenticated` (any Hugging Face token) or
    `private` (only through AWS PrivateLink, from the account named in `privateService`). The
    older name `protected` is accepted and stored as `authenticated`. Changing it replaces the
    endpoint. One of: `public`, `authenticated`, `private`. Default: `"authenticated"`.
    """
    private_service: PrivateServiceArgs | pulumi.Input[Mapping[str, Any]] | None = None
    """The AWS account that may reach the endpoint through AWS PrivateLink: required when `type` is
    `private`, refused otherwise. Checked before any request: a 12-digit account id, and an
    entry-point region among `us-east-1` and `eu-west-1`. Changing it replaces the endpoint.
    """
    min_replica: pulumi.Input[int] | None = None
    """The fewest replicas kept running. Defaults to 1, or to 0 when `scaleToZeroTimeout` is set.
    Default: `1`.
    """
    max_replica: pulumi.Input[int] | None = None
    """The most replicas autoscaling may start (at least 1, and at least `minReplica`). Default:
    `1`.
    """
    scale_to_zero_timeout: pulumi.Input[int] | None = None
    """Minutes without requests after which the endpoint scales to zero, from 15 to 2880. Needs
    `minReplica` 0.
    """
    scaling_metric: pulumi.Input[str] | None = None
    """What autoscaling follows. Unset is the service's default, hardware usage at its default
    threshold, which removing it restores. One of: `pendingRequests`, `hardwareUsage`.
    """
    scaling_threshold: pulumi.Input[float] | None = None
    """The autoscaling threshold for `scalingMetric` (pending requests per replica, or percent of
    hardware usage).
    """
    custom_image: CustomImageArgs | pulumi.Input[Mapping[str, Any]] | None = None
    """A container image to run instead of the default Hugging Face toolkit: a custom image, or an
    engine such as TGI, TEI, vLLM, SGLang or llama.cpp. The dict form of the huggingface_hub
    guide (`url`, `health_route`, `env`) is accepted as written.
    """
    container_command: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Overrides the container's command."""
    container_args: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Overrides the container's arguments."""
    env: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Environment variables of the endpoint. Sent whole when changed: the service replaces the set.
    """
    secrets: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Secret environment variables. Kept secret in Pulumi state; the service does not return their
    values, so refresh keeps the values set here. Secret.
    """
    tags: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Tags on the endpoint."""
    domain: pulumi.Input[str] | None = None
    """A custom domain for the endpoint's route. Removing it removes the domain at the service."""
    path: pulumi.Input[str] | None = None
    """A path prefix for the endpoint's route (starts with `/`). Removing it removes the path at the
    service.
    """
    cache_http_responses: pulumi.Input[bool] | None = None
    """Whether the service may cache identical HTTP responses. Unset is the service's default,
    `false`; refresh reports it when it was turned on elsewhere.
    """
    paused: pulumi.Input[bool] | None = None
    """The desired lifecycle: `true` pauses the endpoint (no replica, no bill), `false` keeps it
    running (resuming it if it was paused). Refresh reports a pause made elsewhere. Default:
    `false`.
    """
    wait: pulumi.Input[bool] | None = None
    """Whether create and update return only once the endpoint serves (state `running` and its
    health route answering 200, or `paused` when `paused` is set). With `false` they return as
    soon as the service accepted the request. Never sent to the service; changing it alone
    changes nothing. Default: `true`.
    """
    wait_timeout: pulumi.Input[float] | None = None
    """Seconds that create and update wait for the endpoint (default 30 minutes). A create that
    times out deletes the endpoint it made before failing, so nothing is left billing. The error
    of a deployment that fails or times out ends with the endpoint's last log lines (secret
    values redacted). Pulumi's `customTimeouts` option does not reach dynamic providers; use this
    instead. Default: `1800`.
    """
    adopt_existing: pulumi.Input[bool] | None = None
    """When an endpoint with this name already exists in the namespace, take it over (update it to
    match this resource and wait) instead of failing. Dynamic resources cannot be `pulumi
    import`ed; this is the way to bring an existing endpoint under a stack. Default: `false`.
    """


@pulumi.output_type
class RegistryCredentials(dict[str, Any]):
    """`RegistryCredentials` as the stack records it, read the way `RegistryCredentialsArgs` writes
    it: attributes or snake_case keys. Credentials of a private container registry. The service
    never returns the password.
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        values = {
            "username": username,
            "password": password,
        }
        for key, value in values.items():
            if value is not None:
                pulumi.set(self, key, value)

    @property
    @pulumi.getter
    def username(self) -> str | None:
        """The registry user."""
        return cast("str | None", pulumi.get(self, "username"))

    @property
    @pulumi.getter
    def password(self) -> str | None:
        """The registry password or token."""
        return cast("str | None", pulumi.get(self, "password"))


@pulumi.output_type
class CustomImage(dict[str, Any]):
    """`CustomImage` as the stack records it, read the way `CustomImageArgs` writes it: attributes
    or snake_case keys. A container image for the endpoint. Every engine but the managed ones
    (`huggingface`, `huggingfaceNeuron`) requires `url`. Sent whole when any part changes: the
    service replaces the image.
    """

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
        """The image to run, such as `ghcr.io/huggingface/text-generation-inference:3.3.4`; without
        a tag the container runtime pulls `latest`. Required except for the managed engines.
        """
        return cast("str | None", pulumi.get(self, "url"))

    @property
    @pulumi.getter
    def engine(self) -> str | None:
        """The kind of image."""
        return cast("str | None", pulumi.get(self, "engine"))

    @property
    @pulumi.getter(name="healthRoute")
    def health_route(self) -> str | None:
        """The route that answers 200 when the container is ready, such as `/health`."""
        return cast("str | None", pulumi.get(self, "health_route"))

    @property
    @pulumi.getter
    def port(self) -> int | None:
        """The port the container listens on (1 to 65535)."""
        return cast("int | None", pulumi.get(self, "port"))

    @property
    @pulumi.getter
    def env(self) -> Mapping[str, str] | None:
        """Environment variables, as the huggingface_hub guide puts them inside `custom_image`: they
        become the endpoint's `env`.
        """
        return cast("Mapping[str, str] | None", pulumi.get(self, "env"))

    @property
    @pulumi.getter
    def credentials(self) -> RegistryCredentials | None:
        """Credentials of a private registry (only with engine `custom`)."""
        return cast("RegistryCredentials | None", pulumi.get(self, "credentials"))

    @property
    @pulumi.getter(name="tensorParallelSize")
    def tensor_parallel_size(self) -> int | None:
        """Tensor parallelism for vLLM and SGLang on multi-accelerator instances."""
        return cast("int | None", pulumi.get(self, "tensor_parallel_size"))

    @property
    @pulumi.getter(name="dataParallelSize")
    def data_parallel_size(self) -> int | None:
        """Data parallelism for vLLM."""
        return cast("int | None", pulumi.get(self, "data_parallel_size"))

    @property
    @pulumi.getter
    def options(self) -> Mapping[str, Any] | None:
        """Further engine settings, sent as written inside the engine's block (for example
        `maxInputLength` for TGI).
        """
        return cast("Mapping[str, Any] | None", pulumi.get(self, "options"))


@pulumi.output_type
class PrivateService(dict[str, Any]):
    """`PrivateService` as the stack records it, read the way `PrivateServiceArgs` writes it:
    attributes or snake_case keys. The AWS account that may reach a private endpoint through AWS
    PrivateLink. The service cannot change it on an existing endpoint: changing any key replaces
    the endpoint.
    """

    def __init__(
        self,
        *,
        account_id: str | None = None,
        region: str | None = None,
        shared: bool | None = None,
    ) -> None:
        values = {
            "account_id": account_id,
            "region": region,
            "shared": shared,
        }
        for key, value in values.items():
            if value is not None:
                pulumi.set(self, key, value)

    @property
    @pulumi.getter(name="accountId")
    def account_id(self) -> str | None:
        """The 12-digit id of the AWS account that owns the VPC allowed to connect, as a string (ids
        may start with 0).
        """
        return cast("str | None", pulumi.get(self, "account_id"))

    @property
    @pulumi.getter
    def region(self) -> str | None:
        """The AWS region of the PrivateLink entry point, where the account's VPC endpoint connects:
        `us-east-1` or `eu-west-1`. Defaults to the endpoint's own region when it runs on aws in
        one of them; required otherwise.
        """
        return cast("str | None", pulumi.get(self, "region"))

    @property
    @pulumi.getter
    def shared(self) -> bool | None:
        """Share one VPC endpoint (one PrivateLink connection) between the private endpoints of the
        namespace that also set it, instead of one per endpoint.
        """
        return cast("bool | None", pulumi.get(self, "shared"))
