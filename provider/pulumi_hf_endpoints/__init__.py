"""Hugging Face Inference Endpoints as Pulumi resources, generation helpers and a local emulator.

Public names are loaded lazily so that `import pulumi_hf_endpoints.inference` does not pay for
the Pulumi SDK, and the Pulumi provider process imports only what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .resource import (
        CustomImage,
        CustomImageArgs,
        InferenceEndpoint,
        InferenceEndpointArgs,
        PrivateService,
        PrivateServiceArgs,
        RegistryCredentials,
        RegistryCredentialsArgs,
    )

__all__ = [
    "CustomImage",
    "CustomImageArgs",
    "InferenceEndpoint",
    "InferenceEndpointArgs",
    "PrivateService",
    "PrivateServiceArgs",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
    "__version__",
]

_LAZY = {
    "InferenceEndpoint": ".resource",
    "InferenceEndpointArgs": ".resource",
    "CustomImageArgs": ".resource",
    "PrivateServiceArgs": ".resource",
    "PrivateService": ".resource",
    "RegistryCredentialsArgs": ".resource",
    "CustomImage": ".resource",
    "RegistryCredentials": ".resource",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
