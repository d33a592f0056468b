"""Where the property names and their roles were before they moved into `spec/` (0.3 and
earlier): kept so that code importing `pulumi_hf_endpoints.properties` goes on working.
The roles are generated from schema.json into `spec/properties.py`."""

from __future__ import annotations

from .names import to_camel, to_snake
from .spec.properties import (
    INPUTS,
    OUTPUT_ONLY,
    REPLACE_ON_CHANGES,
    REQUIRED_INPUTS,
    SECRET_PROPERTIES,
)
from .spec.vocabulary import LEGACY_TYPES, NAME_MAX_LENGTH

PRICE_PER_HOUR = "pricePerHour"

__all__ = [
    "INPUTS",
    "LEGACY_TYPES",
    "NAME_MAX_LENGTH",
    "OUTPUT_ONLY",
    "PRICE_PER_HOUR",
    "REPLACE_ON_CHANGES",
    "REQUIRED_INPUTS",
    "SECRET_PROPERTIES",
    "to_camel",
    "to_snake",
]
