"""The functions of schema.json, invoked through the native provider: the same lookups as the
Python program's `get_hardware` and `list_endpoints`, with the provider's client and settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..names import to_camel, to_snake

if TYPE_CHECKING:
    from ..client import ApiConfig, EndpointsApi

GET_HARDWARE = "hf-endpoints:index:getHardware"
LIST_ENDPOINTS = "hf-endpoints:index:listEndpoints"


def _as_outputs(value: Any) -> Any:
    """A result record as the schema's outputs: camelCase keys, lists, no unset values."""
    from ..client.models import Record

    if isinstance(value, Record):
        return {to_camel(k): _as_outputs(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_as_outputs(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _as_outputs(v) for k, v in value.items()}
    return value


def _get_hardware(api: EndpointsApi, config: ApiConfig, args: Mapping[str, Any]) -> Any:
    from ..functions import find_hardware

    return find_hardware(api, config, **args)


def _list_endpoints(api: EndpointsApi, config: ApiConfig, args: Mapping[str, Any]) -> Any:
    from ..functions import find_endpoints

    return find_endpoints(api, config, **args)


FUNCTIONS: dict[str, Callable[[EndpointsApi, ApiConfig, Mapping[str, Any]], Any]] = {
    GET_HARDWARE: _get_hardware,
    LIST_ENDPOINTS: _list_endpoints,
}


def invoke(
    token: str, api: EndpointsApi, config: ApiConfig, args: Mapping[str, Any]
) -> dict[str, Any]:
    """Run the function `token` with its schema arguments; KeyError for an unknown token,
    TypeError for an argument it does not take."""
    function = FUNCTIONS[token]
    result = function(api, config, {to_snake(k): v for k, v in args.items()})
    outputs = _as_outputs(result)
    assert isinstance(outputs, dict)
    return outputs
