"""The desired endpoint, and the one mapping between our property names and the service's JSON.

Property names are the public contract (camelCase in Pulumi state, exactly as in
`schema.json`; snake_case in Python). Nothing else in the package builds or reads the JSON of an
endpoint: the provider asks this package for a validated spec, a create or update body, the
changes between two specs, and the spec and outputs an answer of the service describes.

- `vocabulary`: the service's words (`Literal` types and their values);
- `model`: `EndpointSpec`, one field per property, with the rules of single values;
- `validation`: checking Pulumi inputs, defaults, specs from inputs or state;
- `payloads`: create and update bodies, and the changes between two specs (diff);
- `live`: an answer of the service read back as a spec and as outputs;
- `properties`: the property names and their roles, generated from schema.json.

The names below load on first use: `properties` and `vocabulary` are free of pydantic, so a
program (and a provider process until its first check) imports them without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .live import spec_from_api, status_outputs
    from .model import (
        FIELD_NAMES,
        PROPERTY_NAMES,
        CustomImage,
        EndpointSpec,
        PrivateService,
        RegistryCredentials,
    )
    from .payloads import (
        changed_properties,
        create_payload,
        image_payload,
        private_service_payload,
        update_payload,
    )
    from .properties import REQUIRED_INPUTS
    from .validation import (
        Failure,
        SpecError,
        spec_from_properties,
        spec_from_state,
        validate_inputs,
    )
    from .vocabulary import (
        ACCELERATORS,
        DEFAULT_WAIT_TIMEOUT,
        ENDPOINT_TYPES,
        FAILED_STATES,
        FRAMEWORKS,
        IMAGE_ENGINES,
        PRIVATE_LINK_REGIONS,
        SCALING_METRICS,
        STATES,
        VENDORS,
    )

__all__ = [
    "ACCELERATORS",
    "DEFAULT_WAIT_TIMEOUT",
    "ENDPOINT_TYPES",
    "FAILED_STATES",
    "FIELD_NAMES",
    "FRAMEWORKS",
    "IMAGE_ENGINES",
    "PRIVATE_LINK_REGIONS",
    "PROPERTY_NAMES",
    "REQUIRED_INPUTS",
    "SCALING_METRICS",
    "STATES",
    "VENDORS",
    "CustomImage",
    "EndpointSpec",
    "Failure",
    "PrivateService",
    "RegistryCredentials",
    "SpecError",
    "changed_properties",
    "create_payload",
    "image_payload",
    "private_service_payload",
    "spec_from_api",
    "spec_from_properties",
    "spec_from_state",
    "status_outputs",
    "update_payload",
    "validate_inputs",
]

_LAZY = {
    "ACCELERATORS": ".vocabulary",
    "DEFAULT_WAIT_TIMEOUT": ".vocabulary",
    "ENDPOINT_TYPES": ".vocabulary",
    "FAILED_STATES": ".vocabulary",
    "FIELD_NAMES": ".model",
    "FRAMEWORKS": ".vocabulary",
    "IMAGE_ENGINES": ".vocabulary",
    "PRIVATE_LINK_REGIONS": ".vocabulary",
    "PROPERTY_NAMES": ".model",
    "REQUIRED_INPUTS": ".properties",
    "SCALING_METRICS": ".vocabulary",
    "STATES": ".vocabulary",
    "VENDORS": ".vocabulary",
    "CustomImage": ".model",
    "EndpointSpec": ".model",
    "Failure": ".validation",
    "PrivateService": ".model",
    "RegistryCredentials": ".model",
    "SpecError": ".validation",
    "changed_properties": ".payloads",
    "create_payload": ".payloads",
    "image_payload": ".payloads",
    "private_service_payload": ".payloads",
    "spec_from_api": ".live",
    "spec_from_properties": ".validation",
    "spec_from_state": ".validation",
    "status_outputs": ".live",
    "update_payload": ".payloads",
    "validate_inputs": ".validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
