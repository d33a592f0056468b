"""The hardware the emulated service offers: vendor, region, instance type and size, with the
hourly price, status and quota of each.

Prices, sizes and deprecations are those of the service's pricing page ("Pricing", Inference
Endpoints documentation, https://huggingface.co/docs/inference-endpoints/support/pricing), with
its May 2024 instance names; regions are those seen live (no `nvidia-l4` in `eu-west-1`). A
GPU row's `gpuMemoryGb` is the memory of all its GPUs together, as that page lists it and as
huggingface_hub's `InferenceEndpointHardware.gpu_memory_gb` documents it. Statuses and quotas
vary as a real namespace's do: most rows `available`, a few `low_availability` or
`not_available`, deprecated ones `deprecated`, and a quota per instance type (none yet for the
B200, which must be requested).

A create, or an update that moves an endpoint, onto a `deprecated` instance is refused with a
400 (`hf endpoints hardware` counts those rows as undeployable; an endpoint already on one keeps
running), and one whose first replicas (minReplica, at least one) would exceed the namespace's
quota of that instance type is refused too (docs/service-api.md gives the evidence and the
assumptions).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Instance:
    """One orderable machine shape, per replica."""

    accelerator: str
    instance_type: str
    instance_size: str
    architecture: str
    num_accelerators: int
    num_cpus: int | None
    memory_gb: float
    gpu_memory_gb: float | None
    price_per_hour: float
    status: str = "available"


@dataclass(frozen=True)
class Offer:
    """An instance available in one vendor's region."""

    vendor: str
    region: str
    instance: Instance

    @property
    def id(self) -> str:
        i = self.instance
        return f"{self.vendor}-{self.region}-{i.instance_type}-{i.instance_size}"


_SIZES = {"x1": 1, "x2": 2, "x4": 4, "x8": 8, "x12": 12, "x16": 16}


def _cpu(
    instance_type: str,
    architecture: str,
    prices: Mapping[str, float],
    status: str = "available",
) -> list[Instance]:
    """CPU rows: `xN` has N vCPUs and 2N GB, at the price listed for it."""
    rows = []
    for size, price in prices.items():
        n = _SIZES[size]
        rows.append(
            Instance("cpu", instance_type, size, architecture, n, n, 2.0 * n, None, price, status)
        )
    return rows


def _gpu(
    instance_type: str,
    architecture: str,
    gpu_memory_gb: float,
    prices: Mapping[str, float],
    status: str = "available",
    accelerator: str = "gpu",
) -> list[Instance]:
    """Accelerated rows: `xN` has N accelerators of `gpu_memory_gb` each (listed summed), 8N
    vCPUs and 32N GB of RAM, at the price listed for it."""
    rows = []
    for size, price in prices.items():
        n = _SIZES[size]
        rows.append(
            Instance(
                accelerator,
                instance_type,
                size,
                architecture,
                n,
                8 * n,
                32.0 * n,
                gpu_memory_gb * n,
                price,
                status,
            )
        )
    return rows


def _with_status(rows: list[Instance], status: str, *sizes: str) -> list[Instance]:
    """`rows` with `status` on the given sizes (all of them when none is given)."""
    return [replace(r, status=status) if not sizes or r.instance_size in sizes else r for r in rows]


