"""Helpers for the serving-layer tests: a running emulator and endpoints on it.

Every test goes through the real emulator app (control plane, endpoint proxy, serving
layer) on a loopback port; endpoints are created over its `/v2` API like a client would.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from hf_endpoints_emulator.testing import EmulatorHandle, run_emulator

FAST = {"pending_seconds": 0.0, "initializing_seconds": 0.05, "wake_seconds": 0.3}


def chat_prompt(question: str) -> str:
    """One user turn in SmolLM2's chat template, ready for the assistant's answer."""
    return f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


@contextmanager
def serving_emulator(backend: str = "synthetic", **overrides: Any) -> Iterator[EmulatorHandle]:
    with run_emulator(backend=backend, **{**FAST, **overrides}) as emu:
        yield emu


def create_endpoint(
    emu: EmulatorHandle,
    *,
    repository: str = "HuggingFaceTB/SmolLM2-135M-Instruct",
    task: str = "text-generation",
    env: Mapping[str, str] | None = None,
    kind: str = "authenticated",
    min_replica: int = 1,
    scale_to_zero_timeout: int | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    """Create an endpoint over `/v2` and (by default) wait until it runs; its JSON."""
    name = f"serving-{uuid.uuid4().hex[:8]}"
    image: dict[str, Any] = {"huggingface": {}}
    if env:
        image = {
            "custom": {
                "url": "ghcr.io/huggingface/text-generation-inference:3.3.7",
                "healthRoute": "/health",
                "env": dict(env),
            }
        }
    payload = {
        "compute": {
            "accelerator": "cpu",
            "instanceSize": "x2",
            "instanceType": "intel-spr",
            "scaling": {
                "maxReplica": 1,
                "minReplica": min_replica,
                "scaleToZeroTimeout": scale_to_zero_timeout,
            },
        },
        "model": {
            "framework": "pytorch",
            "repository": repository,
            "revision": None,
            "image": image,
            "task": task,
            **({"env": dict(env)} if env else {}),
        },
        "name": name,
        "provider": {"region": "us-east-1", "vendor": "aws"},
        "type": kind,
    }
    r = httpx.post(f"{emu.api_url}/endpoint/{emu.user}", json=payload, headers=emu.headers)
    assert r.status_code in (200, 202), r.text
    if not wait:
        return dict(r.json())
    return wait_running(emu, name)


def wait_running(emu: EmulatorHandle, name: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(f"{emu.api_url}/endpoint/{emu.user}/{name}", headers=emu.headers)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        if body["status"]["state"] == "running":
            return body
        assert time.monotonic() < deadline, body["status"]
        time.sleep(0.02)


def sse_payloads(text: str) -> list[Any]:
    """The JSON payloads of an SSE body (comments and `[DONE]` skipped)."""
    import json

    out = []
    for block in text.split("\n\n"):
        if block.startswith("data: ") and block != "data: [DONE]":
            out.append(json.loads(block[len("data: ") :]))
    return out


def serving_factory(**options: Any) -> Any:
    """A `serving_factory` for `run_emulator`: the real layer with some options changed."""
    import dataclasses

    from hf_endpoints_emulator.serving import ServingOptions, TgiServingLayer

    def factory(config: Any) -> TgiServingLayer:
        return TgiServingLayer(dataclasses.replace(ServingOptions.from_config(config), **options))

    return factory


def layer_of(emu: EmulatorHandle) -> Any:
    """The serving layer inside a running in-process emulator (for its counters)."""
    return emu.app.state.emulator.serving


def metric(text: str, name: str) -> float:
    """The value of the first sample of `name` in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head = line.split(" ")[0]
            if head == name or head.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)
