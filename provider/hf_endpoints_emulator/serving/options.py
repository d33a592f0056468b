"""Serving options, read defensively from the control plane's `EmulatorConfig`.

The control plane owns the config object; this module only reads the attributes it knows
(`getattr` with defaults), so the serving layer works with any object, or `None`, and is
not coupled to the exact class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .backends.weights import DEFAULT_WEIGHTS, WEIGHT_CHOICES

BackendName = Literal["llama", "synthetic"]

#: Tasks served by the text-generation backends (TGI serves these pipeline tags).
TEXT_GENERATION_TASKS = frozenset({"text-generation", "text2text-generation", "conversational"})


@dataclass(frozen=True)
class ServingOptions:
    """Limits and choices of the serving layer (TGI launcher defaults unless said otherwise)."""

    backend: BackendName = "llama"
    #: repository -> local GGUF path; repositories not listed serve the default model.
    models: Mapping[str, str] = field(default_factory=dict)
    #: TGI `--max-concurrent-requests`: in-flight generation requests per endpoint before 429.
    max_concurrent_requests: int = 128
    #: Generations decoded together per model (llama.cpp sequences sharing each batch,
    #: TGI's batch size); the rest queue. Each slot reserves `max_total_tokens` KV cells
    #: up front: with the default model, 32 slots hold about 1.4 GiB (16 about 0.7 GiB).
    #: 32, so that 32 concurrent streams share each step instead of half of them queueing.
    max_concurrent_generations: int = 32
    max_best_of: int = 2
    max_stop_sequences: int = 4
    max_top_n_tokens: int = 5
    #: Token budget of one request (prompt + new tokens); also each batch slot's KV size.
    max_total_tokens: int = 2048
    max_input_tokens: int = 2047
    max_client_batch_size: int = 4
    #: Seconds of silence before an SSE keep-alive comment (axum's default is 15 s).
    keep_alive_interval: float = 15.0
    #: Value of the `x-compute-type` header (TGI env `COMPUTE_TYPE`).
    compute_type: str = "gpu+optimized"
    #: llama.cpp threads per batching lane (None: llama-cpp-python's default, half the
    #: cores); the model gets cores / n_threads lanes, each a context with its own thread(s).
    n_threads: int | None = None
    #: Weights llama.cpp serves for a Q4_1 model file (the shipped one): "q4_0" (default)
    #: converts it once to Q4_0, which llama.cpp's batched CPU kernels cover; "original"
    #: serves every file as given (see `backends/weights.py`).
    weights: str = DEFAULT_WEIGHTS
    #: Synthetic source only: seconds between tokens (0: as fast as possible). For tests
    #: and demos of slow streams (keep-alive, disconnects, concurrency limits).
    token_delay: float = 0.0

    @classmethod
    def from_config(cls, config: object | None) -> ServingOptions:
        """Pick the known attributes of `config` (any object, a mapping, or None)."""
        if config is None:
            return cls()
        nested = _get(config, "serving")
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = _get(config, name)
            if value is None and nested is not None:
                value = _get(nested, name)
            if value is not None:
                values[name] = value
        backend = str(values.get("backend", "llama")).lower()
        if backend not in ("llama", "synthetic"):
            raise ValueError(f"unknown serving backend {backend!r}: use 'llama' or 'synthetic'")
        values["backend"] = backend
        weights = str(values.get("weights", DEFAULT_WEIGHTS)).lower()
        if weights not in WEIGHT_CHOICES:
            raise ValueError(f"unknown weights {weights!r}: use one of {', '.join(WEIGHT_CHOICES)}")
        values["weights"] = weights
        models = values.get("models") or {}
        values["models"] = {str(k): str(Path(v).expanduser()) for k, v in dict(models).items()}
        for name in (
            "max_concurrent_requests",
            "max_concurrent_generations",
            "max_total_tokens",
            "max_input_tokens",
        ):
            if name in values:
                values[name] = int(values[name])
        if "max_total_tokens" in values and "max_input_tokens" not in values:
            values["max_input_tokens"] = values["max_total_tokens"] - 1
        return cls(**values)


def _get(obj: object, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)
