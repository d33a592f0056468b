"""Continuous batching on llama.cpp: running generations share each forward pass.

TGI exists so that concurrent requests share each forward pass; one context per request
would make them take turns. A `BatchScheduler` owns one llama.cpp context holding up to
`slots` sequences and one decode thread. Each turn of its loop:

1. drops the sequences whose generation ended or whose client went away, freeing their KV
   cells at once, and admits queued requests into the free slots;
2. processes prompts before anything else, prompts that arrive meanwhile too (up to about
   `PREFILL_CHUNK` tokens a turn; shortest remaining prompts first, chunks of the same
   length together, logits only where needed), and hands out each first token as soon as
   its prompt's `llama_decode` returns; while more generation requests are on their way
   through the event loop (`Arrivals`), it holds the new prompts back for a few
   milliseconds (decoding the running generations meanwhile) so that a burst's prompts go
   through one `llama_decode`. So a burst's first tokens come out together instead of each
   waiting behind the prompts or a decode step of the ones before it, and a long
   prompt, in chunks, alternates with the decode steps of the running generations instead
   of stalling them. (A prompt joining the decode step's own `llama_decode` would cost no
   less: on a CPU a step's time grows with its rows, so its first token would wait for the
   step's rows too.) The sampler chain comes with the prompt (`plan`), so a new sequence's
   first token is chosen in the turn that completes its prompt;
3. decodes one token of every running sequence in a single `llama_decode`, its rows in
   increasing slot order, gaps of free slots filled (`decode_rows`): with a KV stream per
   sequence llama.cpp computes each run of consecutive sequence ids as a micro-batch of its
   own, a pass over the weights each. (Rows in the order the sequences came, as after a
   first burst of requests had left, made a step of 16 sequences up to 16 passes: 32
   streams ran at 300 tokens/s one burst and 790 the next.) Then it samples each
   sequence's next token from its own row with its own sampler chain;
4. hands the turn's tokens over: to a consumer thread through its queue, or, for consumers
   on an event loop (the serving layer), all sequences' at once through that loop's
   `Mailbox` (one `call_soon_threadsafe`, not a thread per generation in between).
The loop only waits when none of this has anything to do. A prompt chunk processed while
every other lane is idle takes every core's thread, the other lanes holding their next
`llama_decode` until it ends (`Cores`): a lone request's first token as on the whole machine.

`Batcher` runs one scheduler ("lane") per group of `n_threads` cores and sends each new
generation to the least busy lane. Why not one context decoding with every core: llama.cpp
splits each op across its threads with a barrier after each of the graph's ~1000 nodes, so
when another process takes a core for a few milliseconds every thread waits; on a shared
2-core machine such steps ran up to 10× slower than one thread. Lanes of `n_threads` each
(llama-cpp-python's default decode threads) use every core without that cliff, and one
stream alone decodes as llama-cpp-python decodes it.

Bit for bit, a sequence's logits are the same alone or beside others, given:
- its own KV stream (`kv_unified = false`, `n_ctx_seq` cells per slot): attention runs
  over its cells only (with a unified cache, logits drift). The price is memory reserved
  up front per slot;
- flash attention only with one thread per context: with several, its CPU kernel splits
  the keys of a lone decoding sequence (from 512 keys) across the threads and merges the
  parts, which rounds differently than the path it takes beside other sequences; with one
  thread both give the same bits (measured; with two threads logits differed);
- prompts in chunks starting at multiples of `PREFILL_CHUNK`, and only chunks of the same
  length in one `llama_decode`: llama.cpp splits a batch holding prompts of different
  lengths into micro-batches of equal length per sequence, and a token left in a
  micro-batch of its own can get other logits than in its prompt's (seen for about one
  pair of prompts of lengths n and n + 1 in 300; never with equal lengths);
- weights whose matrix kernels give each output the same value at any batch width: Q4_0,
  Q4_1, Q8_0 do on this llama.cpp; F16, BF16, Q4_K, Q6_K and IQ4_NL do not (see
  `weights.py`).
Decode steps, one token per sequence, are fine at any width and in any order.

The scheduler decodes one token ahead of the consumer, which decides when a generation
ends (stop sequences, `max_new_tokens`): a finished sequence may cost one extra row in
the next batch. End-of-generation tokens are known here, so they cost nothing extra.
"""

from __future__ import annotations

import asyncio
import ctypes
import heapq
import multiprocessing
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import trace
from .base import Step

Logits = np.ndarray[Any, Any]

#: Most tokens per `llama_decode` (llama-cpp-python's default `n_batch`).
PREFILL_BATCH = 512
#: Prompt tokens processed per turn of the loop, over every prompt being processed: a long
#: prompt is processed in chunks between decode steps of the running generations, so these
#: are not stalled for the whole prompt and short prompts arriving meanwhile start first.
PREFILL_CHUNK = 256
#: Longest wait (s) for the samplers of just-prefilled sequences before decoding without them.
_SAMPLER_WAIT = 0.01
#: Longest time (s) a generation request on its way holds back prompts queued before it,
#: and the longest a prompt is held back (`Arrivals`).
ARRIVAL_WINDOW = 0.03
#: Widest gap of free slots that a decode step fills with throw-away rows to keep its
#: sequences one run of consecutive ids (`decode_rows`): a row costs far less than the
#: extra pass over the weights a second run costs.
MAX_GAP = 4


