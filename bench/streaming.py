"""Per-event client cost of streaming: our EndpointClient vs huggingface_hub vs bare httpx.

    python -m bench.streaming [--events 2000] [--repeats 15] [--ttft-repeats 300]

A minimal loopback server, in its own process, answers every ``POST /`` with the same
pre-encoded TGI stream (``data: {json}\\n\\n`` per token, one HTTP chunk per event, the final
event with ``generated_text`` and ``details``), so the server costs the same for every client
and none of it is counted: the figures are the client process's CPU time (``process_time``)
divided by the number of events. Clients run interleaved, one round per repeat, and the table
shows medians.

Time to first token: a one-event stream; the median wall time from the call to the first
item, and its excess over bare httpx (which sends the same request and reads one line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import httpx

PROMPT = "What can you do in Nuremberg, Germany? Give me 3 Tips"
WORDS = [" the", " model", " streams", " tokens", " over", " server", " sent", " events"]


# --------------------------------------------------------------------------- the server


def _stream_body(n: int) -> bytes:
    """TGI's exact bytes for a stream of ``n`` tokens (axum 0.7 framing)."""
    chunks = []
    text = []
    for i in range(1, n + 1):
        word = WORDS[i % len(WORDS)]
        text.append(word)
        last = i == n
        event = {
            "index": i,
            "token": {"id": 1000 + i % 50, "text": word, "logprob": -1.1044922, "special": False},
            "generated_text": "".join(text) if last else None,
            "details": {
                "finish_reason": "length",
                "generated_tokens": n,
                "seed": None,
                "input_length": 14,
            }
            if last
            else None,
        }
        data = b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
        chunks.append(b"%x\r\n%s\r\n" % (len(data), data))
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"x-accel-buffering: no\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + b"".join(chunks) + b"0\r\n\r\n"


