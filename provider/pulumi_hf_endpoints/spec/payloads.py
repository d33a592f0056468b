"""The service's JSON for a desired endpoint: the create body, the partial update body, and the
changes between two specs. `diff` and `update` read the same table of update groups, so a plan
and the request it leads to cannot disagree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..properties import REPLACE_ON_CHANGES
from .model import FIELD_NAMES, CustomImage, EndpointSpec, PrivateService
from .validation import REQUIRED_INPUTS, Failure, SpecError
from .vocabulary import DEFAULT_SCALING_MEASURE


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


def private_service_payload(private: PrivateService) -> dict[str, Any]:
    """`privateService`: the account always; the entry-point region when known (huggingface_hub
    2.4 always sends it, older clients never did); `shared` only when asked, since `false` is
    the service's default and the newest client does not send it."""
    body: dict[str, Any] = {"accountId": private.account_id}
    if private.region is not None:
        body["region"] = private.region
    if private.shared:
        body["shared"] = True
    return body


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
    missing = [p for p in REQUIRED_INPUTS if getattr(spec, FIELD_NAMES[p]) is None]
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
    if spec.private_service is not None:
        payload["privateService"] = private_service_payload(spec.private_service)
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
        elif getattr(old, FIELD_NAMES[prop]) != getattr(new, FIELD_NAMES[prop]):
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
    field = FIELD_NAMES[prop]
    if prop == "customImage":
        return _image_without_env(old).custom_image != _image_without_env(new).custom_image
    return bool(getattr(old, field) != getattr(new, field))
