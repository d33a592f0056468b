"""The small interface every token source implements.

A backend only turns token ids into next-token choices; everything TGI-specific (stop
sequences, finish reasons, text decoding, limits) lives above it in `engine.py`, so the
llama.cpp model and the synthetic source behave identically at the protocol level.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol


def _nothing() -> None:
    pass


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (missing package or model file); the message says why."""


class ChatTemplateError(ValueError):
    """The chat template could not render the messages (TGI answers 422 `template_error`)."""


@dataclass(frozen=True)
class Sampling:
    """TGI's sampling parameters after validation and defaulting."""

    do_sample: bool
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    typical_p: float = 1.0
    repetition_penalty: float = 1.0
    frequency_penalty: float = 0.0
    seed: int = 0
    #: A llama.cpp GBNF grammar (root rule `root`) constraining the output, if any.
    grammar: str | None = None


class Step(NamedTuple):
    """One chosen token: its id, log-probability and the `top_n` most likely alternatives."""

    token_id: int
    logprob: float
    top: list[tuple[int, float]]


class Session(Protocol):
    """One generation's use of the model, from the thread that reads its tokens."""

    def prefill(self, input_ids: Sequence[int], logprobs: bool) -> list[float | None]:
        """Feed the prompt; return each prompt token's log-probability if asked (first: None)."""
        ...

    def steps(self, sampling: Sampling, top_n: int) -> Iterator[Step]:
        """Yield chosen tokens forever; the caller stops (closing the iterator) when done."""
        ...


class LoopSession(Protocol):
    """One generation whose tokens the backend hands to the running event loop itself.

    A backend that computes in threads of its own (the llama.cpp batch scheduler) offers
    this so that no thread per generation stands between it and the event loop: its decode
    thread hands each step's tokens, every sequence's at once, straight to the loop, and a
    consumer that goes away leaves the batch at the next step (`close`)."""

    async def prefill(
        self, input_ids: Sequence[int], logprobs: bool, sampling: Sampling, top_n: int
    ) -> list[float | None]:
        """Process the prompt (the sampling comes with it, so the first token is chosen as
        soon as it is processed); each prompt token's log-probability if asked."""
        ...

    def steps(self) -> AsyncIterator[Step]:
        """The chosen tokens, until the caller stops or `close`s."""
        ...

    def close(self) -> None:
        """The generation is over (or its consumer gone): free what it holds. Idempotent."""
        ...


class Backend(ABC):
    """A tokenizer plus a token generator. Instances are shared by every endpoint they serve."""

    #: Short name shown in `/info` and `/metrics` ("llama.cpp", "synthetic").
    kind: ClassVar[str]
    #: True when `load()` and the model's work block (real compute): the engine loads it
    #: in a worker thread and runs its generations through `loop_session()`.
    threaded: ClassVar[bool]

    @property
    @abstractmethod
    def model_name(self) -> str:
        """What really produces the tokens (e.g. the GGUF file name)."""

    @property
    @abstractmethod
    def context_length(self) -> int:
        """Most tokens (prompt + generated) one session can hold."""

    def describe(self) -> Mapping[str, Any]:
        """The `/info` description of what serves the endpoint."""
        return {"backend": self.kind, "model": self.model_name}

    @abstractmethod
    def load(self) -> None:
        """Make the backend ready (blocking, idempotent, thread-safe)."""

    @abstractmethod
    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Token ids of `text`; `add_special` adds BOS/EOS as the model's tokenizer does."""

    @abstractmethod
    def piece(self, token_id: int) -> bytes:
        """The raw bytes of one token (special tokens render as their text, e.g. `</s>`)."""

    @abstractmethod
    def is_special(self, token_id: int) -> bool:
        """True for control tokens, which `generated_text` leaves out."""

    @abstractmethod
    def is_eos(self, token_id: int) -> bool:
        """True for the end-of-generation tokens."""

    @abstractmethod
    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """Render chat messages with the model's chat template, ready for generation."""

    @abstractmethod
    def check_grammar(self, grammar: str) -> str | None:
        """None when `grammar` (GBNF) can be used, else the reason it cannot."""

    @abstractmethod
    def session(self) -> AbstractContextManager[Session]:
        """A session for one generation (exiting it frees what the generation held)."""

    def expect(self) -> Callable[[], None]:
        """A generation request is on its way (still being read and validated); the result
        is called once its prompt is queued. A backend that batches can then process the
        prompts of a burst together; the others ignore it."""
        return _nothing

    def loop_session(self) -> LoopSession:
        """A generation fed to the running event loop (backends with `threaded`)."""
        raise NotImplementedError(f"the {self.kind} backend generates on the event loop")
