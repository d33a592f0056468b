"""The live endpoint, as the service describes it, read back as a spec (for refresh and drift)
and as the resource's computed outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import ownership
from ..client.models import Endpoint, EndpointRoute
from .model import CustomImage, EndpointSpec, PrivateService, RegistryCredentials
from .vocabulary import (
    COMMIT_SHA_PATTERN,
    DEFAULT_REVISION,
    DEFAULT_SCALE_TO_ZERO_TIMEOUT,
    DEFAULT_SCALING_MEASURE,
    DEFAULT_WAIT_TIMEOUT,
    FRAMEWORKS,
    IMAGE_ENGINES,
    LEGACY_TYPES,
)

_IMAGE_KEYS = {
    "url",
    "healthRoute",
    "port",
    "credentials",
    "tensorParallelSize",
    "dataParallelSize",
}


def _image_from_api(image: Mapping[str, Any], prior: CustomImage | None) -> CustomImage | None:
    """Map `model.image` back to our customImage; write-only credentials come from `prior`.

    The default image (`huggingface` with no settings) is no customImage unless the program
    wrote it as one. A variant this version does not know is kept as the service spells it,
    so that a refresh or an adoption never rewrites the endpoint's image.
    """
    if not image:
        return None
    engine, body = next(iter(image.items()))
    if not isinstance(body, Mapping):
        return None
    if engine == "huggingface" and not body and (prior is None or prior.engine != engine):
        return None
    options = {k: v for k, v in body.items() if k not in _IMAGE_KEYS}
    credentials = None
    if prior is not None and prior.credentials is not None:
        credentials = prior.credentials
    elif isinstance(body.get("credentials"), Mapping) and body["credentials"].get("username"):
        credentials = RegistryCredentials(username=str(body["credentials"]["username"]))
    read = CustomImage.model_construct(
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
    if engine not in IMAGE_ENGINES:
        read = read.model_copy(update={"engine": engine})
    return read


def _secrets_from_api(info: Endpoint, prior: EndpointSpec | None) -> dict[str, str] | None:
    """`model.secrets` by key: the service never gives the values back (they are null, or
    redacted), so each is the prior value of its key. An answer without the key says nothing,
    and the prior secrets stand."""
    model = info.raw.get("model")
    known = prior.secrets if prior is not None else None
    if not isinstance(model, Mapping) or "secrets" not in model:
        return known
    live = model.get("secrets") or {}
    if live:
        return {key: (known or {}).get(key, "") for key in live}
    return {} if known is not None else None


def _revision_from_api(live: str | None, prior: EndpointSpec | None) -> str | None:
    """The revision, or unset when the program set none and the service reports its default
    (`main`, or the commit it resolved that to, as huggingface_hub's fixtures show)."""
    unset = prior is not None and prior.revision is None
    if unset and live is not None and (live == DEFAULT_REVISION or COMMIT_SHA_PATTERN.match(live)):
        return None
    return live


def _timeout_from_api(live: int | None, min_replica: int, prior: EndpointSpec | None) -> int | None:
    """The scale-to-zero timeout, or unset when the program set none and the value is inert
    (minReplica 1 or more) or the service's default."""
    if prior is None or prior.scale_to_zero_timeout is not None or live is None:
        return live
    if min_replica >= 1 or live == DEFAULT_SCALE_TO_ZERO_TIMEOUT:
        return None
    return live


def _private_service_from_api(
    info: Endpoint, prior: PrivateService | None
) -> PrivateService | None:
    """`privateService` as the service reports it. What it leaves out is taken from `prior`:
    the whole object for a private endpoint (an answer may omit it), the region (older
    answers carry only `accountId` and `shared`)."""
    live = info.private_service
    if live is None or not live.account_id:
        return prior if info.type == "private" else None
    # As reported, even outside today's vocabulary: a new entry point is not a reason to fail.
    region: Any = live.region or (prior.region if prior is not None else None)
    return PrivateService.model_construct(
        account_id=live.account_id, region=region, shared=bool(live.shared)
    )


def spec_from_api(
    info: Endpoint, namespace: str, prior: EndpointSpec | None = None
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
    secrets = _secrets_from_api(info, prior)
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
    route = info.route or EndpointRoute()
    values: dict[str, Any] = {
        "name": info.name,
        "namespace": namespace,
        "repository": info.model.repository,
        "revision": _revision_from_api(info.model.revision, prior),
        "framework": info.model.framework if info.model.framework in FRAMEWORKS else None,
        "task": info.model.task,
        "accelerator": info.compute.accelerator,
        "vendor": info.provider.vendor,
        "region": info.provider.region,
        "type": LEGACY_TYPES.get(info.type, info.type),
        "private_service": _private_service_from_api(
            info, prior.private_service if prior is not None else None
        ),
        "instance_size": info.compute.instance_size,
        "instance_type": info.compute.instance_type,
        "min_replica": scaling.min_replica,
        "max_replica": scaling.max_replica,
        "scale_to_zero_timeout": _timeout_from_api(
            scaling.scale_to_zero_timeout, scaling.min_replica, prior
        ),
        "scaling_metric": metric,
        "scaling_threshold": threshold,
        "custom_image": custom_image,
        "container_command": _live_list(
            info.model.command, prior.container_command if prior else None
        ),
        "container_args": _live_list(info.model.args, prior.container_args if prior else None),
        "env": env,
        "secrets": secrets,
        # The ownership marker is the provider's, never the user's (ownership.py).
        "tags": _live_list(ownership.split(info.tags)[0], prior.tags if prior else None),
        "domain": route.domain,
        "path": route.path,
        # `false` is the service's default: it reads as unset unless the program set it.
        "cache_http_responses": True
        if info.caches_http_responses
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


def status_outputs(info: Endpoint) -> dict[str, Any]:
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
        "privateServiceName": status.private_service_name,
    }
    return {key: value for key, value in outputs.items() if value is not None}
