"""The words of the service, each once: a `Literal` type, and its values derived from it.

The emulator has its own copies of these: it is the oracle this client is tested against, so it
must not share a definition that a mistake here would make both agree on.
"""

from __future__ import annotations

import re
from typing import Literal, cast, get_args

from .properties import INPUT_DEFAULTS

EndpointType = Literal["public", "authenticated", "private"]
#: AWS regions with a PrivateLink entry point, where a private endpoint's VPC endpoint connects
#: (huggingface_hub 2.4, `private_link_region`).
PrivateLinkRegion = Literal["us-east-1", "eu-west-1"]
Accelerator = Literal["cpu", "gpu", "neuron"]
Vendor = Literal["aws", "azure", "gcp"]
Framework = Literal["pytorch", "custom", "llamacpp", "tensorflow"]
ScalingMetric = Literal["pendingRequests", "hardwareUsage"]
#: The variants of `model.image` huggingface_hub 2.4 knows (its CLI's `ENGINE_IMAGE_KEYS`, plus
#: the two managed Hugging Face images its comment there names), spelt as the service spells them.
ImageEngine = Literal[
    "custom",
    "huggingface",
    "huggingfaceNeuron",
    "hfServe",
    "llamacpp",
    "sGLang",
    "tei",
    "tgi",
    "tgiNeuron",
    "vLLM",
    "vLLMNeuron",
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
#: The managed Hugging Face images: they take no container URL (huggingface_hub 2.4 leaves them
#: out of its `--engine` choices for that reason). `huggingface` is also what an endpoint without
#: `customImage` runs.
MANAGED_ENGINES: tuple[ImageEngine, ...] = ("huggingface", "huggingfaceNeuron")
STATES: tuple[EndpointState, ...] = get_args(EndpointState)
FAILED_STATES: tuple[EndpointState, ...] = ("failed", "updateFailed")

#: Older endpoint types the service no longer takes, and what is sent instead.
LEGACY_TYPES = {"protected": "authenticated"}
NAME_MAX_LENGTH = 32
NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
INSTANCE_SIZE_PATTERN = re.compile(r"^x[0-9]+$")
AWS_ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}$")
SCALE_TO_ZERO_RANGE = (15, 2880)
# The defaults schema.json documents (spec/properties.py), typed: check fills them in, and the
# bodies sent to the service use the same ones.
DEFAULT_TYPE = cast(str, INPUT_DEFAULTS["type"])
DEFAULT_MIN_REPLICA = cast(int, INPUT_DEFAULTS["minReplica"])
DEFAULT_MAX_REPLICA = cast(int, INPUT_DEFAULTS["maxReplica"])
DEFAULT_WAIT_TIMEOUT = float(cast(float, INPUT_DEFAULTS["waitTimeout"]))
#: What the service reports as the scaling measure when none was chosen.
DEFAULT_SCALING_MEASURE: dict[str, float | None] = {"hardwareUsage": None}
#: The scale-to-zero timeout the service applies with minReplica 0 when none is set (its API
#: schema: "default: 15, requires minReplica=0").
DEFAULT_SCALE_TO_ZERO_TIMEOUT = 15
#: The revision an endpoint follows when none is set (its API schema: "defaults to latest main").
DEFAULT_REVISION = "main"
COMMIT_SHA_PATTERN = re.compile(r"^[0-9a-f]{40}$")

#: What an instance type's name says about its accelerator, by prefix (every row of the service's
#: pricing page: `intel-*` CPUs, `nvidia-*` GPUs, `inf2` AWS Inferentia 2). A type outside these
#: families is left to the service.
INSTANCE_FAMILIES: tuple[tuple[str, Accelerator], ...] = (
    ("intel-", "cpu"),
    ("nvidia-", "gpu"),
    ("inf2", "neuron"),
)

#: A Kubernetes environment variable name, which the service's replicas are: letters, digits,
#: '_', '-' or '.', not starting with a digit (Kubernetes' `IsEnvVarName`).
ENV_NAME_PATTERN = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
#: The kernel's limits on a process environment (execve(2)): 128 KiB for one `NAME=value`
#: string, and a quarter of the stack limit (2 MiB with the usual 8 MiB) for all of them.
ENV_VARIABLE_MAX_BYTES = 128 * 1024
ENV_TOTAL_MAX_BYTES = 2 * 1024 * 1024

#: A task is a Hub pipeline tag, which is kebab-case (`text-generation`, `feature-extraction`).
TASK_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: One part of a Hub repository id (the namespace, the name), by the rules huggingface_hub's
#: `validate_repo_id` states: ASCII letters, digits, '-', '_' and '.', at most 96 characters,
#: not starting or ending with '-' or '.'.
REPO_PART_PATTERN = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$")
