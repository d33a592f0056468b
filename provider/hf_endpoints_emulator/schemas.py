"""Pydantic models of the control plane's request bodies, and of its responses for the OpenAPI doc.

Request models are strict (no "1" for 1), as the service's Rust deserializer is: the types here
decide what is a parse error. Value rules (ranges, names, hardware) live in `validation.py`.
Field names are the service's camelCase JSON names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EndpointType = Literal["public", "authenticated", "private"]


def _reject_null(value: Any) -> Any:
    """Fields that may be omitted but not sent as null (e.g. `model.task`: the service
    answers 400 "model.task: expected value" to a null)."""
    if value is None:
        raise ValueError("expected value")
    return value


def reject_surrogates(value: Any) -> Any:
    """Refuse lone UTF-16 surrogates (`"\\ud800"`), as the service's JSON parser does; Python's
    accepts them, and they could not be encoded in a response."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("lone surrogate in hex escape") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)


class _Request(_Body):
    """A whole request body: checked for unencodable text before anything else."""

    _no_surrogates = model_validator(mode="before")(reject_surrogates)


class ScalingBody(_Body):
    minReplica: int
    maxReplica: int
    scaleToZeroTimeout: int | None = Field(None, description="Minutes, 15 to 2880.")
    measure: dict[str, float | None] | None = Field(
        None, description='Scaling metric and threshold, e.g. {"pendingRequests": 1.5}.'
    )
    metric: str | None = None
    threshold: float | None = None


class ComputeBody(_Body):
    accelerator: str = Field(description="cpu, gpu or neuron.")
    instanceType: str
    instanceSize: str
    scaling: ScalingBody
    id: str | None = Field(None, description="Informational, ignored.")


class ModelBody(_Body):
    repository: str
    framework: str
    revision: str | None = None
    task: str | None = Field(None, description="May be omitted, not null.")
    image: dict[str, dict[str, Any]] = Field(
        description='One image variant, e.g. {"huggingface": {}} or {"custom": {"url": "..."}}.'
    )
    env: dict[str, str] | None = None
    secrets: dict[str, str] | None = None
    args: list[str] | None = None
    command: list[str] | None = None
    fromCatalog: bool | None = None

    _task_not_null = field_validator("task", mode="before")(_reject_null)


class ProviderBody(_Body):
    vendor: str
    region: str


class RouteBody(_Body):
    domain: str | None = None
    path: str | None = None


class PrivateServiceBody(_Body):
    accountId: str = Field(description="The 12-digit AWS account allowed to connect.")
    region: str | None = Field(
        None, description="The PrivateLink entry point, us-east-1 or eu-west-1 (default: its own)."
    )
    shared: bool | None = Field(None, description="Share one VPC endpoint (default false).")


class EndpointBody(_Request):
    """`POST /v2/endpoint/{namespace}`."""

    name: str
    type: EndpointType
    provider: ProviderBody
    compute: ComputeBody
    model: ModelBody
    tags: list[str] | None = None
    route: RouteBody | None = None
    cacheHttpResponses: bool | None = None
    experimentalFeatures: dict[str, Any] | None = None
    notifications: dict[str, Any] | None = None
    network: dict[str, Any] | None = None
    privateService: PrivateServiceBody | None = Field(
        None, description="Required by, and only taken by, a private endpoint (AWS PrivateLink)."
    )
    accountId: str | None = Field(None, description="Legacy, ignored.")


class ScalingPatch(_Body):
    minReplica: int | None = None
    maxReplica: int | None = None
    scaleToZeroTimeout: int | None = Field(None, description="Minutes, 15 to 2880.")
    measure: dict[str, float | None] | None = None
    metric: str | None = None
    threshold: float | None = None


class ComputePatch(_Body):
    accelerator: str | None = None
    instanceType: str | None = None
    instanceSize: str | None = None
    scaling: ScalingPatch | None = None


class ModelPatch(_Body):
    repository: str | None = None
    framework: str | None = None
    revision: str | None = None
    task: str | None = None
    image: dict[str, dict[str, Any]] | None = Field(None, description="Replaced whole.")
    env: dict[str, str] | None = Field(None, description="Replaced whole.")
    secrets: dict[str, str] | None = Field(None, description="Replaced whole.")
    args: list[str] | None = Field(None, description="Replaced whole.")
    command: list[str] | None = Field(None, description="Replaced whole.")

    # `null` is a key not sent, but for the task: the service refuses `task: null`.
    _not_null = field_validator("task", mode="before")(_reject_null)


class EndpointPatch(_Request):
    """`PUT /v2/endpoint/{namespace}/{name}`: only the keys sent change, and a key sent as
    `null` is a key not sent (but `task`).

    `compute`, `compute.scaling` and `model` merge key by key; every other value (including
    `model.image`, `env`, `secrets`, `args`, `command`, `tags`, `route`) is replaced whole.
    """

    name: str | None = Field(None, description="Cannot change.")
    provider: ProviderBody | None = Field(None, description="Cannot change.")
    type: EndpointType | None = Field(None, description="Cannot change: only the current type.")
    compute: ComputePatch | None = None
    model: ModelPatch | None = None
    tags: list[str] | None = None
    route: RouteBody | None = None
    cacheHttpResponses: bool | None = None
    experimentalFeatures: dict[str, Any] | None = None
    notifications: dict[str, Any] | None = None


class CatalogDeployConfig(_Body):
    name: str | None = None


class CatalogModelDeployBody(_Request):
    """`POST /api/v1/catalog/model/{repo_id}/deploy` (and the recipe route, which ignores the
    accelerator and GGUF file)."""

    namespace: str
    config: CatalogDeployConfig | None = None
    accelerator: str | None = None
    ggufFile: str | None = None


class LegacyCatalogDeployBody(_Request):
    """`POST /api/catalog/deploy` (huggingface_hub 1.x)."""

    namespace: str
    repoId: str
    endpointName: str | None = None
    accelerator: str | None = None


# Response documents (OpenAPI only: the routes build plain dicts).


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDoc(_Doc):
    error: str


class UserRefDoc(_Doc):
    id: str
    name: str


class StatusDoc(_Doc):
    state: Literal[
        "pending",
        "initializing",
        "updating",
        "updateFailed",
        "running",
        "paused",
        "failed",
        "scaledToZero",
    ]
    message: str
    url: str | None
    readyReplica: int
    targetReplica: int
    createdAt: str
    createdBy: UserRefDoc
    updatedAt: str
    updatedBy: UserRefDoc
    errorMessage: str | None
    lastUsedAt: str | None
    private: dict[str, Any] | None


class EndpointDoc(_Doc):
    name: str
    type: EndpointType
    healthRoute: str
    provider: dict[str, Any]
    compute: dict[str, Any]
    model: dict[str, Any]
    tags: list[str]
    experimentalFeatures: dict[str, Any]
    notifications: dict[str, Any]
    status: StatusDoc


class EndpointListDoc(_Doc):
    items: list[EndpointDoc]
    nextCursor: str | None
    prevCursor: str | None


class CatalogEndpointDoc(_Doc):
    endpoint: EndpointDoc