def runs(slots: Sequence[int]) -> int:
    """Micro-batches llama.cpp makes of one decode step whose rows hold these sequence ids,
    in this order: with one KV stream per sequence it only puts increasing, consecutive ids
    together (`llama_batch_allocr::split_equal`, sequential, in llama.cpp's
    src/llama-batch.cpp), and each micro-batch is a full pass over the weights."""
    return sum(1 for i, slot in enumerate(slots) if i == 0 or slot != slots[i - 1] + 1)


def decode_rows(running: Collection[int], free: Collection[int], slots: int) -> list[Row]:
    """The rows of one decode step: the running sequences' slots in increasing order, with
    throw-away rows in free slots that join two runs across a gap of up to `MAX_GAP`; then
    a single run of 5 or more rows is extended with free neighbours to a multiple of 4 (the
    Q4_0 kernels multiply 4 tokens at a time and each token left over costs a pass of its
    own: 7 sequences took 33 ms a step on one thread, 7 plus one throw-away row 24 ms).
    A throw-away row changes no other row's result."""
    rows: list[Row] = []
    for slot in sorted(running):
        if rows:
            gap = range(rows[-1].slot + 1, slot)
            if 0 < len(gap) <= MAX_GAP and all(g in free for g in gap):
                rows += [Row(g, filler=True) for g in gap]
        rows.append(Row(slot))
    missing = -len(rows) % 4
    if len(rows) < 5 or missing == 0 or runs([r.slot for r in rows]) != 1:
        return rows
    extra: list[Row] = []
    up, down = rows[-1].slot + 1, rows[0].slot - 1
    while len(extra) < missing and up < slots and up in free:
        extra.append(Row(up, filler=True))
        up += 1
    below: list[Row] = []
    while len(extra) + len(below) < missing and down >= 0 and down in free:
        below.insert(0, Row(down, filler=True))
        down -= 1
    if len(extra) + len(below) < missing:
        return rows
    return below + rows + extra


@dataclass(frozen=True)
class Row:
    """One token of a decode step: a running sequence's, or a throw-away one (`filler`)
    decoded at position 0 of a free slot and removed right after."""

    slot: int
    filler: bool = False


class Cancelled(RuntimeError):
    """The sequence was dropped because its consumer went away."""


def log_normalizers(rows: Logits, scratch: Logits | None = None) -> list[float]:
    """Each row's log-sum-exp, the number its log-probabilities are logits minus
    (`scratch`: a buffer of at least as many rows, to compute in without allocating).

    A whole decode step in a handful of numpy calls, not a handful per row: each call lets
    the session threads and the event loop take the GIL from the decode thread. A row's
    value does not depend on the rows beside it (numpy reduces each row of a C-ordered
    array on its own), so a sequence gets the same numbers alone or under load."""
    peaks = rows.max(axis=1)
    shifted = np.subtract(
        rows, peaks[:, np.newaxis], out=None if scratch is None else scratch[: len(rows)]
    )
    logs = np.log(np.exp(shifted, out=shifted).sum(axis=1))
    return [float(peak) + float(log) for peak, log in zip(peaks, logs, strict=True)]


def log_softmax_at(
    logits: Logits, ids: Sequence[int], scratch: Logits | None = None
) -> list[float]:
    """Log-probabilities of `ids` under one row of logits (`scratch` as `log_normalizers`)."""
    lse = log_normalizers(logits[np.newaxis, :], scratch)[0]
    return [float(logits[i]) - lse for i in ids]


class _Prefilled:
    """The marker a consumer on an event loop receives once the prompt is processed."""

    def __repr__(self) -> str:
        return "PREFILLED"


PREFILLED = _Prefilled()

#: What a generation's consumer receives, in order: (on an event loop, `PREFILLED` first)
#: a `Step` per token, then an exception or `None` (the end).
Output = Step | BaseException | None | _Prefilled


@dataclass(eq=False)
class Generation:
    """One request inside the scheduler, shared with its consumer.

    A consumer in a thread of its own waits on `prefilled` and reads `out`. A consumer on an
    event loop gives `loop` and `receive` instead: the decode thread then hands each turn's
    outputs to that loop itself, all sequences' at once (`BatchScheduler._flush`), and
    `receive` gets them there, in order, starting with `PREFILLED`."""

    input_ids: list[int]
    logprobs: bool
    cancel: threading.Event | None = None
    #: Set once the prompt is in the KV cache (or the sequence failed: see `error`).
    prefilled: threading.Event = field(default_factory=threading.Event)
    prompt_logprobs: list[float | None] = field(default_factory=list)
    error: BaseException | None = None
    #: Steps (or the exception / `None` end marker) for a consumer thread, in order.
    out: queue.SimpleQueue[Step | BaseException | None] = field(default_factory=queue.SimpleQueue)
    loop: asyncio.AbstractEventLoop | None = None
    receive: Callable[[Output], object] | None = None
    #: The request's name in the serving trace (`trace.py`), if traced.
    trace: str | None = None
    #: When it was queued (`time.monotonic()`).
    queued_at: float = 0.0
    # -- shared under the scheduler's lock (or set before `submit`) --
    sampler: Any = None
    top_n: int = 0
    #: The sampler chain is llama.cpp's greedy sampler alone: take the first highest logit.
    greedy: bool = False
    released: bool = False
    retired: bool = False
    # -- decode thread only --
    slot: int = -1
    #: Prompt tokens in the KV cache so far (the prompt is processed in chunks).
    done: int = 0
    pos: int = 0
    row: Logits | None = None
    next_token: int | None = None

    def gone(self) -> bool:
        """The session is done with it, or its client disconnected."""
        return self.released or (self.cancel is not None and self.cancel.is_set())


