"""P4 streaming: wraps `bench/streaming.py` (owned by the helpers' engineer; not edited here).

Its `measure()` runs in a fresh interpreter (so its per-event CPU figures, taken with
`process_time`, count nothing of this process) and prints JSON, from which the figures are
made: per-event client CPU of our `EndpointClient.text_generation(stream=True, details=True)`
vs huggingface_hub's `InferenceClient` (goal ≤ 1/3), and the time-to-first-token overhead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.common import REPO_ROOT, BenchResult, Figure

ID = "P4"
TITLE = "Streaming: client cost per event and TTFT, ours vs huggingface_hub"

_ADAPTER = """
import inspect, json, sys
from bench import streaming as s
wanted = json.loads(sys.argv[1])
params = inspect.signature(s.measure).parameters
kwargs = {k: v for k, v in wanted.items() if k in params}
if "emulator" in params and "emulator" not in kwargs:
    kwargs["emulator"] = False
results = s.measure(**kwargs)
names = [name for name, _ in getattr(s, "CLIENTS", [])]
sys.stdout.write("\\n@@JSON@@" + json.dumps({"clients": results, "order": names, "kwargs": kwargs}))
"""


def _pick(clients: dict[str, Any], *needles: str) -> tuple[str, dict[str, float]] | None:
    for name, values in clients.items():
        if all(n.lower() in name.lower() for n in needles):
            return name, values
    return None


def measure(quick: bool) -> dict[str, Any]:
    wanted = (
        {"events": 300, "repeats": 3, "ttft_repeats": 30}
        if quick
        else {"events": 2000, "repeats": 15, "ttft_repeats": 300}
    )
    out = subprocess.run(
        [sys.executable, "-c", _ADAPTER, json.dumps(wanted)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0 or "@@JSON@@" not in out.stdout:
        raise RuntimeError(f"bench.streaming failed ({out.returncode}):\n{out.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(out.stdout.split("@@JSON@@", 1)[1])
    return data


def run(quick: bool) -> BenchResult:
    result = BenchResult(ID, TITLE, quick)
    data = measure(quick)
    clients: dict[str, dict[str, float]] = data["clients"]
    result.params = {"source": "bench/streaming.py measure()", **data["kwargs"]}
    result.samples = data
    ours = _pick(clients, "EndpointClient")
    hub = _pick(clients, "InferenceClient")
    bare = _pick(clients, "iter_lines", "no parse")
    floor = _pick(clients, "raw")
    if ours is None or hub is None:
        raise RuntimeError(f"bench.streaming reported no ours/hub clients: {list(clients)}")
    o, h = ours[1], hub[1]
    result.add(
        Figure(
            "P4 client CPU per stream event",
            "s",
            o["cpu"],
            h["cpu"],
            reference_label=hub[0],
            goal=1 / 3,
            goal_kind="max",
            goal_text="≤ 0.33×",
        )
    )
    if floor is not None:
        f = floor[1]["cpu"]
        result.add(
            Figure(
                "P4 CPU per event above the transport floor",
                "s",
                o["cpu"] - f,
                h["cpu"] - f,
                reference_label=hub[0],
                note=f"floor: {floor[0]} {f * 1e6:.2f} µs/event",
            )
        )
    if bare is not None:
        result.add(
            Figure(
                "P4 client CPU per event vs bare httpx lines",
                "s",
                o["cpu"],
                bare[1]["cpu"],
                reference_label=bare[0],
            )
        )
    result.add(
        Figure(
            "P4 time to first token (one-token stream)",
            "s",
            o["ttft"],
            h["ttft"],
            reference_label=hub[0],
        )
    )
    if bare is not None:
        b = bare[1]["ttft"]
        result.add(
            Figure(
                "P4 TTFT overhead over bare httpx",
                "s",
                o["ttft"] - b,
                h["ttft"] - b,
                reference_label=hub[0],
            )
        )
    return result
