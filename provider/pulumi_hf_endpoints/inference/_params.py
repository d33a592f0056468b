"""Request parameters: TGI's names and rules, checked before anything is sent.

The rules and their messages are TGI's own (router ``validation.rs``), so a mistake reads the
same whether this module or the server catches it, and costs no round trip, no queue slot and
no cold start. Limits that an endpoint may raise at launch (``max_stop_sequences``,
``max_best_of``, ``max_top_n_tokens``) are checked against TGI's defaults.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

import pydantic
from pydantic import BaseModel, ConfigDict, model_validator

from ._errors import ValidationError

__all__ = [
    "CHAT_PARAMETERS",
    "TEXT_GENERATION_PARAMETERS",
    "ChatCompletionKwargs",
    "ChatCompletionParameters",
    "TextGenerationKwargs",
    "TextGenerationParameters",
    "chat_completion_body",
    "text_generation_body",
]

PREFIX = "Input validation error: "
MAX_STOP_SEQUENCES = 4
MAX_BEST_OF = 2
MAX_TOP_N_TOKENS = 5
_U64_MAX = 2**64 - 1

_StopList = list[str] | tuple[str, ...]


class TextGenerationKwargs(TypedDict, total=False):
    """Keyword arguments of ``text_generation`` besides ``stream`` and ``details`` (TGI's
    ``GenerateParameters``)."""

    adapter_id: str | None
    best_of: int | None
    decoder_input_details: bool | None
    do_sample: bool | None
    frequency_penalty: float | None
    grammar: dict[str, Any] | None
    max_new_tokens: int | None
    repetition_penalty: float | None
    return_full_text: bool | None
    seed: int | None
    stop: _StopList | None
    stop_sequences: _StopList | None
    temperature: float | None
    top_k: int | None
    top_n_tokens: int | None
    top_p: float | None
    truncate: int | None
    typical_p: float | None
    watermark: bool | None


class ChatCompletionKwargs(TypedDict, total=False):
    """Keyword arguments of ``chat_completion`` besides ``messages`` and ``stream``."""

    model: str | None
    frequency_penalty: float | None
    logit_bias: dict[str, float] | None
    logprobs: bool | None
    max_tokens: int | None
    n: int | None
    presence_penalty: float | None
    response_format: dict[str, Any] | None
    seed: int | None
    stop: str | _StopList | None
    stream_options: dict[str, Any] | None
    temperature: float | None
    tool_choice: str | dict[str, Any] | None
    tool_prompt: str | None
    tools: list[dict[str, Any]] | None
    top_logprobs: int | None
    top_p: float | None
    extra_body: dict[str, Any] | None


def _check_open_unit(name: str, value: float | None, problems: list[str]) -> None:
    if value is not None and not 0.0 < value < 1.0:
        problems.append(f"`{name}` must be > 0.0 and < 1.0")


def _check_positive(name: str, value: float | None, problems: list[str]) -> None:
    if value is not None and not value > 0:
        problems.append(f"`{name}` must be strictly positive")


def _check_stop(stop: Sequence[str] | str | None, problems: list[str]) -> None:
    if stop is not None and not isinstance(stop, str) and len(stop) > MAX_STOP_SEQUENCES:
        problems.append(
            f"`stop` supports up to {MAX_STOP_SEQUENCES} stop sequences. Given: {len(stop)}"
        )


def _check_seed(seed: int | None, problems: list[str]) -> None:
    if seed is not None and not 0 <= seed <= _U64_MAX:
        problems.append(f"`seed` must be an unsigned 64-bit integer. Given: {seed}")


def _check_frequency_penalty(value: float | None, problems: list[str]) -> None:
    if value is not None and not -2.0 <= value <= 2.0:
        problems.append("`frequency_penalty` must be >= -2.0 and <= 2.0")


def generation_rules(v: Mapping[str, Any]) -> list[str]:
    """TGI's checks on generation parameters (values already of the right types; a missing
    key means unset). One message per problem, in TGI's order."""
    problems: list[str] = []
    stream = bool(v.get("stream"))
    best_of = v.get("best_of")
    if best_of is not None:
        if stream and best_of != 1:
            problems.append("`best_of` != 1 is not supported when streaming tokens")
        elif not 0 < best_of <= MAX_BEST_OF:
            problems.append(f"`best_of` must be > 0 and <= {MAX_BEST_OF}. Given: {best_of}")
        elif best_of > 1:
            sampling = (
                bool(v.get("do_sample"))
                or v.get("temperature", 1.0) not in (None, 1.0)
                or v.get("top_k", 0) not in (None, 0)
                or v.get("top_p", 1.0) not in (None, 1.0)
                or v.get("typical_p", 1.0) not in (None, 1.0)
            )
            if not sampling:
                problems.append("you must use sampling when `best_of` is > 1")
            if v.get("seed") is not None:
                problems.append("`seed` must not be set when `best_of` > 1")
    if stream and v.get("decoder_input_details"):
        problems.append("`decoder_input_details` == true is not supported when streaming tokens")
    _check_positive("temperature", v.get("temperature"), problems)
    _check_positive("repetition_penalty", v.get("repetition_penalty"), problems)
    _check_frequency_penalty(v.get("frequency_penalty"), problems)
    _check_open_unit("top_p", v.get("top_p"), problems)
    _check_open_unit("typical_p", v.get("typical_p"), problems)
    _check_positive("top_k", v.get("top_k"), problems)
    _check_positive("max_new_tokens", v.get("max_new_tokens"), problems)
    _check_stop(v.get("stop"), problems)
    _check_seed(v.get("seed"), problems)
    top_n = v.get("top_n_tokens")
    if top_n is not None and not 0 <= top_n <= MAX_TOP_N_TOKENS:
        problems.append(f"`top_n_tokens` must be >= 0 and <= {MAX_TOP_N_TOKENS}. Given: {top_n}")
    truncate = v.get("truncate")
    if truncate is not None and truncate <= 0:
        problems.append(
            "`truncate` must be strictly positive and less than the endpoint's "
            f"max_input_tokens. Given: {truncate}"
        )
    grammar = v.get("grammar")
    if grammar is not None:
        kind = grammar.get("type")
        if kind not in ("json", "json_object", "regex", "json_schema"):
            problems.append(
                "`grammar` must be {'type': 'json' | 'json_object' | 'regex' | "
                f"'json_schema', 'value': ...}}. Given type: {kind!r}"
            )
        elif "value" not in grammar:
            problems.append("`grammar` needs a 'value' (the JSON schema or the regex)")
    return problems


