"""Emulator serving: wraps `bench/serving.py`.

`python -m bench.serving` runs in its own process (it starts the emulator with the real
SmolLM2 model and loads the same GGUF directly with llama-cpp-python); its report is parsed into
figures: model tokens/s through the HTTP stream vs llama-cpp-python directly (goal ≥ 80%);
continuous batching: aggregate tokens/s of 8 and 32 simultaneous streams vs one stream measured
in the same rounds (goal ≥ 3×), time to first token p95 at 8 streams vs a lone request's median
(goal ≤ 2×), 0 errors at 32 streams; beside them, the same ratios on raw llama.cpp with no
server (the ceiling any server could reach on this machine). If it prints JSON (a line
starting with `{` holding `direct_tokens_per_s`), that is used instead of the text. Needs the
llama model, so `--quick` skips it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from typing import Any

from bench.common import REPO_ROOT, BenchResult, Figure

ID = "SERVING"
TITLE = "Emulator serving: model tokens/s over HTTP vs llama-cpp-python, continuous batching"

_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"


def parse(text: str) -> dict[str, Any]:
    """The figures in `bench.serving`'s report (text or a JSON line)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and "direct_tokens_per_s" in line:
            data: dict[str, Any] = json.loads(line)
            return data
    found: dict[str, Any] = {}
    patterns = {
        "direct_tokens_per_s": rf"llama-cpp-python direct\s*:\s*{_NUMBER} tokens/s",
        "http_tokens_per_s": rf"emulator HTTP stream\s*:\s*{_NUMBER} tokens/s",
        "best_ratio_percent": rf"ratio of best rounds\s*:\s*{_NUMBER}%",
    }
    for key, pattern in patterns.items():
        match = re.search(pattern, text)
        if match:
            found[key] = float(match.group(1))
    cpu = re.search(
        rf"CPU per token: direct {_NUMBER} ms, HTTP \(emulator \+ client\) {_NUMBER} ms", text
    )
    if cpu:
        found["cpu_ms_per_token"] = {"direct": float(cpu.group(1)), "http": float(cpu.group(2))}
    model = re.search(r"^model: (.+?), \d+ greedy tokens", text, re.M)
    if model:
        found["model"] = model.group(1)
    single = re.search(rf"synthetic source \(protocol only\): {_NUMBER} tokens/s", text)
    if single:
        found["synthetic_single_stream_tokens_per_s"] = float(single.group(1))
    concurrency = re.compile(
        rf"^(\w+): (\d+) concurrent streams, (\d+) errors, (\d+) tokens in {_NUMBER} s "
        rf"\({_NUMBER} tokens/s overall\)",
        re.M,
    )
    batching = re.compile(
        rf"^llama streams: (\d+) x (\d+) tokens: aggregate {_NUMBER} tokens/s .*"
        rf"TTFT median {_NUMBER} s, p95 {_NUMBER} s, (\d+) errors",
        re.M,
    )
    for match in batching.finditer(text):
        streams, tokens, rate, ttft_median, ttft_p95, errors = match.groups()
        found.setdefault("llama_streams", {})[streams] = {
            "tokens": int(tokens),
            "tokens_per_s": float(rate),
            "ttft_median": float(ttft_median),
            "ttft_p95": float(ttft_p95),
            "errors": int(errors),
        }
    ceiling = re.search(
        rf"raw llama.cpp ceiling .*: decode 1 sequence {_NUMBER} tokens/s, "
        rf"8 sequences {_NUMBER} tokens/s .*, 32 sequences {_NUMBER} tokens/s .*; "
        rf"prompt alone {_NUMBER} ms, 8 at once {_NUMBER} ms",
        text,
    )
    if ceiling:
        one, eight, thirty_two, alone, together = (float(v) for v in ceiling.groups())
        found["raw_ceiling"] = {
            "decode_tokens_per_s": {"1": one, "8": eight, "32": thirty_two},
            "prompt_ms": {"1": alone, "8": together},
        }
    for match in concurrency.finditer(text):
        label, streams, errors, tokens, seconds, rate = match.groups()
        found[f"{label}_concurrent"] = {
            "streams": int(streams),
            "errors": int(errors),
            "tokens": int(tokens),
            "seconds": float(seconds),
            "tokens_per_s": float(rate),
        }
    return found


