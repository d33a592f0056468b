"""Fixtures for the control-plane client tests: a scripted httpx.MockTransport and a clean env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.api.api_testkit import TOKEN, Script, Sleeps


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may see the developer's token, URLs or Hub settings."""
    for var in (
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_TOKEN_PATH",
        "HF_HOME",
        "XDG_CACHE_HOME",
        "HF_ENDPOINT",
        "HF_ENDPOINTS_API_URL",
        "HF_ENDPOINTS_CATALOG_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf-empty"))


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_api(script: Script, sleeps: Sleeps) -> Iterator[Callable[..., EndpointsApi]]:
    """Build clients on the scripted transport, with the test token and recorded sleeps."""
    made: list[EndpointsApi] = []

    def factory(**options: Any) -> EndpointsApi:
        options.setdefault("transport", httpx.MockTransport(script))
        options.setdefault("sleep", sleeps)
        token = options.pop("token", TOKEN)
        api = EndpointsApi(token, **options)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()


@pytest.fixture
def api(make_api: Callable[..., EndpointsApi]) -> EndpointsApi:
    return make_api()