class BatchScheduler:
    """One llama.cpp context, `slots` sequences, one decode loop thread (module docstring)."""

    def __init__(
        self,
        model: Any,
        *,
        slots: int,
        n_ctx_seq: int,
        n_threads: int,
        is_eog: Callable[[int], bool],
        arrivals: Arrivals | None = None,
        wide_threads: int | None = None,
        others_idle: Callable[[BatchScheduler], bool] | None = None,
        cores: Cores | None = None,
    ) -> None:
        import llama_cpp as L

        self._arrivals = arrivals
        #: Threads for a prompt while every other lane is idle (`_prompt_threads`).
        self.wide_threads = max(wide_threads or n_threads, n_threads)
        self._others_idle = others_idle
        self._cores = cores or Cores()
        self._batch_threads = n_threads
        self.slots = max(1, min(slots, int(L.llama_max_parallel_sequences())))
        self.n_threads = n_threads
        self.n_ctx_seq = n_ctx_seq
        self._is_eog = is_eog
        self._n_vocab = int(L.llama_vocab_n_tokens(L.llama_model_get_vocab(model)))
        params = L.llama_context_default_params()
        params.n_seq_max = self.slots
        params.n_ctx = n_ctx_seq * self.slots
        params.n_batch = params.n_ubatch = PREFILL_BATCH
        params.n_threads = params.n_threads_batch = n_threads
        # Flash attention skips the empty KV cells (attention otherwise spans at least 256
        # per sequence): ~1.2x faster alone, ~1.5x at 8 sequences. Only with one thread:
        # with more, its single-query path splits the keys across threads when one sequence
        # runs alone, and rounds differently than beside others (module docstring).
        self.flash_attention = n_threads == 1
        params.flash_attn_type = (
            L.LLAMA_FLASH_ATTN_TYPE_ENABLED
            if self.flash_attention
            else L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        if hasattr(params, "kv_unified"):
            params.kv_unified = False
        self._ctx = L.llama_init_from_model(model, params)
        if not self._ctx:
            raise RuntimeError(f"llama.cpp could not create a context for {self.slots} slots")
        if hasattr(L, "llama_n_ctx_seq"):
            self.n_ctx_seq = min(n_ctx_seq, int(L.llama_n_ctx_seq(self._ctx)))
        self._memory = L.llama_get_memory(self._ctx)
        self._batch = L.llama_batch_init(max(PREFILL_BATCH, self.slots), 0, 1)
        # Sampling input, reused: llama.cpp's `llama_token_data` is {int32 id, float logit, p}.
        self._candidates = np.zeros(
            self._n_vocab, dtype=np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
        )
        self._ids = np.arange(self._n_vocab, dtype=np.int32)
        #: Where `log_normalizers` computes, a row per slot.
        self._scratch = np.empty((self.slots, self._n_vocab), dtype=np.float32)
        self._cond = threading.Condition()
        self._pending: deque[Generation] = deque()
        self._active: list[Generation] = []
        #: Free slots, a heap: a new sequence takes the lowest, which keeps the running
        #: ones in few runs of consecutive ids (`runs`).
        self._free = list(range(self.slots))
        self._closed = False
        self._failure: BaseException | None = None
        #: Outputs for consumers on event loops, handed over once per turn (`_flush`).
        self._outbox: dict[asyncio.AbstractEventLoop, list[tuple[Generation, Output]]] = {}
        #: Decode steps run (one `llama_decode` of running sequences each).
        self.decode_steps = 0
        #: Of those, the steps that decoded several sequences together.
        self.batched_steps = 0
        #: Largest number of sequences decoded together so far.
        self.widest_batch = 0
        #: Decode steps run while a prompt was still partly processed (chunked prefill).
        self.interleaved_steps = 0
        #: Prompt chunks processed (one `llama_decode` each).
        self.prefill_steps = 0
        #: Of those, the chunks processed with `wide_threads` (the other lanes idle).
        self.wide_prefill_steps = 0
        #: Decode steps with throw-away rows (`decode_rows`).
        self.padded_steps = 0
        #: Decode steps that llama.cpp had to split into several micro-batches (`runs`).
        self.split_steps = 0
        self._kv_cells = 0
        name = f"llama-batch-{id(self):x}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- what tests and metrics read ---------------------------------------------------
    @property
    def active(self) -> int:
        """Sequences holding a slot (and KV cells)."""
        with self._cond:
            return len(self._active)

    @property
    def queued(self) -> int:
        """Sequences waiting for a slot."""
        with self._cond:
            return len(self._pending)

    @property
    def kv_cells(self) -> int:
        """KV cells in use as llama.cpp counts them, recounted in each turn of the loop where
        sequences joined or left or none decoded (between, it lags by the tokens decoded
        since: counting is a call per sequence, which lets other threads take the GIL)."""
        return self._kv_cells

    # -- called from session threads ---------------------------------------------------
    def submit(self, seq: Generation) -> None:
        """Queue `seq` for a slot; `seq.prefilled` is set once its prompt is processed."""
        if not seq.input_ids:
            raise ValueError("cannot generate from an empty prompt")
        if len(seq.input_ids) >= self.n_ctx_seq:
            raise ValueError(
                f"the prompt ({len(seq.input_ids)} tokens) does not fit a sequence slot "
                f"({self.n_ctx_seq} tokens)"
            )
        with self._cond:
            if self._failure is not None:
                raise RuntimeError(f"the llama.cpp decode loop failed: {self._failure}")
            if self._closed:
                raise RuntimeError("the llama.cpp backend is closed")
            seq.queued_at = time.monotonic()
            self._pending.append(seq)
            self._cond.notify()

    def start(self, seq: Generation, sampler: Any, top_n: int, *, greedy: bool = False) -> None:
        """Give `seq` its sampler chain (owned by the scheduler from now on): it starts
        producing tokens. (A chain set on the generation before `submit` needs no call.)"""
        with self._cond:
            if not seq.retired and not self._closed:
                seq.sampler, seq.top_n, seq.greedy = sampler, top_n, greedy
                self._cond.notify()
                return
        _free_sampler(sampler)

    def wake(self) -> None:
        """Have the decode loop look at its work again (a request arrived)."""
        with self._cond:
            self._cond.notify()

    def release(self, seq: Generation) -> None:
        """The session is done with `seq`: its slot and KV cells are freed before the next
        decode step."""
        with self._cond:
            if seq.released:
                return
            seq.released = True
            if seq in self._pending:
                self._pending.remove(seq)
                seq.retired = True
            self._cond.notify()

    def close(self) -> None:
        """Stop the loop, fail what is still running, free the context."""
        import llama_cpp as L

        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._fail_all(RuntimeError("the llama.cpp backend was closed"))
        L.llama_batch_free(self._batch)
        L.llama_free(self._ctx)

    # -- the decode thread -------------------------------------------------------------
    def _run(self) -> None:
        try:
            while self._turn():
                pass
        except BaseException as exc:  # a bug or a llama.cpp failure: nobody may wait forever
            with self._cond:
                self._failure = exc
            self._fail_all(exc)

    def _has_work(self) -> bool:
        if any(s.gone() for s in self._active) or any(s.gone() for s in self._pending):
            return True
        if self._pending and self._free:
            return True
        return any(
            s.next_token is not None
            or (s.row is not None and s.sampler is not None)
            or s.done < len(s.input_ids)
            for s in self._active
        )

    def _turn(self) -> bool:
        import llama_cpp as L

        with self._cond:
            while not self._closed and not self._has_work():
                # Cancel events do not notify: poll them while anyone is waiting.
                busy = bool(self._pending or self._active)
                self._cond.wait(0.05 if busy else None)
            if self._closed:
                return False
            dropped = [s for s in self._pending if s.gone()]
            for s in dropped:
                self._pending.remove(s)
                s.retired = True
        for s in dropped:
            self._stop(s, Cancelled("the client went away before the prompt was processed"))
        changed = self._retire()
        changed = self._admit() or changed
        # A burst's prompts in one llama_decode: while more requests are on their way,
        # decode the running generations, or wait for them if none runs.
        while not self._closed and not any(s.next_token is not None for s in self._active):
            with self._cond:
                hold = self._hold_prompts()
                if hold > 0:
                    self._cond.wait(hold)
            if hold <= 0:
                break
            changed = self._admit() or changed
        # Prompts before the decode step, and prompts that arrive meanwhile too (up to
        # about `PREFILL_CHUNK` tokens a turn): a burst's first tokens come out one after
        # the other instead of each waiting behind a step of the generations before it.
        budget = PREFILL_CHUNK if self._hold_prompts() <= 0 else 0
        while group := self._prompt_group(budget):
            size = self._chunk(group[0])
            budget -= size * len(group)
            self._prompt_threads(size)
            self._await_samplers(self._prefill_chunks(group, size))
            self._emit_first_tokens()
            changed = self._admit() or changed
        self._emit_first_tokens()
        # Slots released meanwhile are free for this step's layout (`decode_rows`); a
        # sequence released from now on is decoded once more, for nobody.
        changed = self._retire() or changed
        running = [s for s in self._active if s.next_token is not None]
        if running:
            self._decode(running)
            self.interleaved_steps += any(s.done < len(s.input_ids) for s in self._active)
        self._flush()
        if changed or not running:
            self._kv_cells = sum(
                int(L.llama_memory_seq_pos_max(self._memory, s.slot)) + 1 for s in self._active
            )
        return True

    def _hold_prompts(self) -> float:
        """How long to hold back the prompts not started yet (0: process them now): while
        a generation request is on its way to the serving layer's event loop (`Arrivals`),
        for at most `ARRIVAL_WINDOW` after the oldest of them was queued."""
        if self._arrivals is None:
            return 0.0
        queued = [s.queued_at for s in self._active if s.done == 0 and not s.gone()]
        if not queued:
            return 0.0
        oldest = min(queued) + ARRIVAL_WINDOW - time.monotonic()
        return min(self._arrivals.remaining(), oldest) if oldest > 0 else 0.0

    def _prompt_threads(self, size: int) -> None:
        """Every core for a prompt chunk while the other lanes have nothing to do and no
        request is on its way: a lone request's first token then comes as soon as
        llama.cpp on the whole machine allows (a 245-token prompt took 484 ms on one
        thread). One thread otherwise, as the lanes are laid out. Never for a one-token
        chunk: with several threads, flash attention splits a single query's keys and
        rounds differently (module docstring); chunks of two or more tokens give the same
        bits on any number of threads (measured, prompt and the decode steps after it)."""
        wide = (
            size >= 2
            and self.wide_threads > self.n_threads
            and self._others_idle is not None
            and self._others_idle(self)
            and (self._arrivals is None or self._arrivals.remaining() <= 0)
            and self._cores.try_alone()
        )
        if wide:
            self._set_batch_threads(self.wide_threads)

    def _llama_decode(self, batch: Any) -> int:
        """One `llama_decode`. A wide one (`_prompt_threads`) has the cores to itself: a
        lane that meanwhile gets work waits for it, since three threads on two cores make
        llama.cpp's barriers stall (measured: first tokens of a burst 3x later); then the
        lane is back to its own thread."""
        import llama_cpp as L

        if self._batch_threads > self.n_threads:
            try:
                return int(L.llama_decode(self._ctx, batch))
            finally:
                self._set_batch_threads(self.n_threads)
                self._cores.done_alone()
        with self._cores.shared():
            return int(L.llama_decode(self._ctx, batch))

    def _set_batch_threads(self, threads: int) -> None:
        """llama.cpp's threads for a `llama_decode` of more than one token (decode steps
        of several sequences too: hence back to `n_threads` before each step)."""
        if threads != self._batch_threads:
            import llama_cpp as L

            L.llama_set_n_threads(self._ctx, self.n_threads, threads)
            self._batch_threads = threads

    def _admit(self) -> bool:
        """Give queued sequences the lowest free slots; True if any joined."""
        with self._cond:
            joined = bool(self._pending and self._free)
            while self._pending and self._free:
                s = self._pending.popleft()
                s.slot = heapq.heappop(self._free)
                self._active.append(s)
        return joined

    def _await_samplers(self, ready: list[Generation]) -> None:
        """Sessions that did not send their sampler with the prompt hand it over right
        after: waiting for them briefly lets their first tokens come in this turn instead
        of after a decode step."""
        if any(s.sampler is None for s in ready):
            with self._cond:
                self._cond.wait_for(
                    lambda: all(s.sampler is not None or s.gone() for s in ready),
                    timeout=_SAMPLER_WAIT,
                )

    def _emit_first_tokens(self) -> None:
        """Choose the first token of each sequence whose prompt is processed and whose
        sampler is there, and hand them over at once (before the next decode step)."""
        for s in list(self._active):
            if s.row is not None and s.sampler is not None and not s.gone():
                row, s.row = s.row, None
                self._emit_rows([s], row[np.newaxis, :])
        self._flush()

    def _retire(self) -> bool:
        """Take the sequences whose session is done or whose client went away out of the
        batch: their slots are free again and their KV cells cleared. True if any left."""
        with self._cond:
            leaving = [s for s in self._active if s.gone()]
            for s in leaving:
                self._active.remove(s)
                s.retired = True
                heapq.heappush(self._free, s.slot)
        for s in leaving:
            self._forget(s)
        return bool(leaving)

    def _forget(self, seq: Generation) -> None:
        """Free a leaving sequence's KV cells, sampler and waiting session."""
        import llama_cpp as L

        L.llama_memory_seq_rm(self._memory, seq.slot, -1, -1)
        with self._cond:
            sampler, seq.sampler = seq.sampler, None
        if sampler is not None:
            _free_sampler(sampler)
        if not seq.prefilled.is_set():  # it left while its prompt was being processed
            seq.error = Cancelled("the client went away while the prompt was processed")
            seq.prefilled.set()
        # A session still waiting (its client went away) sees the stream end.
        self._send(seq, None)

    def _stop(self, seq: Generation, error: BaseException) -> None:
        seq.error = error
        seq.prefilled.set()
        self._send(seq, error)

    def _send(self, seq: Generation, item: Output) -> None:
        """Hand `item` to the consumer of `seq`: at once to a thread, or into the outbox of
        its event loop (`_flush`)."""
        if seq.loop is not None:
            self._outbox.setdefault(seq.loop, []).append((seq, item))
        elif not isinstance(item, _Prefilled):
            seq.out.put(item)

    def _flush(self) -> None:
        """Hand the outbox to the event loops: every sequence's outputs of this turn at once
        (`Mailbox`), rather than a wake-up per token."""
        outbox, self._outbox = self._outbox, {}
        if trace.enabled():
            for items in outbox.values():
                for seq, item in items:
                    if seq.trace is not None and item is PREFILLED:
                        trace.event("posted", id=seq.trace)
        for loop, items in outbox.items():
            for seq, _ in mailbox(loop).post(items):  # the loop is closed: nobody reads
                self.release(seq)

    def _fail_all(self, error: BaseException) -> None:
        with self._cond:
            sequences = [*self._pending, *self._active]
            self._pending.clear()
            self._active.clear()
            for s in sequences:
                s.retired = True
                if s.sampler is not None:
                    _free_sampler(s.sampler)
                    s.sampler = None
        for s in sequences:
            self._stop(s, error)
        self._flush()

    def _prompt_group(self, budget: int) -> list[Generation]:
        """The prompt chunks for the next `llama_decode` (none if `budget` tokens, left of
        this turn's, cannot take them): of the shortest remaining prompts, those whose next
        chunk has the same length, in slot order.

        A prompt's chunks start at multiples of `PREFILL_CHUNK`, and one `llama_decode`
        only holds chunks of the same length: llama.cpp then computes every prompt token as
        when the prompt is alone. (It splits a batch of prompts of different lengths into
        micro-batches of equal length per sequence, and a token computed in another
        micro-batch than alone can get other logits.)"""
        waiting = [s for s in self._active if s.done < len(s.input_ids) and not s.gone()]
        if not waiting:
            return []
        size = min(self._chunk(s) for s in waiting)
        group = [s for s in waiting if self._chunk(s) == size][: PREFILL_BATCH // size]
        if size * len(group) > budget and budget < PREFILL_CHUNK:
            return []  # next turn: the running generations decode first
        return sorted(group, key=lambda s: s.slot)  # consecutive ids: one micro-batch

    @staticmethod
    def _chunk(s: Generation) -> int:
        return min(len(s.input_ids) - s.done, PREFILL_CHUNK)

    def _prefill_chunks(self, group: list[Generation], size: int) -> list[Generation]:
        """The next `size` prompt tokens of each sequence of `group` in one `llama_decode`;
        the sequences whose prompt is now complete."""
        import llama_cpp as L

        batch = self._batch
        batch.n_tokens = size * len(group)
        j = 0
        for s in group:
            if s.done == 0:
                s.prompt_logprobs = [None] if s.logprobs else []
            last = len(s.input_ids) - 1
            for i in range(s.done, s.done + size):
                batch.token[j] = s.input_ids[i]
                batch.pos[j] = i
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = s.slot
                batch.logits[j] = s.logprobs or i == last
                j += 1
        started = time.monotonic()
        wide = self._batch_threads > self.n_threads
        code = self._llama_decode(batch)
        self._traced("prompt", started, group, size * len(group))
        if code != 0:
            for s in group:
                L.llama_memory_seq_rm(self._memory, s.slot, -1, -1)
                s.done = len(s.input_ids)  # not processed again
                self._stop(s, RuntimeError(f"llama_decode failed ({code}) on the prompt"))
            return []
        self.prefill_steps += 1
        self.wide_prefill_steps += wide
        ready: list[Generation] = []
        j = 0
        for s in group:
            last = len(s.input_ids) - 1
            for i in range(s.done, s.done + size):
                if batch.logits[j]:
                    row = self._row(L.llama_get_logits_ith(self._ctx, j))
                    if i < last:
                        logprob = log_softmax_at(row, [s.input_ids[i + 1]], self._scratch)
                        s.prompt_logprobs.extend(logprob)
                    else:
                        s.row = row.copy()
                        s.pos = len(s.input_ids)
                        s.prefilled.set()
                        self._send(s, PREFILLED)
                        ready.append(s)
                j += 1
            s.done += size
        return ready

    def _decode(self, seqs: list[Generation]) -> None:
        """One token of every running sequence, in one batch laid out by `decode_rows`."""
        import llama_cpp as L

        batch = self._batch
        by_slot = {s.slot: s for s in seqs}
        rows = decode_rows(by_slot, self._free, self.slots)
        owners = [by_slot.get(row.slot) for row in rows]  # None: a throw-away row
        fillers = [r.slot for r in rows if r.filler]
        token = seqs[0].next_token
        batch.n_tokens = len(rows)
        for i, (row, s) in enumerate(zip(rows, owners, strict=True)):
            batch.token[i] = token if s is None else s.next_token
            batch.pos[i] = 0 if s is None else s.pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = row.slot
            batch.logits[i] = 1
        for s in seqs:
            s.next_token = None
        started = time.monotonic()
        code = self._llama_decode(batch)
        self._traced("step", started, seqs, len(rows))
        for slot in fillers:
            L.llama_memory_seq_rm(self._memory, slot, -1, -1)
        self.padded_steps += bool(fillers)
        self.split_steps += runs([r.slot for r in rows]) > 1
        if code != 0:
            for s in seqs:
                self._stop(s, RuntimeError(f"llama_decode failed ({code})"))
            return
        self.decode_steps += 1
        self.batched_steps += len(seqs) > 1
        self.widest_batch = max(self.widest_batch, len(seqs))
        for s in seqs:
            s.pos += 1
        self._emit_rows(owners, self._row(L.llama_get_logits(self._ctx), len(rows)))

    def _traced(self, kind: str, started: float, seqs: list[Generation], rows: int) -> None:
        """One `llama_decode` in the serving trace (`trace.py`), if it is on."""
        if trace.enabled():
            ids = [s.trace for s in seqs if s.trace is not None]
            trace.event("llama_decode", lane=id(self), kind=kind, start=started, rows=rows, ids=ids)

    def _row(self, pointer: Any, n: int = 0) -> Logits:
        """A view of llama.cpp's logits (valid until the next decode): one row, or `n`."""
        shape = (n, self._n_vocab) if n else (self._n_vocab,)
        data = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float))
        return np.ctypeslib.as_array(data, shape=shape)

    def _emit_rows(self, seqs: Sequence[Generation | None], logits: Logits) -> None:
        """Sample each sequence's next token from its row of `logits` (`None`: a row nobody
        reads) and hand the steps to the sessions. Greedy picks and log-normalizers are
        computed for every row at once (`log_normalizers`)."""
        normalizers = log_normalizers(logits, self._scratch)
        # llama.cpp's greedy sampler keeps the first highest logit, as argmax does.
        best = logits.argmax(axis=1)
        for i, seq in enumerate(seqs):
            if seq is None or seq.gone():
                continue
            row = logits[i]
            try:
                token = int(best[i]) if seq.greedy else self._sample(seq.sampler, row)
            except Exception as exc:  # this sequence's sampler failed, not the batch
                self._stop(seq, exc)
                continue
            lse = normalizers[i]
            top: list[tuple[int, float]] = []
            if seq.top_n:
                ids = np.argpartition(row, -seq.top_n)[-seq.top_n :]
                ids = ids[np.argsort(-row[ids])]
                top = [(int(j), float(row[j]) - lse) for j in ids]
            self._send(seq, Step(token, float(row[token]) - lse, top))
            if self._is_eog(token):
                continue  # the generation is over whatever the consumer asked for
            if seq.pos >= self.n_ctx_seq:
                self._stop(seq, RuntimeError("the sequence filled its KV cache slot"))
                continue
            seq.next_token = token

    def _sample(self, sampler: Any, logits: Logits) -> int:
        """`llama_sampler_sample` on a logits row rather than on the context's last output."""
        import llama_cpp as L

        candidates = self._candidates
        candidates["id"] = self._ids
        candidates["logit"] = logits
        candidates["p"] = 0.0
        array = L.llama_token_data_array(
            data=candidates.ctypes.data_as(L.llama_token_data_p),
            size=self._n_vocab,
            selected=-1,
            sorted=False,
        )
        L.llama_sampler_apply(sampler, ctypes.byref(array))
        if not 0 <= array.selected < array.size:
            raise RuntimeError("the sampler chain selected no token")
        token = int(array.data[array.selected].id)
        L.llama_sampler_accept(sampler, token)
        return token


