"""What llama.cpp does on this machine with no server at all: the ceiling of the serving figures.

The emulator's batching figures are ratios (8 streams vs one, a first token at 8 streams vs a
lone one), and on a CPU the hardware bounds them before any server code runs: one core computes
a step of several sequences only somewhat faster per token than a step of one. So the serving
benchmark runs each of its workloads on raw llama.cpp too, round for round beside the emulator,
with contexts set up as the emulator's lanes are (one context per `n_threads` cores, flash
attention with one thread, a KV stream per sequence, rows in consecutive sequence ids):

- the sequences spread over the lanes as the emulator spreads streams, each lane in a thread
  of its own (`llama_decode` releases the GIL);
- every lane processes its prompts at once (as many whole prompts per `llama_decode` as
  `BATCH` tokens hold), which is the best a server can do when the requests arrive together:
  its first tokens could come out then (`RawRound.prompt_seconds`); with fewer sequences
  than lanes, the idle lanes' cores join the prompts (as the emulator's do);
- then `new_tokens` decode steps of all its sequences (the same token fed back: the cost is
  the same as sampling's), as many tokens as the emulator's streams produce.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Most tokens per `llama_decode` (the emulator's `n_batch`).
BATCH = 512


@dataclass(frozen=True)
class RawRound:
    """One workload round on raw llama.cpp."""

    sequences: int
    tokens: int
    #: From the start until every lane has processed its prompts.
    prompt_seconds: float
    #: From the start until the last token.
    seconds: float
    #: CPU used by this process meanwhile (llama.cpp's threads).
    cpu_seconds: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds


class _Lane:
    """One llama.cpp context as the emulator's batching lane makes it."""

    def __init__(self, L: Any, model: Any, slots: int, n_ctx_seq: int, threads: int) -> None:
        self.L = L
        self.threads = threads
        params = L.llama_context_default_params()
        params.n_seq_max = slots
        params.n_ctx = n_ctx_seq * slots
        params.n_batch = params.n_ubatch = BATCH
        params.n_threads = params.n_threads_batch = threads
        params.flash_attn_type = (
            L.LLAMA_FLASH_ATTN_TYPE_ENABLED if threads == 1 else L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        if hasattr(params, "kv_unified"):
            params.kv_unified = False
        self.ctx = L.llama_init_from_model(model, params)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a context")
        self.memory = L.llama_get_memory(self.ctx)
        self.batch = L.llama_batch_init(BATCH, 0, 1)

    def decode(self, rows: list[tuple[int, int, int, bool]]) -> None:
        """One `llama_decode` of (sequence, position, token, logits) rows."""
        batch = self.batch
        batch.n_tokens = len(rows)
        for i, (seq, pos, token, logits) in enumerate(rows):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = logits
        if self.L.llama_decode(self.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")

    def prompts(self, count: int, tokens: list[int]) -> None:
        """`count` copies of the prompt: as many whole prompts per `llama_decode` as `BATCH`
        tokens hold (the fewest passes: llama.cpp splits a call whose sequences have
        different numbers of tokens into one pass per length), or a longer prompt in
        `BATCH`-token chunks."""
        last = len(tokens) - 1
        if len(tokens) > BATCH:
            for s in range(count):
                for start in range(0, len(tokens), BATCH):
                    chunk = range(start, min(start + BATCH, len(tokens)))
                    self.decode([(s, i, tokens[i], i == last) for i in chunk])
            return
        per_call = BATCH // len(tokens)
        for first in range(0, count, per_call):
            seqs = range(first, min(first + per_call, count))
            self.decode([(s, i, t, i == last) for s in seqs for i, t in enumerate(tokens)])

    @contextmanager
    def prompt_threads(self, threads: int) -> Iterator[None]:
        """`threads` for the `llama_decode`s of more than one token in the block."""
        self.L.llama_set_n_threads(self.ctx, self.threads, threads)
        try:
            yield
        finally:
            self.L.llama_set_n_threads(self.ctx, self.threads, self.threads)

    def generate(self, count: int, tokens: list[int], steps: int) -> None:
        for step in range(steps):
            pos = len(tokens) + step
            self.decode([(s, pos, tokens[-1], True) for s in range(count)])

    def clear(self) -> None:
        self.L.llama_memory_clear(self.memory, True)

    def close(self) -> None:
        self.L.llama_batch_free(self.batch)
        self.L.llama_free(self.ctx)


class RawLlama:
    """The model on bare llama.cpp contexts laid out as the emulator's lanes."""

    def __init__(
        self, model_path: str, *, threads: int | None = None, slots: int = 16, n_ctx_seq: int = 1024
    ) -> None:
        import llama_cpp as L

        self.L = L
        self.threads = threads or max(multiprocessing.cpu_count() // 2, 1)
        lane_count = max(multiprocessing.cpu_count() // self.threads, 1)
        L.llama_backend_init()
        self.model = L.llama_model_load_from_file(
            model_path.encode(), L.llama_model_default_params()
        )
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {model_path}")
        self.lanes: list[_Lane] = []
        try:
            for _ in range(lane_count):
                self.lanes.append(_Lane(L, self.model, slots, n_ctx_seq, self.threads))
        except BaseException:
            self.close()
            raise

    def tokenize(self, text: str) -> list[int]:
        """As the emulator tokenizes a prompt (special tokens added and parsed)."""
        L = self.L
        data = text.encode()
        buffer = (L.llama_token * (len(data) + 8))()
        vocab = L.llama_model_get_vocab(self.model)
        n = L.llama_tokenize(vocab, data, len(data), buffer, len(buffer), True, True)
        if n < 0:
            raise RuntimeError("llama.cpp could not tokenize the prompt")
        return list(buffer[:n])

    def run(self, tokens: list[int], sequences: int, new_tokens: int) -> RawRound:
        """`sequences` generations of `new_tokens` from the prompt `tokens`, over the lanes
        as the emulator spreads them; each lane's prompts at once, then its decode steps."""
        used = self.lanes[: min(sequences, len(self.lanes))]
        width = sequences // len(used)
        prompted: list[float] = []
        for lane in used:
            lane.clear()
        start = threading.Barrier(len(used) + 1)

        # Lanes left idle lend their cores to the prompts, as the emulator's do.
        wide = self.threads * len(self.lanes) // len(used)

        def run(lane: _Lane) -> None:
            start.wait()
            with lane.prompt_threads(wide):
                lane.prompts(width, tokens)
            prompted.append(time.perf_counter())
            lane.generate(width, tokens, new_tokens)

        threads = [threading.Thread(target=run, args=(lane,)) for lane in used]
        for t in threads:
            t.start()
        cpu = time.process_time()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        ended = time.perf_counter()
        return RawRound(
            sequences=width * len(used),
            tokens=width * len(used) * new_tokens,
            prompt_seconds=max(prompted) - began,
            seconds=ended - began,
            cpu_seconds=time.process_time() - cpu,
        )

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
        self.lanes = []
        if self.model:
            self.L.llama_model_free(self.model)
            self.model = None