def chat_rules(v: Mapping[str, Any]) -> list[str]:
    """TGI's checks on the chat fields, after its mapping onto generation parameters
    (``temperature=0`` is greedy there, not an error)."""
    problems: list[str] = []
    temperature = v.get("temperature")
    if temperature is not None and not temperature >= 0:
        problems.append("`temperature` must be >= 0 (0 means greedy decoding)")
    _check_frequency_penalty(v.get("frequency_penalty"), problems)
    _check_open_unit("top_p", v.get("top_p"), problems)
    _check_positive("max_tokens", v.get("max_tokens"), problems)
    _check_stop(v.get("stop"), problems)
    _check_seed(v.get("seed"), problems)
    top_logprobs = v.get("top_logprobs")
    if top_logprobs is not None and not 0 <= top_logprobs <= MAX_TOP_N_TOKENS:
        problems.append(
            f"`top_logprobs` must be >= 0 and <= {MAX_TOP_N_TOKENS}. Given: {top_logprobs}"
        )
    if v.get("response_format") is not None and v.get("tools"):
        problems.append("`response_format` and `tools` cannot be used together")
    return problems


class TextGenerationParameters(BaseModel):
    """TGI's ``GenerateParameters``, typed, with the checks TGI runs before queueing.

    ``stream`` is the request's streaming switch: some rules (``best_of``,
    ``decoder_input_details``) differ when streaming.
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    stream: bool = False
    adapter_id: str | None = None
    best_of: int | None = None
    decoder_input_details: bool | None = None
    details: bool | None = None
    do_sample: bool | None = None
    frequency_penalty: float | None = None
    grammar: dict[str, Any] | None = None
    max_new_tokens: int | None = None
    repetition_penalty: float | None = None
    return_full_text: bool | None = None
    seed: int | None = None
    stop: _StopList | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_n_tokens: int | None = None
    top_p: float | None = None
    truncate: int | None = None
    typical_p: float | None = None
    watermark: bool | None = None

    @model_validator(mode="after")
    def _tgi_rules(self) -> TextGenerationParameters:
        problems = generation_rules(self.__dict__)
        if problems:
            raise ValueError("\n".join(problems))
        return self


class ChatCompletionParameters(BaseModel):
    """The fields of TGI's ``ChatRequest`` besides ``messages``, typed and checked."""

    model_config = ConfigDict(strict=True, extra="forbid")

    model: str | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    max_tokens: int | None = None
    n: int | None = None
    presence_penalty: float | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    stop: str | _StopList | None = None
    stream_options: dict[str, Any] | None = None
    temperature: float | None = None
    tool_choice: str | dict[str, Any] | None = None
    tool_prompt: str | None = None
    tools: list[dict[str, Any]] | None = None
    top_logprobs: int | None = None
    top_p: float | None = None
    extra_body: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _tgi_rules(self) -> ChatCompletionParameters:
        problems = chat_rules(self.__dict__)
        if problems:
            raise ValueError("\n".join(problems))
        return self


TEXT_GENERATION_PARAMETERS = (
    frozenset(TextGenerationParameters.model_fields) - {"stream", "details"}
) | {"stop_sequences"}
CHAT_PARAMETERS = frozenset(ChatCompletionParameters.model_fields)

