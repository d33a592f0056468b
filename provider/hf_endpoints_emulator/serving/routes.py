"""TGI's own routes: `POST /` (compat), `/generate`, `/generate_stream`, `/tokenize`,
`/info`, `/metrics`, `/v1/models`, as TGI's OpenAPI
describes them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from .context import ClientGone, RequestContext, until_disconnect
from .errors import IncompleteStreamError, ServingError, ValidationError
from .generation import as_serving_error, events, generate_body, run_to_end, timing_headers
from .params import GenerateRequest, read_generate_request, validate, validate_best_of
from .runner import Prefill
from .sse import EventStreamResponse, event

#: TGI's `compat_return_full_text`: POST / returns the prompt too for these pipeline tags.
_FULL_TEXT_TAGS = (None, "", "text-generation")


def compat_return_full_text(ctx: RequestContext) -> bool:
    return ctx.endpoint.task in _FULL_TEXT_TAGS


async def compat_generate(ctx: RequestContext, value: Any) -> Response:
    """`POST /`: a one-element list, or the `/generate_stream` SSE with `"stream": true`."""
    request = read_generate_request(value, compat=True)
    default = compat_return_full_text(ctx)
    if request.stream:
        return stream_response(ctx, request, return_full_text_default=default)
    return await generate(ctx, request, return_full_text_default=default, as_list=True)


async def generate_route(ctx: RequestContext, value: Any) -> Response:
    return await generate(ctx, read_generate_request(value, compat=False))


async def generate_stream_route(ctx: RequestContext, value: Any) -> Response:
    return stream_response(ctx, read_generate_request(value, compat=False))


async def generate(
    ctx: RequestContext,
    request: GenerateRequest,
    *,
    return_full_text_default: bool = False,
    as_list: bool = False,
) -> Response:
    """`/generate` (and non-streaming `POST /`): one JSON answer with TGI's headers."""
    ctx.metrics.requests += 1
    input_length = 0
    try:
        with ctx.permit():
            validation_started = time.monotonic()
            best_of = request.parameters.best_of
            if best_of is not None and best_of > 1:
                validate_best_of(best_of, ctx.limits)
            await ctx.runner.ensure_loaded()
            valid = validate(
                request,
                ctx.limits,
                ctx.runner.backend,
                return_full_text_default=return_full_text_default,
            )
            input_length = valid.input_length
            validation_seconds = time.monotonic() - validation_started
            result, candidates = await until_disconnect(ctx.request, run_to_end(ctx, valid))
    except ClientGone:
        return Response(status_code=499)
    except Exception as exc:
        error = as_serving_error(exc)
        ctx.record(error_type=error.error_type)
        return error.response(ctx.base_headers())
    ctx.record(error_type=None, generated=len(result.tokens), input_length=input_length)
    body: Any = generate_body(valid, result, candidates)
    headers = timing_headers(ctx, valid, result, validation_seconds)
    return JSONResponse([body] if as_list else body, headers=headers)


def stream_response(
    ctx: RequestContext, request: GenerateRequest, *, return_full_text_default: bool = False
) -> Response:
    headers = ctx.base_headers()
    headers["x-compute-characters"] = str(len(request.inputs))
    return EventStreamResponse(
        stream_events(ctx, request, return_full_text_default),
        headers=headers,
        keep_alive=ctx.options.keep_alive_interval,
    )