def run(quick: bool) -> BenchResult:
    result = BenchResult(ID, TITLE, quick)
    if quick:
        result.notes.append("skipped in --quick (needs the llama model)")
        return result
    if importlib.util.find_spec("bench.serving") is None:
        result.notes.append("bench/serving.py is not there yet")
        return result
    out = subprocess.run(
        [sys.executable, "-m", "bench.serving"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    result.samples = {"stdout": out.stdout[-5000:], "returncode": out.returncode}
    if out.returncode != 0:
        raise RuntimeError(f"bench.serving failed ({out.returncode}):\n{out.stderr[-3000:]}")
    data = parse(out.stdout)
    result.samples["parsed"] = data
    result.params = {"source": "python -m bench.serving (its defaults)"}
    if "model" in data:
        result.params["model"] = data["model"]
    if "direct_tokens_per_s" in data and "http_tokens_per_s" in data:
        result.add(
            Figure(
                "Serving: model tokens/s, HTTP stream vs llama.cpp direct",
                "tok/s",
                data["http_tokens_per_s"],
                data["direct_tokens_per_s"],
                ours_label="emulator HTTP /generate_stream",
                reference_label="llama-cpp-python direct, same file",
                goal=0.8,
                goal_kind="min",
                goal_text="≥ 0.8×",
                note=(
                    f"best rounds: {data['best_ratio_percent']:.1f}%"
                    if "best_ratio_percent" in data
                    else ""
                ),
            )
        )
    if "cpu_ms_per_token" in data:
        cpu = data["cpu_ms_per_token"]
        result.add(
            Figure(
                "Serving: CPU per token, HTTP (emulator + client) vs direct",
                "s",
                cpu["http"] / 1e3,
                cpu["direct"] / 1e3,
                ours_label="emulator HTTP + client",
                reference_label="llama-cpp-python direct",
            )
        )
    if "synthetic_single_stream_tokens_per_s" in data:
        result.add(
            Figure(
                "Serving: synthetic source, one stream (protocol only)",
                "tok/s",
                data["synthetic_single_stream_tokens_per_s"],
            )
        )
    loads = data.get("llama_streams", {})
    one = loads.get("1")
    if one:
        for n in sorted((k for k in loads if k != "1"), key=int):
            result.add(
                Figure(
                    f"Serving: {n} streams at once, aggregate tok/s vs one stream",
                    "tok/s",
                    loads[n]["tokens_per_s"],
                    one["tokens_per_s"],
                    ours_label=f"{n} streams (continuous batching)",
                    reference_label="one stream",
                    goal=3,
                    goal_kind="min",
                    note=f"{loads[n]['errors']} errors",
                )
            )
        if "8" in loads:
            result.add(
                Figure(
                    "Serving: time to first token, p95 at 8 streams vs a lone request",
                    "s",
                    loads["8"]["ttft_p95"],
                    one["ttft_median"],
                    ours_label="p95 of 8 simultaneous streams",
                    reference_label="lone request (median)",
                    goal=2,
                    goal_kind="max",
                )
            )
    raw = data.get("raw_ceiling")
    if raw:
        decode = raw["decode_tokens_per_s"]
        for n in ("8", "32"):
            result.add(
                Figure(
                    f"Raw llama.cpp (no server): {n} sequences vs one, decode tok/s",
                    "tok/s",
                    decode[n],
                    decode["1"],
                    ours_label=f"{n} sequences over the lanes",
                    reference_label="one sequence",
                    note="the ceiling of the streams figure above",
                )
            )
        result.add(
            Figure(
                "Raw llama.cpp (no server): 8 prompts at once vs one, prompt time",
                "s",
                raw["prompt_ms"]["8"] / 1e3,
                raw["prompt_ms"]["1"] / 1e3,
                ours_label="8 prompts over the lanes",
                reference_label="one prompt",
                note="a floor under the first-token ratio above",
            )
        )
    for label in ("llama", "synthetic"):
        conc = data.get(f"{label}_concurrent")
        if conc:
            result.add(
                Figure(
                    f"Serving: {conc['streams']} concurrent streams ({label}), errors",
                    "errors",
                    float(conc["errors"]),
                    goal=0,
                    goal_kind="max",
                    goal_on="ours",
                    goal_text="0",
                )
            )
            result.add(
                Figure(
                    f"Serving: {conc['streams']} concurrent streams ({label}), aggregate",
                    "tok/s",
                    conc["tokens_per_s"],
                )
            )
    if not result.figures:
        raise RuntimeError("could not read bench.serving's report:\n" + out.stdout[-2000:])
    return result