_SPR_X8 = {"x1": 0.033, "x2": 0.067, "x4": 0.134, "x8": 0.268}
_AWS_CPU = _cpu("intel-spr", "Intel Sapphire Rapids", {**_SPR_X8, "x16": 0.536}) + _cpu(
    "intel-icl",
    "Intel Ice Lake",
    {"x1": 0.032, "x2": 0.064, "x4": 0.128, "x8": 0.256},
    status="deprecated",
)
_AWS_T4 = _gpu("nvidia-t4", "Nvidia T4", 16, {"x1": 0.5, "x4": 3.0})
_AWS_A10G = _gpu("nvidia-a10g", "Nvidia A10G", 24, {"x1": 1.0, "x4": 5.0})
_AWS_L40S = _gpu("nvidia-l40s", "Nvidia L40S", 48, {"x1": 1.8, "x4": 8.3, "x8": 23.5})
_AWS_A100 = _gpu("nvidia-a100", "Nvidia A100", 80, {"x1": 2.5, "x2": 5.0, "x4": 10.0, "x8": 20.0})
_AWS_H100 = _gpu(
    "nvidia-h100",
    "Nvidia H100",
    80,
    {"x1": 4.5, "x2": 9.0, "x4": 18.0, "x8": 36.0},
    status="deprecated",
)
_AWS_H200 = _gpu("nvidia-h200", "Nvidia H200", 141, {"x1": 5.0, "x2": 10.0, "x4": 20.0, "x8": 40.0})
_AWS_B200 = _gpu(
    "nvidia-b200",
    "Nvidia B200",
    180,
    {"x1": 9.25, "x2": 18.5, "x4": 37.0, "x8": 74.0},
    status="deprecated",
)
_AWS_L4 = _gpu("nvidia-l4", "Nvidia L4", 24, {"x1": 0.8, "x4": 3.8})
_AWS_NEURON = _gpu("inf2", "AWS Inferentia2", 32, {"x1": 0.75, "x12": 12.0}, accelerator="neuron")

_REGIONS: dict[str, dict[str, tuple[str, list[Instance]]]] = {
    "aws": {
        "us-east-1": (
            "N. Virginia",
            _AWS_CPU
            + _AWS_L4
            + _AWS_T4
            + _AWS_A10G
            + _AWS_L40S
            + _with_status(_AWS_A100, "low_availability", "x8")
            + _AWS_H100
            + _AWS_H200
            + _AWS_B200
            + _AWS_NEURON,
        ),
        "eu-west-1": (  # no nvidia-l4 there
            "Ireland",
            _AWS_CPU
            + _AWS_T4
            + _AWS_A10G
            + _with_status(_AWS_L40S, "low_availability")
            + _AWS_A100
            + _AWS_H100
            + _with_status(_AWS_H200, "not_available")
            + _AWS_B200,
        ),
        "us-east-2": ("Ohio", _cpu("intel-spr", "Intel Sapphire Rapids", _SPR_X8) + _AWS_L4),
        "us-west-2": ("Oregon", _cpu("intel-spr", "Intel Sapphire Rapids", _SPR_X8) + _AWS_L4),
    },
    "azure": {
        "eastus": (
            "Virginia",
            _cpu("intel-xeon", "Intel Xeon", {"x1": 0.06, "x2": 0.12, "x4": 0.24, "x8": 0.48}),
        ),
    },
    "gcp": {
        "us-east4": (
            "Virginia",
            _cpu(
                "intel-spr", "Intel Sapphire Rapids", {"x1": 0.05, "x2": 0.1, "x4": 0.2, "x8": 0.4}
            )
            + _gpu("nvidia-t4", "Nvidia T4", 16, {"x1": 0.5})
            + _gpu("nvidia-l4", "Nvidia L4", 24, {"x1": 0.7, "x4": 3.8})
            + _gpu("nvidia-a100", "Nvidia A100", 80, {"x1": 3.6, "x2": 7.2, "x4": 14.4, "x8": 28.8})
            + _gpu(
                "nvidia-h100", "Nvidia H100", 80, {"x1": 10.0, "x2": 20.0, "x4": 40.0, "x8": 80.0}
            ),
        ),
    },
}

#: Accelerators a namespace may hold at once, per instance type (the `quota` of each row): the
#: default, and the instance types with less. The B200's is 0: it must be requested first.
QUOTA_MAX_ACCELERATORS = 64
QUOTA_BY_INSTANCE_TYPE = {
    "nvidia-l40s": 8,
    "nvidia-a100": 8,
    "nvidia-h100": 8,
    "nvidia-h200": 8,
    "nvidia-b200": 0,
    "inf2": 12,
}


DEPRECATED = "deprecated"


