"""Emulator serving: wraps `bench/serving.py`.

`python -m bench.serving` runs in its own process (it starts the emulator with the real
SmolLM2 model, loads the same GGUF directly with llama-cpp-python and on bare llama.cpp
contexts); the JSON summary it prints last is turned into figures. Each workload's goals are
ratios to raw llama.cpp measured in the same run: one stream over HTTP ≥ 0.9× llama-cpp-python
direct; 8 and 32 streams vs one ≥ 0.95× raw llama.cpp's same ratio; first token p95 at 8
streams ≤ 1.3× the raw floor; 0 errors. Also: CPU per token (emulator + client, against raw
llama.cpp's), and the synthetic source's protocol-only speed. Needs the llama model, so
`--quick` skips it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

from bench.common import REPO_ROOT, BenchResult, Figure

ID = "SERVING"
TITLE = "Emulator serving: HTTP streams vs raw llama.cpp and llama-cpp-python, same run"

#: How the report's goal rows name what they are compared with.
_REFERENCE = {"tok/s": "llama-cpp-python direct", "x": "raw llama.cpp, same run"}


def parse(text: str) -> dict[str, Any]:
    """The JSON summary `bench.serving` prints as its last JSON line."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith('{"serving_report"'):
            data: dict[str, Any] = json.loads(line)
            return data
    raise ValueError("no JSON summary in bench.serving's report")


def figures(data: dict[str, Any]) -> list[Figure]:
    """The summary's goals and figures as table rows."""
    out: list[Figure] = []
    for name, workload in data.get("workloads", {}).items():
        for row in workload["goals"]:
            unit = {"x": "×", "": "errors"}.get(row["unit"], row["unit"])
            ratio = None if row["unit"] == "" else row["ratio"]
            out.append(
                Figure(
                    f"Serving ({name}): {row['figure']}",
                    unit,
                    row["emulator"],
                    None if ratio is None else row["raw"],
                    ours_label="emulator",
                    reference_label=_REFERENCE.get(row["unit"]),
                    goal=row["goal"],
                    goal_kind=row["kind"],
                    goal_on="ratio" if ratio is not None else "ours",
                    ratio=ratio,
                )
            )
        for streams, load in workload["loads"].items():
            out.append(
                Figure(
                    f"Serving ({name}): CPU per token at {streams} stream(s), emulator + client",
                    "s",
                    (load["server_cpu_ms"] + load["client_cpu_ms"]) / 1e3,
                    load["raw_cpu_ms"] / 1e3,
                    ours_label="emulator process + load client",
                    reference_label="raw llama.cpp, same load",
                )
            )
    synthetic = data.get("synthetic")
    if synthetic:
        out.append(
            Figure(
                "Serving: synthetic source, one stream (protocol only)",
                "tok/s",
                synthetic["single_stream_tokens_per_s"],
            )
        )
        out.append(
            Figure(
                f"Serving: {synthetic['streams']} concurrent streams (synthetic), errors",
                "errors",
                float(synthetic["errors"]),
                goal=0,
                goal_kind="max",
                goal_on="ours",
                goal_text="0",
            )
        )
    return out


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
    result.samples = {"stdout": out.stdout[-8000:], "returncode": out.returncode}
    if out.returncode != 0:
        raise RuntimeError(f"bench.serving failed ({out.returncode}):\n{out.stderr[-3000:]}")
    data = parse(out.stdout)
    result.samples["parsed"] = data
    result.params = {"source": "python -m bench.serving (its defaults)", "model": data["model"]}
    for figure in figures(data):
        result.add(figure)
    if not result.figures:
        raise RuntimeError("could not read bench.serving's report:\n" + out.stdout[-2000:])
    return result
