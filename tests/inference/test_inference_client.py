"""The clients against scripted answers: wire format, results, errors, retries, secrets."""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.inference import (
    AsyncEndpointClient,
    EndpointClient,
    EndpointPausedError,
    ForbiddenError,
    GenerationError,
    IncompleteGenerationError,
    InferenceConnectionError,
    InferenceError,
    InferenceHTTPError,
    OverloadedError,
    ServiceUnavailableError,
    TextGenerationError,
    TextGenerationOutput,
    TextGenerationStreamOutput,
    UnauthorizedError,
    ValidationError,
)
from tests.inference.inference_testkit import (
    TOKEN,
    RecordingStream,
    Script,
    chat_chunks,
    sse,
    sse_response,
    tgi_events,
)

URL = "https://abc123.us-east-1.aws.endpoints.huggingface.cloud"
GENERATED = [
    {
        "generated_text": "Paris is nice",
        "details": {
            "finish_reason": "eos_token",
            "generated_tokens": 3,
            "seed": 42,
            "prefill": [{"id": 1, "text": "<s>", "logprob": None}],
            "tokens": [
                {"id": 5, "text": "Paris", "logprob": -0.1, "special": False},
                {"id": 6, "text": " is nice", "logprob": -0.2, "special": False},
                {"id": 2, "text": "</s>", "logprob": -0.3, "special": True},
            ],
            "top_tokens": [[{"id": 5, "text": "Paris", "logprob": -0.1, "special": False}]],
        },
    }
]


def client(script: Script, **options: Any) -> EndpointClient:
    options.setdefault("token", TOKEN)
    return EndpointClient(URL, transport=script.transport(), **options)


def error_body(message: str, error_type: str) -> dict[str, str]:
    return {"error": message, "error_type": error_type}


# --------------------------------------------------------------------------- wire format


def test_plain_generation_posts_to_root_with_tgi_body() -> None:
    script = Script([httpx.Response(200, json=[{"generated_text": "Paris"}])])
    with client(script) as c:
        text = c.text_generation("The capital of France is", max_new_tokens=5, seed=1)
    assert text == "Paris"
    (request,) = script.requests
    assert request.method == "POST" and request.url.raw_path == b"/"
    assert script.bodies[0] == {
        "inputs": "The capital of France is",
        "parameters": {"max_new_tokens": 5, "seed": 1},
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("pulumi-hf-endpoints/")
    assert int(request.headers["x-scale-up-timeout"]) >= 299


def test_object_body_is_accepted_as_well_as_list() -> None:
    script = Script([httpx.Response(200, json=GENERATED[0])])
    with client(script) as c:
        assert c.text_generation("x") == "Paris is nice"


def test_details_builds_typed_output() -> None:
    script = Script([httpx.Response(200, json=GENERATED)])
    with client(script) as c:
        out = c.text_generation("x", details=True, stop_sequences=["\n"], top_n_tokens=1)
    assert script.bodies[0]["parameters"] == {"stop": ["\n"], "top_n_tokens": 1, "details": True}
    assert isinstance(out, TextGenerationOutput)
    assert out.details is not None
    assert out.details.finish_reason == "eos_token" and out.details.seed == 42
    assert [t.text for t in out.details.tokens] == ["Paris", " is nice", "</s>"]
    assert out.details.tokens[-1].special is True
    assert out.details.prefill[0].logprob is None
    assert out.details.top_tokens is not None and out.details.top_tokens[0][0].id == 5


def test_stream_details_yields_typed_events_and_sends_stream_flag() -> None:
    events = tgi_events(["Hello", " world"])
    script = Script([sse_response(sse(events))])
    with client(script) as c:
        got = list(c.text_generation("x", stream=True, details=True, max_new_tokens=3))
    assert script.bodies[0] == {
        "inputs": "x",
        "parameters": {"max_new_tokens": 3, "details": True},
        "stream": True,
    }
    assert script.requests[0].headers["accept"] == "text/event-stream"
    assert all(isinstance(r, TextGenerationStreamOutput) for r in got)
    assert [r.token.text for r in got] == ["Hello", " world", "</s>"]
    assert [r.index for r in got] == [1, 2, 3]
    assert got[-1].token.special and got[-1].generated_text == "Hello world"
    assert got[-1].details is not None and got[-1].details.finish_reason == "eos_token"
    assert got[-1].details.input_length == 3 and got[0].details is None


def test_stream_text_skips_special_tokens_so_pieces_join_to_the_text() -> None:
    script = Script([sse_response(sse(tgi_events(["Hello", " world"], details=False)))])
    with client(script) as c:
        pieces = list(c.text_generation("x", stream=True))
    assert pieces == ["Hello", " world"]
    assert "details" not in script.bodies[0]["parameters"]


@pytest.mark.parametrize("space", [True, False])
def test_stream_old_and_new_framing_with_keep_alives(space: bool) -> None:
    body = b":\n\n" + sse(tgi_events(["a", "b"]), space=space) + b": keep-alive\n\n"
    script = Script([sse_response(body)])
    with client(script) as c:
        assert [r.token.text for r in c.text_generation("x", stream=True, details=True)] == [
            "a",
            "b",
            "</s>",
        ]


def test_stream_stops_at_done() -> None:
    body = sse([*tgi_events(["a"]), "[DONE]", {"error": "never read", "error_type": "x"}])
    script = Script([sse_response(body)])
    with client(script) as c:
        assert len(list(c.text_generation("x", stream=True, details=True))) == 2


def test_old_tgi_events_without_index_or_input_length() -> None:
    events = tgi_events(["a"])
    for event in events:
        del event["index"]
    del events[-1]["details"]["input_length"]
    script = Script([sse_response(sse(events))])
    with client(script) as c:
        got = list(c.text_generation("x", stream=True, details=True))
    assert got[0].index == 0 and got[-1].details is not None
    assert got[-1].details.input_length is None


def test_chat_plain() -> None:
    answer = {
        "object": "chat.completion",
        "id": "",
        "created": 1741266005,
        "model": "tgi",
        "system_fingerprint": "3.3.7-native",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "OK!"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 39, "completion_tokens": 3, "total_tokens": 42},
    }
    script = Script([httpx.Response(200, json=answer)])
    messages = [{"role": "user", "content": "Say OK"}]
    with client(script) as c:
        out = c.chat_completion(messages, max_tokens=5, temperature=0, stop="\n")
    assert str(script.requests[0].url) == URL + "/v1/chat/completions"
    assert script.bodies[0] == {
        "model": "tgi",
        "messages": messages,
        "max_tokens": 5,
        "temperature": 0,
        "stop": "\n",
        "stream": False,
    }
    assert out.choices[0].message.content == "OK!" and out.choices[0].finish_reason == "stop"
    assert out.usage is not None and out.usage.total_tokens == 42


