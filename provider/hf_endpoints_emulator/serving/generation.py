"""Running validated requests: error mapping, best_of, and TGI's response shapes."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from .backends.base import BackendUnavailable
from .context import RequestContext
from .errors import (
    BackendError,
    GenerationError,
    IncompleteGenerationError,
    ServingError,
)
from .params import ValidRequest
from .runner import (
    GenerationResult,
    IncompleteGeneration,
    Job,
    Prefill,
    StepEvent,
    Token,
    collect,
)


def as_serving_error(exc: BaseException) -> ServingError:
    """Map anything a generation raised to the TGI error a client would see."""
    if isinstance(exc, ServingError):
        return exc
    if isinstance(exc, BackendUnavailable):
        return BackendError(str(exc))
    if isinstance(exc, IncompleteGeneration):
        return IncompleteGenerationError()
    return GenerationError(str(exc) or type(exc).__name__)


async def events(ctx: RequestContext, job: Job) -> AsyncIterator[Prefill | StepEvent]:
    """The runner's events with backend failures turned into `ServingError`s."""
    try:
        async for item in ctx.runner.run(job):
            yield item
    except Exception as exc:
        raise as_serving_error(exc) from exc


async def run_to_end(
    ctx: RequestContext, valid: ValidRequest
) -> tuple[GenerationResult, list[tuple[GenerationResult, int]]]:
    """Generate a whole answer; with `best_of` > 1 keep the most likely sequence (TGI sums
    token log-probabilities) and return the others with their seeds."""
    if valid.best_of <= 1:
        return await collect(events(ctx, valid.job)), []
    candidates: list[tuple[GenerationResult, int]] = []
    for _ in range(valid.best_of):
        seed = secrets.randbits(64)
        job = dataclasses.replace(
            valid.job, sampling=dataclasses.replace(valid.job.sampling, seed=seed)
        )
        candidates.append((await collect(events(ctx, job)), seed))
    best = max(range(len(candidates)), key=lambda i: candidates[i][0].logprob_sum)
    winner = candidates.pop(best)
    return winner[0], [winner, *candidates]


def _tokens_json(tokens: list[Token]) -> list[dict[str, Any]]:
    return [t.as_json() for t in tokens]


def _sequence_details(
    result: GenerationResult, seed: int | None, *, with_top: bool
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "finish_reason": result.finish_reason,
        "generated_tokens": len(result.tokens),
        "seed": seed,
        "prefill": [t.as_prefill_json() for t in result.prefill],
        "tokens": _tokens_json(result.tokens),
    }
    if with_top and any(result.top_tokens):
        details["top_tokens"] = [_tokens_json(top) for top in result.top_tokens]
    return details


def generate_body(
    valid: ValidRequest,
    result: GenerationResult,
    candidates: list[tuple[GenerationResult, int]],
) -> dict[str, Any]:
    """`GenerateResponse` (TGI's OpenAPI); `details` only when asked for."""
    prefix = valid.inputs if valid.return_full_text else ""
    body: dict[str, Any] = {"generated_text": prefix + result.generated_text}
    if valid.details or valid.decoder_input_details:
        seed = candidates[0][1] if candidates else valid.seed
        details = _sequence_details(result, seed, with_top=False)
        if candidates:
            details["best_of_sequences"] = [
                {"generated_text": prefix + other.generated_text}
                | _sequence_details(other, other_seed, with_top=True)
                for other, other_seed in candidates[1:]
            ]
        if any(result.top_tokens):
            details["top_tokens"] = [_tokens_json(top) for top in result.top_tokens]
        body["details"] = details
    return body


def timing_headers(
    ctx: RequestContext,
    valid: ValidRequest,
    result: GenerationResult,
    validation_seconds: float,
) -> dict[str, str]:
    """The `x-*` headers TGI adds to non-streaming answers."""
    total = time.monotonic() - ctx.started
    generated = len(result.tokens)
    inference = max(total - validation_seconds - result.queue_seconds, 0.0)
    return {
        "x-compute-type": ctx.compute_type,
        "x-compute-time": f"{total}",
        "x-compute-characters": str(len(valid.inputs)),
        "x-total-time": str(int(total * 1000)),
        "x-validation-time": str(int(validation_seconds * 1000)),
        "x-queue-time": str(int(result.queue_seconds * 1000)),
        "x-inference-time": str(int(inference * 1000)),
        "x-time-per-token": str(int(inference * 1000 / generated) if generated else 0),
        "x-prompt-tokens": str(valid.input_length),
        "x-generated-tokens": str(generated),
    }
