"""The service's JSON for a desired endpoint: the create body, the partial update body, and the
changes between two specs. `diff` and `update` read the same table of update groups, so a plan
and the request it leads to cannot disagree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .model import FIELD_NAMES, CustomImage, EndpointSpec, PrivateService
from .properties import REPLACE_ON_CHANGES, REQUIRED_INPUTS
from .validation import Failure, SpecError
from .vocabulary import (
    DEFAULT_MAX_REPLICA,
    DEFAULT_MIN_REPLICA,
    DEFAULT_REVISION,
    DEFAULT_SCALE_TO_ZERO_TIMEOUT,
    DEFAULT_SCALING_MEASURE,
    DEFAULT_TYPE,
)

#: Where each input property goes in the service's JSON: its path in the create body (the
#: update groups below place it at the same path), "url" for the namespace (a part of the route,
#: `/v2/endpoint/{namespace}`), or "provider" for the inputs that steer the provider and are never
#: sent. tests/spec/test_surface.py checks that this covers schema.json's inputs exactly and that
#: each body path really carries its property.
PAYLOAD_PATHS: dict[str, tuple[str, ...] | Literal["url", "provider"]] = {
    "name": ("name",),
    "namespace": "url",
    "repository": ("model", "repository"),
    "revision": ("model", "revision"),
    "framework": ("model", "framework"),
    "task": ("model", "task"),
    "accelerator": ("compute", "accelerator"),
    "vendor": ("provider", "vendor"),
    "region": ("provider", "region"),
    "type": ("type",),
    "privateService": ("privateService",),
    "instanceSize": ("compute", "instanceSize"),
    "instanceType": ("compute", "instanceType"),
    "minReplica": ("compute", "scaling", "minReplica"),
    "maxReplica": ("compute", "scaling", "maxReplica"),
    "scaleToZeroTimeout": ("compute", "scaling", "scaleToZeroTimeout"),
    "scalingMetric": ("compute", "scaling", "measure"),
    "scalingThreshold": ("compute", "scaling", "measure"),
    "customImage": ("model", "image"),
    "containerCommand": ("model", "command"),
    "containerArgs": ("model", "args"),
    "env": ("model", "env"),
    "secrets": ("model", "secrets"),
    "tags": ("tags",),
    "domain": ("route", "domain"),
    "path": ("route", "path"),
    "cacheHttpResponses": ("cacheHttpResponses",),
    "paused": "provider",
    "wait": "provider",
    "waitTimeout": "provider",
    "adoptExisting": "provider",
}
PROVIDER_ONLY: tuple[str, ...] = tuple(k for k, v in PAYLOAD_PATHS.items() if v == "provider")
"""Inputs that steer the provider (lifecycle and waiting) and never reach the service."""


def image_payload(image: CustomImage | None) -> dict[str, Any]:
    """`model.image`: a union keyed by engine; every engine but the managed ones requires
    `url`, which validation has checked."""
    if image is None:
        return {"huggingface": {}}
    body: dict[str, Any] = dict(image.options or {})
    if image.url is not None:
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
    # huggingface_hub's create always sends the timeout, null when unset.
    scaling: dict[str, Any] = {
        **_replicas(spec),
        "scaleToZeroTimeout": spec.scale_to_zero_timeout,
    }
    if spec.scaling_metric is not None:
        scaling["measure"] = {spec.scaling_metric: spec.scaling_threshold}
    return scaling


def _replicas(spec: EndpointSpec) -> dict[str, int]:
    """The replica bounds, the schema's defaults for those unset (check fills them in; a
    spec read from older state may lack them)."""
    return {
        "minReplica": spec.min_replica if spec.min_replica is not None else DEFAULT_MIN_REPLICA,
        "maxReplica": spec.max_replica if spec.max_replica is not None else DEFAULT_MAX_REPLICA,
    }


def _route_payload(spec: EndpointSpec) -> dict[str, Any]:
    route: dict[str, Any] = {}
    if spec.domain is not None:
        route["domain"] = spec.domain
    if spec.path is not None:
        route["path"] = spec.path
    return route


# --- clearing what the program no longer sets ----------------------------------------------
#
# A partial PUT changes only what it names, and a key sent as `null` is, as far as any public
# source shows, the same as a key left out (the service's own client never sends one in an
# update; the API schema marks update fields as optional, which its Rust stack reads as "absent").
# So a property removed from the program is sent as the value that means "unset", in the form
# huggingface_hub uses where it has one (docs/service-api.md gives the evidence for each):
# - `env: {}`, `secrets: {}`, `command: []`, `args: []`, `tags: []`: huggingface_hub sends an
#   emptied map or list as it is, and the service replaces these whole;
# - `cacheHttpResponses: false`, the service's default;
# - `compute.scaling.measure: {"hardwareUsage": null}`, what the service reports when no metric
#   was chosen (huggingface_hub sends `{metric: null}` for a metric without a threshold);
# - `revision: "main"`, the default the API schema names ("defaults to latest main");
# - `scaleToZeroTimeout: 15` (the schema's default) while minReplica stays 0; with minReplica 1
#   or more the timeout does nothing and is left out, as huggingface_hub leaves it;
# - `route`: the whole route with only the keys still set (`{}` when none), the form the
#   service's guide gives for removing a nested object (`"customRouter": {}`).
# `task` cannot be unset (the service refuses `task: null`): a task removed from the program is
# left as the service has it.


def _scaling_fields(spec: EndpointSpec) -> dict[str, Any]:
    return {
        **_replicas(spec),
        "scaleToZeroTimeout": spec.scale_to_zero_timeout,
        "measure": (
            {spec.scaling_metric: spec.scaling_threshold}
            if spec.scaling_metric is not None
            else dict(DEFAULT_SCALING_MEASURE)
        ),
    }


def _scaling_update(old: EndpointSpec, new: EndpointSpec) -> dict[str, Any]:
    """`compute.scaling` with only the keys that change, as huggingface_hub sends it."""
    before, after = _scaling_fields(old), _scaling_fields(new)
    body = {k: after[k] for k in ("minReplica", "maxReplica", "measure") if before[k] != after[k]}
    timeout = after["scaleToZeroTimeout"]
    if timeout is not None:
        if timeout != before["scaleToZeroTimeout"]:
            body["scaleToZeroTimeout"] = timeout
    elif after["minReplica"] == 0 and (
        before["scaleToZeroTimeout"] is not None or before["minReplica"] != 0
    ):
        # Unset with scale-to-zero on: the schema's default, so that no earlier value lingers.
        body["scaleToZeroTimeout"] = DEFAULT_SCALE_TO_ZERO_TIMEOUT
    return body


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
        "type": spec.type or DEFAULT_TYPE,
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
    # What the body carries for a change, when it is not `value(new)`: the changed keys only,
    # or the form that means "unset".
    sent: Callable[[EndpointSpec, EndpointSpec], Any] | None = None

    def changed(self, old: EndpointSpec, new: EndpointSpec) -> bool:
        after = self.value(new)
        if after is None and not self.clearable:
            return False
        return bool(self.value(old) != after)

    def body(self, old: EndpointSpec, new: EndpointSpec) -> Any:
        return self.sent(old, new) if self.sent is not None else self.value(new)


def _put(*path: str) -> Callable[[dict[str, Any], Any], None]:
    def place(payload: dict[str, Any], value: Any) -> None:
        target = payload
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value

    return place


def _put_nonempty(*path: str) -> Callable[[dict[str, Any], Any], None]:
    """Like _put, but leaves out an empty object (a change the service needs not hear of)."""
    inner = _put(*path)

    def place(payload: dict[str, Any], value: Any) -> None:
        if value:
            inner(payload, value)

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
        _scaling_fields,
        _put_nonempty("compute", "scaling"),
        sent=_scaling_update,
    ),
    _Group(("repository",), lambda s: s.repository, _put("model", "repository")),
    _Group(("framework",), lambda s: s.framework, _put("model", "framework")),
    _Group(
        ("revision",),
        lambda s: s.revision,
        _put("model", "revision"),
        sent=lambda _, new: new.revision if new.revision is not None else DEFAULT_REVISION,
    ),
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
    _Group(("domain", "path"), _route_payload, _put("route")),
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
    """The body of a partial `PUT`: only what differs, never a `null`.

    `env`, `secrets`, `args`, `command`, `image` and `route` replace their current values at
    the service, so each is sent complete when it changes (an emptied map or list is sent
    empty); scaling is sent key by key, as huggingface_hub sends it.
    """
    payload: dict[str, Any] = {}
    for group in _UPDATE_GROUPS:
        if group.changed(old, new):
            group.place(payload, group.body(old, new))
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