def test_chat_stream_until_done_and_extra_body() -> None:
    script = Script([sse_response(sse(chat_chunks(["O", "K"])))])
    with client(script) as c:
        chunks = list(
            c.chat_completion(
                [{"role": "user", "content": "hi"}],
                stream=True,
                extra_body={"repetition_penalty": 1.1},
            )
        )
    assert script.bodies[0]["stream"] is True
    assert script.bodies[0]["repetition_penalty"] == 1.1
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "OK"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_chat_stream_of_old_tgi_ends_without_done() -> None:
    script = Script([sse_response(sse(chat_chunks(["a", "b"], done=False)))])
    with client(script) as c:
        assert len(list(c.chat_completion([{"role": "user", "content": "x"}], stream=True))) == 2


@pytest.mark.parametrize(
    ("base", "route"),
    [
        (URL, URL + "/v1/chat/completions"),
        (URL + "/", URL + "/v1/chat/completions"),
        (URL + "/v1", URL + "/v1/chat/completions"),
        (URL + "/v1/chat/completions", URL + "/v1/chat/completions"),
    ],
)
def test_chat_url_forms(base: str, route: str) -> None:
    script = Script([sse_response(sse(chat_chunks(["a"])))])
    with EndpointClient(base, token=False, transport=script.transport()) as c:
        list(c.chat_completion([{"role": "user", "content": "x"}], stream=True))
    assert str(script.requests[0].url) == route


def test_health_and_info() -> None:
    script = Script(
        [
            httpx.Response(200),
            httpx.Response(503, json={"error": "unhealthy", "error_type": "healthcheck"}),
            httpx.Response(200, json={"model_id": "m", "max_total_tokens": 2048}),
        ]
    )
    with client(script) as c:
        assert c.health() is True
        assert c.health() is False
        assert c.info()["max_total_tokens"] == 2048
    assert [r.url.path for r in script.requests] == ["/health", "/health", "/info"]
    assert "x-scale-up-timeout" not in script.requests[0].headers


