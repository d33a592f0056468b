"""The weights llama.cpp serves: a Q4_1 file is requantized once to Q4_0, which batches.

The shipped SmolLM2-135M-Instruct GGUF is Q4_1. ggml's CPU backend has no batched matrix
kernel for Q4_1: it computes each (weight row, token) dot product on its own, so a step of
8 sequences costs about 8 lone steps and continuous batching gained little. Q4_0 has
repacked kernels (the "extra buffer" CPU_REPACK type) that multiply several tokens at
once. Raw llama.cpp on these 2 cores (one context, 2 threads, 16-token prompts then 48
decode steps, quiet machine):

    weights          1 sequence   8 sequences   ratio   prefill 1×16 / 8×16
    Q4_1 (shipped)    144 tok/s     288 tok/s    2.0×     53 / 312 ms
    Q8_0              156 tok/s     322 tok/s    2.1×     24 / 132 ms
    Q4_0              238 tok/s     609 tok/s    2.6×     12 /  73 ms
    F16               112 tok/s     361 tok/s    3.2×     23 / 110 ms

Only weights whose kernels give each output the same bits at any batch width keep a
generation's tokens identical alone and under load (the batching promise): Q4_0, Q4_1 and
Q8_0 do; F16, BF16, Q4_K, Q6_K and IQ4_NL do not (their batched kernels sum in another
order than their one-token kernels). Q8_0 does not batch on one thread (119 tok/s alone
and 119 at 8 sequences). So the choices are "q4_0" (default: a Q4_1 file, the shipped one
or a mapped one, is converted to Q4_0 at first load with `llama_model_quantize`, < 0.5 s,
into `$XDG_CACHE_HOME/pulumi-hf-endpoints/models/`, default `~/.cache/...`, and that file
is served) and "original" (every file as given). Files of other types are served as given
either way: their owner chose them.

The price is fidelity. Q4_0 made from Q4_1 rounds every weight to 4 bits a second time
(Q4_0 has no per-block offset): on 1024 tokens of English text the mean negative
log-likelihood per token goes from 3.854 (Q4_1) to 4.088, and the most likely next token
is Q4_1's at 67% of positions. Greedy answers change; some stay right ("What is the
capital of France?" → "The capital of France is Paris, ...", 2 + 2 = 4), some go wrong
("The capital of France is" → " capitalised as it" instead of " Paris."; a story
opening loops). Use `weights="original"` (`--weights original`) when the text matters
more than throughput under concurrency.

The conversion is written to a temporary file in the cache directory and renamed into
place, so concurrent processes and crashes never leave a partial file under the final
name; the cache file's name holds a digest of the source's path, size and modification
time, the target type and the llama-cpp-python version. If anything fails the source file
is served, with a warning in the log.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import secrets
import struct
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: `weights` choices -> llama.cpp file types (`LLAMA_FTYPE_*`); "original" converts nothing.
WEIGHT_TYPES: dict[str, int] = {"q4_0": 2}
WEIGHT_CHOICES = (*WEIGHT_TYPES, "original")
DEFAULT_WEIGHTS = "q4_0"
#: File types converted: the ones without batched CPU kernels (Q4_1).
CONVERTED_FILE_TYPES = frozenset({3})
#: llama.cpp's names of the file types this module mentions.
FILE_TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 32: "BF16"}
#: Temporary files older than this (s) are a crashed conversion's: removed.
_STALE_PART = 3600.0


@dataclass(frozen=True)
class ServedWeights:
    """What llama.cpp loads for one model file."""

    path: str
    #: llama.cpp file type of `path` (`general.file_type`), None if the file does not say.
    file_type: int | None
    #: The source's file type when `path` is a conversion of it, else None.
    converted_from: int | None = None

    def describe(self) -> Mapping[str, str]:
        described = {"type": file_type_name(self.file_type), "path": self.path}
        if self.converted_from is not None:
            described["converted_from"] = file_type_name(self.converted_from)
        return described


def file_type_name(file_type: int | None) -> str:
    if file_type is None:
        return "unknown"
    return FILE_TYPE_NAMES.get(file_type, f"type {file_type}")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/pulumi-hf-endpoints/models` (XDG default `~/.cache`)."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pulumi-hf-endpoints" / "models"


def gguf_file_type(path: str | Path) -> int | None:
    """`general.file_type` from a GGUF file's header (None if absent or not a GGUF file)."""
    fixed = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    with open(path, "rb") as f:

        def read(fmt: str) -> tuple[int, ...]:
            size = struct.calcsize(fmt)
            data = f.read(size)
            if len(data) != size:
                raise ValueError("truncated GGUF header")
            return struct.unpack(fmt, data)

        def skip(kind: int) -> None:
            if kind in fixed:
                f.seek(fixed[kind], os.SEEK_CUR)
            elif kind == 8:  # string: u64 length + bytes
                f.seek(read("<Q")[0], os.SEEK_CUR)
            elif kind == 9:  # array: u32 element type, u64 count, elements
                element, count = read("<IQ")
                if element in fixed:
                    f.seek(fixed[element] * count, os.SEEK_CUR)
                else:
                    for _ in range(count):
                        skip(element)
            else:
                raise ValueError(f"unknown GGUF value type {kind}")

        if f.read(4) != b"GGUF":
            return None
        version, _tensors, count = read("<IQQ")
        if version < 2:
            return None
        for _ in range(count):
            key = f.read(read("<Q")[0])
            (kind,) = read("<I")
            if key == b"general.file_type" and kind in (4, 5):
                return int(read("<I" if kind == 4 else "<i")[0])
            skip(kind)
    return None


