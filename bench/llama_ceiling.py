"""What llama.cpp does on this machine with no server at all: the ceiling of the serving figures.

The emulator's batching figures are ratios (8 streams vs one, a first token at 8 streams vs a
lone one), and on a CPU the hardware bounds them before any server code runs: one core computes
a step of several sequences only somewhat faster per token than a step of one. So the serving
benchmark measures the same ratios on raw llama.cpp, in the same run, with contexts set up as
the emulator's lanes are (one context per `n_threads` cores, flash attention with one thread,
a KV stream per sequence, rows in consecutive sequence ids) and the benchmark's own prompt:

- decode: greedy-free steps (the same token fed back; the cost is the same) of 1 sequence in
  one lane, 8 over the lanes, 32 over the lanes, all lanes at once; tokens/s over the wall time;
- prompt: the prompt processed alone in one lane, then 8 copies over the lanes, each lane's
  share in one `llama_decode` (the best a server can do when 8 requests arrive at once).
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ceiling:
    """Raw llama.cpp figures: decode tokens/s per total sequences, prompt seconds per prompts."""

    lanes: int
    threads: int
    decode: dict[int, float]
    prompt: dict[int, float]

    def decode_ratio(self, sequences: int) -> float:
        return self.decode[sequences] / self.decode[1]

    def prompt_ratio(self, prompts: int) -> float:
        return self.prompt[prompts] / self.prompt[1]


class _Lane:
    """One llama.cpp context as the emulator's batching lane makes it."""

    def __init__(self, L: Any, model: Any, slots: int, threads: int) -> None:
        self.L = L
        params = L.llama_context_default_params()
        params.n_seq_max = slots
        params.n_ctx = 1024 * slots
        params.n_batch = params.n_ubatch = 512
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
        self.batch = L.llama_batch_init(512, 0, 1)

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
        last = len(tokens) - 1
        self.decode([(s, i, t, i == last) for s in range(count) for i, t in enumerate(tokens)])

    def clear(self) -> None:
        self.L.llama_memory_clear(self.memory, True)

    def close(self) -> None:
        self.L.llama_batch_free(self.batch)
        self.L.llama_free(self.ctx)


def _together(jobs: list[Any]) -> float:
    """Run the jobs in threads started together (llama_decode releases the GIL); wall time."""
    start = threading.Barrier(len(jobs) + 1)
    threads = [threading.Thread(target=lambda j=j: (start.wait(), j())) for j in jobs]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def measure(
    model_path: str,
    prompt: str,
    *,
    threads: int | None = None,
    steps: int = 32,
    rounds: int = 3,
) -> Ceiling:
    import llama_cpp as L

    threads = threads or max(multiprocessing.cpu_count() // 2, 1)
    lane_count = max(multiprocessing.cpu_count() // threads, 1)
    L.llama_backend_init()
    model = L.llama_model_load_from_file(model_path.encode(), L.llama_model_default_params())
    if not model:
        raise RuntimeError(f"llama.cpp could not load {model_path}")
    vocab = L.llama_model_get_vocab(model)
    buffer = (L.llama_token * 256)()
    n = L.llama_tokenize(vocab, prompt.encode(), len(prompt.encode()), buffer, 256, True, True)
    tokens = list(buffer[:n])
    lanes = [_Lane(L, model, 16, threads) for _ in range(lane_count)]
    try:
        decode: dict[int, list[float]] = {}
        prompt_seconds: dict[int, list[float]] = {}
        for _ in range(rounds):
            for total in (1, 8, 32):
                decode.setdefault(total, []).append(_decode(lanes, total, tokens, steps))
            for total in (1, 8):
                prompt_seconds.setdefault(total, []).append(_prompts(lanes, total, tokens))
    finally:
        for lane in lanes:
            lane.close()
        L.llama_model_free(model)
    return Ceiling(
        lanes=lane_count,
        threads=threads,
        decode={k: statistics.median(v) for k, v in decode.items()},
        prompt={k: statistics.median(v) for k, v in prompt_seconds.items()},
    )


def _share(lanes: list[_Lane], total: int) -> tuple[list[_Lane], int]:
    """The lanes `total` sequences go to (as the emulator spreads them), and how many each."""
    used = lanes[: min(total, len(lanes))]
    return used, total // len(used)


def _decode(lanes: list[_Lane], total: int, tokens: list[int], steps: int) -> float:
    """Tokens/s of `steps` decode steps of `total` sequences over the lanes."""
    used, width = _share(lanes, total)
    for lane in used:
        lane.clear()
        lane.prompts(width, tokens)

    def run(lane: _Lane) -> None:
        for step in range(steps):
            pos = len(tokens) + step
            lane.decode([(s, pos, tokens[-1], True) for s in range(width)])

    wall = _together([lambda lane=lane: run(lane) for lane in used])
    return total * steps / wall


def _prompts(lanes: list[_Lane], total: int, tokens: list[int]) -> float:
    """Seconds to process `total` copies of the prompt over the lanes, each lane's in one go."""
    used, width = _share(lanes, total)
    for lane in used:
        lane.clear()
    return _together([lambda lane=lane: lane.prompts(width, tokens) for lane in used])


def report(ceiling: Ceiling) -> None:
    decode, prompt = ceiling.decode, ceiling.prompt
    print(
        f"raw llama.cpp ceiling ({ceiling.lanes} lanes of {ceiling.threads} thread(s), no server):"
        f" decode 1 sequence {decode[1]:.1f} tokens/s, 8 sequences {decode[8]:.1f} tokens/s "
        f"({ceiling.decode_ratio(8):.2f}x), 32 sequences {decode[32]:.1f} tokens/s "
        f"({ceiling.decode_ratio(32):.2f}x); prompt alone {prompt[1] * 1000:.1f} ms, "
        f"8 at once {prompt[8] * 1000:.1f} ms ({ceiling.prompt_ratio(8):.2f}x)"
    )
