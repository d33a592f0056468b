"""Where a first token's time goes: the emulator's serving trace read beside the client's times.

The emulator writes its trace (`hf_endpoints_emulator/serving/trace.py`) with the same clock
as the client's `time.monotonic()`, so each traced stream's time to first token splits into:

- `to server`: sending the request until the serving layer has it (the client, the socket,
  the HTTP server);
- `validation`: parameters, tokenizing, the sampler chain, until the prompt is queued;
- `behind steps` / `behind prompts`: waiting while its lane ran decode steps of other
  generations, or other prompts' `llama_decode`s; `waiting, other`: the rest of the wait (the
  decode thread's own Python, the GIL);
- `own prompt`: its prompt's `llama_decode`s (`between chunks`: steps run between the chunks
  of a long prompt);
- `sampling`: its first token chosen and handed over;
- `to event loop`, `to socket`: the loop picking the token up, encoding and writing it;
- `client`: the client reading it.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.sse_load import StreamResult

PARTS = (
    "to server",
    "validation",
    "behind steps",
    "behind prompts",
    "waiting, other",
    "own prompt",
    "between chunks",
    "sampling",
    "to event loop",
    "to socket",
    "client",
)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def first_token_parts(path: Path, streams: list[StreamResult]) -> dict[str, Any]:
    """Each part's median over `streams` (seconds), and the parts of the stream at p95."""
    marks: dict[str, dict[str, Any]] = defaultdict(dict)
    calls: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not path.exists():  # an emulator without the trace
        return {"streams": 0}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "llama_decode":
            calls[event["lane"]].append(event)
        elif "id" in event:
            marks[event["id"]].setdefault(event["event"], event)
    split: list[tuple[float, dict[str, float]]] = []
    for s in streams:
        m = marks.get(s.name or "")
        if s.first is None or not m or not {"request", "submit", "posted", "sent"} <= set(m):
            continue
        lane = calls[m["submit"]["lane"]]
        own = [c for c in lane if s.name in c["ids"] and c["kind"] == "prompt"]
        if not own:
            continue
        submitted, began, done = m["submit"]["t"], own[0]["start"], own[-1]["t"]
        behind = {"step": 0.0, "prompt": 0.0}
        for c in lane:
            if c not in own:
                behind[c["kind"]] += _overlap(c["start"], c["t"], submitted, began)
        own_time = sum(c["t"] - c["start"] for c in own)
        delivered = m.get("delivered", m["posted"])["t"]
        parts = {
            "to server": m["request"]["t"] - s.started,
            "validation": submitted - m["request"]["t"],
            "behind steps": behind["step"],
            "behind prompts": behind["prompt"],
            "waiting, other": began - submitted - behind["step"] - behind["prompt"],
            "own prompt": own_time,
            "between chunks": done - began - own_time,
            "sampling": m["posted"]["t"] - done,
            "to event loop": delivered - m["posted"]["t"],
            "to socket": m["sent"]["t"] - delivered,
            "client": s.first - m["sent"]["t"],
        }
        split.append((s.first - s.started, parts))
    if not split:
        return {"streams": 0}
    split.sort(key=lambda item: item[0])
    total_p95, parts_p95 = split[round(0.95 * (len(split) - 1))]
    return {
        "streams": len(split),
        "median": {k: statistics.median(p[k] for _, p in split) for k in PARTS},
        "median_total": statistics.median(t for t, _ in split),
        "p95": parts_p95,
        "p95_total": total_p95,
    }


def report_parts(workload: str, parts: dict[str, Any]) -> None:
    if not parts.get("streams"):
        print(f"{workload}: no traced first tokens at 8 streams")
        return
    print(f"{workload}: first token at 8 streams, traced ({parts['streams']} streams), ms:")
    print("| part | median | the p95 stream |")
    print("|---|---|---|")
    for key in PARTS:
        print(f"| {key} | {parts['median'][key] * 1000:.1f} | {parts['p95'][key] * 1000:.1f} |")
    print(
        f"| total (time to first token) | {parts['median_total'] * 1000:.1f} "
        f"| {parts['p95_total'] * 1000:.1f} |"
    )
