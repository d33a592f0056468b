"""What every benchmark shares: figures and their JSON, counting servers, the emulator, endpoints.

A benchmark module exposes `ID`, `TITLE` and `run(quick: bool) -> BenchResult`. A figure is
one row of the table: our value, the reference's value measured in the same run, their ratio
and the goal. Machines are noisy (2 shared cores here), so values are medians over repeated,
interleaved runs and the ratio is the figure that counts.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_VERSION = 1

GoalKind = Literal["max", "min", "info"]
"""`max`: met when the compared value is <= goal; `min`: >= goal; `info`: no goal."""


# --------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One row: `ours` vs `reference` (same unit); the goal applies to `goal_on`."""

    name: str
    unit: str
    ours: float | None
    reference: float | None = None
    ours_label: str = "pulumi-hf-endpoints"
    reference_label: str | None = None
    goal: float | None = None
    goal_kind: GoalKind = "info"
    goal_on: Literal["ours", "ratio"] = "ratio"
    goal_text: str = ""
    ratio: float | None = None
    met: bool | None = None
    note: str = ""

    def __post_init__(self) -> None:
        ours, ref = self.ours, self.reference
        if self.ratio is None and ours is not None and ref is not None and ref > 0 and ours >= 0:
            self.ratio = ours / ref  # not for differences that may be negative
        if self.goal is not None and self.goal_kind != "info":
            value = self.ours if self.goal_on == "ours" else self.ratio
            if value is not None:
                self.met = value <= self.goal if self.goal_kind == "max" else value >= self.goal
        if not self.goal_text and self.goal is not None:
            sign = "≤" if self.goal_kind == "max" else "≥"
            suffix = "×" if self.goal_on == "ratio" else f" {self.unit}"
            self.goal_text = f"{sign} {self.goal:g}{suffix}"


@dataclass
class BenchResult:
    id: str
    title: str
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "benchmark": self.id,
            "title": self.title,
            "quick": self.quick,
            "seconds": round(self.seconds, 2),
            "environment": environment(),
            "params": self.params,
            "figures": [asdict(f) for f in self.figures],
            "samples": self.samples,
            "notes": self.notes,
            "error": self.error,
        }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


_ENV_CACHE: dict[str, Any] = {}