async def stream_events(
    ctx: RequestContext, request: GenerateRequest, return_full_text_default: bool
) -> AsyncIterator[bytes]:
    """TGI's `generate_stream_internal`: one event per token; errors in-band."""
    ctx.metrics.requests += 1
    generated = 0
    input_length = 0
    try:
        p = request.parameters
        if (p.best_of if p.best_of is not None else 1) != 1:
            raise ValidationError("`best_of` != 1 is not supported when streaming tokens")
        if p.decoder_input_details:
            raise ValidationError(
                "`decoder_input_details` == true is not supported when streaming tokens"
            )
        with ctx.permit():
            await ctx.runner.ensure_loaded()
            valid = validate(
                request,
                ctx.limits,
                ctx.runner.backend,
                return_full_text_default=return_full_text_default,
            )
            input_length = valid.input_length
            finished = False
            async for item in events(ctx, valid.job):
                if isinstance(item, Prefill):
                    continue
                generated = item.index
                payload: dict[str, Any] = {"index": item.index, "token": item.token.as_json()}
                if valid.job.top_n_tokens:
                    payload["top_tokens"] = [t.as_json() for t in item.top_tokens]
                if item.finish_reason is None:
                    payload["generated_text"] = None
                    payload["details"] = None
                else:
                    finished = True
                    text = item.generated_text or ""
                    payload["generated_text"] = (
                        valid.inputs + text if valid.return_full_text else text
                    )
                    payload["details"] = (
                        {
                            "finish_reason": item.finish_reason,
                            "generated_tokens": item.index,
                            "seed": valid.seed,
                            "input_length": valid.input_length,
                        }
                        if valid.details
                        else None
                    )
                yield event(payload)
            if not finished:
                raise IncompleteStreamError()
    except Exception as exc:
        error: ServingError = as_serving_error(exc)
        ctx.record(error_type=error.error_type)
        yield event(error.body())
        return
    ctx.record(error_type=None, generated=generated, input_length=input_length)


async def tokenize_route(ctx: RequestContext, value: Any) -> Response:
    """`/tokenize`: ids, token texts and character offsets into `inputs`."""
    request = read_generate_request(value, compat=False)
    await ctx.runner.ensure_loaded()
    return JSONResponse(simple_tokens(ctx, request.inputs, add_special=True))


def simple_tokens(ctx: RequestContext, text: str, *, add_special: bool) -> list[dict[str, Any]]:
    backend = ctx.runner.backend
    ids = backend.tokenize(text, add_special=add_special) if text else []
    data = text.encode("utf-8")
    # character index of every byte offset, to report offsets in characters like TGI
    char_at = [0] * (len(data) + 1)
    position = 0
    for index, char in enumerate(text):
        for _ in range(len(char.encode("utf-8"))):
            char_at[position] = index
            position += 1
    char_at[len(data)] = len(text)
    tokens = []
    cursor = 0
    for token_id in ids:
        piece = backend.piece(token_id)
        if piece and data.startswith(piece, cursor):
            start, stop = cursor, cursor + len(piece)
            cursor = stop
        else:  # an added token (BOS ...) that is not in the text
            start = stop = cursor
        first, last = char_at[start], char_at[stop]
        tokens.append({"id": token_id, "text": text[first:last], "start": first, "stop": last})
    return tokens


def info_body(ctx: RequestContext) -> dict[str, Any]:
    """TGI's `/info` (HEAD shape) plus `emulator`: what really serves the endpoint."""
    limits = ctx.limits
    return {
        "model_id": ctx.endpoint.repository,
        "model_sha": ctx.endpoint.revision,
        "model_pipeline_tag": ctx.endpoint.task,
        "max_concurrent_requests": limits.max_concurrent_requests,
        "max_best_of": limits.max_best_of,
        "max_stop_sequences": limits.max_stop_sequences,
        "max_input_tokens": limits.max_input_tokens,
        "max_total_tokens": limits.max_total_tokens,
        "validation_workers": 2,
        "max_client_batch_size": limits.max_client_batch_size,
        "router": "text-generation-router",
        "version": VERSION,
        "sha": None,
        "docker_label": None,
        "emulator": dict(ctx.runner.backend.describe()),
    }


VERSION = "3.3.7"
SYSTEM_FINGERPRINT = f"{VERSION}-native"


def models_body(ctx: RequestContext) -> dict[str, Any]:
    model_id = ctx.model_id
    return {
        "object": "list",
        "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": model_id}],
    }


def metrics_response(ctx: RequestContext) -> Response:
    return PlainTextResponse(ctx.metrics.render(ctx.runner), media_type="text/plain; version=0.0.4")
