"""Typed results: plain slotted dataclasses built straight from the decoded JSON.

Why not pydantic models: a stream builds one result per token, and validating each one would
cost more than parsing it. The server's JSON is trusted for shape; missing optional keys
(older TGI versions) become ``None``. Field names are TGI's and huggingface_hub's, so code
written for ``InferenceClient`` reads these the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "BestOfSequence",
    "ChatCompletionChoice",
    "ChatCompletionDelta",
    "ChatCompletionOutput",
    "ChatCompletionStreamChoice",
    "ChatCompletionStreamOutput",
    "ChatCompletionUsage",
    "ChatMessage",
    "PrefillToken",
    "StreamDetails",
    "TextGenerationDetails",
    "TextGenerationOutput",
    "TextGenerationStreamOutput",
    "Token",
]


@dataclass(slots=True)
class Token:
    """One generated token. ``special`` marks tokens such as ``</s>`` that the text omits."""

    id: int
    text: str
    logprob: float | None
    special: bool


@dataclass(slots=True)
class PrefillToken:
    """One prompt token (``decoder_input_details=True``); the first has no logprob."""

    id: int
    text: str
    logprob: float | None


@dataclass(slots=True)
class BestOfSequence:
    """One of the extra candidates generated with ``best_of > 1``."""

    generated_text: str
    finish_reason: str
    generated_tokens: int
    seed: int | None
    prefill: list[PrefillToken]
    tokens: list[Token]
    top_tokens: list[list[Token]] | None


@dataclass(slots=True)
class TextGenerationDetails:
    """``details`` of a non-streamed generation."""

    finish_reason: str
    generated_tokens: int
    seed: int | None
    prefill: list[PrefillToken]
    tokens: list[Token]
    top_tokens: list[list[Token]] | None
    best_of_sequences: list[BestOfSequence] | None


@dataclass(slots=True)
class TextGenerationOutput:
    """What ``text_generation(..., details=True)`` returns."""

    generated_text: str
    details: TextGenerationDetails | None


@dataclass(slots=True)
class StreamDetails:
    """``details`` of the last event of a stream (``details=True``)."""

    finish_reason: str
    generated_tokens: int
    seed: int | None
    input_length: int | None


@dataclass(slots=True)
class TextGenerationStreamOutput:
    """One event of ``text_generation(..., stream=True, details=True)``.

    The last event repeats the last token and carries the whole ``generated_text`` and the
    ``details``; earlier events have both ``None``.
    """

    index: int
    token: Token
    generated_text: str | None
    details: StreamDetails | None
    top_tokens: list[Token] | None


@dataclass(slots=True)
class ChatCompletionUsage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(slots=True)
class ChatMessage:
    """An assistant message. ``tool_calls`` stays as the server's list of dicts."""

    role: str
    content: str | None
    tool_calls: list[dict[str, Any]] | None


@dataclass(slots=True)
class ChatCompletionChoice:
    index: int
    message: ChatMessage
    finish_reason: str | None
    logprobs: dict[str, Any] | None


@dataclass(slots=True)
class ChatCompletionOutput:
    """What ``chat_completion(...)`` returns (OpenAI's ``chat.completion`` object)."""

    id: str
    object: str
    created: int
    model: str
    system_fingerprint: str | None
    choices: list[ChatCompletionChoice]
    usage: ChatCompletionUsage | None


@dataclass(slots=True)
class ChatCompletionDelta:
    """The new part of the message; TGI repeats ``role`` in every chunk."""

    role: str | None
    content: str | None
    tool_calls: list[dict[str, Any]] | None


@dataclass(slots=True)
class ChatCompletionStreamChoice:
    index: int
    delta: ChatCompletionDelta
    finish_reason: str | None
    logprobs: dict[str, Any] | None


@dataclass(slots=True)
class ChatCompletionStreamOutput:
    """One chunk of ``chat_completion(..., stream=True)`` (``chat.completion.chunk``)."""

    id: str
    object: str
    created: int
    model: str
    system_fingerprint: str | None
    choices: list[ChatCompletionStreamChoice]
    usage: ChatCompletionUsage | None


