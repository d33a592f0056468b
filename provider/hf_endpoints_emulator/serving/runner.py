"""Turns a backend's token choices into TGI generations, on the event loop.

`ModelRunner.run` yields a `Prefill` then one `StepEvent` per token; the last one carries
the finish reason and the generated text. TGI's stopping rules are applied as each token
arrives, and the generation leaves the backend as soon as it is over or its consumer goes
away (client disconnect): the llama.cpp batch scheduler then frees its slot before its
next step. That backend computes in threads of its own and hands each step's tokens to the
event loop directly (`LoopSession`); the synthetic source runs inline.
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import gc
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

from .backends.base import Backend, Sampling, Step

FinishReason = Literal["length", "eos_token", "stop_sequence"]

#: What the current request calls once its prompt is queued (`Backend.expect`; set by the
#: serving layer as the request comes in).
arriving: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "arriving", default=None
)
_STOP_WINDOW = 300  # TGI matches stop sequences against the last 300 characters


@dataclass(frozen=True, slots=True)
class Token:
    """A token as TGI serializes it (`special` is omitted for prefill and top tokens)."""

    id: int
    text: str
    logprob: float | None
    special: bool

    def as_json(self) -> dict[str, Any]:
        logprob = None if self.logprob is None or math.isnan(self.logprob) else self.logprob
        return {"id": self.id, "text": self.text, "logprob": logprob, "special": self.special}

    def as_prefill_json(self) -> dict[str, Any]:
        logprob = None if self.logprob is None or math.isnan(self.logprob) else self.logprob
        return {"id": self.id, "text": self.text, "logprob": logprob}


@dataclass(frozen=True)
class Job:
    """One validated generation request."""

    input_ids: list[int]
    sampling: Sampling
    max_new_tokens: int
    stop: tuple[str, ...] = ()
    top_n_tokens: int = 0
    prefill_details: bool = False


@dataclass(frozen=True)
class Prefill:
    tokens: list[Token]


@dataclass(frozen=True)
class StepEvent:
    index: int
    token: Token
    top_tokens: list[Token]
    finish_reason: FinishReason | None = None
    generated_text: str | None = None


@dataclass
class GenerationResult:
    """A finished generation, collected from the events (non-streaming routes, best_of)."""

    generated_text: str
    finish_reason: FinishReason
    tokens: list[Token] = field(default_factory=list)
    top_tokens: list[list[Token]] = field(default_factory=list)
    prefill: list[Token] = field(default_factory=list)
    #: Seconds from submitting the job to the prompt being processed (queue + prefill).
    queue_seconds: float = 0.0

    @property
    def logprob_sum(self) -> float:
        return sum(t.logprob or 0.0 for t in self.tokens)


class _Tracker:
    """Decodes tokens incrementally and applies TGI's stopping criteria in TGI's order."""

    def __init__(self, backend: Backend, job: Job) -> None:
        self._backend = backend
        self._job = job
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._window = ""
        self._stops = [re.compile(re.escape(s) + "$") for s in job.stop if s]
        self.count = 0

    def _token(self, token_id: int, logprob: float) -> Token:
        special = self._backend.is_special(token_id)
        piece = self._backend.piece(token_id)
        return Token(token_id, piece.decode("utf-8", "replace"), logprob, special)

    def push(self, step: Step) -> StepEvent:
        backend = self._backend
        special = backend.is_special(step.token_id)
        if special:
            text = backend.piece(step.token_id).decode("utf-8", "replace")
        else:
            text = self._decoder.decode(backend.piece(step.token_id))
            self._parts.append(text)
        self.count += 1
        token = Token(step.token_id, text, step.logprob, special)
        top = [self._token(i, lp) for i, lp in step.top]
        finish: FinishReason | None = None
        if self.count >= self._job.max_new_tokens:
            finish = "length"
        elif backend.is_eos(step.token_id):
            finish = "eos_token"
        elif self._stops:
            self._window = (self._window + text)[-_STOP_WINDOW:]
            if any(stop.search(self._window) for stop in self._stops):
                finish = "stop_sequence"
        if finish is None:
            return StepEvent(self.count, token, top)
        self._parts.append(self._decoder.decode(b"", final=True))
        return StepEvent(self.count, token, top, finish, "".join(self._parts))

    def prefill(self, input_ids: list[int], logprobs: list[float | None]) -> Prefill:
        tokens = []
        for i, token_id in enumerate(input_ids):
            logprob = logprobs[i] if i < len(logprobs) else None
            piece = self._backend.piece(token_id).decode("utf-8", "replace")
            tokens.append(Token(token_id, piece, logprob, self._backend.is_special(token_id)))
        return Prefill(tokens)


class ModelRunner:
    """Runs jobs on one backend for one serving layer; bounds concurrent generations.

    Counters are plain attributes (read by `/metrics` and the tests): `tokens_generated`
    grows as the backend produces tokens, `cancelled` counts generations stopped early by
    their consumer (client disconnect), `waiting`/`running` describe the queue.
    """

    def __init__(self, backend: Backend, max_concurrent: int, token_delay: float = 0.0) -> None:
        self.backend = backend
        self.max_concurrent = max(1, max_concurrent)
        self.token_delay = token_delay
        self.waiting = 0
        self.running = 0
        self.tokens_generated = 0
        self.cancelled = 0
        self.completed = 0
        self._semaphore: asyncio.Semaphore | None = None
        self._loaded = False
        self._load_lock: asyncio.Lock | None = None

    async def ensure_loaded(self) -> None:
        """Load the backend off the event loop the first time it is needed."""
        if self._loaded:
            return
        if self._load_lock is None:
            self._load_lock = asyncio.Lock()
        async with self._load_lock:
            if not self._loaded:
                if self.backend.threaded:
                    await asyncio.get_running_loop().run_in_executor(None, self.backend.load)
                    _freeze_heap()
                else:
                    self.backend.load()
                self._loaded = True

    def close(self) -> None:
        """Nothing of its own to free: the backend's lifetime is the process's."""

    def _produce(self, job: Job) -> Generator[Prefill | StepEvent, None, None]:
        tracker = _Tracker(self.backend, job)
        with self.backend.session() as session:
            logprobs = session.prefill(job.input_ids, job.prefill_details)
            prefill = tracker.prefill(job.input_ids, logprobs) if job.prefill_details else None
            yield prefill or Prefill([])
            steps = session.steps(job.sampling, job.top_n_tokens)
            try:
                for step in steps:
                    self.tokens_generated += 1
                    event = tracker.push(step)
                    yield event
                    if event.finish_reason is not None:
                        self.completed += 1
                        return
            finally:
                close = getattr(steps, "close", None)
                if close is not None:
                    close()

    async def run(self, job: Job) -> AsyncIterator[Prefill | StepEvent]:
        """The generation's events; closing the iterator early cancels the generation."""
        await self.ensure_loaded()
        if self.backend.threaded:
            async for item in self._run_on_loop(job):
                yield item
        else:
            async for item in self._run_inline(job):
                yield item

    async def _run_inline(self, job: Job) -> AsyncIterator[Prefill | StepEvent]:
        self.running += 1
        produced = self._produce(job)
        finished = False
        try:
            for n, item in enumerate(produced):
                yield item
                if self.token_delay > 0 and isinstance(item, StepEvent):
                    await asyncio.sleep(self.token_delay)
                elif n % 32 == 31:
                    await asyncio.sleep(0)  # let other requests share the event loop
            finished = True
        finally:
            self.running -= 1
            if not finished:
                self.cancelled += 1
            produced.close()

    async def _run_on_loop(self, job: Job) -> AsyncIterator[Prefill | StepEvent]:
        """A generation whose backend computes in its own threads and hands each step to
        this event loop (`LoopSession`): text decoding and the stopping rules run here, as
        each token arrives, with no thread per generation in between."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrent)
        semaphore = self._semaphore
        self.waiting += 1
        try:
            await semaphore.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        tracker = _Tracker(self.backend, job)
        finished = cancelled = False
        try:
            session = self.backend.loop_session()
        except BaseException:
            self.running -= 1
            semaphore.release()
            raise
        try:
            arrived = arriving.get()
            if arrived is not None:
                # Let the requests that came with this one (their tasks are ready on the
                # loop) start too: they count as arriving from their first step, so the
                # lanes take the burst's prompts together (`Backend.expect`).
                await asyncio.sleep(0)
                arriving.set(None)
                arrived()  # its prompt is queued next: no burst to wait for on its account
            logprobs = await session.prefill(
                job.input_ids, job.prefill_details, job.sampling, job.top_n_tokens
            )
            prefill = tracker.prefill(job.input_ids, logprobs) if job.prefill_details else None
            yield prefill or Prefill([])
            async for step in session.steps():
                self.tokens_generated += 1
                event = tracker.push(step)
                if event.finish_reason is not None:
                    finished = True
                    self.completed += 1
                    session.close()  # its slot is free before the last event is sent
                yield event
                if finished:
                    return
        except (GeneratorExit, asyncio.CancelledError):  # the consumer went away
            cancelled = not finished
            raise
        finally:
            session.close()
            self.running -= 1
            self.cancelled += cancelled
            semaphore.release()


def _freeze_heap() -> None:
    """Once the model is loaded, leave what the process holds so far (the app, the libraries,
    the model's Python side) out of every later garbage collection: a full collection of it
    stopped the event loop and the decode threads for about 50 ms, seen in the serving trace
    in the middle of a burst's first tokens. Not when the host process already freezes its
    own heap (the test suite does), and only once per process."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


async def collect(events: AsyncIterator[Prefill | StepEvent]) -> GenerationResult:
    """Drain a generation into a `GenerationResult`."""
    prefill: list[Token] = []
    tokens: list[Token] = []
    top_tokens: list[list[Token]] = []
    started = time.monotonic()
    queued = 0.0
    async for event in events:
        if isinstance(event, Prefill):
            prefill = event.tokens
            queued = time.monotonic() - started
            continue
        tokens.append(event.token)
        top_tokens.append(event.top_tokens)
        if event.finish_reason is not None:
            return GenerationResult(
                event.generated_text or "",
                event.finish_reason,
                tokens,
                top_tokens,
                prefill,
                queued,
            )
    raise IncompleteGeneration()


class IncompleteGeneration(RuntimeError):
    """The token stream ended without a final token (TGI `incomplete_generation`)."""
