"""Helpers for the generation-helper tests: canned TGI events, a scripted httpx transport
that records whether each streamed body was closed, and a tiny threaded TGI-like server that
notices when a client disconnects mid-stream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

TOKEN = "hf_TestTokenAbcdefghijklmnop0123"


def token_event(
    index: int,
    text: str,
    *,
    special: bool = False,
    final: str | None = None,
    details: bool = False,
    finish_reason: str = "length",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "index": index,
        "token": {"id": 100 + index, "text": text, "logprob": -0.5, "special": special},
        "generated_text": final,
        "details": None,
    }
    if final is not None and details:
        event["details"] = {
            "finish_reason": finish_reason,
            "generated_tokens": index,
            "seed": None,
            "input_length": 3,
        }
    return event


def tgi_events(texts: list[str], *, details: bool = True, eos: bool = True) -> list[dict[str, Any]]:
    """Events of a stream generating ``texts`` (then ``</s>`` when ``eos``)."""
    pieces = [*texts, "</s>"] if eos else list(texts)
    events = []
    for i, text in enumerate(pieces, start=1):
        last = i == len(pieces)
        events.append(
            token_event(
                i,
                text,
                special=eos and last,
                final="".join(texts) if last else None,
                details=details,
                finish_reason="eos_token" if eos else "length",
            )
        )
    return events


def chat_chunks(texts: list[str], *, done: bool = True) -> list[Any]:
    chunks: list[Any] = []
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        chunks.append(
            {
                "object": "chat.completion.chunk",
                "id": "",
                "created": 1,
                "model": "m",
                "system_fingerprint": "3.3.7-native",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": text},
                        "logprobs": None,
                        "finish_reason": "stop" if last else None,
                    }
                ],
                "usage": None,
            }
        )
    if done:
        chunks.append("[DONE]")
    return chunks


def sse(events: Iterable[Any], *, space: bool = True) -> bytes:
    prefix = b"data: " if space else b"data:"
    out = []
    for event in events:
        payload = event.encode() if isinstance(event, str) else json.dumps(event).encode()
        out.append(prefix + payload + b"\n\n")
    return b"".join(out)


def sse_response(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "text/event-stream"}, content=body)


# --------------------------------------------------------------------------- mock transport


class RecordingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body in chunks that remembers whether the client closed it."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.closed:
                return
            self.sent += 1
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.closed:
                return
            self.sent += 1
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class Script:
    """Answers requests in order (the last reply repeats) and records them."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        content = request.read()
        self.bodies.append(json.loads(content) if content else None)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


# --------------------------------------------------------------------------- local server


@dataclass
class ServerLog:
    requests: list[dict[str, Any]] = field(default_factory=list)
    disconnects: int = 0
    events_written: int = 0
    completed: int = 0
    disconnected: threading.Event = field(default_factory=threading.Event)


class SlowTGI:
    """A loopback TGI-like server streaming ``n`` tokens with ``delay`` seconds between them.

    Writes each event as its own HTTP chunk, as TGI does, and counts the streams a client
    abandoned (a write fails once the client closed the socket).
    """

    def __init__(self, n: int = 50, delay: float = 0.02, first_delay: float = 0.0) -> None:
        self.n = n
        self.delay = delay
        self.first_delay = first_delay
        self.log = ServerLog()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = b'{"model_id":"slow"}' if self.path == "/info" else b""
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                server.log.requests.append(request)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                time.sleep(server.first_delay)
                events = tgi_events([f" t{i}" for i in range(server.n)])
                try:
                    for event in events:
                        data = b"data: " + json.dumps(event).encode() + b"\n\n"
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                        server.log.events_written += 1
                        time.sleep(server.delay)
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    server.log.completed += 1
                except (BrokenPipeError, ConnectionResetError):
                    server.log.disconnects += 1
                    server.log.disconnected.set()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SlowTGI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- emulator


def deploy(api: Any, namespace: str, name: str, **props: Any) -> dict[str, Any]:
    """Create a TGI endpoint (the zephyr example of huggingface_hub's Inference Endpoints guide)
    and wait until it runs."""
    import warnings

    from pulumi_hf_endpoints.spec import create_payload, spec_from_properties
    from tests.seed_examples import ZEPHYR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the guide's "protected" type
        spec = spec_from_properties({**ZEPHYR, **props})
    api.create_endpoint(namespace, create_payload(spec, name))
    return wait_for_state(api, namespace, name, "running")


def wait_for_state(
    api: Any, namespace: str, name: str, state: str, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        endpoint: dict[str, Any] = api.get_endpoint(namespace, name)
        if endpoint["status"]["state"] == state:
            return endpoint
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} is {endpoint['status']['state']}, not {state}")
        time.sleep(0.02)
