"""The hardware the emulated service offers: vendor, region, instance type and size.

Built from the service's pricing page (reference §6): the May 2024 instance names, regions seen
live, and the deprecations it lists. Deprecated rows stay deployable here (the seed guide still
uses `intel-icl`); `hf endpoints hardware` hides them as it does against the real service.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


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
    price_x1: float,
    sizes: Iterable[str],
    status: str = "available",
) -> list[Instance]:
    rows = []
    for size in sizes:
        n = _SIZES[size]
        rows.append(
            Instance(
                "cpu",
                instance_type,
                size,
                architecture,
                n,
                n,
                2.0 * n,
                None,
                round(price_x1 * n, 3),
                status,
            )
        )
    return rows


def _gpu(
    instance_type: str,
    architecture: str,
    gpu_memory_gb: float,
    price_x1: float,
    sizes: Iterable[str],
    status: str = "available",
    accelerator: str = "gpu",
) -> list[Instance]:
    rows = []
    for size in sizes:
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
                gpu_memory_gb,
                round(price_x1 * n, 3),
                status,
            )
        )
    return rows


_X1_X8 = ("x1", "x2", "x4", "x8")
_AWS_CPU = _cpu(
    "intel-spr", "Intel Sapphire Rapids", 0.0335, ("x1", "x2", "x4", "x8", "x16")
) + _cpu("intel-icl", "Intel Ice Lake", 0.032, _X1_X8, status="deprecated")
_AWS_GPU_COMMON = (
    _gpu("nvidia-t4", "Nvidia T4", 16, 0.5, ("x1", "x4"))
    + _gpu("nvidia-a10g", "Nvidia A10G", 24, 1.0, ("x1", "x4"))
    + _gpu("nvidia-l40s", "Nvidia L40S", 48, 1.8, ("x1", "x4", "x8"))
    + _gpu("nvidia-a100", "Nvidia A100", 80, 2.5, _X1_X8)
    + _gpu("nvidia-h100", "Nvidia H100", 80, 4.5, _X1_X8, status="deprecated")
    + _gpu("nvidia-h200", "Nvidia H200", 141, 5.0, _X1_X8)
    + _gpu("nvidia-b200", "Nvidia B200", 180, 9.25, _X1_X8, status="deprecated")
)
_AWS_L4 = _gpu("nvidia-l4", "Nvidia L4", 24, 0.8, ("x1", "x4"))
_AWS_NEURON = _gpu("inf2", "AWS Inferentia2", 32, 0.75, ("x1", "x12"), accelerator="neuron")

_REGIONS: dict[str, dict[str, tuple[str, list[Instance]]]] = {
    "aws": {
        "us-east-1": ("N. Virginia", _AWS_CPU + _AWS_L4 + _AWS_GPU_COMMON + _AWS_NEURON),
        "eu-west-1": ("Ireland", _AWS_CPU + _AWS_GPU_COMMON),  # no nvidia-l4 there ([3P])
        "us-east-2": ("Ohio", _cpu("intel-spr", "Intel Sapphire Rapids", 0.0335, _X1_X8) + _AWS_L4),
        "us-west-2": (
            "Oregon",
            _cpu("intel-spr", "Intel Sapphire Rapids", 0.0335, _X1_X8) + _AWS_L4,
        ),
    },
    "azure": {
        "eastus": ("Virginia", _cpu("intel-xeon", "Intel Xeon", 0.06, _X1_X8)),
    },
    "gcp": {
        "us-east4": (
            "Virginia",
            _cpu("intel-spr", "Intel Sapphire Rapids", 0.05, _X1_X8)
            + _gpu("nvidia-t4", "Nvidia T4", 16, 0.5, ("x1",))
            + _gpu("nvidia-l4", "Nvidia L4", 24, 0.7, ("x1", "x4"))
            + _gpu("nvidia-a100", "Nvidia A100", 80, 3.6, _X1_X8)
            + _gpu("nvidia-h100", "Nvidia H100", 80, 10.0, _X1_X8),
        ),
    },
}

#: Accelerators a namespace may hold at once, per instance type (the `quota` of each row).
QUOTA_MAX_ACCELERATORS = 32


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
                            "maxAccelerators": QUOTA_MAX_ACCELERATORS,
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
