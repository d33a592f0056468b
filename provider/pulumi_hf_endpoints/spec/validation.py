"""Checking Pulumi inputs without any network call: one failure per bad property, naming the
allowed values; values still unknown at preview are never errors. Also the defaults that
`schema.json` documents, filled in here so that state records them."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..names import to_camel
from .model import (
    FIELD_NAMES,
    PROPERTY_NAMES,
    CustomImage,
    EndpointSpec,
    PrivateService,
    RegistryCredentials,
)
from .properties import INPUT_DEFAULTS, REQUIRED_INPUTS
from .vocabulary import (
    ACCELERATORS,
    DEFAULT_MAX_REPLICA,
    DEFAULT_MIN_REPLICA,
    DEFAULT_TYPE,
    DEFAULT_WAIT_TIMEOUT,
    ENV_TOTAL_MAX_BYTES,
    ENV_VARIABLE_MAX_BYTES,
    FRAMEWORKS,
    IMAGE_ENGINES,
    INSTANCE_FAMILIES,
    MANAGED_ENGINES,
    PRIVATE_LINK_REGIONS,
    SCALING_METRICS,
    VENDORS,
)


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


_SECRET_PATHS = {("secrets",), ("customImage", "credentials", "password")}
#: The objects inside a property, by where they sit: their keys are named in errors.
_NESTED: dict[tuple[str, ...], type[BaseModel]] = {
    ("customImage",): CustomImage,
    ("customImage", "credentials"): RegistryCredentials,
    ("privateService",): PrivateService,
}

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


def contains_unknown(value: Any, is_unknown: IsUnknown) -> bool:
    """Whether `value`, or anything inside its maps and lists, is not known yet: the one walk
    over a value for unknowns (`is_unknown` says what one looks like in the caller's bags)."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v, is_unknown) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v, is_unknown) for v in value)
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
        return contains_unknown(value, is_unknown)

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
            close = _closest(str(error["loc"][0]), PROPERTY_NAMES)
            allowed = ", ".join(sorted(PROPERTY_NAMES))
            return f"unknown property{close}; allowed properties are: {allowed}"
        model = _NESTED[loc[:-1]]
        keys = [to_camel(n) for n in model.model_fields]
        where = ".".join(loc[:-1])
        close = _closest(str(error["loc"][-1]), keys)
        return f"unknown key {loc[-1]!r} in {where}{close}; allowed keys are: {', '.join(keys)}"
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


def _closest(name: str, names: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the property closest to a misspelt `name` (written in either
    spelling), or ""."""
    known = list(names)
    close = difflib.get_close_matches(to_camel(name), known, n=1) or difflib.get_close_matches(
        name, known, n=1
    )
    return f" (did you mean {close[0]!r}?)" if close else ""


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
    normalized, failures, _ = _validated(props, is_unknown)
    return normalized, failures


def _validated(
    props: Mapping[str, Any], is_unknown: IsUnknown = _never_unknown
) -> tuple[dict[str, Any], list[Failure], EndpointSpec | None]:
    """`validate_inputs`, and the spec it built: the inputs are parsed once, and a caller that
    needs the spec (create, update, diff) takes this one instead of parsing the normalised
    properties again. The spec is None when a value failed its type or is still unknown."""
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
        return dict(props), failures, None

    failures.extend(_rule_failures(spec, unknown))
    defaulted = _with_defaults(spec, unknown)
    normalized = defaulted.to_properties()
    for path in unknown:
        target = normalized
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = _lookup(props, path)
    return normalized, failures, (defaulted if not unknown else None)


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
        return getattr(spec, FIELD_NAMES[prop]) is None and (prop,) not in unknown

    for prop in REQUIRED_INPUTS:
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
    if (
        image is not None
        and image.url is None
        and image.engine not in MANAGED_ENGINES
        and ("customImage", "url") not in unknown
    ):
        failures.append(
            Failure(
                "customImage",
                f"customImage.url is required for the '{image.engine}' engine "
                "(the container image to run, e.g. "
                "ghcr.io/huggingface/text-generation-inference:latest); only the managed "
                f"engines ({', '.join(MANAGED_ENGINES)}) take none",
            )
        )
    if image is not None and image.credentials is not None and image.engine != "custom":
        failures.append(
            Failure(
                "customImage",
                "customImage.credentials are only accepted with engine 'custom'",
            )
        )
    failures.extend(_private_service_failures(spec, unknown))
    failures.extend(_hardware_family_failures(spec))
    failures.extend(_environment_size_failures(spec))
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


def _hardware_family_failures(spec: EndpointSpec) -> list[Failure]:
    """An instance type whose name says which accelerator it has must be asked for with that
    accelerator: the service refuses `cpu` with `nvidia-a10g` only at `up`."""
    if spec.instance_type is None or spec.accelerator is None:
        return []
    for prefix, accelerator in INSTANCE_FAMILIES:
        if spec.instance_type.startswith(prefix) and spec.accelerator != accelerator:
            return [
                Failure(
                    "accelerator",
                    f"accelerator '{spec.accelerator}' does not match instanceType "
                    f"'{spec.instance_type}', a {accelerator} instance: set "
                    f"accelerator='{accelerator}', or pick a {spec.accelerator} instance type",
                )
            ]
    return []


def _environment_size_failures(spec: EndpointSpec) -> list[Failure]:
    """The replica's environment (env and secrets) must fit in a process environment
    (execve(2)): a larger one is accepted by the service and fails when the container starts."""
    variables = {**spec.effective_env, **(spec.secrets or {})}
    total = 0
    for name, value in variables.items():
        size = len(name.encode()) + len(value.encode()) + 2  # NAME=value and its NUL
        total += size
        if size > ENV_VARIABLE_MAX_BYTES:
            where = "secrets" if name in (spec.secrets or {}) else "env"
            return [
                Failure(
                    where,
                    f"variable {name!r} is {size} bytes; a process environment takes at most "
                    f"{ENV_VARIABLE_MAX_BYTES} bytes per variable (the container would fail to "
                    "start with 'argument list too long'): put large values in a file of the "
                    "model repository instead",
                )
            ]
    if total > ENV_TOTAL_MAX_BYTES:
        return [
            Failure(
                "env",
                f"env and secrets hold {len(variables)} variables, {total} bytes together; a "
                f"process environment takes at most {ENV_TOTAL_MAX_BYTES} bytes (the container "
                "would fail to start with 'argument list too long')",
            )
        ]
    return []


_PRIVATE_LINK_HINT = (
    "the AWS account that may connect through PrivateLink, such as "
    "private_service=PrivateServiceArgs(account_id='123456789012')"
)


def _private_link_region(spec: EndpointSpec) -> str | None:
    """The PrivateLink entry point of the endpoint's own region, if it has one: the region a
    private endpoint's VPC endpoint connects to when none is named (the intra-region connection
    the service's guides describe)."""
    if spec.vendor == "aws" and spec.region in PRIVATE_LINK_REGIONS:
        return spec.region
    return None


def _private_service_failures(spec: EndpointSpec, unknown: set[tuple[str, ...]]) -> list[Failure]:
    """`privateService` goes with `type: private`, and its region must be known."""
    if ("type",) in unknown or ("privateService",) in unknown:
        return []
    endpoint_type = spec.type or "authenticated"
    private = spec.private_service
    if endpoint_type == "private" and private is None:
        return [
            Failure(
                "privateService",
                f"privateService is required for a private endpoint: {_PRIVATE_LINK_HINT}",
            )
        ]
    if endpoint_type != "private" and private is not None:
        return [
            Failure(
                "privateService",
                "privateService is only for endpoints of type 'private', reached through AWS "
                f"PrivateLink (type is '{endpoint_type}'): set type='private' or remove it",
            )
        ]
    location_known = spec.vendor is not None and spec.region is not None
    if (
        private is not None
        and private.region is None
        and location_known
        and _private_link_region(spec) is None
    ):
        return [
            Failure(
                "privateService",
                "privateService.region is required: the AWS region of the PrivateLink entry "
                f"point, one of: {', '.join(PRIVATE_LINK_REGIONS)} (it defaults to the "
                "endpoint's region only for aws in one of them; this endpoint runs in "
                f"{spec.vendor} {spec.region})",
            )
        ]
    return []


def _with_defaults(spec: EndpointSpec, unknown: set[tuple[str, ...]]) -> EndpointSpec:
    """Fill in the defaults documented in schema.json."""
    updates: dict[str, Any] = {}
    if spec.type is None and ("type",) not in unknown:
        updates["type"] = DEFAULT_TYPE
    private = spec.private_service
    if private is not None and private.region is None:
        region = _private_link_region(spec)
        if region is not None:
            updates["private_service"] = private.model_copy(update={"region": region})
    if spec.min_replica is None and ("minReplica",) not in unknown:
        wants_zero = spec.scale_to_zero_timeout is not None or ("scaleToZeroTimeout",) in unknown
        updates["min_replica"] = 0 if wants_zero else DEFAULT_MIN_REPLICA
    if spec.max_replica is None and ("maxReplica",) not in unknown:
        floor = updates.get("min_replica", spec.min_replica or 0)
        updates["max_replica"] = max(DEFAULT_MAX_REPLICA, floor)
    for name in ("paused", "wait", "adopt_existing"):
        if getattr(spec, name) is None and (to_camel(name),) not in unknown:
            updates[name] = INPUT_DEFAULTS[to_camel(name)]
    if spec.wait_timeout is None and ("waitTimeout",) not in unknown:
        updates["wait_timeout"] = DEFAULT_WAIT_TIMEOUT
    return spec.model_copy(update=updates) if updates else spec


def spec_from_properties(props: Mapping[str, Any]) -> EndpointSpec:
    """A complete, valid spec from known properties; raises SpecError listing every problem."""
    normalized, failures, spec = _validated(props)
    if failures:
        raise SpecError(failures)
    return spec if spec is not None else EndpointSpec.model_validate(normalized)


def spec_from_state(props: Mapping[str, Any]) -> EndpointSpec:
    """A spec from properties recorded in state, keeping whatever is still readable (state
    written by an older version may not pass today's rules)."""
    props, engine = _without_unknown_engine(props)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        normalized, failures, parsed = _validated(props)
    if engine is not None and "customImage" in normalized:
        # An image variant this version does not know, as a refresh read it: kept verbatim.
        spec = parsed if parsed is not None and not failures else _state_spec(normalized, failures)
        image = spec.custom_image
        if image is not None:
            verbatim = image.model_copy(update={"engine": engine})
            return spec.model_copy(update={"custom_image": verbatim})
        return spec
    if parsed is not None and not failures:
        return parsed
    return _state_spec(normalized, failures)


def _without_unknown_engine(props: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    """`props` with an image variant outside today's vocabulary read as `custom`, and that
    variant; state holds one when the service reported it."""
    image = props.get("customImage")
    if not isinstance(image, Mapping):
        return props, None
    engine = image.get("engine")
    if not isinstance(engine, str) or engine in IMAGE_ENGINES:
        return props, None
    stand_in = "custom" if image.get("url") else "huggingface"  # the rules of the same shape
    return {**props, "customImage": {**image, "engine": stand_in}}, engine


def _state_spec(normalized: dict[str, Any], failures: list[Failure]) -> EndpointSpec:
    if failures:
        bad = {f.property for f in failures}
        normalized = {k: v for k, v in normalized.items() if k not in bad}
        try:
            return EndpointSpec.model_validate(normalized)
        except ValidationError:
            return EndpointSpec()
    return EndpointSpec.model_validate(normalized)