class Mailbox:
    """Outputs for the consumers on one event loop, from every lane's decode thread.

    A post wakes the loop (`call_soon_threadsafe`, a write to its self-pipe, which also lets
    the woken loop take the core from the decode thread) only if the loop has not yet
    emptied the mailbox since the last wake-up: while the loop is busy with one lane's step,
    the other lane's step joins it instead of waking it again."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._items: list[tuple[Generation, Output]] = []
        self._woken = False

    def post(self, items: list[tuple[Generation, Output]]) -> list[tuple[Generation, Output]]:
        """Queue `items` for their consumers. If the loop is closed, what nobody will
        read (these and any other lane's still queued) is returned instead."""
        with self._lock:
            self._items += items
            if self._woken:
                return []
            self._woken = True
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:
            with self._lock:
                lost, self._items = self._items, []
                self._woken = False
            return lost
        return []

    def _deliver(self) -> None:
        """On the loop: give each consumer its outputs, in order."""
        with self._lock:
            items, self._items = self._items, []
            self._woken = False
        for seq, item in items:
            assert seq.receive is not None
            seq.receive(item)


_MAILBOXES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Mailbox] = (
    weakref.WeakKeyDictionary()
)
_MAILBOXES_LOCK = threading.Lock()


def mailbox(loop: asyncio.AbstractEventLoop) -> Mailbox:
    """The mailbox of `loop` (one per loop, shared by every lane)."""
    with _MAILBOXES_LOCK:
        box = _MAILBOXES.get(loop)
        if box is None:
            box = _MAILBOXES[loop] = Mailbox(loop)
        return box