# --------------------------------------------------------------------------- builders
# Positional construction from dict lookups: the cheapest way CPython builds these objects.


def _token(d: dict[str, Any]) -> Token:
    return Token(d["id"], d["text"], d.get("logprob"), d.get("special", False))


def _prefill(d: dict[str, Any]) -> PrefillToken:
    return PrefillToken(d["id"], d["text"], d.get("logprob"))


def _top_tokens(value: Any) -> list[list[Token]] | None:
    if not value:
        return None
    return [[_token(t) for t in step] for step in value]


def _best_of(d: dict[str, Any]) -> BestOfSequence:
    return BestOfSequence(
        d["generated_text"],
        d["finish_reason"],
        d["generated_tokens"],
        d.get("seed"),
        [_prefill(t) for t in d.get("prefill") or ()],
        [_token(t) for t in d.get("tokens") or ()],
        _top_tokens(d.get("top_tokens")),
    )


def text_generation_output(d: dict[str, Any]) -> TextGenerationOutput:
    """Build from one ``GenerateResponse`` object (``POST /`` wraps it in a list)."""
    det = d.get("details")
    if det is None:
        return TextGenerationOutput(d["generated_text"], None)
    best = det.get("best_of_sequences")
    details = TextGenerationDetails(
        det["finish_reason"],
        det["generated_tokens"],
        det.get("seed"),
        [_prefill(t) for t in det.get("prefill") or ()],
        [_token(t) for t in det.get("tokens") or ()],
        _top_tokens(det.get("top_tokens")),
        None if best is None else [_best_of(b) for b in best],
    )
    return TextGenerationOutput(d["generated_text"], details)


def stream_output(d: dict[str, Any]) -> TextGenerationStreamOutput:
    """Build from one decoded ``data:`` event of a text-generation stream (the hot path)."""
    t = d["token"]
    det = d.get("details")
    top = d.get("top_tokens")
    return TextGenerationStreamOutput(
        d.get("index", 0),
        Token(t["id"], t["text"], t.get("logprob"), t.get("special", False)),
        d.get("generated_text"),
        None
        if det is None
        else StreamDetails(
            det["finish_reason"], det["generated_tokens"], det.get("seed"), det.get("input_length")
        ),
        None if top is None else [_token(x) for x in top],
    )


def _usage(d: Any) -> ChatCompletionUsage | None:
    if not isinstance(d, dict):
        return None
    return ChatCompletionUsage(d["prompt_tokens"], d["completion_tokens"], d["total_tokens"])


def chat_completion_output(d: dict[str, Any]) -> ChatCompletionOutput:
    choices = []
    for c in d.get("choices") or ():
        m = c.get("message") or {}
        choices.append(
            ChatCompletionChoice(
                c.get("index", 0),
                ChatMessage(m.get("role", "assistant"), m.get("content"), m.get("tool_calls")),
                c.get("finish_reason"),
                c.get("logprobs"),
            )
        )
    return ChatCompletionOutput(
        d.get("id", ""),
        d.get("object", "chat.completion"),
        d.get("created", 0),
        d.get("model", ""),
        d.get("system_fingerprint"),
        choices,
        _usage(d.get("usage")),
    )


def chat_stream_output(d: dict[str, Any]) -> ChatCompletionStreamOutput:
    choices = []
    for c in d.get("choices") or ():
        delta = c.get("delta") or {}
        choices.append(
            ChatCompletionStreamChoice(
                c.get("index", 0),
                ChatCompletionDelta(
                    delta.get("role"), delta.get("content"), delta.get("tool_calls")
                ),
                c.get("finish_reason"),
                c.get("logprobs"),
            )
        )
    return ChatCompletionStreamOutput(
        d.get("id", ""),
        d.get("object", "chat.completion.chunk"),
        d.get("created", 0),
        d.get("model", ""),
        d.get("system_fingerprint"),
        choices,
        _usage(d.get("usage")),
    )