_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "string_type": "a string",
    "dict_type": "an object (a dict)",
    "list_type": "a list",
    "tuple_type": "a list",
}
# Fields whose type is a union, or whose plain type name would not help.
_FIELD_EXPECTED = {
    "stop": "a list of strings",
    "truncate": "an integer (the number of prompt tokens to keep)",
    "grammar": "an object {'type': 'json' | 'regex' | ..., 'value': ...}",
    "tool_choice": "a string or an object",
    "logit_bias": "an object mapping token ids to numbers",
    "tools": "a list of objects",
}


def _unknown_keywords(
    function: str, given: Mapping[str, Any], allowed: frozenset[str]
) -> TypeError | None:
    unknown = sorted(set(given) - allowed)
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, allowed, n=1)
        hints.append(f"'{name}' (did you mean '{close[0]}'?)" if close else f"'{name}'")
    return TypeError(
        f"{function}() got unexpected keyword argument(s) {', '.join(hints)}. "
        f"Allowed: {', '.join(sorted(allowed))}"
    )


def _check(
    model: type[BaseModel], values: dict[str, Any], rules: Callable[[Mapping[str, Any]], list[str]]
) -> list[str]:
    """Every problem at once: type errors from pydantic, then TGI's rules on the fields whose
    types were right (the model's own validator stops at the first type error)."""
    try:
        model.model_validate(values)
    except pydantic.ValidationError as error:
        problems: list[str] = []
        bad: set[str] = set()
        for item in error.errors(include_url=False):
            if item["type"] == "value_error":
                return str(item["ctx"]["error"]).split("\n")
            field = str(item["loc"][0]) if item["loc"] else "parameters"
            if field in bad:
                continue
            bad.add(field)
            expected = _FIELD_EXPECTED.get(field) or _EXPECTED.get(
                item["type"], item["msg"].lower()
            )
            problems.append(f"`{field}` must be {expected}. Given: {values.get(field)!r}")
        return problems + rules({k: v for k, v in values.items() if k not in bad})
    return []


def _local_error(problems: list[str]) -> ValidationError:
    messages = [PREFIX + p for p in problems]
    return ValidationError(
        "; ".join(messages) + " (checked before sending)", errors=messages, error_type="validation"
    )


def _dumps(payload: dict[str, Any]) -> bytes:
    try:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise _local_error([f"the request is not JSON-serialisable: {exc}"]) from None


def text_generation_body(
    prompt: str, *, stream: bool, details: bool, params: Mapping[str, Any]
) -> bytes:
    """Validate and encode the body of ``POST /``. Raises TypeError for unknown keywords and
    :class:`ValidationError` for bad values, before any request is sent."""
    unknown = _unknown_keywords("text_generation", params, TEXT_GENERATION_PARAMETERS)
    if unknown is not None:
        raise unknown
    values = {key: value for key, value in params.items() if value is not None}
    alias = values.pop("stop_sequences", None)
    if alias is not None:
        if "stop" in values:
            raise _local_error(["pass `stop` or its alias `stop_sequences`, not both"])
        values["stop"] = alias
    if details:
        values["details"] = True
    if not isinstance(prompt, str):
        raise _local_error([f"`inputs` must be a string. Given: {type(prompt).__name__}"])
    problems = [] if prompt else ["`inputs` cannot be empty"]
    problems += _check(TextGenerationParameters, {**values, "stream": stream}, generation_rules)
    if problems:
        raise _local_error(problems)
    if "stop" in values:
        values["stop"] = list(values["stop"])
    body: dict[str, Any] = {"inputs": prompt, "parameters": values}
    if stream:
        body["stream"] = True
    return _dumps(body)


def chat_completion_body(
    messages: Sequence[Mapping[str, Any]], *, stream: bool, params: Mapping[str, Any]
) -> bytes:
    """Validate and encode the body of ``POST /v1/chat/completions``."""
    unknown = _unknown_keywords("chat_completion", params, CHAT_PARAMETERS)
    if unknown is not None:
        raise unknown
    values = {key: value for key, value in params.items() if value is not None}
    problems: list[str] = []
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        problems.append("`messages` must be a list of {'role': ..., 'content': ...} objects")
    elif not messages:
        problems.append("`messages` cannot be empty")
    else:
        for i, message in enumerate(messages):
            if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
                problems.append(f"`messages[{i}]` must be an object with a string 'role'")
    problems += _check(ChatCompletionParameters, values, chat_rules)
    if problems:
        raise _local_error(problems)
    extra = values.pop("extra_body", None) or {}
    if "stop" in values and not isinstance(values["stop"], str):
        values["stop"] = list(values["stop"])
    body: dict[str, Any] = {
        "model": values.pop("model", "tgi"),
        "messages": [dict(m) for m in messages],
        **values,
        **extra,
        "stream": stream,
    }
    return _dumps(body)
