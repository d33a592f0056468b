"""The helpers against the real emulator (synthetic token source unless marked `model`)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from typing import Any

import pytest

from pulumi_hf_endpoints.inference import (
    AsyncEndpointClient,
    ChatCompletionOutput,
    EndpointClient,
    EndpointPausedError,
    ForbiddenError,
    TextGenerationOutput,
    TextGenerationStreamOutput,
    UnauthorizedError,
    ValidationError,
)
from tests.inference.conftest import Emu
from tests.inference.inference_testkit import deploy, wait_for_state

MESSAGES = [{"role": "user", "content": "Say something."}]
SAMPLED: dict[str, Any] = {"max_new_tokens": 8, "do_sample": True, "seed": 7}


def test_every_sync_method(emu: Emu) -> None:
    with EndpointClient(emu.url, token=emu.token) as client:
        assert client.health() is True
        assert client.info()["model_id"] == "HuggingFaceH4/zephyr-7b-beta"

        plain = client.text_generation("I am", return_full_text=False, **SAMPLED)
        details = client.text_generation("I am", details=True, return_full_text=False, **SAMPLED)
        pieces = list(client.text_generation("I am", stream=True, **SAMPLED))
        events = list(client.text_generation("I am", stream=True, details=True, **SAMPLED))

        assert isinstance(plain, str) and plain
        assert isinstance(details, TextGenerationOutput) and details.generated_text == plain
        assert details.details is not None and details.details.generated_tokens == 8
        assert details.details.seed == 7 and len(details.details.tokens) == 8
        assert "".join(pieces) == plain  # same seed, same text, streamed
        assert all(isinstance(e, TextGenerationStreamOutput) for e in events)
        assert [e.token.text for e in events] == [t.text for t in details.details.tokens]
        assert [e.index for e in events] == list(range(1, 9))
        final = events[-1]
        # POST / returns the prompt too by default (TGI's `return_full_text`)
        assert final.generated_text == "I am" + plain
        assert final.details is not None and final.details.finish_reason == "length"

        chat = client.chat_completion(MESSAGES, max_tokens=5, seed=3, temperature=0.5)
        chunks = list(
            client.chat_completion(MESSAGES, stream=True, max_tokens=5, seed=3, temperature=0.5)
        )
        assert isinstance(chat, ChatCompletionOutput)
        assert chat.usage is not None and chat.usage.completion_tokens == 5
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == chat.choices[0].message.content
        assert chunks[-1].choices[0].finish_reason == "length"


@pytest.mark.anyio
async def test_every_async_method(emu: Emu) -> None:
    with EndpointClient(emu.url, token=emu.token) as sync:
        expected = sync.text_generation("I am", details=True, return_full_text=False, **SAMPLED)
        expected_chat = sync.chat_completion(MESSAGES, max_tokens=4, seed=1, temperature=0.7)
    async with AsyncEndpointClient(emu.url, token=emu.token) as client:
        assert await client.health() is True
        assert (await client.info())["max_total_tokens"] > 0
        plain = await client.text_generation("I am", return_full_text=False, **SAMPLED)
        details = await client.text_generation(
            "I am", details=True, return_full_text=False, **SAMPLED
        )
        pieces = [p async for p in await client.text_generation("I am", stream=True, **SAMPLED)]
        events = [
            e
            async for e in await client.text_generation(
                "I am", stream=True, details=True, **SAMPLED
            )
        ]
        chat = await client.chat_completion(MESSAGES, max_tokens=4, seed=1, temperature=0.7)
        chunks = [
            c
            async for c in await client.chat_completion(
                MESSAGES, stream=True, max_tokens=4, seed=1, temperature=0.7
            )
        ]
        # several streams at once over one client
        many = await asyncio.gather(
            *(client.text_generation(f"prompt {i}", max_new_tokens=4) for i in range(8))
        )
    assert plain == expected.generated_text == details.generated_text == "".join(pieces)
    assert [e.token.id for e in events] == [t.id for t in expected.details.tokens]
    assert chat.choices[0].message.content == expected_chat.choices[0].message.content
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        expected_chat.choices[0].message.content
    )
    assert len(many) == 8 and all(isinstance(m, str) for m in many)


def test_server_side_validation_errors_http_and_in_band(emu: Emu) -> None:
    with EndpointClient(emu.url, token=emu.token) as client:
        # The token budget is the server's to check (it knows max_total_tokens).
        with pytest.raises(ValidationError, match="must be <= ") as http_error:
            client.text_generation("I am", max_new_tokens=100_000)
        assert http_error.value.status_code == 422
        stream = client.text_generation("I am", stream=True, max_new_tokens=100_000)
        with pytest.raises(ValidationError, match="must be <= ") as event_error:
            list(stream)
        assert event_error.value.status_code is None  # it came inside the 200 stream
        # The synthetic source refuses grammars: an in-band error after HTTP 200.
        grammar = {"type": "json", "value": {"properties": {"a": {"type": "string"}}}}
        with pytest.raises(ValidationError, match="grammar"):
            list(client.text_generation("I am", stream=True, grammar=grammar))


def test_early_break_is_seen_as_a_disconnect(emu: Emu) -> None:
    before = emu.traffic()["disconnects"]
    with EndpointClient(emu.url, token=emu.token) as client:
        stream = client.text_generation("I am", stream=True, details=True, max_new_tokens=1500)
        for r in stream:
            if r.index == 3:
                break
        # Still inside `with`: closing the client would disconnect anyway.
        deadline = time.monotonic() + 10
        while emu.traffic()["disconnects"] == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emu.traffic()["disconnects"] == before + 1
        assert emu.traffic()["inFlight"] == 0


def test_scaled_to_zero_answers_503_then_ready(emu: Emu, caplog: pytest.LogCaptureFixture) -> None:
    endpoint = deploy(emu.api, emu.namespace, "cold", minReplica=0, scaleToZeroTimeout=15)
    url = endpoint["status"]["url"]
    emu.scale_to_zero("cold")
    wait_for_state(emu.api, emu.namespace, "cold", "scaledToZero")
    caplog.set_level(logging.INFO, logger="pulumi_hf_endpoints.inference")
    with EndpointClient(url, token=emu.token, wait_for_scale_up=False, retry_timeout=30) as c:
        started = time.monotonic()
        assert c.text_generation("I am", max_new_tokens=3)
        waited = time.monotonic() - started
    retries = [r for r in caplog.records if "503 from" in r.getMessage()]
    assert retries, "the first answer should have been a 503"
    assert waited >= 0.4  # the emulator's wake time
    assert emu.token not in caplog.text

    # Again, letting the proxy hold the request (X-Scale-Up-Timeout): no 503 at all.
    emu.scale_to_zero("cold")
    wait_for_state(emu.api, emu.namespace, "cold", "scaledToZero")
    caplog.clear()
    with EndpointClient(url, token=emu.token) as client:
        pieces = list(client.text_generation("I am", stream=True, max_new_tokens=3))
    assert len(pieces) == 3
    assert not [r for r in caplog.records if "503 from" in r.getMessage()]


def test_for_endpoint_resumes_a_paused_endpoint(emu: Emu) -> None:
    deploy(emu.api, emu.namespace, "sleepy")
    emu.api.pause_endpoint(emu.namespace, "sleepy")
    wait_for_state(emu.api, emu.namespace, "sleepy", "paused")
    options: dict[str, Any] = {"token": emu.token, "api_url": emu.handle.api_url}
    with pytest.raises(EndpointPausedError, match="resume=True"):
        EndpointClient.for_endpoint(f"{emu.namespace}/sleepy", **options)
    paused_url = emu.api.get_endpoint(emu.namespace, "sleepy")["status"]["url"]
    if paused_url:  # the proxy says so too, and is not woken
        with (
            EndpointClient(paused_url, token=emu.token) as direct,
            pytest.raises(EndpointPausedError),
        ):
            direct.text_generation("I am")
    with EndpointClient.for_endpoint(f"{emu.namespace}/sleepy", resume=True, **options) as client:
        assert client.text_generation("I am", max_new_tokens=2)
    # "name" alone: the token owner's namespace
    with EndpointClient.for_endpoint("sleepy", **options) as client:
        assert client.url == emu.api.get_endpoint(emu.namespace, "sleepy")["status"]["url"]


@pytest.mark.anyio
async def test_async_for_endpoint(emu: Emu) -> None:
    client = await AsyncEndpointClient.for_endpoint(
        f"{emu.namespace}/helpers", token=emu.token, api_url=emu.handle.api_url
    )
    async with client:
        assert client.url == emu.url
        assert await client.text_generation("I am", max_new_tokens=2)


def test_auth_errors_never_show_the_token(emu: Emu) -> None:
    wrong = "hf_WrongTokenForTheEmulator1234"
    with EndpointClient(emu.url, token=wrong) as client, pytest.raises(UnauthorizedError) as info:
        client.text_generation("I am")
    assert info.value.status_code == 401 and wrong not in str(info.value)
    with EndpointClient(emu.url, token=False) as client, pytest.raises(UnauthorizedError) as info:
        client.health()
    assert "HF_TOKEN" in str(info.value)
    private = deploy(
        emu.api,
        emu.namespace,
        "hidden",
        type="private",
        privateService={"accountId": "123456789012"},
    )["status"]["url"]
    with EndpointClient(private, token=emu.token) as client, pytest.raises(ForbiddenError):
        client.text_generation("I am")


# The Python snippet of the blog post "Deploy LLMs with Hugging Face Inference Endpoints"
# (https://huggingface.co/blog/inference-endpoints-llm), verbatim but
# for the import line, the two values the reader fills in, and a shorter max_new_tokens.
SEED_BLOG_TEXT_GENERATION_CLIENT = """
from pulumi_hf_endpoints.inference import EndpointClient as Client