def _free_sampler(sampler: Any) -> None:
    import llama_cpp as L

    L.llama_sampler_free(sampler)


def default_threads() -> int:
    """llama-cpp-python's default decode threads (half the cores)."""
    return max(multiprocessing.cpu_count() // 2, 1)


class Cores:
    """The lanes' turns at the cores: any number of one-thread `llama_decode`s at once, or
    one lane's wide prompt (every core's thread) alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        self._alone = False
        #: Lanes waiting for a wide `llama_decode` to end.
        self.waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        """A one-thread `llama_decode`: waits while a wide one runs."""
        with self._cond:
            while self._alone:
                self.waiting += 1
                self._cond.wait()
                self.waiting -= 1
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1

    def try_alone(self) -> bool:
        """The cores for one wide `llama_decode` if no lane is decoding (never waits);
        `done_alone` after it."""
        with self._cond:
            if self._alone or self._running:
                return False
            self._alone = True
            return True

    def done_alone(self) -> None:
        with self._cond:
            self._alone = False
            self._cond.notify_all()


class Arrivals:
    """Generation requests on their way: from reaching the serving layer until their prompt
    is queued (reading, validating and tokenizing them on the event loop: a millisecond or
    two each, more while the cores are busy).

    The requests of a burst reach the lanes one after the other. Were each prompt processed
    as it came, the first ones would start a `llama_decode` that the next ones wait behind
    (and that takes the cores the event loop needs to bring them in). So lanes hold back
    the prompts queued while a request is on its way, decoding the running generations
    meanwhile if there are any, for at most `ARRIVAL_WINDOW`: a burst's prompts are then
    processed together and its first tokens come out together. A request that never
    queues a prompt (it failed validation) stops counting after `ARRIVAL_WINDOW`."""

    def __init__(self, notify: Callable[[], None]) -> None:
        self._notify = notify
        self._lock = threading.Lock()
        self._open: dict[int, float] = {}
        self._next = 0

    def begin(self) -> Callable[[], None]:
        """A request is on its way; call the result once its prompt is queued (or not)."""
        with self._lock:
            key = self._next
            self._next += 1
            self._open[key] = time.monotonic()

        def done() -> None:
            with self._lock:
                arrived = self._open.pop(key, None) is not None
            if arrived:
                self._notify()

        return done

    def remaining(self) -> float:
        """How long the youngest request on its way still counts (0: none does)."""
        now = time.monotonic()
        with self._lock:
            for key, began in list(self._open.items()):
                if now - began >= ARRIVAL_WINDOW:
                    del self._open[key]
            return max((began + ARRIVAL_WINDOW - now for began in self._open.values()), default=0.0)


class Batcher:
    """`BatchScheduler` lanes covering the cores; each generation goes to the least busy."""

    def __init__(
        self,
        model: Any,
        *,
        slots: int,
        n_ctx_seq: int,
        n_threads: int | None,
        is_eog: Callable[[int], bool],
    ) -> None:
        threads = n_threads or default_threads()
        count = max(1, min(multiprocessing.cpu_count() // threads, slots))
        self.lanes: list[BatchScheduler] = []
        self._users = [0] * count
        self._lock = threading.Lock()
        cores = Cores()
        #: Generation requests on their way to the lanes.
        self.arrivals = Arrivals(self._wake_lanes)
        try:
            for _ in range(count):
                lane = BatchScheduler(
                    model,
                    slots=-(-slots // count),
                    n_ctx_seq=n_ctx_seq,
                    n_threads=threads,
                    is_eog=is_eog,
                    arrivals=self.arrivals,
                    wide_threads=threads * count,
                    others_idle=self._others_idle,
                    cores=cores,
                )
                self.lanes.append(lane)
        except BaseException:
            self.close()
            raise

    @property
    def slots(self) -> int:
        return sum(lane.slots for lane in self.lanes)

    def _others_idle(self, lane: BatchScheduler) -> bool:
        """No lane but `lane` has a generation (running, queued or about to be queued)."""
        with self._lock:
            users = list(self._users)
        return all(
            users[i] == 0 and other.active == 0 and other.queued == 0
            for i, other in enumerate(self.lanes)
            if other is not lane
        )

    def _wake_lanes(self) -> None:
        for lane in self.lanes:
            lane.wake()

    @property
    def n_ctx_seq(self) -> int:
        return min(lane.n_ctx_seq for lane in self.lanes)

    @property
    def active(self) -> int:
        """Sequences holding a slot, over every lane."""
        return sum(lane.active for lane in self.lanes)

    @property
    def kv_cells(self) -> int:
        """KV cells in use, over every lane."""
        return sum(lane.kv_cells for lane in self.lanes)

    @contextmanager
    def lane(self) -> Iterator[BatchScheduler]:
        """The lane with the fewest generations, for the duration of one generation."""
        index = self.take_lane()
        try:
            yield self.lanes[index]
        finally:
            self.leave_lane(index)

    def take_lane(self) -> int:
        """The index of the lane with the fewest generations, counting one more there
        (`leave_lane` when the generation is over)."""
        with self._lock:
            index = min(range(len(self.lanes)), key=self._users.__getitem__)
            self._users[index] += 1
            return index

    def leave_lane(self, index: int) -> None:
        with self._lock:
            self._users[index] -= 1

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
