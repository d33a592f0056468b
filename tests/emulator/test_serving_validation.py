"""TGI's validation rules through the real emulator: each one answers 422
with TGI's message when not streaming, and an in-band error event inside a 200 stream."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import ValidationError

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.emulator.conftest_serving import create_endpoint, serving_emulator, sse_payloads

PREFIX = "Input validation error: "

#: (parameters, inputs, message after the prefix); endpoint limits: MAX_TOTAL_TOKENS=64,
#: MAX_INPUT_TOKENS=32 (the synthetic tokenizer makes one token per byte).
RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"temperature": 0}, "hi", "`temperature` must be strictly positive"),
    ({"temperature": -1.5}, "hi", "`temperature` must be strictly positive"),
    ({"repetition_penalty": 0}, "hi", "`repetition_penalty` must be strictly positive"),
    ({"frequency_penalty": 2.5}, "hi", "`frequency_penalty` must be >= -2.0 and <= 2.0"),
    ({"frequency_penalty": -3}, "hi", "`frequency_penalty` must be >= -2.0 and <= 2.0"),
    ({"top_p": 1.0}, "hi", "`top_p` must be > 0.0 and < 1.0"),
    ({"top_p": 0}, "hi", "`top_p` must be > 0.0 and < 1.0"),
    ({"typical_p": 1.0}, "hi", "`typical_p` must be > 0.0 and < 1.0"),
    ({"top_k": 0}, "hi", "`top_k` must be strictly positive"),
    ({"top_k": -3}, "hi", "`top_k` must be strictly positive"),
    ({"max_new_tokens": 0}, "hi", "`max_new_tokens` must be strictly positive"),
    (
        {"stop": ["a", "b", "c", "d", "e"]},
        "hi",
        "`stop` supports up to 4 stop sequences. Given: 5",
    ),
    ({"top_n_tokens": 6}, "hi", "`top_n_tokens` must be >= 0 and <= 5. Given: 6"),
    ({}, "", "`inputs` cannot be empty"),
    ({"truncate": 0}, "hi", "`truncate` must be strictly positive and less than 32. Given: 0"),
    ({"truncate": 33}, "hi", "`truncate` must be strictly positive and less than 32. Given: 33"),
    (
        {"max_new_tokens": 60},
        "0123456789",
        "`inputs` tokens + `max_new_tokens` must be <= 64. "
        "Given: 10 `inputs` tokens and 60 `max_new_tokens`",
    ),
    ({"max_new_tokens": 5}, "x" * 40, "`inputs` must have less than 32 tokens. Given: 40"),
    ({"grammar": {"type": "regex", "value": "a+"}}, "hi", "grammar is not supported"),
]

#: best_of's own rules differ between the non-streaming route and the stream.
BEST_OF_RULES: list[tuple[dict[str, Any], str]] = [
    ({"best_of": 2}, "you must use sampling when `best_of` is > 1"),
    ({"best_of": 2, "do_sample": True, "seed": 1}, "`seed` must not be set when `best_of` > 1"),
    ({"best_of": 3, "do_sample": True}, "`best_of` must be > 0 and <= 2. Given: 3"),
]


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    with serving_emulator("synthetic") as handle:
        yield handle


@pytest.fixture(scope="module")
def url(emu: EmulatorHandle) -> str:
    env = {"MAX_TOTAL_TOKENS": "64", "MAX_INPUT_TOKENS": "32"}
    return str(create_endpoint(emu, env=env)["status"]["url"])


def post(emu: EmulatorHandle, url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, json=body, headers=emu.headers, timeout=30, **kwargs)


@pytest.mark.parametrize(("parameters", "inputs", "message"), RULES)
def test_rule_answers_422_with_tgi_message(
    emu: EmulatorHandle, url: str, parameters: dict[str, Any], inputs: str, message: str
) -> None:
    r = post(emu, f"{url}/generate", {"inputs": inputs, "parameters": parameters})
    assert r.status_code == 422
    assert r.json() == {"error": PREFIX + message, "error_type": "validation"}


@pytest.mark.parametrize(("parameters", "inputs", "message"), RULES)
def test_rule_is_an_in_band_event_when_streaming(
    emu: EmulatorHandle, url: str, parameters: dict[str, Any], inputs: str, message: str
) -> None:
    r = post(emu, url, {"inputs": inputs, "parameters": parameters, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream"
    assert sse_payloads(r.text) == [{"error": PREFIX + message, "error_type": "validation"}]


@pytest.mark.parametrize(("parameters", "message"), BEST_OF_RULES)
def test_best_of_rules(
    emu: EmulatorHandle, url: str, parameters: dict[str, Any], message: str
) -> None:
    r = post(emu, f"{url}/generate", {"inputs": "hi", "parameters": parameters})
    assert (r.status_code, r.json()["error"]) == (422, PREFIX + message)
    streamed = post(emu, f"{url}/generate_stream", {"inputs": "hi", "parameters": parameters})
    assert sse_payloads(streamed.text) == [
        {
            "error": PREFIX + "`best_of` != 1 is not supported when streaming tokens",
            "error_type": "validation",
        }
    ]


def test_decoder_input_details_cannot_stream(emu: EmulatorHandle, url: str) -> None:
    body = {"inputs": "hi", "parameters": {"decoder_input_details": True}}
    events = sse_payloads(post(emu, f"{url}/generate_stream", body).text)
    assert events == [
        {
            "error": PREFIX
            + "`decoder_input_details` == true is not supported when streaming tokens",
            "error_type": "validation",
        }
    ]


def test_hub_client_raises_its_validation_error(emu: EmulatorHandle, url: str) -> None:
    client = InferenceClient(url, token=emu.token)
    with pytest.raises(ValidationError, match=re.escape("`top_p` must be > 0.0 and < 1.0")):
        client.text_generation("hi", top_p=1.0)
    with pytest.raises(ValidationError, match=re.escape("`top_k` must be strictly positive")):
        list(client.text_generation("hi", top_k=-1, stream=True))


def test_chat_validation_is_in_band_with_the_openai_error_shape(
    emu: EmulatorHandle, url: str
) -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "top_p": 1.0, "stream": True}
    r = post(emu, f"{url}/v1/chat/completions", body)
    assert r.status_code == 200 and r.text.endswith("data: [DONE]\n\n")
    assert sse_payloads(r.text) == [
        {"error": {"message": PREFIX + "`top_p` must be > 0.0 and < 1.0", "http_status_code": 422}}
    ]
    plain = post(emu, f"{url}/v1/chat/completions", {**body, "stream": False})
    assert plain.status_code == 422 and plain.json()["error_type"] == "validation"


# -- rejected before validation: axum's Json extractor, plain-text bodies ----------------
@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"parameters": {}}, 422, "missing field `inputs`"),
        ({"inputs": ["a", "b"]}, 422, "inputs: invalid type: sequence, expected a string"),
        (
            {"inputs": "a", "parameters": {"do_sample": None}},
            422,
            "parameters.do_sample: invalid type: null, expected a boolean",
        ),
        (
            {"inputs": "a", "parameters": {"stop": None}},
            422,
            "parameters.stop: invalid type: null, expected a sequence",
        ),
        (
            {"inputs": "a", "parameters": {"truncate": True}},
            422,
            "parameters.truncate: invalid type: boolean `true`, expected usize",
        ),
        (
            {"inputs": "a", "parameters": {"max_new_tokens": -1}},
            422,
            "parameters.max_new_tokens: invalid value: integer `-1`, expected u32",
        ),
    ],
)
def test_deserialization_errors_are_plain_text_422(
    emu: EmulatorHandle, url: str, body: Any, status: int, text: str
) -> None:
    r = post(emu, f"{url}/generate", body)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == "Failed to deserialize the JSON body into the target type: " + text


def test_explicit_nulls_of_optional_fields_are_accepted(emu: EmulatorHandle, url: str) -> None:
    # The `text-generation` client sends every Option field as null.
    nulls = {k: None for k in ("best_of", "seed", "temperature", "top_k", "top_p", "truncate")}
    r = post(emu, f"{url}/generate", {"inputs": "a", "parameters": {**nulls, "max_new_tokens": 2}})
    assert r.status_code == 200


def test_content_type_and_malformed_json(emu: EmulatorHandle, url: str) -> None:
    r = httpx.post(f"{url}/generate", content=b'{"inputs":"a"}', headers=emu.headers)
    assert (r.status_code, r.text) == (
        415,
        "Expected request with `Content-Type: application/json`",
    )
    headers = {**emu.headers, "content-type": "application/json"}
    r = httpx.post(f"{url}/generate", content=b'{"inputs":', headers=headers)
    assert r.status_code == 400
    assert r.text.startswith("Failed to parse the request body as JSON: ")


def test_unknown_fields_are_ignored(emu: EmulatorHandle, url: str) -> None:
    body = {"inputs": "a", "parameters": {"max_new_tokens": 2, "stop_sequences": ["x"]}, "y": 1}
    assert post(emu, f"{url}/generate", body).status_code == 200