# HF Inference endpoints parameter
endpoint_url = "{url}"
hf_token = "{token}"

# Streaming Client
client = Client(endpoint_url, headers={{"Authorization": f"Bearer {{hf_token}}"}})

# generation parameter
gen_kwargs = dict(
    max_new_tokens={max_new_tokens},
    top_k=30,
    top_p=0.9,
    temperature=0.2,
    repetition_penalty=1.02,
    stop_sequences=["\\nUser:", "<|endoftext|>", "</s>"],
)
# prompt
prompt = "What can you do in Nuremberg, Germany? Give me 3 Tips"

stream = client.generate_stream(prompt, **gen_kwargs)
# yield each generated token
for r in stream:
    # skip special tokens
    if r.token.special:
        continue
    # stop if we encounter a stop sequence
    if r.token.text in gen_kwargs["stop_sequences"]:
        break
    # yield the generated token
    print(r.token.text, end = "")
    # yield r.token.text
"""

# The same loop as written for huggingface_hub's InferenceClient (the form).
SEED_BLOG_INFERENCE_CLIENT = """
from pulumi_hf_endpoints.inference import EndpointClient as InferenceClient

endpoint_url = "{url}"
hf_token = "{token}"

client = InferenceClient(endpoint_url, token=hf_token)

gen_kwargs = dict(
    max_new_tokens={max_new_tokens},
    top_k=30,
    top_p=0.9,
    temperature=0.2,
    repetition_penalty=1.02,
    stop_sequences=["\\nUser:", "<|endoftext|>", "</s>"],
)
prompt = "What can you do in Nuremberg, Germany? Give me 3 Tips"

