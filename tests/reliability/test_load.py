"""Load. 32 concurrent token streams (synthetic backend) and 50 endpoints'
full lifecycles at the same time against one emulator process: no errors, and the process's
memory (RSS) stays bounded from one round to the next.

`RELIABILITY_SCALE` multiplies the rounds (default: one warm-up round, then two measured).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorProcess, run_emulator_process
from pulumi_hf_endpoints import spec
from tests.reliability.support import BASE, FIGURES, scaled

pytestmark = pytest.mark.reliability

STREAMS = 32
LIFECYCLES = 50
TOKENS_PER_STREAM = 256
ROUNDS = scaled(2)
#: RSS the emulator may gain between the end of the warm-up round and the end of the last
#: round. A leak of one endpoint record or one stream buffer per request would exceed it.
RSS_GROWTH_LIMIT_MB = 32.0


def rss_mb(proc: EmulatorProcess) -> float:
    assert proc.process is not None
    with open(f"/proc/{proc.process.pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@dataclass
class Tally:
    errors: list[str] = field(default_factory=list)
    streams: int = 0
    tokens: int = 0
    lifecycles: int = 0
    requests: int = 0


async def one_stream(client: httpx.AsyncClient, url: str, index: int, tally: Tally) -> None:
    body = {
        "inputs": f"Stream number {index} says",
        "parameters": {
            "max_new_tokens": TOKENS_PER_STREAM,
            "do_sample": True,
            "seed": index,
            "details": True,
        },
    }
    tokens = 0
    final: dict[str, Any] | None = None
    try:
        async with client.stream("POST", f"{url}/generate_stream", json=body) as response:
            tally.requests += 1
            if response.status_code != 200:
                tally.errors.append(f"stream {index}: HTTP {response.status_code}")
                return
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                if "error" in event:
                    tally.errors.append(f"stream {index}: {event['error']}")
                    return
                tokens += 1
                if event.get("generated_text") is not None:
                    final = event
    except httpx.HTTPError as error:
        tally.errors.append(f"stream {index}: {type(error).__name__}: {error}")
        return
    if final is None or tokens != TOKENS_PER_STREAM:
        tally.errors.append(f"stream {index}: {tokens} events, final={final is not None}")
        return
    tally.streams += 1
    tally.tokens += tokens


async def wait_for(
    client: httpx.AsyncClient, path: str, state: str, tally: Tally
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await client.get(path)
        tally.requests += 1
        if response.status_code != 200:
            raise AssertionError(f"GET {path}: {response.status_code}")
        doc: dict[str, Any] = response.json()
        if doc["status"]["state"] == state:
            return doc
        if doc["status"]["state"] in ("failed", "updateFailed"):
            raise AssertionError(f"{path} {doc['status']['state']}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never became {state}")


async def one_lifecycle(client: httpx.AsyncClient, namespace: str, name: str, tally: Tally) -> None:
    payload = spec.create_payload(spec.spec_from_properties({**BASE, "tags": ["load"]}), name)
    path = f"/v2/endpoint/{namespace}/{name}"

    async def call(method: str, url: str, body: Any = None, expect: int = 200) -> httpx.Response:
        response = await client.request(method, url, json=body)
        tally.requests += 1
        if response.status_code != expect:
            raise AssertionError(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    try:
        await call("POST", f"/v2/endpoint/{namespace}", payload)
        doc = await wait_for(client, path, "running", tally)
        await call("GET", f"{doc['status']['url']}/health")
        await call("PUT", path, {"compute": {"scaling": {"minReplica": 1, "maxReplica": 2}}})
        await wait_for(client, path, "running", tally)
        await call("POST", f"{path}/pause")
        await wait_for(client, path, "paused", tally)
        await call("POST", f"{path}/resume")
        doc = await wait_for(client, path, "running", tally)
        generated = await call(
            "POST",
            f"{doc['status']['url']}/generate",
            {"inputs": "hi", "parameters": {"max_new_tokens": 8}},
        )
        assert generated.json()["generated_text"]
        await call("DELETE", path)
        await call("GET", path, expect=404)
    except (AssertionError, httpx.HTTPError, KeyError, ValueError) as error:
        tally.errors.append(f"lifecycle {name}: {type(error).__name__}: {error}")
        return
    tally.lifecycles += 1


async def one_round(proc: EmulatorProcess, stream_url: str, round_index: int) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(
        base_url=proc.base_url, headers=proc.headers, limits=limits, timeout=timeout
    ) as client:
        jobs = [one_stream(client, stream_url, i, tally) for i in range(STREAMS)]
        jobs += [
            one_lifecycle(client, proc.user, f"load-r{round_index}-{i:02d}", tally)
            for i in range(LIFECYCLES)
        ]
        await asyncio.gather(*jobs)
    return tally


@pytest.mark.timeout(600)
def test_32_streams_and_50_lifecycles_at_once(tmp_path: Path) -> None:
    with run_emulator_process(
        tmp_path / "state.sqlite3",
        backend="synthetic",
        pending_seconds=0.1,
        initializing_seconds=0.2,
        updating_seconds=0.1,
        resume_seconds=0.2,
    ) as proc:
        rss_start = rss_mb(proc)
        with httpx.Client(base_url=proc.base_url, headers=proc.headers, timeout=30) as client:
            payload = spec.create_payload(spec.spec_from_properties(BASE), "stream-target")
            assert client.post(f"/v2/endpoint/{proc.user}", json=payload).status_code == 200
            deadline = time.monotonic() + 30
            while True:
                doc = client.get(f"/v2/endpoint/{proc.user}/stream-target").json()
                if doc["status"]["state"] == "running" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        url = doc["status"]["url"]
        figures: list[tuple[int, float, Tally, float]] = []
        for round_index in range(ROUNDS + 1):  # round 0 warms up
            started = time.monotonic()
            tally = asyncio.run(one_round(proc, url, round_index))
            seconds = time.monotonic() - started
            figures.append((round_index, seconds, tally, rss_mb(proc)))
            assert not tally.errors, tally.errors[:10]
            assert tally.streams == STREAMS and tally.lifecycles == LIFECYCLES
        with httpx.Client(base_url=proc.base_url, headers=proc.headers, timeout=30) as client:
            left = client.get(f"/v2/endpoint/{proc.user}").json()["items"]
        assert [e["name"] for e in left] == ["stream-target"]
    rss_warm = figures[0][3]
    rss_end = figures[-1][3]
    measured = figures[1:]
    FIGURES.set("load: rounds (after one warm-up round)", len(measured))
    FIGURES.set(
        "load: per round",
        f"{STREAMS} streams x {TOKENS_PER_STREAM} tokens + {LIFECYCLES} lifecycles at once",
    )
    FIGURES.set("load: errors", sum(len(t.errors) for _, _, t, _ in figures))
    FIGURES.set("load: round time, max (s)", max(s for _, s, _, _ in measured))
    FIGURES.set("load: tokens streamed per round", measured[-1][2].tokens)
    FIGURES.set("load: requests per round", measured[-1][2].requests)
    FIGURES.set(
        "load: emulator RSS MB (start / after warm-up / end)",
        f"{rss_start:.0f} / {rss_warm:.0f} / {rss_end:.0f}",
    )
    assert rss_end - rss_warm < RSS_GROWTH_LIMIT_MB, [(i, round(r, 1)) for i, _, _, r in figures]
