"""Fixtures for driving InferenceEndpoint through Pulumi's real provider host."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_hf_endpoints import InferenceEndpoint
from tests.harness import ProviderHost, RegisteredResource, capture_program


class CountingServer:
    """A local HTTP server that answers 503 to everything and counts what it was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                counter.requests.append(f"{self.command} {self.path}")
                self.send_response(503)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


@pytest.fixture
def offline_host(counting_server: CountingServer) -> Iterator[ProviderHost]:
    """A provider host whose every network route leads to the counting server."""
    env = {
        "HF_ENDPOINTS_API_URL": f"{counting_server.url}/v2",
        "HF_TOKEN": "hf_offline_token_for_tests",
    }
    with ProviderHost(env=env) as host:
        host.configure({"huggingface:apiUrl": f"{counting_server.url}/v2"})
        yield host


def declare(
    logical_name: str = "chat", *, preview: bool = False, **kwargs: Any
) -> RegisteredResource:
    """What a program declaring one InferenceEndpoint registers (inputs incl. __provider)."""

    def program() -> None:
        InferenceEndpoint(logical_name, **kwargs)

    resources = capture_program(program, preview=preview)
    assert len(resources) == 1
    return resources[0]


@pytest.fixture
def declare_endpoint() -> Callable[..., RegisteredResource]:
    return declare


@pytest.fixture
def live_host(emulator: Any) -> Iterator[ProviderHost]:
    """A provider host configured, as a stack would be, to manage endpoints on the emulator.

    The token reaches the provider through stack config only (as `pulumi config set --secret
    huggingface:token` does); polling is fast because the emulator's phases are.
    """
    env = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}
    with ProviderHost(env=env) as host:
        host.configure(
            {"huggingface:token": emulator.token, "huggingface:apiUrl": emulator.api_url},
            secret_keys=["huggingface:token"],
        )
        yield host
