"""The desired endpoint as typed models, and the one mapping to and from the service's JSON.

Property names are our public contract (camelCase in Pulumi state, exactly as in
`schema.json`; snake_case in Python). Nothing else in the package builds or reads API payloads:
the provider asks this module for a create payload, a partial update payload, the changes
between two specs, and the spec and outputs described by an API response.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .properties import (
    LEGACY_TYPES,
    NAME_MAX_LENGTH,
    REPLACE_ON_CHANGES,
    to_camel,
)
from .properties import (
    LIFECYCLE_INPUTS as LIFECYCLE_INPUTS,  # re-exported: spec is where callers look
)
from .properties import (
    OUTPUT_ONLY as OUTPUT_ONLY,  # re-exported: spec is where callers look
)
from .properties import (
    SECRET_PROPERTIES as SECRET_PROPERTIES,  # re-exported: spec is where callers look
)

# --- vocabularies -------------------------------------------------------------------------

ENDPOINT_TYPES = ("public", "authenticated", "private")
ACCELERATORS = ("cpu", "gpu", "neuron")
VENDORS = ("aws", "azure", "gcp")
FRAMEWORKS = ("pytorch", "custom", "llamacpp", "tensorflow")
SCALING_METRICS = ("pendingRequests", "hardwareUsage")
IMAGE_ENGINES = (
    "custom",
    "tgi",
    "tgiNeuron",
    "tei",
    "llamacpp",
    "vLLM",
    "vLLMNeuron",
    "sGLang",
    "hfServe",
)
STATES = (
    "pending",
    "initializing",
    "updating",
    "updateFailed",
    "running",
    "paused",
    "failed",
    "scaledToZero",
)

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
INSTANCE_SIZE_PATTERN = re.compile(r"^x[0-9]+$")
SCALE_TO_ZERO_RANGE = (15, 2880)
DEFAULT_WAIT_TIMEOUT = 1800.0

EndpointType = Literal["public", "authenticated", "private"]
Accelerator = Literal["cpu", "gpu", "neuron"]
Vendor = Literal["aws", "azure", "gcp"]
Framework = Literal["pytorch", "custom", "llamacpp", "tensorflow"]
ScalingMetric = Literal["pendingRequests", "hardwareUsage"]
ImageEngine = Literal[
    "custom", "tgi", "tgiNeuron", "tei", "llamacpp", "vLLM", "vLLMNeuron", "sGLang", "hfServe"
]


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

    @field_validator("health_route")
    @classmethod
    def _route_starts_with_slash(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/', for example '/health'")
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


# --- validation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One bad property: `property` is a top-level property name as in schema.json."""

    property: str
    reason: str


class SpecError(ValueError):
    """Raised when inputs do not describe a valid endpoint; lists every failure."""

    def __init__(self, failures: list[Failure]) -> None:
        self.failures = failures
        super().__init__("; ".join(f"{f.property}: {f.reason}" for f in failures))


def check_name(value: str) -> None:
    """Raise ValueError unless `value` follows the service's endpoint-name rules."""
    if len(value) > NAME_MAX_LENGTH:
        raise ValueError(f"must be at most {NAME_MAX_LENGTH} characters long")
    if not NAME_PATTERN.match(value):
        raise ValueError(
            "may contain only lowercase letters a-z, digits 0-9 and '-', "
            "and must not start or end with '-'"
        )


_FIELD_NAMES = {to_camel(name): name for name in EndpointSpec.model_fields}
PROPERTY_NAMES: tuple[str, ...] = tuple(_FIELD_NAMES)
_REQUIRED = (
    "repository",
    "framework",
    "accelerator",
    "vendor",
    "region",
    "instanceType",
    "instanceSize",
)
REQUIRED_INPUTS: tuple[str, ...] = _REQUIRED
_SECRET_PATHS = {("secrets",), ("customImage", "credentials", "password")}

_ALLOWED_HINT = {
    "framework": " (one of: " + ", ".join(FRAMEWORKS) + ")",
    "accelerator": " (one of: " + ", ".join(ACCELERATORS) + ")",
    "vendor": " (one of: " + ", ".join(VENDORS) + ")",
    "instanceSize": " (x1, x2, x4, x8, ...)",
    "instanceType": " (for example intel-spr, nvidia-a10g, nvidia-l4)",
    "region": " (for example us-east-1, eu-west-1, eastus, us-east4)",
    "repository": " (a Hub model id such as 'gpt2' or 'HuggingFaceH4/zephyr-7b-beta')",
}