stream = client.text_generation(prompt, stream=True, details=True, **gen_kwargs)

for r in stream:
    if r.token.special:
        continue
    if r.token.text in gen_kwargs["stop_sequences"]:
        break
    print(r.token.text, end = "")
"""


def run_snippet(source: str, url: str, token: str, max_new_tokens: int) -> str:
    code = source.format(url=url, token=token, max_new_tokens=max_new_tokens)
    out = io.StringIO()
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<blog snippet>", "exec"), namespace)
    namespace["client"].close()
    return out.getvalue()


@pytest.mark.parametrize("snippet", [SEED_BLOG_TEXT_GENERATION_CLIENT, SEED_BLOG_INFERENCE_CLIENT])
def test_seed_blog_snippet_runs_on_the_synthetic_source(emu: Emu, snippet: str) -> None:
    printed = run_snippet(snippet, emu.url, emu.token, 12)
    with EndpointClient(emu.url, token=emu.token) as client:
        expected = client.text_generation(
            "What can you do in Nuremberg, Germany? Give me 3 Tips",
            max_new_tokens=12,
            top_k=30,
            top_p=0.9,
            temperature=0.2,
            repetition_penalty=1.02,
            stop_sequences=["\nUser:", "<|endoftext|>", "</s>"],
            return_full_text=False,
            details=True,
        )
    assert expected.details is not None and len(expected.details.tokens) == 12
    assert len(printed.split()) == 12  # one synthetic word per token


@pytest.mark.model
@pytest.mark.parametrize("snippet", [SEED_BLOG_TEXT_GENERATION_CLIENT, SEED_BLOG_INFERENCE_CLIENT])
def test_seed_blog_snippet_prints_real_tokens(snippet: str) -> None:
    from hf_endpoints_emulator.testing import run_emulator
    from pulumi_hf_endpoints.client.api import EndpointsApi

    with run_emulator(backend="llama", pending_seconds=0.05, initializing_seconds=0.05) as handle:
        with EndpointsApi(handle.token, api_url=handle.api_url) as api:
            url = deploy(api, handle.user, "llm")["status"]["url"]
        printed = run_snippet(snippet, url, handle.token, 24)
        with EndpointClient(url, token=handle.token) as client:
            info = client.info()
    assert "synthetic" not in str(info.get("emulator", "")).lower()
    words = printed.split()
    assert len(words) >= 3, printed
    assert any(w.isalpha() and len(w) > 2 for w in words), printed
    assert "</s>" not in printed and "<|im_end|>" not in printed
