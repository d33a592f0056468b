"""Fixtures for the generation-helper tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.inference import _common


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may see the developer's token or URLs."""
    for var in (
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_TOKEN_PATH",
        "HF_ENDPOINT",
        "HF_ENDPOINTS_API_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf-empty"))


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds instead of seconds."""
    monkeypatch.setattr(_common, "BACKOFF_BASE", 0.002)
    monkeypatch.setattr(_common, "BACKOFF_CAP", 0.01)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Emu:
    """A running emulator (synthetic backend) and the endpoint the tests call."""

    handle: Any
    api: Any
    namespace: str
    url: str
    token: str

    def scale_to_zero(self, name: str) -> None:
        """`POST .../scale-to-zero` (a route the provider never needs, so its client lacks it)."""
        response = httpx.post(
            f"{self.handle.api_url}/endpoint/{self.namespace}/{name}/scale-to-zero",
            headers=self.handle.headers,
        )
        response.raise_for_status()

    def traffic(self, url: str | None = None) -> dict[str, Any]:
        target = url or self.url
        for endpoint in self.handle.faults.state()["endpoints"]:
            if endpoint["url"] == target:
                result: dict[str, Any] = endpoint
                return result
        raise AssertionError(f"no endpoint at {target}")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emu]:
    from hf_endpoints_emulator.testing import run_emulator
    from pulumi_hf_endpoints.client.api import EndpointsApi
    from tests.inference.inference_testkit import deploy

    with run_emulator(
        backend="synthetic",
        pending_seconds=0.05,
        initializing_seconds=0.05,
        resume_seconds=0.1,
        wake_seconds=0.5,
    ) as handle:
        api = EndpointsApi(handle.token, api_url=handle.api_url)
        endpoint = deploy(api, handle.user, "helpers")
        yield Emu(handle, api, handle.user, endpoint["status"]["url"], handle.token)
        api.close()