IsUnknown = Callable[[Any], bool]


def _never_unknown(_: Any) -> bool:
    return False


def _split_unknowns(
    props: Mapping[str, Any], is_unknown: IsUnknown
) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """Drop values that are not known yet (preview), remembering where they were.

    Unknowns inside lists and maps make the whole property unknown; inside the custom image
    (and its credentials) they are tracked per key, so the rest can still be validated.
    """
    known: dict[str, Any] = {}
    unknown: set[tuple[str, ...]] = set()

    def contains(value: Any) -> bool:
        if is_unknown(value):
            return True
        if isinstance(value, Mapping):
            return any(contains(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(contains(v) for v in value)
        return False

    for key, value in props.items():
        if key == "customImage" and isinstance(value, Mapping) and not is_unknown(value):
            image: dict[str, Any] = {}
            for ikey, ivalue in value.items():
                camel = to_camel(ikey)
                if camel == "credentials" and isinstance(ivalue, Mapping):
                    creds = {k: v for k, v in ivalue.items() if not contains(v)}
                    unknown.update(
                        (key, camel, to_camel(k)) for k, v in ivalue.items() if contains(v)
                    )
                    image[ikey] = creds
                elif contains(ivalue):
                    unknown.add((key, camel))
                else:
                    image[ikey] = ivalue
            known[key] = image
        elif contains(value):
            unknown.add((key,))
        else:
            known[key] = value
    return known, unknown


def _is_under(path: tuple[str, ...], unknown: set[tuple[str, ...]]) -> bool:
    return any(path[: len(u)] == u for u in unknown)


def _describe(error: Mapping[str, Any], loc: tuple[str, ...]) -> str:
    """A one-line reason for a pydantic error, never echoing secret values."""
    kind = error.get("type", "")
    message = str(error.get("msg", "invalid value"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "extra_forbidden":
        if len(loc) == 1:
            allowed = ", ".join(sorted(PROPERTY_NAMES))
            return f"unknown property; allowed properties are: {allowed}"
        parent = "customImage" if len(loc) == 2 else "customImage.credentials"
        model = CustomImage if len(loc) == 2 else RegistryCredentials
        allowed = ", ".join(to_camel(n) for n in model.model_fields)
        return f"unknown key {loc[-1]!r} in {parent}; allowed keys are: {allowed}"
    path = ".".join(loc)
    secret = any(loc[: len(p)] == p for p in _SECRET_PATHS)
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{path} must be one of {expected} (got {_as_written(error.get('input'))})"
    if (
        not secret
        and kind not in ("missing",)
        and isinstance(error.get("input"), str | int | float)
    ):
        return f"{path} {message[0].lower()}{message[1:]} (got {_as_written(error.get('input'))})"
    return f"{path}: {message}"


def _as_written(value: Any) -> str:
    """A value as the program wrote it: Pulumi sends every number as a float, so `8080`
    arrives as `8080.0`; whole numbers are shown without the `.0`."""
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    return repr(value)


def _camel_loc(loc: Iterable[Any]) -> tuple[str, ...]:
    out: list[str] = []
    for part in loc:
        out.append(to_camel(part) if isinstance(part, str) and "_" in part else str(part))
    return tuple(out)


def validate_inputs(
    props: Mapping[str, Any], *, is_unknown: IsUnknown = _never_unknown
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate Pulumi input properties without any network call.

    Returns the normalised properties (camelCase keys, ints where the wire sent floats, the
    legacy `protected` type renamed, defaults filled in, unknown values kept as they were)
    and one Failure per bad property. Unknown values are never errors.
    """
    known, unknown = _split_unknowns(props, is_unknown)
    failures: list[Failure] = []
    try:
        spec = EndpointSpec.model_validate(known)
    except ValidationError as exc:
        seen: set[tuple[str, str]] = set()
        for error in exc.errors():
            loc = _camel_loc(error["loc"])
            if not loc or _is_under(loc, unknown):
                continue
            # An unknown property is reported under the name the user wrote.
            prop = str(error["loc"][0]) if error["type"] == "extra_forbidden" else loc[0]
            failure = Failure(prop, _describe(error, loc))
            if (failure.property, failure.reason) not in seen:
                seen.add((failure.property, failure.reason))
                failures.append(failure)
        return dict(props), failures

    failures.extend(_rule_failures(spec, unknown))
    normalized = _with_defaults(spec, unknown).to_properties()
    for path in unknown:
        target = normalized
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = _lookup(props, path)
    return normalized, failures


def _lookup(props: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = props
    for part in path:
        if part in value:
            value = value[part]
        else:  # snake_case key written by the user inside a plain dict
            snake = next(k for k in value if to_camel(k) == part)
            value = value[snake]
    return value


def _rule_failures(spec: EndpointSpec, unknown: set[tuple[str, ...]]) -> list[Failure]:
    """Rules that involve several properties or a property's presence."""
    failures: list[Failure] = []

    def absent(prop: str) -> bool:
        return getattr(spec, _FIELD_NAMES[prop]) is None and (prop,) not in unknown

    for prop in _REQUIRED:
        if absent(prop):
            failures.append(Failure(prop, f"{prop} is required{_ALLOWED_HINT.get(prop, '')}"))

    min_known = spec.min_replica is not None
    if min_known and spec.max_replica is not None and spec.min_replica > spec.max_replica:  # type: ignore[operator]
        failures.append(
            Failure(
                "minReplica",
                f"minReplica ({spec.min_replica}) must not exceed maxReplica ({spec.max_replica})",
            )
        )
    if spec.scale_to_zero_timeout is not None and min_known and spec.min_replica != 0:
        failures.append(
            Failure(
                "scaleToZeroTimeout",
                "scaleToZeroTimeout needs minReplica 0 (the endpoint can only scale to zero "
                f"when no replica is required; minReplica is {spec.min_replica})",
            )
        )
    if spec.scaling_threshold is not None and absent("scalingMetric"):
        failures.append(
            Failure(
                "scalingThreshold",
                "scalingThreshold needs scalingMetric (one of: " + ", ".join(SCALING_METRICS) + ")",
            )
        )
    image = spec.custom_image
    if image is not None and image.url is None and ("customImage", "url") not in unknown:
        failures.append(
            Failure(
                "customImage",
                f"customImage.url is required for the '{image.engine}' engine "
                "(the container image to run, e.g. "
                "ghcr.io/huggingface/text-generation-inference:latest)",
            )
        )
    if image is not None and image.credentials is not None and image.engine != "custom":
        failures.append(
            Failure(
                "customImage",
                "customImage.credentials are only accepted with engine 'custom'",
            )
        )
    if spec.env is not None and image is not None and image.env:
        clashes = sorted(
            key for key in set(spec.env) & set(image.env) if spec.env[key] != image.env[key]
        )
        if clashes:
            failures.append(
                Failure(
                    "env",
                    "env and customImage.env set different values for: " + ", ".join(clashes),
                )
            )
    return failures


def _with_defaults(spec: EndpointSpec, unknown: set[tuple[str, ...]]) -> EndpointSpec:
    """Fill in the defaults documented in schema.json."""
    updates: dict[str, Any] = {}
    if spec.type is None and ("type",) not in unknown:
        updates["type"] = "authenticated"
    if spec.min_replica is None and ("minReplica",) not in unknown:
        wants_zero = spec.scale_to_zero_timeout is not None or ("scaleToZeroTimeout",) in unknown
        updates["min_replica"] = 0 if wants_zero else 1
    if spec.max_replica is None and ("maxReplica",) not in unknown:
        updates["max_replica"] = max(1, updates.get("min_replica", spec.min_replica or 0))
    for name, default in (
        ("paused", False),
        ("wait", True),
        ("wait_timeout", DEFAULT_WAIT_TIMEOUT),
        ("adopt_existing", False),
    ):
        if getattr(spec, name) is None and (to_camel(name),) not in unknown:
            updates[name] = default
    return spec.model_copy(update=updates) if updates else spec


def spec_from_properties(props: Mapping[str, Any]) -> EndpointSpec:
    """A complete, valid spec from known properties; raises SpecError listing every problem."""
    normalized, failures = validate_inputs(props)
    if failures:
        raise SpecError(failures)
    return EndpointSpec.model_validate(normalized)


def spec_from_state(props: Mapping[str, Any]) -> EndpointSpec:
    """A spec from properties recorded in state, keeping whatever is still readable (state
    written by an older version may not pass today's rules)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        normalized, failures = validate_inputs(props)
    if failures:
        bad = {f.property for f in failures}
        normalized = {k: v for k, v in normalized.items() if k not in bad}
        try:
            return EndpointSpec.model_validate(normalized)
        except ValidationError:
            return EndpointSpec()
    return EndpointSpec.model_validate(normalized)


# --- requests -----------------------------------------------------------------------------


def image_payload(image: CustomImage | None) -> dict[str, Any]:
    """`model.image`: a union keyed by engine; every engine but the default requires `url`."""
    if image is None:
        return {"huggingface": {}}
    body: dict[str, Any] = dict(image.options or {})
    body["url"] = image.url
    if image.health_route is not None:
        body["healthRoute"] = image.health_route
    if image.port is not None:
        body["port"] = image.port
    if image.credentials is not None:
        creds: dict[str, Any] = {"username": image.credentials.username}
        if image.credentials.password is not None:
            creds["password"] = image.credentials.password
        body["credentials"] = creds
    if image.tensor_parallel_size is not None:
        body["tensorParallelSize"] = image.tensor_parallel_size
    if image.data_parallel_size is not None:
        body["dataParallelSize"] = image.data_parallel_size
    return {image.engine: body}


def _scaling_payload(spec: EndpointSpec) -> dict[str, Any]:
    scaling: dict[str, Any] = {
        "minReplica": spec.min_replica if spec.min_replica is not None else 1,
        "maxReplica": spec.max_replica if spec.max_replica is not None else 1,
        "scaleToZeroTimeout": spec.scale_to_zero_timeout,
    }
    if spec.scaling_metric is not None:
        scaling["measure"] = {spec.scaling_metric: spec.scaling_threshold}
    return scaling


def _route_payload(spec: EndpointSpec) -> dict[str, Any]:
    route: dict[str, Any] = {}
    if spec.domain is not None:
        route["domain"] = spec.domain
    if spec.path is not None:
        route["path"] = spec.path
    return route


# --- clearing what the program no longer sets ----------------------------------------------
#
# A partial PUT leaves out what it does not mention, so a property removed from the program
# has to be sent with the value that means "unset" at the service, or it stays set there:
# - `cacheHttpResponses`: `false`, the service's default (it reports `false` when never set);
# - `compute.scaling.measure`: `{"hardwareUsage": null}`, what the service reports when no
#   metric was chosen (hardware usage at its default threshold), as in huggingface_hub's
#   fixture of a catalog deployment;
# - `route`: the whole route with `null` for a key no longer set, and `route: null` when
#   neither is (the service's schema makes the route and its keys nullable; there is no
#   default value to send instead);
# - `scaleToZeroTimeout: null`, `env: {}`, `secrets: {}`, `args: []`, `command: []` and the
#   default image, as before.

DEFAULT_SCALING_MEASURE: dict[str, float | None] = {"hardwareUsage": None}


def _scaling_update(spec: EndpointSpec) -> dict[str, Any]:
    scaling = _scaling_payload(spec)
    scaling.setdefault("measure", dict(DEFAULT_SCALING_MEASURE))
    return scaling


def _route_update(spec: EndpointSpec) -> dict[str, Any] | None:
    if spec.domain is None and spec.path is None:
        return None
    return {"domain": spec.domain, "path": spec.path}


def create_payload(spec: EndpointSpec, name: str) -> dict[str, Any]:
    """The body of `POST /v2/endpoint/{namespace}`."""
    missing = [p for p in _REQUIRED if getattr(spec, _FIELD_NAMES[p]) is None]
    if missing:
        raise SpecError([Failure(p, f"{p} is required") for p in missing])
    model: dict[str, Any] = {
        "repository": spec.repository,
        "framework": spec.framework,
        "revision": spec.revision,
        "image": image_payload(spec.custom_image),
    }
    if spec.task is not None:  # the service rejects `task: null`
        model["task"] = spec.task
    if spec.container_command is not None:
        model["command"] = list(spec.container_command)
    if spec.container_args is not None:
        model["args"] = list(spec.container_args)
    env = spec.effective_env
    if env:
        model["env"] = env
    if spec.secrets:
        model["secrets"] = dict(spec.secrets)
    payload: dict[str, Any] = {
        "name": name,
        "type": spec.type or "authenticated",
        "provider": {"vendor": spec.vendor, "region": spec.region},
        "compute": {
            "accelerator": spec.accelerator,
            "instanceSize": spec.instance_size,
            "instanceType": spec.instance_type,
            "scaling": _scaling_payload(spec),
        },
        "model": model,
    }
    route = _route_payload(spec)
    if route:
        payload["route"] = route
    if spec.cache_http_responses is not None:
        payload["cacheHttpResponses"] = spec.cache_http_responses
    if spec.tags is not None:
        payload["tags"] = list(spec.tags)
    return payload


@dataclass(frozen=True)
class _Group:
    """Properties the service changes together, and how they appear in an update body."""

    properties: tuple[str, ...]
    value: Callable[[EndpointSpec], Any]
    place: Callable[[dict[str, Any], Any], None]
    # False when the service has no way to unset the value (`task` may be omitted, never
    # null): a value removed from the program is then left as the service has it.
    clearable: bool = True

    def changed(self, old: EndpointSpec, new: EndpointSpec) -> bool:
        after = self.value(new)
        if after is None and not self.clearable:
            return False
        return bool(self.value(old) != after)


def _put(*path: str) -> Callable[[dict[str, Any], Any], None]:
    def place(payload: dict[str, Any], value: Any) -> None:
        target = payload
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value

    return place


def _put_optional(*path: str) -> Callable[[dict[str, Any], Any], None]:
    """Like _put, but leaves out values the service cannot take as null (e.g. task)."""
    inner = _put(*path)

    def place(payload: dict[str, Any], value: Any) -> None:
        if value is not None:
            inner(payload, value)

    return place


def _put_hardware(payload: dict[str, Any], value: Any) -> None:
    accelerator, instance_type, instance_size = value
    compute = payload.setdefault("compute", {})
    compute.update(accelerator=accelerator, instanceType=instance_type, instanceSize=instance_size)


# The in-place groups, in the order an update body is built. Hardware is sent as a triple and
# scaling as a whole block: the service validates hardware as a combination, and whether it
# merges a partial scaling block is not documented (a timeout can only be cleared with null).
_UPDATE_GROUPS: tuple[_Group, ...] = (
    _Group(
        ("accelerator", "instanceType", "instanceSize"),
        lambda s: (s.accelerator, s.instance_type, s.instance_size),
        _put_hardware,
    ),
    _Group(
        ("minReplica", "maxReplica", "scaleToZeroTimeout", "scalingMetric", "scalingThreshold"),
        _scaling_update,
        _put("compute", "scaling"),
    ),
    _Group(("repository",), lambda s: s.repository, _put("model", "repository")),
    _Group(("framework",), lambda s: s.framework, _put("model", "framework")),
    _Group(("revision",), lambda s: s.revision, _put("model", "revision")),
    _Group(("task",), lambda s: s.task, _put_optional("model", "task"), clearable=False),
    _Group(("customImage",), lambda s: image_payload(s.custom_image), _put("model", "image")),
    _Group(
        ("containerCommand",),
        lambda s: list(s.container_command or []),
        _put("model", "command"),
    ),
    _Group(("containerArgs",), lambda s: list(s.container_args or []), _put("model", "args")),
    _Group(("env", "customImage"), lambda s: s.effective_env, _put("model", "env")),
    _Group(("secrets",), lambda s: dict(s.secrets or {}), _put("model", "secrets")),
    _Group(("domain", "path"), _route_update, _put("route")),
    _Group(
        ("cacheHttpResponses",), lambda s: bool(s.cache_http_responses), _put("cacheHttpResponses")
    ),
    _Group(("tags",), lambda s: list(s.tags or []), _put("tags")),
)

UPDATABLE_PROPERTIES: tuple[str, ...] = tuple(
    dict.fromkeys(p for g in _UPDATE_GROUPS for p in g.properties)
)


def _image_without_env(spec: EndpointSpec) -> EndpointSpec:
    if spec.custom_image is None or spec.custom_image.env is None:
        return spec
    return spec.model_copy(
        update={"custom_image": spec.custom_image.model_copy(update={"env": None})}
    )


def update_payload(old: EndpointSpec, new: EndpointSpec) -> dict[str, Any]:
    """The body of a partial `PUT`: only what differs, each group sent whole.

    `env`, `secrets`, `args`, `command` and `image` replace their current values at the
    service, so each is sent complete when it changes (an emptied map or list is sent empty).
    """
    payload: dict[str, Any] = {}
    for group in _UPDATE_GROUPS:
        if group.changed(old, new):
            group.place(payload, group.value(new))
    return payload


def changed_properties(
    old: EndpointSpec, new: EndpointSpec, unknown: Iterable[str] = ()
) -> list[str]:
    """Top-level properties whose change matters to the service or the lifecycle.

    `unknown` names properties whose new value is not known yet: they count as changed.
    Compared through the payload groups, so two spellings of the same thing (the image's
    `env` versus `env`) are not a change.
    """
    unknown = set(unknown)
    changed: list[str] = []

    def add(prop: str) -> None:
        if prop not in changed:
            changed.append(prop)

    for prop in REPLACE_ON_CHANGES:
        if prop in unknown:
            add(prop)
        elif prop == "namespace" and new.namespace is None:
            continue  # no namespace given: whatever was resolved at create time stays
        elif getattr(old, _FIELD_NAMES[prop]) != getattr(new, _FIELD_NAMES[prop]):
            add(prop)
    for group in _UPDATE_GROUPS:
        touched_unknown = [p for p in group.properties if p in unknown]
        if touched_unknown:
            for prop in touched_unknown:
                add(prop)
            continue
        if group.changed(old, new):
            for prop in group.properties:
                if _differs(old, new, prop):
                    add(prop)
            if not any(p in changed for p in group.properties):
                add(group.properties[0])
    if "paused" in unknown or bool(old.paused) != bool(new.paused):
        add("paused")
    return changed


def _differs(old: EndpointSpec, new: EndpointSpec, prop: str) -> bool:
    field = _FIELD_NAMES[prop]
    if prop == "customImage":
        return _image_without_env(old).custom_image != _image_without_env(new).custom_image
    return bool(getattr(old, field) != getattr(new, field))


# --- responses ----------------------------------------------------------------------------


class _Response(BaseModel):
    """Lenient model of the service's JSON: unknown keys are ignored, most keys optional.
    Built on first use: check and diff (every preview) never read a response."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )


class UserRef(_Response):
    id: str | None = None
    name: str | None = None


class StatusInfo(_Response):
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


class ScalingInfo(_Response):
    min_replica: int = 0
    max_replica: int = 1
    scale_to_zero_timeout: int | None = None
    metric: str | None = None
    threshold: float | None = None
    measure: dict[str, float | None] | None = None


class ComputeInfo(_Response):
    accelerator: str
    instance_type: str
    instance_size: str
    scaling: ScalingInfo = Field(default_factory=ScalingInfo)


class ModelInfo(_Response):
    repository: str
    framework: str | None = None
    revision: str | None = None
    task: str | None = None
    image: dict[str, Any] = Field(default_factory=dict)
    env: dict[str, str] | None = None
    secrets: dict[str, Any] | None = None
    command: list[str] | None = None
    args: list[str] | None = None


class ProviderInfo(_Response):
    vendor: str
    region: str


class RouteInfo(_Response):
    domain: str | None = None
    path: str | None = None


class EndpointInfo(_Response):
    """An endpoint as the service describes it (`EndpointWithStatus`)."""

    name: str
    type: str
    health_route: str | None = None
    provider: ProviderInfo
    compute: ComputeInfo
    model: ModelInfo
    status: StatusInfo
    tags: list[str] | None = None
    cache_http_responses: bool | None = None
    route: RouteInfo | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> EndpointInfo:
        """Parse a response; raises MalformedEndpointError naming what is missing or wrong."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise MalformedEndpointError(
                f"the service returned an endpoint description this client cannot read ({problems})"
            ) from None

    @property
    def paused(self) -> bool:
        return self.status.state == "paused"


class MalformedEndpointError(ValueError):
    """The service answered with JSON that does not describe an endpoint."""


def _image_from_api(image: Mapping[str, Any], prior: CustomImage | None) -> CustomImage | None:
    """Map `model.image` back to our customImage; write-only credentials come from `prior`."""
    if not image or "huggingface" in image:
        return None
    engine, body = next(iter(image.items()))
    if not isinstance(body, Mapping):
        return None
    known = {"url", "healthRoute", "port", "credentials", "tensorParallelSize", "dataParallelSize"}
    options = {k: v for k, v in body.items() if k not in known}
    credentials = None
    if prior is not None and prior.credentials is not None:
        credentials = prior.credentials
    elif isinstance(body.get("credentials"), Mapping) and body["credentials"].get("username"):
        credentials = RegistryCredentials(username=str(body["credentials"]["username"]))
    return CustomImage(
        url=body.get("url"),
        engine=engine if engine in IMAGE_ENGINES else "custom",
        health_route=body.get("healthRoute"),
        port=body.get("port"),
        credentials=credentials,
        tensor_parallel_size=body.get("tensorParallelSize"),
        data_parallel_size=body.get("dataParallelSize"),
        options=options or (prior.options if prior is not None else None),
        env=None,
    )


def spec_from_api(
    info: EndpointInfo, namespace: str, prior: EndpointSpec | None = None
) -> EndpointSpec:
    """The live endpoint as a spec, for refresh and drift.

    Values the service redacts (secret values, registry passwords) are taken from `prior`;
    lifecycle inputs are carried over from `prior` since the service does not know them.
    """
    scaling = info.compute.scaling
    metric = scaling.metric
    threshold = scaling.threshold
    if scaling.measure:
        metric, threshold = next(iter(scaling.measure.items()))
    if {metric: threshold} == DEFAULT_SCALING_MEASURE and not (
        prior is not None and prior.scaling_metric == metric and prior.scaling_threshold is None
    ):
        metric = None  # the service's default, reported when no metric was chosen
    secrets: dict[str, str] | None = None
    if info.model.secrets:
        known = prior.secrets if prior is not None and prior.secrets else {}
        secrets = {key: known.get(key, "") for key in info.model.secrets}
    elif prior is not None and prior.secrets == {}:
        secrets = {}
    custom_image = _image_from_api(info.model.image, prior.custom_image if prior else None)
    env = info.model.env or None
    if prior is not None:
        # Keep the user's spelling (the image's env) when it says the same as the service.
        if env is None and prior.env == {}:
            env = {}
        image_env = prior.custom_image.env if prior.custom_image is not None else None
        if image_env and custom_image is not None and prior.effective_env == (env or {}):
            custom_image = custom_image.model_copy(update={"env": image_env})
            env = prior.env
    route = info.route or RouteInfo()
    values: dict[str, Any] = {
        "name": info.name,
        "namespace": namespace,
        "repository": info.model.repository,
        "revision": info.model.revision,
        "framework": info.model.framework if info.model.framework in FRAMEWORKS else None,
        "task": info.model.task,
        "accelerator": info.compute.accelerator,
        "vendor": info.provider.vendor,
        "region": info.provider.region,
        "type": LEGACY_TYPES.get(info.type, info.type),
        "instance_size": info.compute.instance_size,
        "instance_type": info.compute.instance_type,
        "min_replica": scaling.min_replica,
        "max_replica": scaling.max_replica,
        "scale_to_zero_timeout": scaling.scale_to_zero_timeout,
        "scaling_metric": metric,
        "scaling_threshold": threshold,
        "custom_image": custom_image,
        "container_command": _live_list(
            info.model.command, prior.container_command if prior else None
        ),
        "container_args": _live_list(info.model.args, prior.container_args if prior else None),
        "env": env,
        "secrets": secrets,
        "tags": _live_list(info.tags, prior.tags if prior else None),
        "domain": route.domain,
        "path": route.path,
        # `false` is the service's default: it reads as unset unless the program set it.
        "cache_http_responses": True
        if info.cache_http_responses
        else (False if prior is None or prior.cache_http_responses is not None else None),
        "paused": info.paused,
        "wait": prior.wait if prior else True,
        "wait_timeout": prior.wait_timeout if prior else DEFAULT_WAIT_TIMEOUT,
        "adopt_existing": prior.adopt_existing if prior else False,
    }
    return EndpointSpec.model_construct(**values)


def _live_list(live: list[str] | None, prior: list[str] | None) -> list[str] | None:
    """A list the service reports; empty reads as unset unless the user had set it (to [] or
    to values that have since been cleared out of band)."""
    if live:
        return list(live)
    return [] if prior is not None else None


def status_outputs(info: EndpointInfo) -> dict[str, Any]:
    """The computed outputs, camelCase as in schema.json (unset ones left out)."""
    status = info.status
    outputs = {
        "url": status.url,
        "status": status.state,
        "statusMessage": status.error_message or status.message,
        "readyReplica": status.ready_replica,
        "targetReplica": status.target_replica,
        "createdAt": status.created_at,
        "updatedAt": status.updated_at,
        "healthRoute": info.health_route,
    }
    return {key: value for key, value in outputs.items() if value is not None}
