"""The words of the service, each once: a `Literal` type, and its values derived from it.

The emulator has its own copies of these: it is the oracle this client is tested against, so it
must not share a definition that a mistake here would make both agree on.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

EndpointType = Literal["public", "authenticated", "private"]
#: AWS regions with a PrivateLink entry point, where a private endpoint's VPC endpoint connects
#: (huggingface_hub 2.4, `private_link_region`).
PrivateLinkRegion = Literal["us-east-1", "eu-west-1"]
Accelerator = Literal["cpu", "gpu", "neuron"]
Vendor = Literal["aws", "azure", "gcp"]
Framework = Literal["pytorch", "custom", "llamacpp", "tensorflow"]
ScalingMetric = Literal["pendingRequests", "hardwareUsage"]
ImageEngine = Literal[
    "custom", "tgi", "tgiNeuron", "tei", "llamacpp", "vLLM", "vLLMNeuron", "sGLang", "hfServe"
]
EndpointState = Literal[
    "pending",
    "initializing",
    "updating",
    "updateFailed",
    "running",
    "paused",
    "failed",
    "scaledToZero",
]

ENDPOINT_TYPES: tuple[EndpointType, ...] = get_args(EndpointType)
PRIVATE_LINK_REGIONS: tuple[PrivateLinkRegion, ...] = get_args(PrivateLinkRegion)
ACCELERATORS: tuple[Accelerator, ...] = get_args(Accelerator)
VENDORS: tuple[Vendor, ...] = get_args(Vendor)
FRAMEWORKS: tuple[Framework, ...] = get_args(Framework)
SCALING_METRICS: tuple[ScalingMetric, ...] = get_args(ScalingMetric)
IMAGE_ENGINES: tuple[ImageEngine, ...] = get_args(ImageEngine)
STATES: tuple[EndpointState, ...] = get_args(EndpointState)
FAILED_STATES: tuple[EndpointState, ...] = ("failed", "updateFailed")

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
INSTANCE_SIZE_PATTERN = re.compile(r"^x[0-9]+$")
AWS_ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}$")
SCALE_TO_ZERO_RANGE = (15, 2880)
DEFAULT_WAIT_TIMEOUT = 1800.0
#: What the service reports as the scaling measure when none was chosen.
DEFAULT_SCALING_MEASURE: dict[str, float | None] = {"hardwareUsage": None}
