"""Parameters: TGI's names, rules and messages, checked before any request leaves."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from pulumi_hf_endpoints.inference import (
    AsyncEndpointClient,
    EndpointClient,
    TextGenerationParameters,
    ValidationError,
)
from tests.inference.inference_testkit import Script

# (kwargs, TGI's message after "Input validation error: ")
RULES: list[tuple[dict[str, Any], str]] = [
    ({"temperature": 0}, "`temperature` must be strictly positive"),
    ({"temperature": -1.5}, "`temperature` must be strictly positive"),
    ({"repetition_penalty": 0.0}, "`repetition_penalty` must be strictly positive"),
    ({"frequency_penalty": 2.5}, "`frequency_penalty` must be >= -2.0 and <= 2.0"),
    ({"frequency_penalty": -2.01}, "`frequency_penalty` must be >= -2.0 and <= 2.0"),
    ({"top_p": 1.0}, "`top_p` must be > 0.0 and < 1.0"),
    ({"top_p": 0}, "`top_p` must be > 0.0 and < 1.0"),
    ({"typical_p": 1}, "`typical_p` must be > 0.0 and < 1.0"),
    ({"top_k": 0}, "`top_k` must be strictly positive"),
    ({"max_new_tokens": 0}, "`max_new_tokens` must be strictly positive"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "`stop` supports up to 4 stop sequences. Given: 5"),
    ({"stop_sequences": list("abcde")}, "`stop` supports up to 4 stop sequences. Given: 5"),
    ({"top_n_tokens": 6}, "`top_n_tokens` must be >= 0 and <= 5. Given: 6"),
    ({"best_of": 3, "do_sample": True}, "`best_of` must be > 0 and <= 2. Given: 3"),
    ({"best_of": 2}, "you must use sampling when `best_of` is > 1"),
    ({"best_of": 2, "do_sample": True, "seed": 1}, "`seed` must not be set when `best_of` > 1"),
    ({"truncate": 0}, "`truncate` must be strictly positive"),
    ({"truncate": True}, "`truncate` must be an integer"),
    ({"truncate": 1.5}, "`truncate` must be an integer"),
    ({"max_new_tokens": "20"}, "`max_new_tokens` must be an integer. Given: '20'"),
    ({"temperature": "hot"}, "`temperature` must be a number"),
    ({"stop": "###"}, "`stop` must be a list of strings"),
    ({"stop": ["ok", 3]}, "`stop` must be a list of strings"),
    ({"seed": -1}, "`seed` must be an unsigned 64-bit integer"),
    ({"grammar": {"type": "yaml", "value": "x"}}, "`grammar` must be {'type': 'json'"),
    ({"do_sample": "yes"}, "`do_sample` must be a boolean"),
]


@pytest.mark.parametrize(("kwargs", "message"), RULES)
def test_rule_raises_tgi_message_before_any_request(kwargs: dict[str, Any], message: str) -> None:
    script = Script()
    with (
        EndpointClient("http://endpoint.test", token=False, transport=script.transport()) as c,
        pytest.raises(ValidationError) as info,
    ):
        c.text_generation("I am", **kwargs)
    assert f"Input validation error: {message}" in str(info.value)
    assert any(message in e for e in info.value.errors)
    assert info.value.error_type == "validation"
    assert isinstance(info.value, ValueError)
    assert script.requests == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"best_of": 2, "do_sample": True}, "`best_of` != 1 is not supported when streaming"),
        (
            {"decoder_input_details": True},
            "`decoder_input_details` == true is not supported when streaming tokens",
        ),
    ],
)
def test_streaming_only_rules(kwargs: dict[str, Any], message: str) -> None:
    script = Script()
    with EndpointClient("http://endpoint.test", token=False, transport=script.transport()) as c:
        c_kwargs: dict[str, Any] = dict(kwargs)
        with pytest.raises(ValidationError, match=message):
            c.text_generation("I am", stream=True, **c_kwargs)
    assert script.requests == []


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        TextGenerationParameters.model_validate({"top_p": 1.0, "temperature": 0})
    assert "top_p" in str(info.value) and "temperature" in str(info.value)
    with (
        EndpointClient("http://e.test", token=False) as client,
        pytest.raises(ValidationError) as e,
    ):
        client.text_generation("", truncate=True, top_p=1.0, stop=list("abcde"))
    assert len(e.value.errors) == 4
    assert e.value.errors[0] == "Input validation error: `inputs` cannot be empty"


def test_unknown_keyword_names_it_and_the_allowed_ones() -> None:
    script = Script()
    with (
        EndpointClient("http://endpoint.test", token=False, transport=script.transport()) as c,
        pytest.raises(TypeError) as info,
    ):
        c.text_generation("I am", max_new_token=5)  # type: ignore[call-overload]
    text = str(info.value)
    assert "'max_new_token'" in text and "did you mean 'max_new_tokens'" in text
    assert "Allowed: adapter_id, best_of," in text and "stop_sequences" in text
    assert script.requests == []


def test_unknown_chat_keyword() -> None:
    with EndpointClient("http://e.test", token=False) as client, pytest.raises(TypeError) as info:
        client.chat_completion(
            [{"role": "user", "content": "hi"}],
            max_new_tokens=5,  # type: ignore[call-overload]
        )
    assert "'max_new_tokens' (did you mean 'max_tokens'?)" in str(info.value)


@pytest.mark.anyio
async def test_async_validates_before_sending() -> None:
    script = Script()
    async with AsyncEndpointClient(
        "http://endpoint.test", token=False, transport=script.transport()
    ) as client:
        with pytest.raises(ValidationError, match="top_p"):
            await client.text_generation("x", top_p=1.0)
        with pytest.raises(ValidationError, match="messages"):
            await client.chat_completion([], stream=True)
        with pytest.raises(TypeError, match="'foo'"):
            await client.text_generation("x", foo=1)  # type: ignore[call-overload]
    assert script.requests == []


def test_alias_both_forms_is_an_error() -> None:
    with EndpointClient("http://e.test", token=False) as client, pytest.raises(ValidationError):
        client.text_generation("x", stop=["a"], stop_sequences=["b"])


@pytest.mark.parametrize(
    ("messages", "kwargs", "message"),
    [
        ("hello", {}, "`messages` must be a list"),
        ([], {}, "`messages` cannot be empty"),
        ([{"content": "x"}], {}, "`messages[0]` must be an object with a string 'role'"),
        ([{"role": "user", "content": "x"}], {"top_p": 1.0}, "`top_p` must be > 0.0 and < 1.0"),
        ([{"role": "user", "content": "x"}], {"temperature": -1}, "`temperature` must be >= 0"),
        ([{"role": "user", "content": "x"}], {"max_tokens": 0}, "`max_tokens` must be strictly"),
        ([{"role": "user", "content": "x"}], {"top_logprobs": 9}, "`top_logprobs` must be >= 0"),
        ([{"role": "user", "content": "x"}], {"stop": list("abcde")}, "up to 4 stop sequences"),
    ],
)
def test_chat_rules(messages: Any, kwargs: dict[str, Any], message: str) -> None:
    script = Script()
    with (
        EndpointClient("http://e.test", token=False, transport=script.transport()) as client,
        pytest.raises(ValidationError) as info,
    ):
        client.chat_completion(messages, **kwargs)
    assert message in str(info.value)
    assert script.requests == []
