"""The JSON the service answers for an endpoint (`EndpointWithStatus`).

Every key huggingface_hub reads with `[]` is always present, and no key the current API schema
(`EndpointWithStatus`) lacks: `cacheHttpResponses` is reported under `experimentalFeatures` only,
so a client reading it elsewhere fails against the emulator as it would against the service.
Secret values never come back: each key of `model.secrets` is kept with a `null` value (a Go
client generated from the service's schema types them as nullable strings). Registry
credentials come back as `{"username": "", "password": null}`, as the service answers it.
docs/service-api.md gives the evidence for each.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from .auth import user_id
from .lifecycle import Observation
from .store import EndpointRecord
from .validation import DEFAULT_MEASURE, health_route

REDACTED_SECRET = None
REDACTED_CREDENTIALS: dict[str, Any] = {"username": "", "password": None}


def timestamp(seconds: float) -> str:
    """RFC 3339 in UTC with milliseconds and a `Z` (huggingface_hub rejects offsets)."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def endpoint_url(base_url: str, endpoint_id: str) -> str:
    return f"{base_url}/endpoints/{endpoint_id}"


def redact_image(image: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for variant, settings in image.items():
        settings = dict(settings)
        if "credentials" in settings:
            settings["credentials"] = dict(REDACTED_CREDENTIALS)
        redacted[variant] = settings
    return redacted


def private_service_name(record: EndpointRecord) -> str:
    """The VPC endpoint service name of a private endpoint, stable for its life: derived from
    its id, or, when shared, from what it shares (namespace, account and region), so that the
    endpoints sharing a PrivateLink report the same service."""
    private = record.config["privateService"]
    region = private.get("region") or record.config["provider"]["region"]
    if private.get("shared"):
        seed = f"{record.namespace}/{private['accountId']}/{region}"
    else:
        seed = record.id
    suffix = hashlib.sha256(seed.encode()).hexdigest()[:17]
    return f"com.amazonaws.vpce.{region}.vpce-svc-{suffix}"


def _user(name: str) -> dict[str, str]:
    return {"id": user_id(name), "name": name}


def render(
    record: EndpointRecord, observed: Observation, base_url: str, *, deployed: bool = True
) -> dict[str, Any]:
    """The endpoint's JSON. `deployed`: it has run at least once, so a private endpoint's VPC
    endpoint service exists and `status.private.serviceName` is reported."""
    config = record.config
    model = config["model"]
    compute = config["compute"]
    scaling = compute["scaling"]
    provider = config["provider"]
    scaling_doc: dict[str, Any] = {
        "minReplica": scaling["minReplica"],
        "maxReplica": scaling["maxReplica"],
        "scaleToZeroTimeout": scaling.get("scaleToZeroTimeout"),
    }
    # With no metric chosen the service reports its default, hardware usage at the default
    # threshold (as in huggingface_hub's fixture of a catalog deployment).
    measure = scaling.get("measure") or dict(DEFAULT_MEASURE)
    scaling_doc["metric"] = next(iter(measure))
    scaling_doc["measure"] = measure
    cache = bool(config.get("cacheHttpResponses", False))
    private = None
    if config["type"] == "private" and deployed and config.get("privateService"):
        private = {"serviceName": private_service_name(record)}
    last_used = record.last_activity
    return {
        "name": record.name,
        "type": config["type"],
        "provider": {"vendor": provider["vendor"], "region": provider["region"]},
        "healthRoute": health_route(model["image"]),
        "compute": {
            "accelerator": compute["accelerator"],
            "id": "-".join(
                (
                    provider["vendor"],
                    provider["region"],
                    compute["instanceType"],
                    compute["instanceSize"],
                )
            ),
            "instanceType": compute["instanceType"],
            "instanceSize": compute["instanceSize"],
            "scaling": scaling_doc,
        },
        "model": {
            "repository": model["repository"],
            "revision": model.get("revision"),
            "task": model.get("task"),
            "framework": model["framework"],
            "image": redact_image(model["image"]),
            "env": dict(model.get("env") or {}),
            "secrets": {key: REDACTED_SECRET for key in model.get("secrets") or {}},
            "args": list(model.get("args") or []),
            "command": list(model.get("command") or []),
            "fromCatalog": bool(model.get("fromCatalog", False)),
        },
        "tags": list(config.get("tags") or []),
        "experimentalFeatures": {
            **(config.get("experimentalFeatures") or {}),
            "cacheHttpResponses": cache,
        },
        "notifications": config.get("notifications") or {},
        "route": config.get("route"),
        "network": config.get("network"),
        "privateService": config.get("privateService"),
        "status": {
            "state": observed.state,
            "message": observed.message,
            "url": endpoint_url(base_url, record.id),
            "readyReplica": observed.ready_replica,
            "targetReplica": observed.target_replica,
            "createdAt": timestamp(record.created_at),
            "createdBy": _user(record.created_by),
            "updatedAt": timestamp(max(record.updated_at, observed.since)),
            "updatedBy": _user(record.updated_by),
            "errorMessage": observed.error,
            "lastUsedAt": None if last_used is None else timestamp(last_used),
            "private": private,
        },
    }
