"""The contract between the emulator's endpoint proxy and the serving layer behind it.

The proxy (control-plane side) owns auth, paused / scaled-to-zero behaviour and the health
route; every other request to a running endpoint's URL is handed to a `ServingLayer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True)
class ServedEndpoint:
    """What the serving layer needs to know about the endpoint a request is for."""

    namespace: str
    name: str
    repository: str
    framework: str
    task: str | None
    revision: str | None
    health_route: str
    image: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class ServingLayer(Protocol):
    """Serves the data-plane routes (`/`, `/generate`, `/info`, ...) of running endpoints."""

    async def startup(self) -> None:
        """Called once when the emulator app starts (load nothing heavy before first use)."""

    async def shutdown(self) -> None:
        """Called once when the emulator app stops."""

    async def handle(self, request: Request, path: str, endpoint: ServedEndpoint) -> Response:
        """Answer `request` for `endpoint`; `path` is the part after the endpoint's URL, with
        a leading slash (`"/"`, `"/generate"`, `"/v1/chat/completions"` ...)."""
        ...