def served_weights(path: str, weights: str, *, cache: Path | None = None) -> ServedWeights:
    """The file to load for model file `path` under the `weights` choice (module docstring).

    Converts (once, cached) when `path` is Q4_1 and `weights` names a type; falls back to
    `path` itself, logging a warning, when the conversion cannot be done."""
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"unknown weights {weights!r}: use one of {', '.join(WEIGHT_CHOICES)}")
    try:
        source_type = gguf_file_type(path)
    except (OSError, ValueError):
        source_type = None  # llama.cpp will say what is wrong with the file
    if weights == "original" or source_type not in CONVERTED_FILE_TYPES:
        return ServedWeights(path, source_type)
    target_type = WEIGHT_TYPES[weights]
    try:
        target = _cache_path(path, weights, cache or cache_dir())
        if not target.is_file():
            _convert(path, target, target_type)
    except Exception as exc:  # no cache directory, disk full, llama.cpp refused...
        log.warning(
            "serving %s as %s: converting it to %s failed (%s)",
            path,
            file_type_name(source_type),
            weights.upper(),
            exc,
        )
        return ServedWeights(path, source_type)
    return ServedWeights(str(target), target_type, converted_from=source_type)


def _cache_path(path: str, weights: str, cache: Path) -> Path:
    import llama_cpp

    source = Path(path).resolve()
    stat = source.stat()
    identity = f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0{weights}\0{llama_cpp.__version__}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    stem = source.name.removesuffix(".gguf")
    for suffix in (".Q4_1", ".q4_1"):
        stem = stem.removesuffix(suffix)
    return cache / f"{stem}.{digest}.{weights.upper()}.gguf"


def _convert(source: str, target: Path, file_type: int) -> None:
    """Requantize `source` into `target` atomically (temporary file, then rename)."""
    import llama_cpp

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(target.parent)
    part = target.parent / f"{target.name}.{secrets.token_hex(8)}.part"
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = file_type
        params.allow_requantize = True
        started = time.monotonic()
        with _quiet_llama():
            code = llama_cpp.llama_model_quantize(
                os.fsencode(source), os.fsencode(part), ctypes.byref(params)
            )
        if code != 0:
            raise RuntimeError(f"llama_model_quantize returned {code}")
        if gguf_file_type(part) != file_type:
            raise RuntimeError("the converted file does not have the requested type")
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    log.info(
        "converted %s to %s in %.2f s: %s",
        source,
        file_type_name(file_type),
        time.monotonic() - started,
        target,
    )


def _remove_stale_parts(directory: Path) -> None:
    now = time.time()
    for part in directory.glob("*.part"):
        with contextlib.suppress(OSError):
            if now - part.stat().st_mtime > _STALE_PART:
                part.unlink()


@contextlib.contextmanager
def _quiet_llama() -> Iterator[None]:
    """llama-cpp-python prints llama.cpp's log below its logger's level: ~300 lines for a
    conversion. Raise the level (as `Llama(verbose=False)` does) for the duration."""
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        logger.setLevel(level)
