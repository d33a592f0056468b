"""Value rules of an endpoint's configuration, and the merge rules of a partial update.

The request models (`schemas.py`) settle the types; this module checks what the service checks
after parsing: the name, the replica and timeout ranges, the image variant, and that the
hardware combination exists. A configuration is stored as the camelCase JSON the client sent.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import hardware
from .errors import PARSE_PREFIX, ApiError, bad_request, invalid
from .tasks import TASKS

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
NAME_RULE = (
    "must only contain lowercase alphanumeric characters or '-', start and end with an"
    " alphanumeric character, and have a length of 32 characters maximum"
)
SCALE_TO_ZERO_RANGE = (15, 2880)
MAX_REPLICAS = 1000

#: Image variants (the service's `model.image` union). The managed ones need no container URL.
MANAGED_IMAGES = ("huggingface", "huggingfaceNeuron")
CONTAINER_IMAGES = (
    "custom",
    "tgi",
    "tgiNeuron",
    "tei",
    "llamacpp",
    "vLLM",
    "vLLMNeuron",
    "vLLMOmni",
    "sGLang",
    "hfServe",
)
SCALING_METRICS = ("pendingRequests", "hardwareUsage")
DEFAULT_HEALTH_ROUTE = "/health"
#: AWS regions with a PrivateLink entry point (huggingface_hub 2.4, `private_link_region`), and
#: the format of an AWS account id.
PRIVATE_LINK_REGIONS = ("us-east-1", "eu-west-1")
AWS_ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")

#: Objects a PUT merges key by key; every other value (`route` included) it replaces whole. A
#: key sent as `null`, at the top or inside a merged object, is a key not sent: the service's
#: schemas mark update fields optional, which its Rust stack reads as absent, and no public
#: source shows a null that clears (docs/service-api.md, `update-null-is-absent`).
MERGED = {("compute",), ("compute", "scaling"), ("model",)}


def _parse_error(path: str, message: str) -> ApiError:
    return bad_request(f"{PARSE_PREFIX}{path}: {message}")


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise invalid("name", NAME_RULE)


def check_image(image: dict[str, Any]) -> None:
    if len(image) != 1:
        raise _parse_error("model.image", "invalid type: map, expected map with a single key")
    variant, settings = next(iter(image.items()))
    if variant not in MANAGED_IMAGES + CONTAINER_IMAGES:
        expected = ", ".join(f"`{v}`" for v in MANAGED_IMAGES + CONTAINER_IMAGES)
        raise _parse_error(
            "model.image", f"unknown variant `{variant}`, expected one of {expected}"
        )
    base = f"model.image.{variant}"
    for key in ("url", "healthRoute"):
        value = settings.get(key)
        if value is not None and not isinstance(value, str):
            raise _parse_error(f"{base}.{key}", "invalid type, expected a string")
    port = settings.get("port")
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536
    ):
        raise _parse_error(f"{base}.port", "invalid value, expected u16")
    if variant in CONTAINER_IMAGES and not settings.get("url"):
        raise invalid(base, "missing field `url`")
    route = settings.get("healthRoute")
    if route is not None and not route.startswith("/"):
        raise invalid(f"{base}.healthRoute", "must start with '/'")
    credentials = settings.get("credentials")
    if credentials is not None and (
        not isinstance(credentials, dict)
        or not all(isinstance(credentials.get(k), str | None) for k in ("username", "password"))
    ):
        raise _parse_error(f"{base}.credentials", "invalid type, expected a map of strings")


def check_scaling(scaling: dict[str, Any]) -> None:
    low, high = SCALE_TO_ZERO_RANGE
    minimum, maximum = scaling["minReplica"], scaling["maxReplica"]
    if not 0 <= minimum <= MAX_REPLICAS:
        raise invalid("compute.scaling.minReplica", f"must be between 0 and {MAX_REPLICAS}")
    if not 1 <= maximum <= MAX_REPLICAS:
        raise invalid("compute.scaling.maxReplica", f"must be between 1 and {MAX_REPLICAS}")
    if minimum > maximum:
        raise invalid("compute.scaling", "minReplica must be lower than or equal to maxReplica")
    timeout = scaling.get("scaleToZeroTimeout")
    if timeout is not None and not low <= timeout <= high:
        raise invalid(
            "compute.scaling.scaleToZeroTimeout", f"must be between {low} and {high} minutes"
        )
    for metric in scaling.get("measure") or {}:
        if metric not in SCALING_METRICS:
            raise invalid("compute.scaling.measure", f"unknown scaling metric `{metric}`")


def private_link_region(config: dict[str, Any]) -> str | None:
    """Where a private endpoint's VPC endpoint connects: the region it names, else the
    endpoint's own region when that has a PrivateLink entry point (an intra-region link)."""
    private = config.get("privateService") or {}
    provider = config["provider"]
    if private.get("region"):
        return str(private["region"])
    if provider["vendor"] == "aws" and provider["region"] in PRIVATE_LINK_REGIONS:
        return str(provider["region"])
    return None


