"""The control-plane client: `EndpointsApi` and what it needs.

- `api`: `EndpointsApi`, one method per route, answers as typed models;
- `models`: those models (`Endpoint`, `Account`, `HardwareList` and its flat `Hardware` rows),
  each answer keeping its JSON as `.raw`;
- `http`: sending a request as many times as it safely takes (retries, a create never twice);
- `logs`: an endpoint's logs (the range of a query, and `LogStream`, a followed log);
- `recovery`: whether an endpoint found after a lost create is the one it made;
- `config`: where and as whom to call (`ApiConfig`); `tokens`: finding the token;
- `errors`: the error tree; `messages`: what the service said, without secrets.

Public names load lazily: the provider process imports httpx and pydantic only when a call is
made, not on every `pulumi preview`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import EndpointsApi
    from .config import ApiConfig
    from .logs import LogStream
    from .models import Account, Endpoint, Hardware, HardwareList

__all__ = [
    "Account",
    "ApiConfig",
    "Endpoint",
    "EndpointsApi",
    "Hardware",
    "HardwareList",
    "LogStream",
]

_LAZY = {
    "EndpointsApi": ".api",
    "ApiConfig": ".config",
    "LogStream": ".logs",
    "Account": ".models",
    "Endpoint": ".models",
    "Hardware": ".models",
    "HardwareList": ".models",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