#: CPU rows count vCPUs as their accelerators: a CPU instance type's quota is larger.
QUOTA_CPU_MAX = 512


def quota_max(instance_type: str) -> int:
    if instance_type.startswith("intel-"):
        return QUOTA_BY_INSTANCE_TYPE.get(instance_type, QUOTA_CPU_MAX)
    return QUOTA_BY_INSTANCE_TYPE.get(instance_type, QUOTA_MAX_ACCELERATORS)


def offers() -> Iterator[Offer]:
    for vendor, regions in _REGIONS.items():
        for region, (_, instances) in regions.items():
            for instance in instances:
                yield Offer(vendor, region, instance)


def find(
    vendor: str, region: str, accelerator: str, instance_type: str, instance_size: str
) -> Offer | None:
    for offer in offers():
        i = offer.instance
        if (offer.vendor, offer.region, i.accelerator, i.instance_type, i.instance_size) == (
            vendor,
            region,
            accelerator,
            instance_type,
            instance_size,
        ):
            return offer
    return None


def not_found_message(
    vendor: str, region: str, accelerator: str, instance_type: str, instance_size: str
) -> str:
    """The service's wording:
    `Instance compute 'Cpu' - 'c6i' - 'medium' in 'aws' - 'us-east-1' not found`."""
    return (
        f"Instance compute '{accelerator.capitalize()}' - '{instance_type}' - '{instance_size}'"
        f" in '{vendor}' - '{region}' not found"
    )


def deprecated_message(
    vendor: str, region: str, accelerator: str, instance_type: str, instance_size: str
) -> str:
    """A create or move onto a deprecated instance (the service's wording is not public)."""
    return (
        f"Instance compute '{accelerator.capitalize()}' - '{instance_type}' - '{instance_size}'"
        f" in '{vendor}' - '{region}' is deprecated and takes no new deployments"
    )


def quota_refusal(offer: Offer, replicas: int, used: int) -> str | None:
    """Why `replicas` replicas of `offer` (those an endpoint starts with) do not fit in the
    namespace's quota of its instance type, `used` accelerators of it being held by other
    endpoints; None if they fit."""
    i = offer.instance
    needed = i.num_accelerators * replicas
    limit = quota_max(i.instance_type)
    if used + needed <= limit:
        return None
    return (
        f"Quota exceeded for '{i.instance_type}' in '{offer.vendor}' - '{offer.region}': "
        f"{needed} accelerators requested ({replicas} replicas of {i.num_accelerators}), "
        f"{max(limit - used, 0)} of {limit} available"
    )


def provider_document(used_accelerators: dict[tuple[str, str, str], int]) -> dict[str, object]:
    """`GET /v2/provider/{namespace}`: every vendor, region and compute with the namespace's quota.

    `used_accelerators` maps (vendor, region, instanceType) to accelerators in use.
    """
    vendors = []
    for vendor, regions in _REGIONS.items():
        region_docs = []
        for region, (label, instances) in regions.items():
            computes = []
            for instance in instances:
                offer = Offer(vendor, region, instance)
                computes.append(
                    {
                        "id": offer.id,
                        "accelerator": instance.accelerator,
                        "numAccelerators": instance.num_accelerators,
                        "numCpus": instance.num_cpus,
                        "memoryGb": instance.memory_gb,
                        "gpuMemoryGb": instance.gpu_memory_gb,
                        "instanceType": instance.instance_type,
                        "instanceSize": instance.instance_size,
                        "architecture": instance.architecture,
                        "status": instance.status,
                        "pricePerHour": instance.price_per_hour,
                        "quota": {
                            "maxAccelerators": quota_max(instance.instance_type),
                            "usedAccelerators": used_accelerators.get(
                                (vendor, region, instance.instance_type), 0
                            ),
                        },
                    }
                )
            region_docs.append(
                {"name": region, "label": label, "status": "available", "computes": computes}
            )
        vendors.append({"name": vendor, "status": "available", "regions": region_docs})
    return {"vendors": vendors}
