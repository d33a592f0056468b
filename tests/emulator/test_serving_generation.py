"""Generation semantics through the real emulator (synthetic backend): seeds, stop
sequences, lengths, details, best_of, limits (429), disconnects, keep-alive, cold start."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import OverloadedError

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.emulator.conftest_serving import (
    create_endpoint,
    layer_of,
    metric,
    serving_emulator,
    serving_factory,
    sse_payloads,
    wait_running,
)

PROMPT = "Tell me a story"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    with serving_emulator("synthetic") as handle:
        yield handle


@pytest.fixture(scope="module")
def url(emu: EmulatorHandle) -> str:
    return str(create_endpoint(emu, env={"MAX_TOTAL_TOKENS": "64"})["status"]["url"])


def generate(emu: EmulatorHandle, url: str, **parameters: Any) -> dict[str, Any]:
    inputs = parameters.pop("inputs", PROMPT)
    r = httpx.post(
        f"{url}/generate",
        json={"inputs": inputs, "parameters": {"details": True, **parameters}},
        headers=emu.headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def stream(emu: EmulatorHandle, url: str, **parameters: Any) -> list[dict[str, Any]]:
    r = httpx.post(
        f"{url}/generate_stream",
        json={"inputs": PROMPT, "parameters": {"details": True, **parameters}},
        headers=emu.headers,
        timeout=30,
    )
    return sse_payloads(r.text)


def test_same_seed_same_output_and_seed_is_echoed_when_sampling(
    emu: EmulatorHandle, url: str
) -> None:
    a = generate(emu, url, max_new_tokens=12, do_sample=True, seed=42)
    b = generate(emu, url, max_new_tokens=12, do_sample=True, seed=42)
    c = generate(emu, url, max_new_tokens=12, do_sample=True, seed=43)
    assert a["generated_text"] == b["generated_text"] != c["generated_text"]
    assert a["details"]["seed"] == 42
    streamed = stream(emu, url, max_new_tokens=12, do_sample=True, seed=42)
    assert streamed[-1]["generated_text"] == a["generated_text"]
    assert streamed[-1]["details"]["seed"] == 42


def test_greedy_ignores_the_seed_and_echoes_none(emu: EmulatorHandle, url: str) -> None:
    a = generate(emu, url, max_new_tokens=8, seed=1)
    b = generate(emu, url, max_new_tokens=8, seed=2)
    assert a["generated_text"] == b["generated_text"]
    assert a["details"]["seed"] is None
    # Any warper turns sampling on (TGI tokens.py), even with do_sample false.
    warped = generate(emu, url, max_new_tokens=8, do_sample=False, temperature=0.5, seed=9)
    assert warped["details"]["seed"] == 9


def test_without_parameters_tgi_samples(emu: EmulatorHandle, url: str) -> None:
    r = httpx.post(f"{url}/generate", json={"inputs": "hi"}, headers=emu.headers)
    assert r.status_code == 200
    assert int(r.headers["x-generated-tokens"]) == 64 - 2  # v3: the whole budget


def test_stop_sequence_is_included_and_finishes_generation(emu: EmulatorHandle, url: str) -> None:
    free = generate(emu, url, max_new_tokens=20)
    texts = [t["text"] for t in free["details"]["tokens"]]
    # a token whose text first appears at position k (1-based)
    k = next(i for i in range(3, 20) if texts[i] not in "".join(texts[:i])) + 1
    stop = texts[k - 1]
    out = generate(emu, url, max_new_tokens=20, stop=[stop])
    assert out["details"]["finish_reason"] == "stop_sequence"
    assert out["details"]["generated_tokens"] == k
    assert out["generated_text"] == "".join(texts[:k])
    assert out["generated_text"].endswith(stop)
    # a stop sequence spanning two tokens, and the stream's final event
    events = stream(emu, url, max_new_tokens=20, stop=["zzz", texts[1] + texts[2]])
    assert events[-1]["details"]["finish_reason"] == "stop_sequence"
    assert events[-1]["index"] == 3


def test_max_new_tokens_length_and_details_count(emu: EmulatorHandle, url: str) -> None:
    for n in (1, 5):
        out = generate(emu, url, max_new_tokens=n)
        details = out["details"]
        assert details["finish_reason"] == "length"
        assert details["generated_tokens"] == len(details["tokens"]) == n
        events = stream(emu, url, max_new_tokens=n)
        assert len(events) == events[-1]["details"]["generated_tokens"] == n


def test_truncate_keeps_the_last_tokens(emu: EmulatorHandle, url: str) -> None:
    r = httpx.post(
        f"{url}/generate",
        json={"inputs": "0123456789", "parameters": {"truncate": 4, "max_new_tokens": 2}},
        headers=emu.headers,
    )
    assert r.headers["x-prompt-tokens"] == "4"
    out = generate(emu, url, inputs="0123456789", truncate=4, decoder_input_details=True)
    assert [t["text"] for t in out["details"]["prefill"]] == ["6", "7", "8", "9"]


def test_decoder_input_details_and_top_n_tokens(emu: EmulatorHandle, url: str) -> None:
    out = generate(emu, url, max_new_tokens=3, decoder_input_details=True, top_n_tokens=3)
    prefill = out["details"]["prefill"]
    assert "".join(t["text"] for t in prefill) == PROMPT
    assert prefill[0]["logprob"] is None and all(
        isinstance(t["logprob"], float) for t in prefill[1:]
    )
    assert set(prefill[0]) == {"id", "text", "logprob"}
    assert [len(top) for top in out["details"]["top_tokens"]] == [3, 3, 3]
    events = stream(emu, url, max_new_tokens=2, top_n_tokens=2)
    assert list(events[0]) == ["index", "token", "top_tokens", "generated_text", "details"]
    assert len(events[0]["top_tokens"]) == 2


def test_details_are_omitted_unless_asked(emu: EmulatorHandle, url: str) -> None:
    r = httpx.post(
        f"{url}/generate",
        json={"inputs": "a", "parameters": {"max_new_tokens": 2}},
        headers=emu.headers,
    )
    assert set(r.json()) == {"generated_text"}


def test_best_of_returns_the_other_sequences(emu: EmulatorHandle, url: str) -> None:
    out = generate(emu, url, max_new_tokens=4, best_of=2, do_sample=True)
    others = out["details"]["best_of_sequences"]
    assert len(others) == 1
    assert list(others[0])[:4] == ["generated_text", "finish_reason", "generated_tokens", "seed"]
    assert isinstance(out["details"]["seed"], int) and others[0]["seed"] != out["details"]["seed"]
    best = sum(t["logprob"] for t in out["details"]["tokens"])
    assert best >= sum(t["logprob"] for t in others[0]["tokens"])


# -- limits, disconnects, keep-alive, cold start ----------------------------------------------
@pytest.fixture(scope="module")
def slow_emu() -> Iterator[EmulatorHandle]:
    """Synthetic tokens every 20 ms and keep-alive comments after 50 ms of silence."""
    factory = serving_factory(token_delay=0.02, keep_alive_interval=0.05)
    with serving_emulator("synthetic", serving_factory=factory) as handle:
        yield handle


def runner_counters(emu: EmulatorHandle) -> tuple[int, int]:
    (runner,) = layer_of(emu).runners()
    return runner.tokens_generated, runner.cancelled


def test_over_max_concurrent_requests_answers_429(slow_emu: EmulatorHandle) -> None:
    emu = slow_emu
    url = create_endpoint(emu, env={"MAX_CONCURRENT_REQUESTS": "2"})["status"]["url"]
    body = {"inputs": "x", "parameters": {"max_new_tokens": 500}, "stream": True}
    with httpx.Client(headers=emu.headers, timeout=30) as http:
        with http.stream("POST", url, json=body) as one, http.stream("POST", url, json=body) as two:
            # keep each line iterator alive: dropping one closes its connection
            lines_one, lines_two = one.iter_lines(), two.iter_lines()
            assert next(lines_one).startswith("data: {")
            assert next(lines_two).startswith("data: {")
            r = http.post(url, json={"inputs": "x", "parameters": {"max_new_tokens": 1}})
            assert r.status_code == 429
            assert r.json() == {"error": "Model is overloaded", "error_type": "overloaded"}
            r = http.post(url, json={**body, "parameters": {"max_new_tokens": 1}})
            assert r.status_code == 200
            assert sse_payloads(r.text) == [
                {"error": "Model is overloaded", "error_type": "overloaded"}
            ]
            with pytest.raises(OverloadedError):
                InferenceClient(url, token=emu.token).text_generation("x", max_new_tokens=1)
        # closing both streams frees the permits
        deadline = time.monotonic() + 5
        while (
            http.post(url, json={"inputs": "x", "parameters": {"max_new_tokens": 1}}).status_code
            != 200
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_client_disconnect_stops_the_stream_generation(slow_emu: EmulatorHandle) -> None:
    emu = slow_emu
    url = create_endpoint(emu)["status"]["url"]
    _, cancelled_before = runner_counters(emu)
    body = {"inputs": "x", "parameters": {"max_new_tokens": 1000}}
    with (
        httpx.Client(headers=emu.headers, timeout=30) as http,
        http.stream("POST", f"{url}/generate_stream", json=body) as r,
    ):
        events = []
        for line in r.iter_lines():
            if line.startswith("data:"):
                events.append(line)
            if len(events) == 3:
                break
    deadline = time.monotonic() + 5
    while runner_counters(emu)[1] == cancelled_before:
        assert time.monotonic() < deadline, "the generation was not cancelled"
        time.sleep(0.02)
    produced, _ = runner_counters(emu)
    time.sleep(0.3)  # 15 token periods: nothing more may be produced
    assert runner_counters(emu)[0] == produced
    text = httpx.get(f"{url}/metrics", headers=emu.headers).text
    assert metric(text, "tgi_emulator_generations_cancelled") >= 1
    assert metric(text, "tgi_request_in_flight") == 0


def test_client_disconnect_stops_a_non_streaming_generation(slow_emu: EmulatorHandle) -> None:
    emu = slow_emu
    url = create_endpoint(emu)["status"]["url"]
    _, cancelled_before = runner_counters(emu)
    body = {"inputs": "x", "parameters": {"max_new_tokens": 1000}}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/generate", json=body, headers=emu.headers, timeout=0.3)
    deadline = time.monotonic() + 5
    while runner_counters(emu)[1] == cancelled_before:
        assert time.monotonic() < deadline, "the generation was not cancelled"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def sleepy_emu() -> Iterator[EmulatorHandle]:
    """Tokens every 120 ms, keep-alive after 40 ms: every gap carries comments."""
    factory = serving_factory(token_delay=0.12, keep_alive_interval=0.04)
    with serving_emulator("synthetic", serving_factory=factory) as handle:
        yield handle


def test_keep_alive_comment_between_slow_tokens(sleepy_emu: EmulatorHandle) -> None:
    emu = sleepy_emu
    url = create_endpoint(emu)["status"]["url"]
    body = {"inputs": "x", "parameters": {"max_new_tokens": 3}}
    r = httpx.post(f"{url}/generate_stream", json=body, headers=emu.headers, timeout=30)
    assert ":\n\n" in r.text
    assert r.text.startswith("data: ")
    assert len(sse_payloads(r.text)) == 3
    # huggingface_hub ignores the comments (keep the client referenced: collecting it
    # closes its open streams)
    client = InferenceClient(url, token=emu.token)
    texts = list(client.text_generation("x", max_new_tokens=2, stream=True))
    assert len(texts) == 2


def test_scaled_to_zero_endpoint_503_then_streams(emu: EmulatorHandle) -> None:
    ep = create_endpoint(emu, min_replica=0, scale_to_zero_timeout=15)
    name, url = ep["name"], ep["status"]["url"]
    api = f"{emu.api_url}/endpoint/{emu.user}/{name}"
    assert httpx.post(f"{api}/scale-to-zero", headers=emu.headers).status_code == 200
    body = {"inputs": "x", "parameters": {"max_new_tokens": 3}, "stream": True}
    first = httpx.post(url, json=body, headers=emu.headers)
    assert first.status_code == 503  # the proxy wakes the endpoint
    wait_running(emu, name)
    later = httpx.post(url, json=body, headers=emu.headers)
    assert later.status_code == 200 and len(sse_payloads(later.text)) == 3
    # Scaled to zero again: X-Scale-Up-Timeout holds the request until a replica is ready.
    assert httpx.post(f"{api}/scale-to-zero", headers=emu.headers).status_code == 200
    held = httpx.post(
        url, json=body, headers={**emu.headers, "X-Scale-Up-Timeout": "10"}, timeout=15
    )
    assert held.status_code == 200 and len(sse_payloads(held.text)) == 3


class _FailingSession:
    """Two tokens, then the backend breaks (as a crashed model would)."""

    def prefill(self, input_ids: Any, logprobs: bool) -> list[float | None]:
        return []

    def steps(self, sampling: Any, top_n: int) -> Iterator[Any]:
        from hf_endpoints_emulator.serving.backends.base import Step

        yield Step(300, -1.0, [])
        yield Step(301, -1.0, [])
        raise RuntimeError("the model crashed")


def test_generation_failures_are_424_or_in_band(make_emulator: Any) -> None:
    from contextlib import nullcontext

    from hf_endpoints_emulator.serving import ServingOptions, TgiServingLayer
    from hf_endpoints_emulator.serving.backends.synthetic import SyntheticBackend

    class Broken(SyntheticBackend):
        def session(self) -> Any:
            return nullcontext(_FailingSession())

    class Layer(TgiServingLayer):
        def _backend(self, key: str) -> Any:
            return Broken()

    emu = make_emulator(serving_factory=lambda config: Layer(ServingOptions.from_config(config)))
    url = create_endpoint(emu)["status"]["url"]
    body = {"inputs": "x", "parameters": {"max_new_tokens": 10}}
    r = httpx.post(f"{url}/generate", json=body, headers=emu.headers)
    assert r.status_code == 424
    assert r.json() == {
        "error": "Request failed during generation: the model crashed",
        "error_type": "generation",
    }
    events = sse_payloads(httpx.post(f"{url}/generate_stream", json=body, headers=emu.headers).text)
    assert [e.get("index") for e in events[:2]] == [1, 2]
    assert events[2] == {
        "error": "Request failed during generation: the model crashed",
        "error_type": "generation",
    }
