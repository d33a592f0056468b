"""The synthetic token source: a protocol benchmark, not a model.

It exists so that clients and the serving layer can be measured and tested without paying
for a real model: it emits words from a fixed vocabulary as fast as the protocol allows,
deterministically (greedy: a function of the prompt; sampling: of the prompt and `seed`).
It never ends a generation by itself (no EOS), so `max_new_tokens` or a stop sequence
decides the length. Log-probabilities are made up but well-formed. Grammars are refused.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

from .base import Backend, Sampling, Session, Step

EOS_ID = 0
BOS_ID = 1
_BYTE_OFFSET = 2  # ids 2..257 are the 256 byte tokens used to tokenize prompts
_WORD_OFFSET = _BYTE_OFFSET + 256

_TEXT = (
    "the model streams tokens over server sent events while the client reads each line "
    "parses the json payload and prints the text until the final event carries the "
    "generated text and details with a finish reason so every benchmark measures protocol "
    "overhead rather than arithmetic on weights because no real network runs here only a "
    "fixed synthetic vocabulary of plain english words"
)
WORDS: tuple[str, ...] = tuple(f" {w}" for w in _TEXT.split())
_SPECIAL_TEXT = {EOS_ID: b"</s>", BOS_ID: b"<s>"}


class SyntheticBackend(Backend):
    """Byte-level prompt tokenizer plus a seeded word generator (see module docstring)."""

    kind: ClassVar[str] = "synthetic"
    threaded: ClassVar[bool] = False

    def __init__(self, context_length: int = 1 << 20) -> None:
        self._context_length = context_length

    @property
    def model_name(self) -> str:
        return "synthetic token source (protocol benchmark, not a model)"

    @property
    def context_length(self) -> int:
        return self._context_length

    def load(self) -> None:
        """Nothing to load."""

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        return [b + _BYTE_OFFSET for b in text.encode("utf-8")]

    def piece(self, token_id: int) -> bytes:
        if token_id in _SPECIAL_TEXT:
            return _SPECIAL_TEXT[token_id]
        if _BYTE_OFFSET <= token_id < _WORD_OFFSET:
            return bytes([token_id - _BYTE_OFFSET])
        index = token_id - _WORD_OFFSET
        if 0 <= index < len(WORDS):
            return WORDS[index].encode()
        return b""

    def is_special(self, token_id: int) -> bool:
        return token_id in _SPECIAL_TEXT

    def is_eos(self, token_id: int) -> bool:
        return token_id == EOS_ID

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        parts = [
            f"<|im_start|>{m.get('role', '')}\n{m.get('content', '')}<|im_end|>\n" for m in messages
        ]
        return "".join(parts) + "<|im_start|>assistant\n"

    def check_grammar(self, grammar: str) -> str | None:
        return "grammar is not supported"

    def session(self) -> AbstractContextManager[Session]:
        return nullcontext(_SyntheticSession())


class _SyntheticSession:
    def __init__(self) -> None:
        self._prompt_hash = 0

    def prefill(self, input_ids: Sequence[int], logprobs: bool) -> list[float | None]:
        self._prompt_hash = zlib.crc32(bytes(i % 256 for i in input_ids))
        if not logprobs:
            return []
        rng = random.Random(self._prompt_hash)
        return [None] + [-round(rng.uniform(0.5, 6.0), 4) for _ in input_ids[1:]]

    def steps(self, sampling: Sampling, top_n: int) -> Iterator[Step]:
        seed = (
            (sampling.seed << 32) ^ self._prompt_hash if sampling.do_sample else self._prompt_hash
        )
        rng = random.Random(seed)
        n = len(WORDS)
        uniform = -math.log(n)
        while True:
            index = rng.randrange(n)
            logprob = uniform + rng.random()
            top = [(_WORD_OFFSET + (index + k) % n, logprob - 0.5 * k) for k in range(top_n)]
            yield Step(_WORD_OFFSET + index, logprob, top)
