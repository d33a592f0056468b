"""The desired endpoint as a pydantic model: one field per property of `schema.json`, with the
rules a single value must follow. Rules that involve several properties are in `validation`."""

from __future__ import annotations

import math
import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..names import to_camel
from .vocabulary import (
    AWS_ACCOUNT_ID_PATTERN,
    ENV_NAME_PATTERN,
    INSTANCE_SIZE_PATTERN,
    LEGACY_TYPES,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    PRIVATE_LINK_REGIONS,
    REPO_PART_PATTERN,
    SCALE_TO_ZERO_RANGE,
    TASK_PATTERN,
    Accelerator,
    EndpointType,
    Framework,
    ImageEngine,
    PrivateLinkRegion,
    ScalingMetric,
    Vendor,
)


def check_name(value: str) -> None:
    """Raise ValueError unless `value` follows the service's endpoint-name rules."""
    if len(value) > NAME_MAX_LENGTH:
        raise ValueError(f"must be at most {NAME_MAX_LENGTH} characters long")
    if not NAME_PATTERN.match(value):
        raise ValueError(
            "may contain only lowercase letters a-z, digits 0-9 and '-', "
            "and must not start or end with '-'"
        )


def check_repository(value: str) -> None:
    """Raise ValueError unless `value` is a well-formed Hub repository id (`name` or
    `namespace/name`, by huggingface_hub's `validate_repo_id` rules). Whether it exists is the
    service's to say."""
    parts = value.split("/")
    if len(parts) > 2 or not all(REPO_PART_PATTERN.match(part) for part in parts):
        raise ValueError(
            "must be a Hub model id, 'name' or 'namespace/name': letters, digits, '-', '_' and "
            "'.', each part at most 96 characters and not starting or ending with '-' or '.'"
        )
    if "--" in value or ".." in value or value.endswith(".git"):
        raise ValueError("must be a Hub model id: no '--' or '..', and no '.git' ending")


def check_variable_name(name: str) -> None:
    """Raise ValueError unless `name` can be a replica's environment variable (Kubernetes'
    rule: letters, digits, '_', '-' or '.', not starting with a digit)."""
    if not ENV_NAME_PATTERN.match(name):
        raise ValueError(
            f"variable name {name!r} is not allowed: use letters, digits, '_', '-' or '.', "
            "not starting with a digit (for example MAX_INPUT_LENGTH)"
        )


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


class RegistryCredentials(_Model):
    """Credentials of a private container registry; the service redacts them on read."""

    username: str
    password: str | None = None


