"""Serve a model on the cheapest GPU of a region that holds it.

`get_hardware` reads the namespace's hardware list (prices, quota, availability) while the
program runs, `pulumi preview` included. The model needs its weights in GPU memory plus room to
work: parameters x bytes per parameter (2 in fp16) x 1.2, so 17.4 GB for the 7.24 billion
parameters of zephyr-7b-beta. Of the GPUs with that much memory, the cheapest one the namespace
may order wins; a change of region or model moves the endpoint (a region change replaces it, an
instance change updates it in place).

The choice keeps to instances the namespace may order (`Hardware.orderable`: availability and
quota), whatever its endpoints use now: on `Hardware.deployable`, which counts that use, this
endpoint would count against its own instance once deployed and could move on the next run.
"""

import pulumi

from pulumi_hf_endpoints import CustomImageArgs, Hardware, InferenceEndpoint, get_hardware

config = pulumi.Config()
repository = config.get("repository") or "HuggingFaceH4/zephyr-7b-beta"
parameters_billions = config.get_float("parametersBillions") or 7.24
bytes_per_parameter = config.get_float("bytesPerParameter") or 2.0  # fp16 / bf16
vendor = config.get("vendor") or "aws"
region = config.get("region") or "us-east-1"

needed_gb = round(parameters_billions * bytes_per_parameter * 1.2, 1)


def fits(hw: Hardware) -> bool:
    """Orderable by the namespace, with enough GPU memory and a price."""
    return hw.orderable and hw.price_per_hour is not None and (hw.gpu_memory_gb or 0) >= needed_gb


offers = get_hardware(vendor=vendor, region=region, accelerator="gpu")
candidates = [hw for hw in offers.hardware if fits(hw)]
if not candidates:
    raise ValueError(f"no GPU in {vendor}/{region} has {needed_gb} GB of memory for {repository}")
# The cheapest; between equal prices, the fewer GPUs (no tensor parallelism to set up).
choice = min(candidates, key=lambda hw: (hw.price_per_hour, hw.num_accelerators))

llm = InferenceEndpoint(
    "llm",
    repository=repository,
    framework="pytorch",
    task="text-generation",
    accelerator=choice.accelerator,
    vendor=choice.vendor,
    region=choice.region,
    instance_type=choice.instance_type,
    instance_size=choice.instance_size,
    custom_image=CustomImageArgs(
        engine="tgi",
        url=config.get("tgiImage") or "ghcr.io/huggingface/text-generation-inference:latest",
        health_route="/health",
    ),
)

pulumi.export("neededGpuMemoryGb", needed_gb)
pulumi.export("choice", choice)  # the whole row: instance, GPU memory, price, quota, status
pulumi.export("pricePerHour", llm.price_per_hour)  # what the provider read after deploying
pulumi.export("url", llm.url)
pulumi.export("endpoint", llm.id)
