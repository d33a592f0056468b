"""What the service answers, as typed models: an endpoint, and who a token belongs to.

Lenient on purpose: unknown keys are ignored and most keys are optional, so a field the service
adds tomorrow breaks nothing, while a missing name or state is a clear
`MalformedResponseError`. Each model keeps the JSON it came from (`.raw`), as huggingface_hub's
`InferenceEndpoint` does; an `Endpoint` also reads as that JSON (`endpoint["status"]["state"]`).
Built on first use: a `pulumi preview` (check and diff) never reads an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .errors import MalformedResponseError

_A = TypeVar("_A", bound="_Answer")


def _to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class _Part(BaseModel):
    model_config = ConfigDict(
        alias_generator=_to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )


class _Answer(_Part):
    """A whole answer: parsed from, and keeping, the service's JSON."""

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_raw(cls: type[_A], raw: Mapping[str, Any]) -> _A:
        """Parse an answer; raises MalformedResponseError naming what is missing or wrong."""
        try:
            model = cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            what = cls.__name__.lower()
            message = f"this client cannot read the service's {what} description ({problems})"
            raise MalformedResponseError(message, server_message=problems) from None
        model._raw = dict(raw)
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON the service sent."""
        return self._raw

    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._raw.get(key, default)


class UserRef(_Part):
    id: str | None = None
    name: str | None = None


class EndpointStatus(_Part):
    state: str
    message: str | None = None
    error_message: str | None = None
    url: str | None = None
    ready_replica: int | None = None
    target_replica: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    created_by: UserRef | None = None
    updated_by: UserRef | None = None
    private: dict[str, Any] | None = None

    @property
    def private_service_name(self) -> str | None:
        """The VPC endpoint service name of a private endpoint (`private.serviceName`)."""
        name = (self.private or {}).get("serviceName")
        return name if isinstance(name, str) and name else None


class EndpointScaling(_Part):
    min_replica: int = 0
    max_replica: int = 1
    scale_to_zero_timeout: int | None = None
    metric: str | None = None
    threshold: float | None = None
    measure: dict[str, float | None] | None = None


class EndpointCompute(_Part):
    accelerator: str
    instance_type: str
    instance_size: str
    scaling: EndpointScaling = Field(default_factory=EndpointScaling)


class EndpointModel(_Part):
    repository: str
    framework: str | None = None
    revision: str | None = None
    task: str | None = None
    image: dict[str, Any] = Field(default_factory=dict)
    env: dict[str, str] | None = None
    secrets: dict[str, Any] | None = None
    command: list[str] | None = None
    args: list[str] | None = None


class EndpointProvider(_Part):
    vendor: str
    region: str


class EndpointRoute(_Part):
    domain: str | None = None
    path: str | None = None


class EndpointPrivateService(_Part):
    account_id: str | None = None
    region: str | None = None
    shared: bool | None = None


class Endpoint(_Answer):
    """An endpoint as the service describes it (`EndpointWithStatus`)."""

    name: str
    type: str
    health_route: str | None = None
    provider: EndpointProvider
    compute: EndpointCompute
    model: EndpointModel
    status: EndpointStatus
    tags: list[str] | None = None
    cache_http_responses: bool | None = None
    route: EndpointRoute | None = None
    private_service: EndpointPrivateService | None = None

    @property
    def state(self) -> str:
        return self.status.state

    @property
    def paused(self) -> bool:
        return self.status.state == "paused"


class Account(_Answer):
    """Who a token belongs to (the Hub's `whoami-v2`): its name is the default namespace."""

    name: str
    type: str | None = None
    orgs: list[dict[str, Any]] = Field(default_factory=list)