class CustomImage(_Model):
    """A container image other than the default Hugging Face toolkit.

    Accepts snake_case keys too (`health_route`), so the dict of the huggingface_hub guide
    works verbatim; `env` here is the endpoint's environment, as that guide means it.
    """

    url: str | None = None
    engine: ImageEngine = "custom"
    health_route: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    env: dict[str, str] | None = None
    credentials: RegistryCredentials | None = None
    tensor_parallel_size: int | None = Field(default=None, ge=1)
    data_parallel_size: int | None = Field(default=None, ge=1)
    options: dict[str, Any] | None = None

    @field_validator("options")
    @classmethod
    def _finite_numbers(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        def finite(item: Any) -> bool:
            if isinstance(item, float):
                return math.isfinite(item)
            if isinstance(item, dict):
                return all(finite(v) for v in item.values())
            if isinstance(item, list):
                return all(finite(v) for v in item)
            return True

        if value is not None and not finite(value):
            raise ValueError("numbers must be finite (JSON has no NaN or Infinity)")
        return value

    @field_validator("env")
    @classmethod
    def _variable_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            check_variable_name(key)
        return value

    @field_validator("health_route")
    @classmethod
    def _route_starts_with_slash(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/', for example '/health'")
        return value


class PrivateService(_Model):
    """The AWS account that may reach a private endpoint through PrivateLink.

    `region` is where the account's VPC endpoint connects (a PrivateLink entry point); `shared`
    lets several endpoints of the namespace share one VPC endpoint. The service cannot change
    any of it on an existing endpoint.
    """

    account_id: str
    region: PrivateLinkRegion | None = None
    shared: bool = False

    @field_validator("account_id", mode="before")
    @classmethod
    def _twelve_digits(cls, value: Any) -> Any:
        # A number would lose the leading zeros an account id may have: only text is taken.
        if not isinstance(value, str) or not AWS_ACCOUNT_ID_PATTERN.match(value):
            raise ValueError("must be a 12-digit AWS account id, written as a string")
        return value

    @field_validator("region", mode="before")
    @classmethod
    def _entry_point(cls, value: Any) -> Any:
        if value is not None and value not in PRIVATE_LINK_REGIONS:
            raise ValueError(
                "must be an AWS region with a PrivateLink entry point: "
                + " or ".join(PRIVATE_LINK_REGIONS)
            )
        return value


class EndpointSpec(_Model):
    """One endpoint as the user wants it. Every field is optional here so that a spec can be
    validated while some values are still unknown (preview); `missing_required` says what a
    complete spec still lacks."""

    name: str | None = None
    namespace: str | None = None
    repository: str | None = None
    revision: str | None = None
    framework: Framework | None = None
    task: str | None = None
    accelerator: Accelerator | None = None
    vendor: Vendor | None = None
    region: str | None = None
    type: EndpointType | None = None
    private_service: PrivateService | None = None
    instance_size: str | None = None
    instance_type: str | None = None
    min_replica: int | None = Field(default=None, ge=0)
    max_replica: int | None = Field(default=None, ge=1)
    scale_to_zero_timeout: int | None = None
    scaling_metric: ScalingMetric | None = None
    scaling_threshold: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    custom_image: CustomImage | None = None
    container_command: list[str] | None = None
    container_args: list[str] | None = None
    env: dict[str, str] | None = None
    secrets: dict[str, str] | None = None
    tags: list[str] | None = None
    domain: str | None = None
    path: str | None = None
    cache_http_responses: bool | None = None
    paused: bool | None = None
    wait: bool | None = None
    wait_timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    adopt_existing: bool | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        if value is not None:
            check_name(value)
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _legacy_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value in LEGACY_TYPES:
            warnings.warn(
                f"type '{value}' is deprecated and no longer accepted by the service; "
                f"using '{LEGACY_TYPES[value]}' instead",
                FutureWarning,
                stacklevel=2,
            )
            return LEGACY_TYPES[value]
        return value

    @field_validator("env", "secrets")
    @classmethod
    def _variable_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not key or "=" in key or key != key.strip():
                raise ValueError(
                    "variable names must be non-empty, without '=' or surrounding spaces"
                )
            check_variable_name(key)
        return value

    @field_validator("repository")
    @classmethod
    def _valid_repository(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            check_repository(value)
        return value

    @field_validator("task")
    @classmethod
    def _valid_task(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and not TASK_PATTERN.match(value):
            hint = value.strip().lower().replace("_", "-").replace(" ", "-")
            suggestion = f" (did you mean {hint!r}?)" if TASK_PATTERN.match(hint) else ""
            raise ValueError(
                "must be a Hub task name in kebab-case, such as 'text-generation' or "
                f"'feature-extraction'{suggestion}"
            )
        return value

    @field_validator("instance_size")
    @classmethod
    def _valid_size(cls, value: str | None) -> str | None:
        if value is not None and not INSTANCE_SIZE_PATTERN.match(value):
            raise ValueError(
                "must be a size such as x1, x2, x4 or x8 (the service renamed sizes like "
                "'small' or 'medium' in 2024)"
            )
        return value

    @field_validator("scale_to_zero_timeout")
    @classmethod
    def _valid_timeout(cls, value: int | None) -> int | None:
        low, high = SCALE_TO_ZERO_RANGE
        if value is not None and not low <= value <= high:
            raise ValueError(f"must be between {low} and {high} minutes")
        return value

    @field_validator("path")
    @classmethod
    def _valid_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("repository", "region", "instance_type", "task", "namespace")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value

    # --- derived values -----------------------------------------------------------------

    @property
    def effective_env(self) -> dict[str, str]:
        """The endpoint's environment: `env` over the image's `env` (the guide's form)."""
        merged: dict[str, str] = {}
        if self.custom_image is not None and self.custom_image.env:
            merged.update(self.custom_image.env)
        if self.env:
            merged.update(self.env)
        return merged

    def to_properties(self) -> dict[str, Any]:
        """The spec as Pulumi properties (camelCase, unset values left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)


#: Property name (camelCase, as in state) -> field name of `EndpointSpec`.
FIELD_NAMES = {to_camel(name): name for name in EndpointSpec.model_fields}
PROPERTY_NAMES: tuple[str, ...] = tuple(FIELD_NAMES)