def check_private_service(config: dict[str, Any]) -> None:
    """A private endpoint names the AWS account that may connect, and only a private one does."""
    private = config.get("privateService")
    kind = config["type"]
    if kind == "private" and private is None:
        raise invalid(
            "privateService",
            "a private endpoint needs the AWS account allowed to connect through PrivateLink"
            " (`privateService.accountId`)",
        )
    if private is None:
        return
    if kind != "private":
        raise invalid(
            "privateService",
            f"only a private endpoint is reached through PrivateLink (type is `{kind}`)",
        )
    if not AWS_ACCOUNT_ID_RE.match(private["accountId"]):
        raise invalid("privateService.accountId", "must be a 12-digit AWS account id")
    region = private.get("region")
    expected = ", ".join(f"`{r}`" for r in PRIVATE_LINK_REGIONS)
    if region is not None and region not in PRIVATE_LINK_REGIONS:
        raise invalid(
            "privateService.region",
            f"no PrivateLink entry point in `{region}`, expected one of {expected}",
        )
    if private_link_region(config) is None:
        raise invalid(
            "privateService.region",
            f"required, the endpoint's region has no PrivateLink entry point: one of {expected}",
        )


def check_task(task: Any) -> None:
    """`model.task` is an enum at the service: another value is a parse error."""
    if task is not None and task not in TASKS:
        expected = ", ".join(f"`{t}`" for t in TASKS)
        raise _parse_error("model.task", f"unknown variant `{task}`, expected one of {expected}")


def check_config(config: dict[str, Any], *, choosing_hardware: bool = True) -> hardware.Offer:
    """Raise the service's 400 for the first broken rule; return the hardware offer used.

    `choosing_hardware`: the request picks the instance (a create, or an update that changes
    it), so a deprecated one is refused; an endpoint already on one keeps it.
    """
    check_name(config["name"])
    model = config["model"]
    if not model["repository"].strip():
        raise invalid("model.repository", "must not be empty")
    check_task(model.get("task"))
    check_image(model["image"])
    compute = config["compute"]
    check_scaling(compute["scaling"])
    provider = config["provider"]
    key = (
        provider["vendor"],
        provider["region"],
        compute["accelerator"],
        compute["instanceType"],
        compute["instanceSize"],
    )
    offer = hardware.find(*key)
    if offer is None:
        raise bad_request(hardware.not_found_message(*key))
    if choosing_hardware and offer.instance.status == hardware.DEPRECATED:
        raise bad_request(hardware.deprecated_message(*key))
    check_private_service(config)
    return offer


def fold_experimental_features(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with `experimentalFeatures.cacheHttpResponses` moved to the top-level key, the
    one stored (the top-level key wins when both are sent): the service takes either in a
    request and reports it under `experimentalFeatures` only."""
    features = body.get("experimentalFeatures")
    if not isinstance(features, dict) or "cacheHttpResponses" not in features:
        return body
    body = {**body, "experimentalFeatures": dict(features)}
    cache = body["experimentalFeatures"].pop("cacheHttpResponses")
    if body.get("cacheHttpResponses") is None and cache is not None:
        body["cacheHttpResponses"] = cache
    return body


def merge_update(
    current: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`current` with `patch` applied: merged objects per `MERGED`, anything else replaced,
    and a `null` where a key may be left out read as that key left out."""
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        here = (*path, key)
        if value is None:
            continue
        if here in MERGED and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_update(merged[key], value, here)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


#: What the service reports as `compute.scaling.measure` when no metric was chosen.
DEFAULT_MEASURE: dict[str, float | None] = {"hardwareUsage": None}


def normalize(config: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a configuration, in which two ways of saying the same thing are one:
    a value that is the service's default (a `null` scaling key, the default measure,
    `cacheHttpResponses: false`, a route key that is `null`, a route with no key left) is
    stored as absent, so an update that only restates a default changes nothing."""
    config = copy.deepcopy(config)
    scaling = config["compute"]["scaling"]
    if scaling.get("measure") == DEFAULT_MEASURE:
        scaling["measure"] = None
    for key in [key for key, value in scaling.items() if value is None]:
        del scaling[key]
    route = config.get("route")
    if isinstance(route, dict):
        route = {key: value for key, value in route.items() if value is not None}
    if route:
        config["route"] = route
    else:
        config.pop("route", None)
    if not config.get("cacheHttpResponses"):
        config.pop("cacheHttpResponses", None)
    private = config.get("privateService")
    if isinstance(private, dict):
        # Stored whole, as the service reports it: the region it resolved, `shared` as a bool.
        private["region"] = private.get("region") or private_link_region(config)
        private["shared"] = bool(private.get("shared"))
    return config


def health_route(image: dict[str, Any]) -> str:
    """The route `wait()` polls: the container's `healthRoute`, else TGI's `/health`."""
    settings: Any = next(iter(image.values()), {}) if image else {}
    route = settings.get("healthRoute") if isinstance(settings, dict) else None
    return route if isinstance(route, str) and route else DEFAULT_HEALTH_ROUTE
