"""What the service answers, as typed models: an endpoint, who a token belongs to, and the
hardware a namespace may deploy on.

Lenient on purpose: unknown keys are ignored and most keys are optional, so a field the service
adds tomorrow breaks nothing, while a missing name or state is a clear
`MalformedResponseError`. Each model keeps the JSON it came from (`.raw`), as huggingface_hub's
`InferenceEndpoint` does; an `Endpoint` also reads as that JSON (`endpoint["status"]["state"]`).
Built on first use: a `pulumi preview` (check and diff) never reads an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..names import to_camel
from .errors import MalformedResponseError

_A = TypeVar("_A", bound="_Answer")


class _Part(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
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

    def __contains__(self, key: object) -> bool:
        return key in self._raw

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


class ExperimentalFeatures(_Part):
    """`experimentalFeatures`: where the current API schema reports `cacheHttpResponses`."""

    cache_http_responses: bool | None = None


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
    experimental_features: ExperimentalFeatures | None = None
    route: EndpointRoute | None = None
    private_service: EndpointPrivateService | None = None

    @property
    def state(self) -> str:
        return self.status.state

    @property
    def paused(self) -> bool:
        return self.status.state == "paused"

    @property
    def caches_http_responses(self) -> bool:
        """Whether responses are cached: `experimentalFeatures.cacheHttpResponses`, where the
        current schema reports it, else the top-level key of older answers."""
        features = self.experimental_features
        if features is not None and features.cache_http_responses is not None:
            return features.cache_http_responses
        return bool(self.cache_http_responses)


class Account(_Answer):
    """Who a token belongs to (the Hub's `whoami-v2`): its name is the default namespace."""

    name: str
    type: str | None = None
    orgs: list[dict[str, Any]] = Field(default_factory=list)


class HardwareQuota(_Part):
    """How many accelerators of an instance type the namespace may run, and runs."""

    max_accelerators: int | None = None
    used_accelerators: int | None = None


class HardwareCompute(_Part):
    """One instance shape of a region, as the service lists it (`computes[]`)."""

    id: str | None = None
    accelerator: str
    instance_type: str
    instance_size: str
    architecture: str | None = None
    num_accelerators: int = 1
    num_cpus: int | None = None
    memory_gb: float | None = None
    gpu_memory_gb: float | None = None
    price_per_hour: float | None = None
    status: str | None = None
    quota: HardwareQuota | None = None


class HardwareRegion(_Part):
    name: str
    label: str | None = None
    status: str | None = None
    computes: list[HardwareCompute] = Field(default_factory=list)


class HardwareVendor(_Part):
    name: str
    status: str | None = None
    regions: list[HardwareRegion] = Field(default_factory=list)


#: Compute statuses that cannot be deployed on, as `hf endpoints hardware` counts them (a
#: denylist, so that a status the service adds later is not silently hidden).
UNDEPLOYABLE_STATUSES = frozenset({"deprecated", "not_available"})


class Record:
    """A frozen result that also reads as the dict of its fields: `dict(record)`,
    `record["price_per_hour"]`, `record.keys()`, `record.items()`.

    Not iterable, on purpose. `pulumi.export` passes stack outputs through the SDK's `massage`
    (pulumi/runtime/stack.py), which keeps a dict, turns anything else that is iterable into a
    list (a Mapping became the list of its keys under the real Pulumi CLI) and any other object
    into the dict of its public attributes: this record's fields, nested records included. A
    dict subclass would export too, but `Output.all` and `Output.from_input` rebuild dicts as
    plain dicts, and the attributes would be lost inside `apply`.
    """

    def __getitem__(self, key: str) -> Any:
        if key not in self._field_names():
            raise KeyError(f"{key!r}: a {type(self).__name__} is read by field name (see .keys())")
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return self._field_names()

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._field_names())

    def items(self) -> tuple[tuple[str, Any], ...]:
        return tuple((name, getattr(self, name)) for name in self._field_names())

    def __contains__(self, key: object) -> bool:
        return key in self._field_names()

    def __len__(self) -> int:
        return len(self._field_names())

    @classmethod
    def _field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Hardware(Record):
    """An instance a namespace can order, with its price and the namespace's quota: one row of
    `GET /v2/provider/{namespace}`, flattened. The fields are those of huggingface_hub's
    `InferenceEndpointHardware`; `vendor`, `region`, `accelerator`, `instance_type` and
    `instance_size` are exactly what `InferenceEndpoint` takes."""

    id: str
    """``{vendor}-{region}-{instance_type}-{instance_size}``: ``aws-us-east-1-nvidia-l4-x1``."""
    vendor: str
    region: str
    accelerator: str
    """``cpu``, ``gpu`` or ``neuron``."""
    instance_type: str
    instance_size: str
    architecture: str | None
    """A readable name of the hardware, e.g. ``Nvidia L4``."""
    num_accelerators: int
    """Accelerators per replica."""
    num_cpus: int | None
    memory_gb: float | None
    """RAM per replica, in GB."""
    gpu_memory_gb: float | None
    """GPU memory per replica (all its GPUs together), in GB; None without a GPU."""
    price_per_hour: float | None
    """USD per replica per hour (billed per minute while initializing or running)."""
    status: str | None
    """``available``, ``low_availability``, ``not_available``, ``reserved`` or ``deprecated``."""
    max_accelerators: int | None
    """Accelerators of this instance type the namespace may run at once (its quota)."""
    used_accelerators: int | None
    """Accelerators of this instance type the namespace runs now."""

    @property
    def free_accelerators(self) -> int | None:
        """Quota left, in accelerators; None when the service did not say."""
        if self.max_accelerators is None:
            return None
        return self.max_accelerators - (self.used_accelerators or 0)

    @property
    def deployable(self) -> bool:
        """Whether one more replica can be deployed on it now: a status that allows it and
        enough quota left (the rule of `hf endpoints hardware`)."""
        if self.status in UNDEPLOYABLE_STATUSES:
            return False
        free = self.free_accelerators
        return free is None or free >= self.num_accelerators

    @property
    def orderable(self) -> bool:
        """Whether the namespace may deploy on it at all: a status that allows it and a quota
        of at least one replica, whatever the namespace uses now. A program that chooses on
        this keeps its choice once its endpoint runs (on `deployable`, the endpoint would count
        against its own instance and could move on the next run)."""
        if self.status in UNDEPLOYABLE_STATUSES:
            return False
        return self.max_accelerators is None or self.max_accelerators >= self.num_accelerators


class HardwareList(_Answer):
    """The hardware a namespace may deploy on (`GET /v2/provider/{namespace}`): vendors,
    their regions, and each region's computes with price and quota."""

    vendors: list[HardwareVendor] = Field(default_factory=list)

    def hardware(self) -> list[Hardware]:
        """Every compute as a flat :class:`Hardware` row, in the service's order."""
        rows = []
        for vendor in self.vendors:
            for region in vendor.regions:
                for c in region.computes:
                    quota = c.quota or HardwareQuota()
                    rows.append(
                        Hardware(
                            id=c.id
                            or f"{vendor.name}-{region.name}-{c.instance_type}-{c.instance_size}",
                            vendor=vendor.name,
                            region=region.name,
                            accelerator=c.accelerator,
                            instance_type=c.instance_type,
                            instance_size=c.instance_size,
                            architecture=c.architecture,
                            num_accelerators=c.num_accelerators,
                            num_cpus=c.num_cpus,
                            memory_gb=c.memory_gb,
                            gpu_memory_gb=c.gpu_memory_gb,
                            price_per_hour=c.price_per_hour,
                            status=c.status,
                            max_accelerators=quota.max_accelerators,
                            used_accelerators=quota.used_accelerators,
                        )
                    )
        return rows