def environment() -> dict[str, Any]:
    """Where the figures come from: commit, machine, load, versions."""
    if not _ENV_CACHE:
        commit = None
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            commit = subprocess.run(  # read-only
                ["git", "rev-parse", "HEAD"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        dirty = None
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            dirty = bool(
                subprocess.run(  # read-only: are the figures from uncommitted code?
                    ["git", "status", "--porcelain", "--untracked-files=no"],
                    cwd=REPO_ROOT,
                    capture_output=True,
                    text=True,
                    timeout=10,
                ).stdout.strip()
            )
        versions: dict[str, str] = {}
        for dist in (
            "pulumi",
            "pulumi-hf-endpoints",
            "huggingface_hub",
            "httpx",
            "pydantic",
            "grpcio",
        ):
            with contextlib.suppress(Exception):
                from importlib.metadata import version

                versions[dist] = version(dist)
        _ENV_CACHE.update(
            {
                "commit": commit or None,
                "dirty": dirty,
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "versions": versions,
            }
        )
    env = dict(_ENV_CACHE)
    with contextlib.suppress(OSError):
        env["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    env["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return env


def write_result(result: BenchResult, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result.id.lower()}.json"
    path.write_text(json.dumps(result.to_json(), indent=2, default=str) + "\n")
    return path


# --------------------------------------------------------------------------- HTTP counting


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[float, str, str]] = []  # (time.time(), method, path)

    def add(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append((time.time(), method, path))

    def snapshot(self) -> list[tuple[float, str, str]]:
        with self.lock:
            return list(self.requests)


class CountingServer:
    """Answers 503 to every request, CONNECT included, and counts them: where a provider that
    must not touch the network is pointed (API URL, Hub URL and HTTP(S) proxy)."""

    def __init__(self) -> None:
        self.recorder = _Recorder()
        recorder = self.recorder

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.add(self.command, self.path)
                self.send_response(503)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_CONNECT = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def count(self) -> int:
        return len(self.recorder.snapshot())

    def env(self) -> dict[str, str]:
        """Every route out of a provider process leads here."""
        return {
            "HF_ENDPOINTS_API_URL": f"{self.url}/v2",
            "HF_ENDPOINTS_CATALOG_URL": f"{self.url}/api/v1/catalog",
            "HF_ENDPOINT": self.url,
            "HF_TOKEN": "hf_bench_offline_not_a_token",
            "HTTP_PROXY": self.url,
            "HTTPS_PROXY": self.url,
            "ALL_PROXY": self.url,
            "http_proxy": self.url,
            "https_proxy": self.url,
            "all_proxy": self.url,
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-encoding",
    "host",
}


class CountingProxy:
    """A reverse proxy to `upstream` that records every request (time, method, path): put it
    in front of the emulator's control plane to count what a client asks while it waits."""

    def __init__(self, upstream: str) -> None:
        import httpx

        self.recorder = _Recorder()
        self.upstream = upstream.rstrip("/")
        client = httpx.Client(timeout=60.0, trust_env=False)
        self._client = client
        recorder, base = self.recorder, self.upstream

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on a delayed ACK (40 ms)

            def _forward(self) -> None:
                recorder.add(self.command, self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                try:
                    response = client.request(
                        self.command, base + self.path, content=body, headers=headers
                    )
                except Exception as exc:  # pragma: no cover - reported to the client
                    self.send_error(502, str(exc))
                    return
                content = response.content
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def requests_to(self, path: str, start: float, end: float) -> list[tuple[float, str, str]]:
        return [r for r in self.recorder.snapshot() if r[2] == path and start <= r[0] <= end]

    def __enter__(self) -> CountingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()


# --------------------------------------------------------------------------- the emulator


@contextlib.contextmanager
def emulator_process(**timings: float) -> Iterator[Any]:
    """The emulator in its own process (synthetic serving, state in a temp file), so its CPU is
    not the benchmark's; `timings` are its lifecycle phases (`pending_seconds=...`)."""
    from hf_endpoints_emulator.testing import run_emulator_process

    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as tmp:
        options: dict[str, Any] = {"backend": "synthetic", **timings}
        with run_emulator_process(Path(tmp) / "state.sqlite3", **options) as emu:
            yield emu


# --------------------------------------------------------------------------- endpoints

#: The endpoint of the design document's example (a TGI custom image with scaling).
ENDPOINT: dict[str, Any] = {
    "repository": "HuggingFaceH4/zephyr-7b-beta",
    "task": "text-generation",
    "framework": "pytorch",
    "accelerator": "gpu",
    "vendor": "aws",
    "region": "us-east-1",
    "instance_type": "nvidia-a10g",
    "instance_size": "x1",
    "type": "protected",
    "min_replica": 0,
    "max_replica": 2,
    "scale_to_zero_timeout": 15,
    "custom_image": {
        "url": "ghcr.io/huggingface/text-generation-inference:1.1.0",
        "health_route": "/health",
        "env": {"MAX_INPUT_LENGTH": "1024", "MODEL_ID": "/repository"},
    },
}

#: A small CPU endpoint (the huggingface_hub guide's), for lifecycle benchmarks.
SMALL_ENDPOINT: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "protected",
    "instance_size": "x2",
    "instance_type": "intel-spr",
}


def declare_endpoints(names: Sequence[str], **props: Any) -> list[Any]:
    """What a program declaring one `InferenceEndpoint` per logical name registers: the
    inputs the engine sends to Check, `__provider` included (`tests.harness.capture_program`)."""
    from pulumi_hf_endpoints import InferenceEndpoint
    from tests.harness import capture_program

    args = {**ENDPOINT, **props}
    # 'protected' is the guide's spelling; the resource would warn once per declaration.
    if args.get("type") == "protected":
        args["type"] = "authenticated"

    def program() -> None:
        for name in names:
            InferenceEndpoint(name, **args)

    return capture_program(program)


def with_provider(props: Mapping[str, Any], provider: Any) -> dict[str, Any]:
    """`props` with another provider's blob: the same property bag served by `provider`."""
    return {**props, "__provider": blob_of(provider)}


def blob_of(provider: Any) -> str:
    """The `__provider` value Pulumi stores for `provider` (base64 of the dill pickle)."""
    from pulumi.dynamic.dynamic import serialize_provider

    blob: str = serialize_provider(provider)
    return blob


def host_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The provider host's environment: ours without any real Hugging Face credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINTS_API_URL", "HF_ENDPOINT")
    }
    env["HF_TOKEN_PATH"] = os.path.join(tempfile.gettempdir(), "bench-no-hf-token", "token")
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env.update(extra or {})
    return env


def fmt(value: float | None, unit: str) -> str:
    """A value for the table, in a readable unit."""
    if value is None or value != value:  # None or NaN
        return "—"
    if unit == "s":
        if abs(value) < 1e-3:
            return f"{value * 1e6:.1f} µs"
        if abs(value) < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.2f} s"
    if unit == "B":
        return f"{value:.0f} B"
    if unit in ("req", "errors"):
        return f"{value:.0f}"
    if unit == "req/s":
        return f"{value:.2f}/s"
    if unit == "tok/s":
        return f"{value:.1f} tok/s"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:.3g} {unit}".strip()


def python_argv() -> list[str]:
    return [sys.executable]
