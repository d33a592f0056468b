"""Helpers for the emulator's tests: request bodies, an HTTP client per namespace, state polling."""

from __future__ import annotations

import time
from typing import Any

from pulumi_hf_endpoints.emulator.testing import EmulatorAccess, loopback_client


def endpoint_body(
    name: str,
    *,
    type: str = "public",
    min_replica: int = 1,
    max_replica: int = 2,
    scale_to_zero_timeout: int | None = None,
    **model: Any,
) -> dict[str, Any]:
    """A small valid create body (CPU, aws us-east-1); `model` keys override `model.*`."""
    return {
        "name": name,
        "type": type,
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-spr",
            "instanceSize": "x1",
            "scaling": {
                "minReplica": min_replica,
                "maxReplica": max_replica,
                "scaleToZeroTimeout": scale_to_zero_timeout,
            },
        },
        "model": {
            "repository": "gpt2",
            "framework": "pytorch",
            "task": "text-generation",
            "image": {"huggingface": {}},
            **model,
        },
    }


class Endpoints:
    """The control plane of one namespace, as seen by one token."""

    def __init__(
        self, emulator: EmulatorAccess, namespace: str | None = None, token: str | None = None
    ) -> None:
        self.emulator = emulator
        self.namespace = namespace or emulator.user
        self.http = loopback_client(
            base_url=emulator.base_url,
            headers={"authorization": f"Bearer {token or emulator.token}"},
            timeout=30,
        )

    def close(self) -> None:
        self.http.close()

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"/v2/endpoint/{self.namespace}", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def get(self, name: str) -> dict[str, Any]:
        response = self.http.get(f"/v2/endpoint/{self.namespace}/{name}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def action(self, name: str, action: str) -> dict[str, Any]:
        response = self.http.post(f"/v2/endpoint/{self.namespace}/{name}/{action}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def update(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.put(f"/v2/endpoint/{self.namespace}/{name}", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def state(self, name: str) -> str:
        return str(self.get(name)["status"]["state"])

    def url(self, name: str) -> str:
        return str(self.get(name)["status"]["url"])

    def watch(self, name: str, until: str, timeout: float = 15) -> list[str]:
        """Poll until the endpoint reaches `until`; the distinct states seen, in order."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(name)
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == until:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"{name} never reached {until}: {seen}")
