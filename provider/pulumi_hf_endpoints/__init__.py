"""Hugging Face Inference Endpoints as Pulumi resources, generation helpers and a local emulator.

Public names are loaded lazily so that `import pulumi_hf_endpoints.inference` does not pay for
the Pulumi SDK, and the Pulumi provider process imports only what it uses. The resource lives in
`resource`; the functions that read the service from a program (`get_hardware`,
`list_endpoints` and their `_output` forms) in `functions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .client.models import Hardware
    from .functions import (
        EndpointSummary,
        FunctionError,
        GetHardwareResult,
        ListEndpointsResult,
        get_hardware,
        get_hardware_output,
        list_endpoints,
        list_endpoints_output,
    )
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
    "EndpointSummary",
    "FunctionError",
    "GetHardwareResult",
    "Hardware",
    "InferenceEndpoint",
    "InferenceEndpointArgs",
    "ListEndpointsResult",
    "PrivateService",
    "PrivateServiceArgs",
    "RegistryCredentials",
    "RegistryCredentialsArgs",
    "__version__",
    "get_hardware",
    "get_hardware_output",
    "list_endpoints",
    "list_endpoints_output",
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
    "get_hardware": ".functions",
    "get_hardware_output": ".functions",
    "list_endpoints": ".functions",
    "list_endpoints_output": ".functions",
    "GetHardwareResult": ".functions",
    "ListEndpointsResult": ".functions",
    "EndpointSummary": ".functions",
    "FunctionError": ".functions",
    "Hardware": ".client.models",
}


def __dir__() -> list[str]:
    """The public names too, though they load on first use (`dir()`, completion)."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
