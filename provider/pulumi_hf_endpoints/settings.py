"""The stack settings (`huggingface:*`) the provider and the program functions read, and how
their values are checked.

Pulumi hands a dynamic provider every config value as a string; the numeric settings are parsed
here so that a typo is reported by key, with the allowed range, instead of being ignored. The
provider (`configure`) and the functions that run in the program (`get_hardware`...) resolve
the connection here, so that both find the same server, namespace and token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client.config import ApiConfig

TOKEN = "huggingface:token"
API_URL = "huggingface:apiUrl"
NAMESPACE = "huggingface:namespace"
HOST_WORKERS = "huggingface:hostWorkers"
REQUEST_TIMEOUT = "huggingface:requestTimeout"
MAX_RETRIES = "huggingface:maxRetries"

REQUEST_TIMEOUT_RANGE = (1.0, 3600.0)
MAX_RETRIES_RANGE = (0, 20)

CONNECTION = (TOKEN, API_URL, NAMESPACE)
"""The settings that say where and as whom to call."""
CLIENT = (REQUEST_TIMEOUT, MAX_RETRIES)
"""The settings of the client's behaviour (see `ClientSettings`)."""
STACK_CONFIG_TOKEN = "the stack config `huggingface:token`"
NATIVE_CONFIG_TOKEN = "the provider's `token` (the stack config `hf-endpoints:token`)"


class SettingError(ValueError):
    """A stack setting has a value the provider cannot use; the message names it."""


@dataclass(frozen=True)
class ClientSettings:
    """How the control-plane client behaves; `None` keeps the client's own default."""

    request_timeout: float | None = None
    max_retries: int | None = None

    def options(self) -> dict[str, Any]:
        """Keyword arguments for `EndpointsApi`."""
        options: dict[str, Any] = {}
        if self.request_timeout is not None:
            options["timeout"] = self.request_timeout
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        return options


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(config: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = config.get(key)
    if _blank(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not (low <= number <= high):  # also rejects NaN
        raise SettingError(
            f"{key} must be a number of seconds from {low:g} to {high:g}, got {value!r}"
        )
    return number


def _whole(config: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = config.get(key)
    if _blank(value):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not (low <= number <= high):
        raise SettingError(f"{key} must be a whole number from {low} to {high}, got {value!r}")
    return number


def client_settings(config: Mapping[str, Any]) -> ClientSettings:
    """The client settings of a stack's config; raises SettingError naming a bad value."""
    return ClientSettings(
        request_timeout=_number(config, REQUEST_TIMEOUT, *REQUEST_TIMEOUT_RANGE),
        max_retries=_whole(config, MAX_RETRIES, *MAX_RETRIES_RANGE),
    )


def connection(config: Mapping[str, Any]) -> dict[str, str]:
    """The connection settings `config` sets (`CONNECTION` keys), stripped; blank ones left out."""
    values = {}
    for key in CONNECTION:
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            values[key] = value.strip()
    return values


def api_config(values: Mapping[str, str], token_source: str = STACK_CONFIG_TOKEN) -> ApiConfig:
    """Where and as whom to call: the stack's settings (`connection()`) first, then the
    environment (`HF_ENDPOINTS_API_URL`, `HF_TOKEN`...), then the token file of `hf auth login`.
    `token_source` names where a token in `values` was set, for messages."""
    from .client.config import ApiConfig

    return ApiConfig.resolve(
        token=values.get(TOKEN),
        token_source=token_source,
        api_url=values.get(API_URL),
        namespace=values.get(NAMESPACE),
    )