def test_health_raises_for_what_waiting_will_not_fix() -> None:
    script = Script([httpx.Response(401, json={"error": "401 Unauthorized"})])
    with client(script) as c, pytest.raises(UnauthorizedError):
        c.health()


def test_no_token_sent_when_false_and_discovered_when_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = Script([httpx.Response(200, json=[{"generated_text": ""}])])
    with EndpointClient(URL, token=False, transport=script.transport()) as c:
        c.text_generation("x")
    monkeypatch.setenv("HF_TOKEN", "hf_FromTheEnvironment123")
    with EndpointClient(URL, transport=script.transport()) as c:
        c.text_generation("x")
    assert "authorization" not in script.requests[0].headers
    assert script.requests[1].headers["authorization"] == "Bearer hf_FromTheEnvironment123"


def test_timeouts_connect_only_by_default() -> None:
    with EndpointClient(URL, token=False) as c:
        timeout = c._http.timeout
    assert timeout.connect == 10.0
    assert timeout.read is None and timeout.write is None
    with EndpointClient(URL, token=False, timeout=30, connect_timeout=2) as c:
        assert c._http.timeout.read == 30 and c._http.timeout.connect == 2


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "body", "cls", "text"),
    [
        (
            422,
            error_body(
                "Input validation error: `inputs` must have less than 1024 tokens", "validation"
            ),
            ValidationError,
            "must have less than 1024 tokens",
        ),
        (
            424,
            error_body("Request failed during generation: CUDA OOM", "generation"),
            GenerationError,
            "CUDA OOM",
        ),
        (
            500,
            error_body("Incomplete generation", "incomplete_generation"),
            IncompleteGenerationError,
            "Incomplete generation",
        ),
        (
            400,
            {"error": "Bad Request: The endpoint is paused, ask a maintainer to restart it"},
            EndpointPausedError,
            "endpoint is paused",
        ),
        (401, {"error": "401 Unauthorized", "code": "UNAUTHORIZED"}, UnauthorizedError, "401"),
        (403, {"error": "Forbidden"}, ForbiddenError, "Forbidden"),
        (
            422,
            "Failed to deserialize the JSON body into the target type: inputs: invalid type",
            ValidationError,
            "Failed to deserialize",
        ),
        (413, "", InferenceHTTPError, "413 Request Entity Too Large"),
        (500, "<html><title>oops</title></html>", InferenceHTTPError, "HTML page"),
    ],
)
def test_http_errors_are_typed_and_not_retried(
    status: int, body: Any, cls: type[InferenceError], text: str
) -> None:
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    script = Script([httpx.Response(status, content=content)])
    with client(script) as c, pytest.raises(cls) as info:
        c.text_generation("x")
    assert text in str(info.value)
    assert info.value.status_code == status
    assert len(script.requests) == 1


def test_unauthorized_without_token_says_how_to_fix() -> None:
    script = Script([httpx.Response(401, json={"error": "401 Unauthorized"})])
    with (
        EndpointClient(URL, token=False, transport=script.transport()) as c,
        pytest.raises(UnauthorizedError, match="HF_TOKEN"),
    ):
        c.text_generation("x")


@pytest.mark.usefixtures("fast_backoff")
def test_cold_start_503_then_ready_is_retried() -> None:
    waking = httpx.Response(503, json={"error": "503 Service Unavailable"})
    script = Script([waking, waking, sse_response(sse(tgi_events(["up"])))])
    with client(script) as c:
        tokens = [r.token.text for r in c.text_generation("x", stream=True, details=True)]
    assert tokens == ["up", "</s>"]
    assert len(script.requests) == 3
    assert all("x-scale-up-timeout" in r.headers for r in script.requests)


def test_429_honours_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("pulumi_hf_endpoints.inference._sync.time.sleep", slept.append)
    busy = httpx.Response(
        429, headers={"retry-after": "2"}, json=error_body("Model is overloaded", "overloaded")
    )
    script = Script([busy, httpx.Response(200, json=[{"generated_text": "ok"}])])
    with client(script) as c:
        assert c.text_generation("x") == "ok"
    assert slept == [2.0]


@pytest.mark.usefixtures("fast_backoff")
def test_retries_stop_at_the_deadline() -> None:
    busy = httpx.Response(429, json=error_body("Model is overloaded", "overloaded"))
    script = Script([busy])
    with client(script, retry_timeout=0.05) as c, pytest.raises(OverloadedError) as info:
        c.text_generation("x")
    assert info.value.attempts == len(script.requests) > 1
    assert "gave up after" in str(info.value)


