"""Helpers for the emulator's tests: request bodies, an HTTP client per namespace, state polling."""

from __future__ import annotations

import time
from typing import Any

from hf_endpoints_emulator.testing import EmulatorAccess, loopback_client

PRIVATE_LINK_ACCOUNT = "123456789012"
"""The AWS account of the private endpoints the testkit creates."""


def endpoint_body(
    name: str,
    *,
    type: str = "public",
    min_replica: int = 1,
    max_replica: int = 2,
    scale_to_zero_timeout: int | None = None,
    **model: Any,
) -> dict[str, Any]:
    """A small valid create body (CPU, aws us-east-1); `model` keys override `model.*`. A
    private one names the AWS account allowed to connect, as the service requires."""
    body: dict[str, Any] = {
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
    if type == "private":
        body["privateService"] = {"accountId": PRIVATE_LINK_ACCOUNT}
    return body


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

    def transitions(self, name: str) -> list[tuple[str, float]]:
        """(state, epoch seconds) of every state the endpoint entered, from the emulator's own
        record: it cannot miss a phase, however short, as polling the status can."""
        return [
            (t["state"], t["epoch"]) for t in self.emulator.faults.transitions(self.namespace, name)
        ]

    def mark(self, name: str) -> int:
        """How many transitions the endpoint has made so far: pass as `watch(since=...)` to see
        only what an action taken after this call set in motion."""
        return len(self.transitions(name))

    def watch(self, name: str, until: str, *, since: int = 0, timeout: float = 30) -> list[str]:
        """Wait until the endpoint has entered `until` (after its first `since` transitions);
        the distinct states it went through, in order, ending with `until`."""
        deadline = time.monotonic() + timeout
        while True:
            states = [state for state, _ in self.transitions(name)][since:]
            if until in states:
                return distinct(states[: states.index(until) + 1])
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} never reached {until}: {distinct(states)}")
            time.sleep(0.02)


def distinct(states: list[str]) -> list[str]:
    """`states` with consecutive repeats collapsed (a restarted phase counts once)."""
    return [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
