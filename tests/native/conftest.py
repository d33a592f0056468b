"""The native provider plugin (`python -m pulumi_hf_endpoints.native`), started and called over
gRPC as the engine does, against an in-process emulator; a stand-in engine records the log
messages (status lines) the plugin sends it."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.demo._engine.wire import from_struct, to_struct
from tests.harness import ProviderHost

TYPE = "hf-endpoints:index:InferenceEndpoint"
GPT2 = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "instanceType": "intel-spr",
    "instanceSize": "x1",
}


def urn(name: str, *, stack: str = "dev", project: str = "proj") -> str:
    return f"urn:pulumi:{stack}::{project}::{TYPE}::{name}"


def live(emulator: EmulatorHandle, name: str) -> dict[str, Any] | None:
    """The endpoint as the service holds it, or None."""
    response = httpx.get(
        f"{emulator.api_url}/endpoint/{emulator.user}/{name}", headers=emulator.headers, timeout=30
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def wait_until_created(emulator: EmulatorHandle, name: str) -> None:
    """Poll until the service holds the endpoint (a create in flight has been received)."""
    for _ in range(600):
        if live(emulator, name) is not None:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} was never created")


class RecordingEngine(engine_pb2_grpc.EngineServicer):
    """The engine's Log service, keeping what it is sent."""

    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []
        self.lock = threading.Lock()

    def Log(self, request: engine_pb2.LogRequest, context: Any) -> empty_pb2.Empty:
        with self.lock:
            self.logs.append(request)
        return empty_pb2.Empty()

    def statuses(self, urn_: str) -> list[str]:
        with self.lock:
            return [log.message for log in self.logs if log.urn == urn_ and log.ephemeral]


class NativeHost(ProviderHost):
    """The plugin process, and a raw stub to it for the fields the engine model's calls leave
    out (detailedDiff, timeouts, error details)."""

    def __init__(self, engine_address: str, **options: Any) -> None:
        command = [sys.executable, "-u", "-m", "pulumi_hf_endpoints.native", engine_address]
        super().__init__(command=command, **options)

    @property
    def stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        assert self._stub is not None
        return self._stub

    def configure_native(self, args: Mapping[str, Any]) -> None:
        self.stub.Configure(provider_pb2.ConfigureRequest(args=to_struct(args)), timeout=60)

    def check(  # type: ignore[override]
        self, name: str, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None
    ) -> provider_pb2.CheckResponse:
        request = provider_pb2.CheckRequest(
            urn=urn(name), name=name, type=TYPE, olds=to_struct(olds or {}), news=to_struct(news)
        )
        response: provider_pb2.CheckResponse = self.stub.Check(request, timeout=60)
        return response

    def checked(
        self, name: str, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = self.check(name, news, olds)
        assert not response.failures, response.failures
        return from_struct(response.inputs)

    def diff_raw(
        self,
        name: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> provider_pb2.DiffResponse:
        request = provider_pb2.DiffRequest(
            id="x/y",
            urn=urn(name),
            name=name,
            type=TYPE,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs) if old_inputs is not None else None,
        )
        response: provider_pb2.DiffResponse = self.stub.Diff(request, timeout=60)
        return response

    def create_raw(
        self, name: str, props: Mapping[str, Any], timeout: float = 0
    ) -> provider_pb2.CreateResponse:
        request = provider_pb2.CreateRequest(
            urn=urn(name), name=name, type=TYPE, properties=to_struct(props), timeout=timeout
        )
        response: provider_pb2.CreateResponse = self.stub.Create(request, timeout=120)
        return response


@pytest.fixture
def engine() -> Iterator[tuple[RecordingEngine, str]]:
    recorder = RecordingEngine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    engine_pb2_grpc.add_EngineServicer_to_server(recorder, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield recorder, f"127.0.0.1:{port}"
    server.stop(grace=None)


@pytest.fixture
def native(emulator: EmulatorHandle, engine: tuple[RecordingEngine, str]) -> Iterator[NativeHost]:
    """The plugin, configured with the emulator's URL and token as provider arguments."""
    with NativeHost(engine[1], env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}) as host:
        host.configure_native({"apiUrl": emulator.api_url, "token": emulator.token})
        yield host


@pytest.fixture
def make_native(engine: tuple[RecordingEngine, str]) -> Iterator[Callable[..., NativeHost]]:
    made: list[NativeHost] = []

    def make(**env: str) -> NativeHost:
        host = NativeHost(engine[1], env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05", **env})
        made.append(host.start())  # type: ignore[arg-type]
        return host

    yield make
    for host in made:
        host.close()