def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    script = Script([httpx.Response(503, headers={"retry-after": "120"})])
    with client(script, retry_timeout=5) as c, pytest.raises(ServiceUnavailableError):
        c.text_generation("x")
    assert len(script.requests) == 1


def test_retry_timeout_zero_disables_retries_and_the_hold_header() -> None:
    script = Script([httpx.Response(503)])
    with client(script, retry_timeout=0) as c, pytest.raises(ServiceUnavailableError):
        c.text_generation("x")
    assert len(script.requests) == 1
    assert "x-scale-up-timeout" not in script.requests[0].headers


def test_wait_for_scale_up_false_omits_the_header() -> None:
    script = Script([httpx.Response(200, json=[{"generated_text": ""}])])
    with client(script, wait_for_scale_up=False) as c:
        c.text_generation("x")
    assert "x-scale-up-timeout" not in script.requests[0].headers


@pytest.mark.parametrize(
    ("event", "cls"),
    [
        (
            error_body("Input validation error: `top_n_tokens` must be >= 0", "validation"),
            ValidationError,
        ),
        (error_body("Model is overloaded", "overloaded"), OverloadedError),
        (error_body("Request failed during generation: boom", "generation"), GenerationError),
        (
            error_body("Incomplete generation stream", "incomplete_generation_stream"),
            IncompleteGenerationError,
        ),
        (error_body("Template error: x", "template_error"), ValidationError),
        ({"error": {"message": "bad", "http_status_code": 422}}, ValidationError),
        ({"error": "something new", "error_type": "new_kind"}, TextGenerationError),
    ],
)
def test_in_band_error_events_raise_typed_errors(event: Any, cls: type[Exception]) -> None:
    body = sse([*tgi_events(["a"])[:1], event])
    script = Script([sse_response(body)])
    got: list[Any] = []
    with client(script) as c, pytest.raises(cls) as info:
        got.extend(c.text_generation("x", stream=True, details=True))
    assert len(got) == 1  # the token before the error was delivered
    assert isinstance(info.value, TextGenerationError)
    assert info.value.status_code is None and "error event in the stream" in str(info.value)


def test_in_band_error_in_chat_stream() -> None:
    body = sse([{"error": {"message": "Template error: x", "http_status_code": 422}}])
    script = Script([sse_response(body)])
    with client(script) as c, pytest.raises(ValidationError, match="Template error"):
        list(c.chat_completion([{"role": "user", "content": "x"}], stream=True))


def test_stream_ending_before_the_final_token_is_incomplete() -> None:
    script = Script([sse_response(sse(tgi_events(["a", "b"])[:2]))])
    with client(script) as c, pytest.raises(IncompleteGenerationError, match="ended before"):
        list(c.text_generation("x", stream=True, details=True))
    script = Script([sse_response(sse(chat_chunks(["a", "b"], done=False)[:1]))])
    with client(script) as c, pytest.raises(IncompleteGenerationError):
        list(c.chat_completion([{"role": "user", "content": "x"}], stream=True))


def test_malformed_event() -> None:
    script = Script([sse_response(b"data: {not json\n\n")])
    with client(script) as c, pytest.raises(IncompleteGenerationError, match="malformed event"):
        list(c.text_generation("x", stream=True))


def test_json_instead_of_a_stream() -> None:
    script = Script([httpx.Response(200, json=[{"generated_text": "a"}])])
    with client(script) as c, pytest.raises(InferenceHTTPError, match="asked for a stream"):
        c.text_generation("x", stream=True)


def test_connection_refused_is_typed() -> None:
    with (
        EndpointClient("http://127.0.0.1:9", token=TOKEN, connect_timeout=2) as c,
        pytest.raises(InferenceConnectionError) as info,
    ):
        c.text_generation("x")
    assert info.value.__cause__ is None and info.value.__context__ is None


# --------------------------------------------------------------------------- closing


def test_break_closes_the_response_even_when_the_stream_is_kept() -> None:
    body = RecordingStream([sse([e]) for e in tgi_events([f"t{i}" for i in range(20)])])
    script = Script(
        [httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)]
    )
    with client(script) as c:
        stream = c.text_generation("x", stream=True, details=True)  # kept, as in the blog
        for r in stream:
            if r.token.text == "t2":
                break
        assert body.closed
        assert body.sent == 3


