"""Real sockets: an early exit disconnects, slow tokens are not cut, one pool per client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from pulumi_hf_endpoints.inference import (
    AsyncEndpointClient,
    EndpointClient,
    InferenceTimeoutError,
)
from tests.inference.inference_testkit import SlowTGI


def test_break_disconnects_and_the_server_stops_writing() -> None:
    with SlowTGI(n=200, delay=0.01) as server, EndpointClient(server.url, token=False) as client:
        stream = client.text_generation("x", stream=True, details=True)
        for i, _ in enumerate(stream):
            if i == 3:
                break
        assert server.log.disconnected.wait(5), "the server never saw the disconnect"
        written = server.log.events_written
        time.sleep(0.1)
        assert server.log.events_written == written < 20
        assert server.log.completed == 0


def test_seed_blog_loop_with_break_on_stop_sequence_disconnects() -> None:
    with SlowTGI(n=200, delay=0.01) as server, EndpointClient(server.url, token=False) as client:
        gen_kwargs: dict[str, Any] = dict(max_new_tokens=512, stop_sequences=[" t5"])
        stream = client.text_generation("x", stream=True, details=True, **gen_kwargs)
        out = []
        for r in stream:
            if r.token.special:
                continue
            if r.token.text in gen_kwargs["stop_sequences"]:
                break
            out.append(r.token.text)
        assert out == [f" t{i}" for i in range(5)]
        assert server.log.disconnected.wait(5)


@pytest.mark.anyio
async def test_async_break_disconnects() -> None:
    with SlowTGI(n=200, delay=0.01) as server:
        async with AsyncEndpointClient(server.url, token=False) as client:
            async for r in await client.text_generation("x", stream=True, details=True):
                if r.index == 3:
                    break
            deadline = time.monotonic() + 5
            while not server.log.disconnected.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert server.log.disconnected.is_set()
            assert server.log.completed == 0


def test_slow_tokens_are_not_cut_by_a_read_timeout() -> None:
    # Default: connect timeout only. A gap longer than httpx's own 5 s default would be slow
    # for a test; 0.4 s gaps with connect_timeout=0.2 show that only connecting is bounded.
    with (
        SlowTGI(n=1, delay=0.4, first_delay=0.4) as server,
        EndpointClient(server.url, token=False, connect_timeout=0.2) as client,
    ):
        pieces = list(client.text_generation("x", stream=True))
    assert pieces == [" t0"]


def test_a_read_timeout_set_by_the_user_applies() -> None:
    with (
        SlowTGI(n=3, delay=1.0) as server,
        EndpointClient(server.url, token=False, timeout=0.2) as client,
    ):
        stream = client.text_generation("x", stream=True)
        with pytest.raises(InferenceTimeoutError, match="timeout"):
            list(stream)


def test_one_connection_is_reused_across_calls() -> None:
    with SlowTGI(n=2, delay=0) as server, EndpointClient(server.url, token=False) as client:
        for _ in range(5):
            assert list(client.text_generation("x", stream=True)) == [" t0", " t1"]
            assert client.info()["model_id"] == "slow"
        pool = client._http._transport._pool  # type: ignore[attr-defined]
        assert len(pool.connections) == 1