async def _serve(port_file: str) -> None:
    cache: dict[int, bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = json.loads(await reader.readexactly(length)) if length else {}
                n = int(body.get("parameters", {}).get("max_new_tokens") or 1)
                if n not in cache:
                    cache[n] = _stream_body(n)
                writer.write(cache[n])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(port_file + ".tmp", port_file)
    async with server:
        await server.serve_forever()


class Server:
    """The server as a child process (its CPU time is not ours)."""

    token = "hf_bench_not_a_real_token"

    def __enter__(self) -> Server:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        port_file = os.path.join(self._dir.name, "port")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.streaming", "--serve", port_file],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.url = f"http://127.0.0.1:{f.read()}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._dir.cleanup()


class EmulatorServer:
    """The emulator (synthetic token source) as a child process, with one endpoint."""

    def __enter__(self) -> EmulatorServer:
        import tempfile
        import warnings
        from contextlib import ExitStack

        from hf_endpoints_emulator.testing import run_emulator_process
        from pulumi_hf_endpoints.client.api import EndpointsApi
        from pulumi_hf_endpoints.spec import create_payload, spec_from_properties

        self._stack = ExitStack()
        state = self._stack.enter_context(tempfile.TemporaryDirectory())
        proc = self._stack.enter_context(
            run_emulator_process(
                os.path.join(state, "state.sqlite3"),
                backend="synthetic",
                pending_seconds=0.05,
                initializing_seconds=0.05,
            )
        )
        self.token = proc.token
        props = {
            "repository": "HuggingFaceH4/zephyr-7b-beta",
            "framework": "pytorch",
            "task": "text-generation",
            "accelerator": "gpu",
            "vendor": "aws",
            "region": "us-east-1",
            "type": "authenticated",
            "instanceSize": "x1",
            "instanceType": "nvidia-a10g",
            "customImage": {"url": "ghcr.io/huggingface/text-generation-inference:3.3.7"},
        }
        with EndpointsApi(proc.token, api_url=proc.api_url) as api, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api.create_endpoint(proc.user, create_payload(spec_from_properties(props), "bench"))
            deadline = time.monotonic() + 60
            while (endpoint := api.get_endpoint(proc.user, "bench"))["status"]["state"] != (
                "running"
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator's endpoint did not start")
                time.sleep(0.05)
        self.url = endpoint["status"]["url"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


# --------------------------------------------------------------------------- the clients

Run = Callable[[int], int]  # max_new_tokens -> events seen


def httpx_raw(url: str, token: str) -> tuple[Run, Callable[[], None]]:
    """The transport floor: httpx/h11 hand over each HTTP chunk (one per event)."""
    client = httpx.Client(
        timeout=httpx.Timeout(None, connect=10), headers={"authorization": f"Bearer {token}"}
    )

    def run(n: int) -> int:
        body = {"inputs": PROMPT, "parameters": {"max_new_tokens": n}, "stream": True}
        seen = 0
        with client.stream("POST", url, json=body) as response:
            for _ in response.iter_raw():
                seen += 1
        return n  # counts HTTP chunks, which need not be events

    return run, client.close


def bare_httpx_lines(url: str, token: str) -> tuple[Run, Callable[[], None]]:
    client = httpx.Client(
        timeout=httpx.Timeout(None, connect=10), headers={"authorization": f"Bearer {token}"}
    )

    def run(n: int) -> int:
        body = {"inputs": PROMPT, "parameters": {"max_new_tokens": n}, "stream": True}
        seen = 0
        with client.stream("POST", url, json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    seen += 1
        return seen

    return run, client.close


def httpx_lines_json(url: str, token: str) -> tuple[Run, Callable[[], None]]:
    client = httpx.Client(
        timeout=httpx.Timeout(None, connect=10), headers={"authorization": f"Bearer {token}"}
    )
    loads = json.loads

    def run(n: int) -> int:
        body = {"inputs": PROMPT, "parameters": {"max_new_tokens": n}, "stream": True}
        seen = 0
        with client.stream("POST", url, json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    loads(line[5:])
                    seen += 1
        return seen

    return run, client.close


def ours(url: str, token: str) -> tuple[Run, Callable[[], None]]:
    from pulumi_hf_endpoints.inference import EndpointClient

    client = EndpointClient(url, token=token)

    def run(n: int) -> int:
        seen = 0
        for r in client.text_generation(PROMPT, stream=True, details=True, max_new_tokens=n):
            if r.token.special:
                continue
            seen += 1
        return seen

    return run, client.close


def hub(url: str, token: str) -> tuple[Run, Callable[[], None]]:
    from huggingface_hub import InferenceClient

    client = InferenceClient(url, token=token)

    def run(n: int) -> int:
        seen = 0
        for r in client.text_generation(PROMPT, stream=True, details=True, max_new_tokens=n):
            if r.token.special:
                continue
            seen += 1
        return seen

    return run, client.close


CLIENTS: list[tuple[str, Callable[[str, str], tuple[Run, Callable[[], None]]]]] = [
    ("httpx iter_raw (transport floor)", httpx_raw),
    ("httpx iter_lines (no parse)", bare_httpx_lines),
    ("httpx iter_lines + json.loads", httpx_lines_json),
    ("pulumi_hf_endpoints EndpointClient", ours),
    ("huggingface_hub InferenceClient", hub),
]


# --------------------------------------------------------------------------- measuring


def first_token_seconds(runs: list[Run], repeats: int) -> list[float]:
    """Median seconds from the call to the end of a one-token stream, per client; clients
    take turns so that load on the machine affects them alike."""
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, bucket in zip(runs, samples, strict=True):
            start = time.perf_counter()
            run(1)
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in samples]


def measure(
    events: int, repeats: int, ttft_repeats: int, emulator: bool
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, list[float]]] = {
        name: {"cpu": [], "wall": []} for name, _ in CLIENTS
    }
    with EmulatorServer() if emulator else Server() as server:
        runners = [(name, *factory(server.url, server.token)) for name, factory in CLIENTS]
        try:
            for _, run, _close in runners:  # warm up: connections, imports, caches
                if run(events) != events:
                    raise RuntimeError("a client saw the wrong number of events")
            for _ in range(repeats):
                for name, run, _close in runners:
                    cpu, wall = time.process_time(), time.perf_counter()
                    run(events)
                    results[name]["cpu"].append((time.process_time() - cpu) / events)
                    results[name]["wall"].append((time.perf_counter() - wall) / events)
            medians = first_token_seconds([run for _, run, _ in runners], ttft_repeats)
            ttft = {name: median for (name, _, _), median in zip(runners, medians, strict=True)}
        finally:
            for _, _run, close in runners:
                close()
    return {
        name: {
            "cpu": statistics.median(values["cpu"]),
            "wall": statistics.median(values["wall"]),
            "ttft": ttft[name],
        }
        for name, values in results.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streaming", description=__doc__)
    parser.add_argument("--events", type=int, default=2000, help="events per stream")
    parser.add_argument("--repeats", type=int, default=15, help="streams per client")
    parser.add_argument("--ttft-repeats", type=int, default=300, help="one-token streams")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="serve the stream from the emulator's synthetic backend instead (its server "
        "cost is higher, but still identical for every client)",
    )
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve))
        return 0
    import huggingface_hub

    from pulumi_hf_endpoints import __version__

    if args.emulator:
        args.events = min(args.events, 1900)  # prompt + new tokens <= 2048 on the emulator
    results = measure(args.events, args.repeats, args.ttft_repeats, args.emulator)
    floor = results[CLIENTS[0][0]]["cpu"]
    base_ttft = results[CLIENTS[1][0]]["ttft"]
    hub_cpu = results["huggingface_hub InferenceClient"]["cpu"]
    ours_cpu = results["pulumi_hf_endpoints EndpointClient"]["cpu"]
    print(
        f"\nStreaming client cost per event: {args.events} events x {args.repeats} streams per "
        f"client, {'the emulator' if args.emulator else 'a minimal loopback server'} in another "
        f"process (Python {sys.version.split()[0]}, "
        f"httpx {httpx.__version__}, huggingface_hub {huggingface_hub.__version__}, "
        f"pulumi-hf-endpoints {__version__})\n"
    )
    header = (
        f"{'client':<38}{'CPU/event':>11}{'over floor':>12}{'wall/event':>12}{'vs hub':>8}"
        f"{'TTFT':>10}{'TTFT excess':>13}"
    )
    print(header)
    print("-" * len(header))
    for name, _ in CLIENTS:
        r = results[name]
        print(
            f"{name:<38}{r['cpu'] * 1e6:>9.2f}us{(r['cpu'] - floor) * 1e6:>10.2f}us"
            f"{r['wall'] * 1e6:>10.2f}us"
            f"{r['cpu'] / hub_cpu:>8.2f}{r['ttft'] * 1e3:>8.3f}ms"
            f"{(r['ttft'] - base_ttft) * 1e6:>11.0f}us"
        )
    print(
        f"\nEndpointClient / InferenceClient per-event CPU: {ours_cpu / hub_cpu:.2f} "
        f"(goal <= 0.33); above the transport floor: "
        f"{(ours_cpu - floor) / (hub_cpu - floor):.2f}.\n"
        "TTFT: median of one-token streams; excess over bare httpx iter_lines."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