def test_exception_in_loop_body_closes_the_response() -> None:
    body = RecordingStream([sse([e]) for e in tgi_events(["a", "b", "c"])])
    script = Script(
        [httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)]
    )

    def consume() -> None:
        with client(script) as c:
            for _ in c.text_generation("x", stream=True):
                raise KeyError("user code failed")

    with pytest.raises(KeyError):
        consume()
    assert body.closed


def test_stream_context_manager_and_close() -> None:
    bodies = [RecordingStream([sse(tgi_events(["a"]))]) for _ in range(2)]
    script = Script(
        [
            httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=b)
            for b in bodies
        ]
    )
    with client(script) as c:
        with c.text_generation("x", stream=True) as stream:
            assert next(stream) == "a"
        assert bodies[0].closed
        other = c.text_generation("x", stream=True)
        other.close()
        assert bodies[1].closed
        assert list(other) == []


def test_stream_can_be_iterated_once() -> None:
    script = Script([sse_response(sse(tgi_events(["a"])))])
    with client(script) as c:
        stream = c.text_generation("x", stream=True)
        assert list(stream) == ["a"]
        with pytest.raises(RuntimeError, match="already iterated"):
            iter(stream)


@pytest.mark.anyio
async def test_async_break_closes_the_response() -> None:
    import asyncio

    body = RecordingStream([sse([e]) for e in tgi_events([f"t{i}" for i in range(20)])])
    script = Script(
        [httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)]
    )
    async with AsyncEndpointClient(URL, token=TOKEN, transport=script.transport()) as c:
        stream = await c.text_generation("x", stream=True, details=True)
        async for r in stream:
            if r.token.text == "t1":
                break
        for _ in range(5):  # the event loop finalises the abandoned iterator
            await asyncio.sleep(0)
        assert body.closed and body.sent == 2


@pytest.mark.anyio
async def test_async_stream_context_manager() -> None:
    body = RecordingStream([sse([e]) for e in tgi_events(["a", "b"])])
    script = Script(
        [httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)]
    )
    async with AsyncEndpointClient(URL, token=TOKEN, transport=script.transport()) as c:
        async with await c.text_generation("x", stream=True) as stream:
            assert await stream.__anext__() == "a"
        assert body.closed


@pytest.mark.anyio
@pytest.mark.usefixtures("fast_backoff")
async def test_async_retries_and_errors() -> None:
    script = Script(
        [
            httpx.Response(503),
            httpx.Response(200, json=GENERATED),
            httpx.Response(
                424, json=error_body("Request failed during generation: x", "generation")
            ),
        ]
    )
    async with AsyncEndpointClient(URL, token=TOKEN, transport=script.transport()) as c:
        out = await c.text_generation("x", details=True)
        assert out.details is not None and out.details.generated_tokens == 3
        with pytest.raises(GenerationError):
            await c.text_generation("x")
    assert len(script.requests) == 3


# --------------------------------------------------------------------------- secrets


def test_token_never_in_errors_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"Invalid credentials in header: Bearer {TOKEN}; token {TOKEN}"
    script = Script(
        [
            httpx.Response(503, json={"error": echo}),
            httpx.Response(422, json=error_body(echo, "validation")),
            sse_response(sse([{"error": echo, "error_type": "generation"}])),
        ]
    )
    errors: list[BaseException] = []
    with client(script, retry_timeout=30) as c:
        texts = [repr(c), str(c.__dict__)]
        try:
            c.text_generation("x")
        except InferenceError as e:
            errors.append(e)
        try:
            list(c.text_generation("x", stream=True))
        except InferenceError as e:
            errors.append(e)
    assert len(errors) == 2
    for error in errors:
        texts += [
            str(error),
            repr(error),
            str(error.__dict__),
            str(pickle.loads(pickle.dumps(error))),
        ]
        assert error.__cause__ is None
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(getattr(r, "args", "")) for r in caplog.records]
    assert any("retrying" in t for t in texts)
    for text in texts:
        assert TOKEN not in text


def test_token_given_as_header_is_redacted_too() -> None:
    secret = "hf_HeaderTokenXyz987654321"
    script = Script([httpx.Response(422, json=error_body(f"bad {secret}", "validation"))])
    with (
        EndpointClient(
            URL, headers={"Authorization": f"Bearer {secret}"}, transport=script.transport()
        ) as c,
        pytest.raises(ValidationError) as info,
    ):
        c.text_generation("x")
    assert script.requests[0].headers["authorization"] == f"Bearer {secret}"
    assert secret not in str(info.value)
