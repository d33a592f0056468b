"""The TGI routes of a running endpoint, through the real emulator (synthetic backend):
wire formats, route shapes, and huggingface_hub's / openai's clients unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from huggingface_hub import InferenceClient
from openai import OpenAI

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.emulator.conftest_serving import create_endpoint, metric, serving_emulator, sse_payloads

PROMPT = "The answer is"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    with serving_emulator("synthetic") as handle:
        yield handle


@pytest.fixture(scope="module")
def url(emu: EmulatorHandle) -> str:
    return str(create_endpoint(emu)["status"]["url"])


@pytest.fixture
def client(url: str, emu: EmulatorHandle) -> InferenceClient:
    return InferenceClient(url, token=emu.token)


def post(emu: EmulatorHandle, url: str, body: Any) -> httpx.Response:
    return httpx.post(url, json=body, headers=emu.headers, timeout=30)


# -- info routes -------------------------------------------------------------------------
def test_info_names_the_repository_and_what_really_serves_it(emu: EmulatorHandle, url: str) -> None:
    info = httpx.get(f"{url}/info", headers=emu.headers).json()
    assert info["model_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert info["model_pipeline_tag"] == "text-generation"
    assert info["max_best_of"] == 2 and info["max_stop_sequences"] == 4
    assert info["max_total_tokens"] == 2048 and info["max_input_tokens"] == 2047
    assert info["router"] == "text-generation-router" and info["version"] == "3.3.7"
    assert info["emulator"]["backend"] == "synthetic"
    assert "not a model" in info["emulator"]["model"]


def test_health_models_and_unknown_routes(emu: EmulatorHandle, url: str) -> None:
    assert httpx.get(f"{url}/health", headers=emu.headers).status_code == 200
    models = httpx.get(f"{url}/v1/models", headers=emu.headers).json()
    repo = "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert models == {
        "object": "list",
        "data": [{"id": repo, "object": "model", "created": 0, "owned_by": repo}],
    }
    assert httpx.get(f"{url}/nope", headers=emu.headers).status_code == 404
    assert httpx.get(f"{url}/generate", headers=emu.headers).status_code == 405


# -- wire formats ------------------------------------------------------------------------
def test_compat_route_returns_a_list_with_the_prompt_and_tgi_headers(
    emu: EmulatorHandle, url: str
) -> None:
    r = post(emu, url, {"inputs": PROMPT, "parameters": {"max_new_tokens": 4}})
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"generated_text"}
    assert body[0]["generated_text"].startswith(PROMPT)  # return_full_text defaults to true
    assert r.headers["x-compute-type"] == "gpu+optimized"
    assert r.headers["x-generated-tokens"] == "4"
    assert r.headers["x-prompt-tokens"] == str(len(PROMPT.encode()))
    for name in ("x-compute-time", "x-total-time", "x-validation-time", "x-queue-time"):
        assert name in r.headers
    assert float(r.headers["x-compute-time"]) >= 0


def test_generate_returns_an_object_without_the_prompt(emu: EmulatorHandle, url: str) -> None:
    body = post(emu, f"{url}/generate", {"inputs": PROMPT, "parameters": {"max_new_tokens": 3}})
    generated = body.json()["generated_text"]
    assert not generated.startswith(PROMPT)
    full = post(emu, url, {"inputs": PROMPT, "parameters": {"max_new_tokens": 3}}).json()
    assert full[0]["generated_text"] == PROMPT + generated
    off = post(
        emu, url, {"inputs": PROMPT, "parameters": {"max_new_tokens": 3, "return_full_text": False}}
    )
    assert off.json()[0]["generated_text"] == generated


def test_stream_bytes_are_tgi_sse(emu: EmulatorHandle, url: str) -> None:
    r = post(emu, f"{url}/generate_stream", {"inputs": PROMPT, "parameters": {"max_new_tokens": 3}})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-accel-buffering"] == "no"
    assert r.headers["x-compute-characters"] == str(len(PROMPT))
    blocks = r.text.split("\n\n")
    assert blocks[-1] == "" and len(blocks) == 4  # three events, each ending in a blank line
    assert all(b.startswith('data: {"index":') for b in blocks[:-1])
    events = sse_payloads(r.text)
    assert [e["index"] for e in events] == [1, 2, 3]
    assert list(events[0]) == ["index", "token", "generated_text", "details"]
    assert list(events[0]["token"]) == ["id", "text", "logprob", "special"]
    assert events[0]["generated_text"] is None and events[0]["details"] is None
    assert events[-1]["generated_text"] == "".join(e["token"]["text"] for e in events)
    assert events[-1]["details"] is None  # details not asked for
    assert "[DONE]" not in r.text


def test_compat_stream_final_text_has_the_prompt_and_details(emu: EmulatorHandle, url: str) -> None:
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 2, "details": True}, "stream": True}
    events = sse_payloads(post(emu, url, body).text)
    last = events[-1]
    assert last["generated_text"].startswith(PROMPT)
    assert last["details"] == {
        "finish_reason": "length",
        "generated_tokens": 2,
        "seed": None,
        "input_length": len(PROMPT.encode()),
    }


def test_tokenize_gives_ids_texts_and_char_offsets(emu: EmulatorHandle, url: str) -> None:
    tokens = post(emu, f"{url}/tokenize", {"inputs": "Hé!"}).json()
    assert [(t["text"], t["start"], t["stop"]) for t in tokens] == [
        ("H", 0, 1),
        ("", 1, 1),  # first byte of the two-byte "é"
        ("é", 1, 2),
        ("!", 2, 3),
    ]
    assert all(isinstance(t["id"], int) for t in tokens)


# -- huggingface_hub's InferenceClient, unchanged ----------------------------------------
def test_hub_text_generation_plain_and_details(client: InferenceClient) -> None:
    text = client.text_generation(PROMPT, max_new_tokens=5)
    assert isinstance(text, str) and text.startswith(PROMPT)  # POST /: return_full_text
    out = client.text_generation(PROMPT, max_new_tokens=5, details=True, return_full_text=False)
    assert out.details is not None
    assert out.details.finish_reason == "length"
    assert out.details.generated_tokens == len(out.details.tokens) == 5
    assert out.generated_text == "".join(t.text for t in out.details.tokens)
    assert out.details.prefill == []


def test_hub_text_generation_stream_and_stream_details(client: InferenceClient) -> None:
    texts = list(client.text_generation(PROMPT, max_new_tokens=4, stream=True))
    assert len(texts) == 4 and all(isinstance(t, str) for t in texts)
    events = list(client.text_generation(PROMPT, max_new_tokens=4, stream=True, details=True))
    assert [e.index for e in events] == [1, 2, 3, 4]
    assert events[-1].details is not None and events[-1].details.generated_tokens == 4
    assert events[-1].details.input_length == len(PROMPT.encode())
    assert events[0].details is None and events[0].generated_text is None


def test_hub_chat_completion_plain_and_streaming(client: InferenceClient) -> None:
    messages = [{"role": "user", "content": "Say hi"}]
    out = client.chat_completion(messages, max_tokens=6, seed=1)
    assert out.choices[0].message.role == "assistant"
    assert out.choices[0].finish_reason == "length"
    assert out.usage.completion_tokens == 6
    assert out.usage.total_tokens == out.usage.prompt_tokens + 6
    chunks = list(client.chat_completion(messages, max_tokens=6, seed=1, stream=True))
    assert len(chunks) == 6
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks) == out.choices[0].message.content
    )
    assert chunks[-1].choices[0].finish_reason == "length"


def test_chat_stream_ends_with_done_and_usage_chunk(emu: EmulatorHandle, url: str) -> None:
    body = {
        "model": "tgi",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 2,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = post(emu, f"{url}/v1/chat/completions", body)
    assert r.text.endswith("data: [DONE]\n\n")
    events = sse_payloads(r.text)
    assert [e["object"] for e in events] == ["chat.completion.chunk"] * 3
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 2
    assert events[0]["id"] == "" and events[0]["system_fingerprint"] == "3.3.7-native"


def test_openai_client_chat_completions(emu: EmulatorHandle, url: str) -> None:
    client = OpenAI(base_url=f"{url}/v1/", api_key=emu.token)
    messages: Any = [{"role": "user", "content": "Say hi"}]
    out = client.chat.completions.create(model="tgi", messages=messages, max_tokens=5, seed=3)
    assert out.object == "chat.completion"
    assert out.choices[0].message.content and out.usage is not None
    assert out.usage.completion_tokens == 5
    stream = client.chat.completions.create(
        model="tgi", messages=messages, max_tokens=5, seed=3, stream=True
    )
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == out.choices[0].message.content


def test_completions_route(emu: EmulatorHandle, url: str) -> None:
    body = {"model": "tgi", "prompt": ["one", "two"], "max_tokens": 3, "seed": 5}
    out = post(emu, f"{url}/v1/completions", body).json()
    assert out["object"] == "text_completion"
    assert [c["index"] for c in out["choices"]] == [0, 1]
    assert out["usage"]["completion_tokens"] == 6
    r = post(emu, f"{url}/v1/completions", {**body, "stream": True})
    events = sse_payloads(r.text)
    assert r.text.endswith("data: [DONE]\n\n")
    finals = [e for e in events if "usage" in e]
    assert [f["choices"][0]["finish_reason"] for f in finals] == ["length", "length"]
    bad = post(emu, f"{url}/v1/completions", {**body, "suffix": "x"})
    assert bad.status_code == 422
    assert bad.json() == {
        "error": "Suffix is not supported and can be achieved by preprocessing the prompt.",
        "error_type": "suffix not supported",
    }
    many = post(emu, f"{url}/v1/completions", {**body, "prompt": ["a"] * 5})
    assert many.status_code == 422 and many.json()["error_type"] == "batch size exceeded"


def test_metrics_count_requests_failures_and_tokens(emu: EmulatorHandle) -> None:
    url = create_endpoint(emu)["status"]["url"]  # fresh counters
    post(emu, f"{url}/generate", {"inputs": "x", "parameters": {"max_new_tokens": 7}})
    post(emu, f"{url}/generate", {"inputs": "x", "parameters": {"temperature": 0}})
    text = httpx.get(f"{url}/metrics", headers=emu.headers).text
    assert metric(text, "tgi_request_count") == 2
    assert metric(text, "tgi_request_success") == 1
    assert 'tgi_request_failure{err="validation"} 1' in text
    assert metric(text, "tgi_request_generated_tokens_sum") == 7
    assert metric(text, "tgi_request_duration_count") == 1
    assert metric(text, "tgi_queue_size") == 0
    assert metric(text, "tgi_emulator_backend_generated_tokens") >= 7


def test_endpoint_of_a_task_without_backend_says_so(emu: EmulatorHandle) -> None:
    url = create_endpoint(emu, task="text-classification")["status"]["url"]
    r = post(emu, f"{url}/generate", {"inputs": "x"})
    assert r.status_code == 400
    body = r.json()
    assert body["error_type"] == "unsupported_task"
    assert "text-classification" in body["error"] and "text-generation" in body["error"]


def test_repository_mapped_to_a_missing_gguf_is_a_clear_error(make_emulator: Any) -> None:
    emu = make_emulator(backend="llama", models={"acme/custom": "/nonexistent/model.gguf"})
    url = create_endpoint(emu, repository="acme/custom")["status"]["url"]
    r = post(emu, f"{url}/generate", {"inputs": "x"})
    assert r.status_code == 503
    assert r.json()["error_type"] == "backend_unavailable"
    assert "/nonexistent/model.gguf" in r.json()["error"]


def test_chat_logprobs_model_name_and_chat_tokenize(emu: EmulatorHandle, url: str) -> None:
    messages = [{"role": "user", "content": "hi"}]
    body = {"messages": messages, "max_tokens": 3, "logprobs": True, "top_logprobs": 2}
    out = post(emu, f"{url}/v1/chat/completions", {"model": "tgi", **body}).json()
    assert out["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"  # "tgi": the served model
    content = out["choices"][0]["logprobs"]["content"]
    assert len(content) == 3 and all(len(c["top_logprobs"]) == 2 for c in content)
    assert "".join(c["token"] for c in content) == out["choices"][0]["message"]["content"]
    adapter = post(emu, f"{url}/v1/chat/completions", {"model": "my-adapter", **body}).json()
    assert adapter["model"] == "my-adapter"  # other names are adapter ids, echoed
    tokenized = post(emu, f"{url}/chat_tokenize", {"messages": messages}).json()
    assert tokenized["templated_text"].endswith("assistant\n")
    assert "".join(t["text"] for t in tokenized["tokenize_response"]) == tokenized["templated_text"]
