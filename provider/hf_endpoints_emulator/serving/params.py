"""TGI request bodies: JSON reading with serde's rules, then TGI's validation (its
`validation.rs`).

Two stages, as in TGI: `read_*` plays axum's `Json` extractor (415/400/422 plain-text
errors on bad bodies and wrong types), `validate` plays the router's `Validation`
(422 `Input validation error: ...` with TGI's exact messages, in TGI's order).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .backends.base import Backend, Sampling
from .errors import ExtractorError, ValidationError, deserialize_error
from .grammar import GrammarError, to_gbnf
from .runner import Job

_INT_RANGES = {
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
    "usize": (0, 2**64 - 1),
    "i32": (-(2**31), 2**31 - 1),
}


def _describe(value: Any) -> str:
    """serde_json's `invalid type: <what>` wording for a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _bad_type(path: str, value: Any, expected: str) -> ExtractorError:
    return deserialize_error(f"{path}: invalid type: {_describe(value)}, expected {expected}")


def _int(path: str, value: Any, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_type(path, value, kind)
    low, high = _INT_RANGES[kind]
    if not low <= value <= high:
        raise deserialize_error(f"{path}: invalid value: integer `{value}`, expected {kind}")
    return value


def _float(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_type(path, value, "f32")
    return float(value)


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad_type(path, value, "a boolean")
    return value


def _str(path: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad_type(path, value, "a string")
    return value


def _opt(reader: Any, path: str, value: Any, *args: Any) -> Any:
    return None if value is None else reader(path, value, *args)


def parse_json(body: bytes, content_type: str | None) -> Any:
    """The request's JSON value, or axum's 415/400 plain-text rejection."""
    mime = (content_type or "").split(";")[0].strip().lower()
    json_like = mime.startswith("application/") and mime.endswith("+json")
    if not (mime == "application/json" or json_like):
        raise ExtractorError(415, "Expected request with `Content-Type: application/json`")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExtractorError(400, f"Failed to parse the request body as JSON: {exc}") from exc


@dataclass
class GenerateParameters:
    """`GenerateParameters` after deserialization (None = absent or null)."""

    best_of: int | None = None
    decoder_input_details: bool = False
    details: bool = False
    do_sample: bool = False
    frequency_penalty: float | None = None
    grammar: Mapping[str, Any] | None = None
    max_new_tokens: int | None = None
    repetition_penalty: float | None = None
    return_full_text: bool | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    temperature: float | None = None
    top_k: int | None = None
    top_n_tokens: int | None = None
    top_p: float | None = None
    truncate: int | None = None
    typical_p: float | None = None
    watermark: bool = False
    adapter_id: str | None = None


@dataclass
class GenerateRequest:
    inputs: str
    parameters: GenerateParameters
    stream: bool = False


def read_parameters(raw: Any, path: str = "parameters") -> GenerateParameters:
    """Deserialize a `parameters` object; absent object → TGI's `default_parameters()`."""
    if raw is None:
        # Without `parameters`, TGI (>= 1.4) samples by default.
        return GenerateParameters(do_sample=True)
    if not isinstance(raw, Mapping):
        raise _bad_type(path, raw, "struct GenerateParameters")
    p = GenerateParameters()
    get = raw.get

    def sub(name: str) -> str:
        return f"{path}.{name}"

    p.best_of = _opt(_int, sub("best_of"), get("best_of"), "usize")
    for name in ("decoder_input_details", "details", "do_sample", "watermark"):
        if name in raw:  # present: must be a boolean (null is rejected too)
            setattr(p, name, _bool(sub(name), raw[name]))
    for name in ("frequency_penalty", "repetition_penalty", "temperature", "top_p", "typical_p"):
        setattr(p, name, _opt(_float, sub(name), get(name)))
    grammar = get("grammar")
    if grammar is not None:
        p.grammar = _read_grammar(sub("grammar"), grammar)
    p.max_new_tokens = _opt(_int, sub("max_new_tokens"), get("max_new_tokens"), "u32")
    p.return_full_text = _opt(_bool, sub("return_full_text"), get("return_full_text"))
    p.seed = _opt(_int, sub("seed"), get("seed"), "u64")
    if "stop" in raw:
        stop = raw["stop"]
        if not isinstance(stop, list):
            raise _bad_type(sub("stop"), stop, "a sequence")
        p.stop = [_str(f"{sub('stop')}[{i}]", s) for i, s in enumerate(stop)]
    p.top_k = _opt(_int, sub("top_k"), get("top_k"), "i32")
    p.top_n_tokens = _opt(_int, sub("top_n_tokens"), get("top_n_tokens"), "u32")
    p.truncate = _opt(_int, sub("truncate"), get("truncate"), "usize")
    p.adapter_id = _opt(_str, sub("adapter_id"), get("adapter_id"))
    return p


def _read_grammar(path: str, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _bad_type(path, raw, "internally tagged enum GrammarType")
    kind = raw.get("type")
    variants = ("json", "json_object", "regex", "json_schema")
    if kind is None:
        raise deserialize_error(f"{path}: missing field `type`")
    if kind not in variants:
        expected = ", ".join(f"`{v}`" for v in variants)
        raise deserialize_error(f"{path}: unknown variant `{kind}`, expected one of {expected}")
    if "value" not in raw:
        raise deserialize_error(f"{path}: missing field `value`")
    if kind == "regex":
        _str(f"{path}.value", raw["value"])
    return raw


def read_generate_request(value: Any, *, compat: bool) -> GenerateRequest:
    """`GenerateRequest` (or `CompatGenerateRequest` with its `stream` switch)."""
    if not isinstance(value, Mapping):
        what = "struct CompatGenerateRequest" if compat else "struct GenerateRequest"
        raise deserialize_error(f"invalid type: {_describe(value)}, expected {what}")
    if "inputs" not in value:
        raise deserialize_error("missing field `inputs`")
    inputs = _str("inputs", value["inputs"])
    parameters = read_parameters(value.get("parameters"))
    stream = False
    if compat and "stream" in value:
        stream = _bool("stream", value["stream"])
    return GenerateRequest(inputs, parameters, stream)


@dataclass(frozen=True)
class Limits:
    """The launcher limits of one endpoint (TGI defaults, overridable by the endpoint's env)."""

    max_concurrent_requests: int = 128
    max_best_of: int = 2
    max_stop_sequences: int = 4
    max_top_n_tokens: int = 5
    max_input_tokens: int = 2047
    max_total_tokens: int = 2048
    max_client_batch_size: int = 4


@dataclass(frozen=True)
class ValidRequest:
    """A request that passed validation: the job plus what the response needs."""

    inputs: str
    job: Job
    input_length: int
    details: bool
    decoder_input_details: bool
    return_full_text: bool
    best_of: int
    #: `details.seed`: the seed when sampling, else None (TGI tokens.py)
    seed: int | None


def validate_best_of(best_of: int, limits: Limits) -> None:
    if limits.max_best_of == 1 and best_of != 1:
        raise ValidationError("`best_of` != 1 is not allowed for this endpoint")
    if best_of > limits.max_best_of:
        raise ValidationError(
            f"`best_of` must be > 0 and <= {limits.max_best_of}. Given: {best_of}"
        )


def validate(
    request: GenerateRequest,
    limits: Limits,
    backend: Backend,
    *,
    return_full_text_default: bool = False,
    add_special_tokens: bool = True,
) -> ValidRequest:
    """TGI's `Validation::validate`, rule by rule and in its order."""
    p = request.parameters
    best_of = p.best_of if p.best_of is not None else 1
    asked_sampling = p.do_sample or any(
        v is not None for v in (p.temperature, p.top_k, p.top_p, p.typical_p)
    )
    if best_of > 1 and not asked_sampling:
        raise ValidationError("you must use sampling when `best_of` is > 1")
    temperature = 1.0 if p.temperature is None else p.temperature
    if temperature <= 0.0:
        raise ValidationError("`temperature` must be strictly positive")
    repetition_penalty = 1.0 if p.repetition_penalty is None else p.repetition_penalty
    if repetition_penalty <= 0.0:
        raise ValidationError("`repetition_penalty` must be strictly positive")
    frequency_penalty = 0.0 if p.frequency_penalty is None else p.frequency_penalty
    if not -2.0 <= frequency_penalty <= 2.0:
        raise ValidationError("`frequency_penalty` must be >= -2.0 and <= 2.0")
    top_p = 1.0
    if p.top_p is not None:
        if not 0.0 < p.top_p < 1.0:
            raise ValidationError("`top_p` must be > 0.0 and < 1.0")
        top_p = p.top_p
    typical_p = 1.0
    if p.typical_p is not None:
        if not 0.0 < p.typical_p < 1.0:
            raise ValidationError("`typical_p` must be > 0.0 and < 1.0")
        typical_p = p.typical_p
    top_k = 0
    if p.top_k is not None:
        if p.top_k <= 0:
            raise ValidationError("`top_k` must be strictly positive")
        top_k = p.top_k
    if p.max_new_tokens == 0:
        raise ValidationError("`max_new_tokens` must be strictly positive")
    if len(p.stop) > limits.max_stop_sequences:
        raise ValidationError(
            f"`stop` supports up to {limits.max_stop_sequences} stop sequences. "
            f"Given: {len(p.stop)}"
        )
    if p.seed is None:
        seed = secrets.randbits(64)
    else:
        if best_of > 1:
            raise ValidationError("`seed` must not be set when `best_of` > 1")
        seed = p.seed
    top_n_tokens = p.top_n_tokens or 0
    if top_n_tokens > limits.max_top_n_tokens:
        if limits.max_top_n_tokens == 0:
            raise ValidationError("`top_n_tokens` != 0 is not allowed for this endpoint")
        raise ValidationError(
            f"`top_n_tokens` must be >= 0 and <= {limits.max_top_n_tokens}. Given: {top_n_tokens}"
        )
    if not request.inputs:
        raise ValidationError("`inputs` cannot be empty")
    if p.truncate is not None and (p.truncate == 0 or p.truncate > limits.max_input_tokens):
        raise ValidationError(
            f"`truncate` must be strictly positive and less than {limits.max_input_tokens}. "
            f"Given: {p.truncate}"
        )
    gbnf = None
    if p.grammar is not None:
        if backend.check_grammar('root ::= "a"') is not None:
            raise ValidationError("grammar is not supported")
        try:
            gbnf = to_gbnf(p.grammar)
        except GrammarError as exc:
            raise ValidationError(f"grammar is not valid: {exc}") from exc
        problem = backend.check_grammar(gbnf)
        if problem is not None:
            raise ValidationError(f"grammar is not valid: {problem}")

    input_ids = backend.tokenize(request.inputs, add_special=add_special_tokens)
    if p.truncate is not None:
        input_ids = input_ids[-p.truncate :]
    input_length = len(input_ids)
    max_new_tokens = p.max_new_tokens
    if max_new_tokens is None:
        # TGI 3.x: the whole remaining budget
        max_new_tokens = max(limits.max_total_tokens - input_length, 0)
    if input_length + max_new_tokens > limits.max_total_tokens:
        raise ValidationError(
            f"`inputs` tokens + `max_new_tokens` must be <= {limits.max_total_tokens}. "
            f"Given: {input_length} `inputs` tokens and {max_new_tokens} `max_new_tokens`"
        )
    if input_length > limits.max_input_tokens:
        raise ValidationError(
            f"`inputs` must have less than {limits.max_input_tokens} tokens. Given: {input_length}"
        )
    if max_new_tokens == 0:
        # Only reachable with the default budget and a prompt filling the context.
        raise ValidationError("`max_new_tokens` must be strictly positive")

    # TGI samples when asked to, or when any warper is active (tokens.py).
    do_sample = p.do_sample or temperature != 1.0 or top_k != 0 or top_p < 1.0 or typical_p < 1.0
    sampling = Sampling(
        do_sample=do_sample,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        typical_p=typical_p,
        repetition_penalty=repetition_penalty,
        frequency_penalty=frequency_penalty,
        seed=seed,
        grammar=gbnf,
    )
    job = Job(
        input_ids=input_ids,
        sampling=sampling,
        max_new_tokens=max_new_tokens,
        stop=tuple(p.stop),
        top_n_tokens=top_n_tokens,
        prefill_details=p.decoder_input_details,
    )
    return_full_text = (
        return_full_text_default if p.return_full_text is None else p.return_full_text
    )
    return ValidRequest(
        inputs=request.inputs,
        job=job,
        input_length=input_length,
        details=p.details,
        decoder_input_details=p.decoder_input_details,
        return_full_text=return_full_text,
        best_of=best_of,
        seed=seed if do_sample else None,
    )
