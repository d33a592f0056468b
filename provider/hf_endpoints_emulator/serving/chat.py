"""The OpenAI-compatible routes: `/v1/chat/completions`, `/v1/completions`,
`/chat_tokenize`. They reuse TGI's validation and engine: a chat request
becomes a `GenerateRequest` over the chat-templated prompt, as in TGI's `chat.rs`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from .backends.base import ChatTemplateError as BackendTemplateError
from .context import ClientGone, RequestContext, until_disconnect
from .errors import (
    OpenAIRequestError,
    ServingError,
    TemplateError,
    ToolError,
    deserialize_error,
)
from .generation import as_serving_error, events, run_to_end
from .params import (
    GenerateParameters,
    GenerateRequest,
    ValidRequest,
    _bad_type,
    _bool,
    _float,
    _int,
    _opt,
    _read_grammar,
    _str,
    validate,
)
from .routes import SYSTEM_FINGERPRINT, simple_tokens
from .runner import GenerationResult, Prefill, Token
from .sse import DONE, EventStreamResponse, event

_OPENAI_FINISH = {"eos_token": "stop", "length": "length", "stop_sequence": "stop_sequence"}


@dataclass
class ChatRequest:
    model: str | None
    messages: list[dict[str, Any]]
    parameters: GenerateParameters
    stream: bool
    include_usage: bool
    logprobs: bool
    tools: Any


def response_model(ctx: RequestContext, requested: str | None) -> str:
    """TGI names the served model unless another one (a LoRA adapter id) was asked for."""
    return ctx.model_id if requested in (None, "tgi") else requested


def _stop_list(path: str, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad_type(path, raw, "a sequence")
    return [_str(f"{path}[{i}]", s) for i, s in enumerate(raw)]


def _message(path: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _bad_type(path, raw, "struct Message")
    if "role" not in raw:
        raise deserialize_error(f"{path}: missing field `role`")
    role = _str(f"{path}.role", raw["role"])
    content = raw.get("content")
    if isinstance(content, list):
        # TGI flattens chunks into text; images become markdown links.
        parts = []
        for i, chunk in enumerate(content):
            if not isinstance(chunk, Mapping):
                raise _bad_type(f"{path}.content[{i}]", chunk, "struct MessageChunk")
            if chunk.get("type") == "text":
                parts.append(_str(f"{path}.content[{i}].text", chunk.get("text")))
            elif chunk.get("type") == "image_url":
                url = (chunk.get("image_url") or {}).get("url", "")
                parts.append(f"![]({url})")
            else:
                raise deserialize_error(f"{path}.content[{i}]: unknown variant")
        content = "".join(parts)
    elif content is not None:
        content = _str(f"{path}.content", content)
    message: dict[str, Any] = {"role": role, "content": content or ""}
    if raw.get("name") is not None:
        message["name"] = _str(f"{path}.name", raw["name"])
    return message


def read_chat(value: Any) -> ChatRequest:
    if not isinstance(value, Mapping):
        raise _bad_type("", value, "struct ChatRequest")
    if "messages" not in value:
        raise deserialize_error("missing field `messages`")
    raw_messages = value["messages"]
    if not isinstance(raw_messages, list):
        raise _bad_type("messages", raw_messages, "a sequence")
    messages = [_message(f"messages[{i}]", m) for i, m in enumerate(raw_messages)]
    model = _opt(_str, "model", value.get("model"))
    max_tokens = value.get("max_tokens", value.get("max_completion_tokens"))
    temperature = _opt(_float, "temperature", value.get("temperature"))
    presence = _opt(_float, "presence_penalty", value.get("presence_penalty"))
    # TGI chat.rs: temperature 0 means greedy; otherwise the chat routes always sample.
    greedy = temperature == 0.0
    grammar = value.get("response_format")
    params = GenerateParameters(
        do_sample=not greedy,
        temperature=None if greedy else temperature,
        max_new_tokens=_opt(_int, "max_tokens", max_tokens, "u32"),
        repetition_penalty=None if presence is None else presence + 2.0,
        frequency_penalty=_opt(_float, "frequency_penalty", value.get("frequency_penalty")),
        top_p=_opt(_float, "top_p", value.get("top_p")),
        seed=_opt(_int, "seed", value.get("seed"), "u64"),
        stop=_stop_list("stop", value.get("stop")),
        top_n_tokens=_opt(_int, "top_logprobs", value.get("top_logprobs"), "u32"),
        grammar=None if grammar is None else _read_grammar("response_format", grammar),
        details=True,
        return_full_text=False,
    )
    stream = bool(_opt(_bool, "stream", value.get("stream")))
    options = value.get("stream_options")
    include_usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
    logprobs = bool(_opt(_bool, "logprobs", value.get("logprobs")))
    return ChatRequest(model, messages, params, stream, include_usage, logprobs, value.get("tools"))


def _logprobs_json(tokens: list[Token], tops: list[list[Token]]) -> dict[str, Any]:
    content = []
    for i, token in enumerate(tokens):
        top = tops[i] if i < len(tops) else []
        content.append(
            {
                "token": token.text,
                "logprob": token.as_json()["logprob"],
                "top_logprobs": [{"token": t.text, "logprob": t.as_json()["logprob"]} for t in top],
            }
        )
    return {"content": content}


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _openai_error(error: ServingError) -> bytes:
    """TGI >= 2.4.1 in-stream error form of the OpenAI routes."""
    return event({"error": {"message": error.message, "http_status_code": 422}})


async def chat_completions(ctx: RequestContext, value: Any) -> Response:
    chat = read_chat(value)
    model = response_model(ctx, chat.model)
    if chat.tools:
        return ToolError("tools are not supported by the emulator's serving layer").response()
    await ctx.runner.ensure_loaded()
    try:
        prompt = ctx.runner.backend.chat_prompt(chat.messages)
    except BackendTemplateError as exc:
        return TemplateError(str(exc)).response()
    request = GenerateRequest(prompt, chat.parameters)
    if chat.stream:
        return EventStreamResponse(
            _chat_stream(ctx, chat, request, model),
            headers=ctx.base_headers(),
            keep_alive=ctx.options.keep_alive_interval,
        )
    outcome = await _generate(ctx, request)
    if isinstance(outcome, Response):
        return outcome
    valid, result = outcome
    body = {
        "object": "chat.completion",
        "id": "",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.generated_text},
                "logprobs": _logprobs_json(result.tokens, result.top_tokens)
                if chat.logprobs
                else None,
                "finish_reason": _OPENAI_FINISH[result.finish_reason],
            }
        ],
        "usage": _usage(valid.input_length, len(result.tokens)),
    }
    return JSONResponse(body, headers=ctx.base_headers())


async def _generate(
    ctx: RequestContext, request: GenerateRequest
) -> tuple[ValidRequest, GenerationResult] | Response:
    """Validate and run a chat/completion prompt to the end, or the error response."""
    ctx.metrics.requests += 1
    try:
        with ctx.permit():
            valid = validate(request, ctx.limits, ctx.runner.backend, add_special_tokens=False)
            result, _ = await until_disconnect(ctx.request, run_to_end(ctx, valid))
    except ClientGone:
        return Response(status_code=499)
    except Exception as exc:
        error = as_serving_error(exc)
        ctx.record(error_type=error.error_type)
        return error.response(ctx.base_headers())
    ctx.record(error_type=None, generated=len(result.tokens), input_length=valid.input_length)
    return valid, result


async def _chat_stream(
    ctx: RequestContext, chat: ChatRequest, request: GenerateRequest, model: str
) -> AsyncIterator[bytes]:
    ctx.metrics.requests += 1
    generated = 0
    input_length = 0
    try:
        with ctx.permit():
            valid = validate(request, ctx.limits, ctx.runner.backend, add_special_tokens=False)
            input_length = valid.input_length
            async for item in events(ctx, valid.job):
                if isinstance(item, Prefill):
                    continue
                generated = item.index
                token = item.token
                finish = item.finish_reason
                yield event(
                    {
                        "object": "chat.completion.chunk",
                        "id": "",
                        "created": int(time.time()),
                        "model": model,
                        "system_fingerprint": SYSTEM_FINGERPRINT,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {
                                    "role": "assistant",
                                    "content": "" if token.special else token.text,
                                },
                                "logprobs": _logprobs_json([token], [item.top_tokens])
                                if chat.logprobs
                                else None,
                                "finish_reason": None if finish is None else _OPENAI_FINISH[finish],
                            }
                        ],
                        "usage": None,
                    }
                )
            if chat.include_usage:
                yield event(
                    {
                        "object": "chat.completion.chunk",
                        "id": "",
                        "created": int(time.time()),
                        "model": model,
                        "system_fingerprint": SYSTEM_FINGERPRINT,
                        "choices": [],
                        "usage": _usage(input_length, generated),
                    }
                )
    except Exception as exc:
        error = as_serving_error(exc)
        ctx.record(error_type=error.error_type)
        yield _openai_error(error)
        yield DONE
        return
    ctx.record(error_type=None, generated=generated, input_length=input_length)
    yield DONE


@dataclass
class CompletionRequest:
    model: str | None
    prompts: list[str]
    parameters: GenerateParameters
    stream: bool
    suffix: str | None


def read_completion(value: Any) -> CompletionRequest:
    if not isinstance(value, Mapping):
        raise deserialize_error("invalid type, expected struct CompletionRequest")
    if "prompt" not in value:
        raise deserialize_error("missing field `prompt`")
    prompt = value["prompt"]
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list):
        raise _bad_type("prompt", prompt, "a string or a sequence of strings")
    prompts = [_str(f"prompt[{i}]", p) for i, p in enumerate(prompts)]
    temperature = _opt(_float, "temperature", value.get("temperature"))
    greedy = temperature == 0.0
    params = GenerateParameters(
        do_sample=not greedy,
        temperature=None if greedy else temperature,
        max_new_tokens=_opt(_int, "max_tokens", value.get("max_tokens"), "u32"),
        repetition_penalty=_opt(_float, "repetition_penalty", value.get("repetition_penalty")),
        frequency_penalty=_opt(_float, "frequency_penalty", value.get("frequency_penalty")),
        top_p=_opt(_float, "top_p", value.get("top_p")),
        seed=_opt(_int, "seed", value.get("seed"), "u64"),
        stop=_stop_list("stop", value.get("stop")),
        details=True,
        return_full_text=False,
    )
    return CompletionRequest(
        model=_opt(_str, "model", value.get("model")),
        prompts=prompts,
        parameters=params,
        stream=bool(_opt(_bool, "stream", value.get("stream"))),
        suffix=_opt(_str, "suffix", value.get("suffix")),
    )


async def completions(ctx: RequestContext, value: Any) -> Response:
    req = read_completion(value)
    model = response_model(ctx, req.model)
    if req.suffix is not None:
        return OpenAIRequestError(
            "Suffix is not supported and can be achieved by preprocessing the prompt.",
            "suffix not supported",
        ).response()
    limit = ctx.limits.max_client_batch_size
    if len(req.prompts) > limit:
        return OpenAIRequestError(
            f"Number of prompts exceeds the maximum allowed batch size of {limit}",
            "batch size exceeded",
        ).response()
    await ctx.runner.ensure_loaded()
    if req.stream:
        return EventStreamResponse(
            _completion_stream(ctx, req, model),
            headers=ctx.base_headers(),
            keep_alive=ctx.options.keep_alive_interval,
        )
    choices = []
    prompt_tokens = completion_tokens = 0
    for index, prompt in enumerate(req.prompts):
        outcome = await _generate(ctx, GenerateRequest(prompt, req.parameters))
        if isinstance(outcome, Response):
            return outcome
        valid, result = outcome
        prompt_tokens += valid.input_length
        completion_tokens += len(result.tokens)
        choices.append(
            {
                "index": index,
                "text": result.generated_text,
                "logprobs": None,
                "finish_reason": _OPENAI_FINISH[result.finish_reason],
            }
        )
    body = {
        "object": "text_completion",
        "id": "",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
        "usage": _usage(prompt_tokens, completion_tokens),
    }
    return JSONResponse(body, headers=ctx.base_headers())


async def _completion_stream(
    ctx: RequestContext, req: CompletionRequest, model: str
) -> AsyncIterator[bytes]:
    for index, prompt in enumerate(req.prompts):
        ctx.metrics.requests += 1
        generated = 0
        try:
            with ctx.permit():
                valid = validate(
                    GenerateRequest(prompt, req.parameters),
                    ctx.limits,
                    ctx.runner.backend,
                    add_special_tokens=False,
                )
                async for item in events(ctx, valid.job):
                    if isinstance(item, Prefill):
                        continue
                    generated = item.index
                    created = int(time.time())
                    if item.finish_reason is None:
                        yield event(
                            {
                                "object": "text_completion",
                                "id": "",
                                "created": created,
                                "choices": [
                                    {
                                        "index": index,
                                        "text": item.token.text,
                                        "logprobs": None,
                                        "finish_reason": "",
                                    }
                                ],
                                "model": model,
                                "system_fingerprint": SYSTEM_FINGERPRINT,
                            }
                        )
                    else:
                        yield event(
                            {
                                "object": "text_completion",
                                "id": "",
                                "created": created,
                                "model": model,
                                "system_fingerprint": SYSTEM_FINGERPRINT,
                                "choices": [
                                    {
                                        "finish_reason": item.finish_reason,
                                        "index": index,
                                        "logprobs": None,
                                        "text": item.token.text,
                                    }
                                ],
                                "usage": _usage(valid.input_length, generated),
                            }
                        )
        except Exception as exc:
            error = as_serving_error(exc)
            ctx.record(error_type=error.error_type)
            yield _openai_error(error)
            yield DONE
            return
        ctx.record(error_type=None, generated=generated, input_length=valid.input_length)
    yield DONE


async def chat_tokenize(ctx: RequestContext, value: Any) -> Response:
    chat = read_chat(value)
    await ctx.runner.ensure_loaded()
    try:
        prompt = ctx.runner.backend.chat_prompt(chat.messages)
    except BackendTemplateError as exc:
        return TemplateError(str(exc)).response()
    return JSONResponse(
        {
            "tokenize_response": simple_tokens(ctx, prompt, add_special=False),
            "templated_text": prompt,
        }
    )
