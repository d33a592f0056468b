"""The desired endpoint, and the one mapping between our property names and the service's JSON.

Property names are the public contract (camelCase in Pulumi state, exactly as in
`schema.json`; snake_case in Python). Nothing else in the package builds or reads the JSON of an
endpoint: the provider asks this package for a validated spec, a create or update body, the
changes between two specs, and the spec and outputs an answer of the service describes.

- `vocabulary`: the service's words (`Literal` types and their values);
- `model`: `EndpointSpec`, one field per property, with the rules of single values;
- `validation`: checking Pulumi inputs, defaults, specs from inputs or state;
- `payloads`: create and update bodies, and the changes between two specs (diff);
- `live`: an answer of the service read back as a spec and as outputs.

Imports pydantic: the provider loads it on first use (`check`), never at import.
"""

from __future__ import annotations

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
from .validation import (
    REQUIRED_INPUTS,
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
