"""A lean load generator for `/generate_stream`: many simultaneous SSE streams, little CPU.

The serving benchmark runs the emulator, llama.cpp and this client on the same cores, so
every millisecond the client spends parsing is taken from the model. httpx costs about
0.3 ms of CPU per streamed token (its HTTP/1.1 parser and line splitting are Python), as
much as the whole emulator: it would be measured as serving cost that no real deployment
has. This client speaks just enough HTTP/1.1 (keep-alive connections, chunked bodies) and
SSE to check every stream as the benchmark needs: status 200, one `data:` event per token,
no error event, a final event. `python -m bench.serving --client httpx` uses httpx instead,
for comparison.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class StreamResult:
    """One stream as the client saw it (times from `time.monotonic()`, the trace's clock)."""

    started: float
    #: Its name in the serving trace, if traced.
    name: str | None = None
    first: float | None = None
    ended: float | None = None
    events: int = 0
    final: bool = False
    error: str | None = None
    #: The token ids received, in order (to check that streams agree).
    tokens: list[int] = field(default_factory=list)


class _Closed(Exception):
    """The connection was closed before an answer started."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class StreamClient:
    """Keep-alive connections to one emulator endpoint, reused across rounds."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = (parts.path.rstrip("/") or "") + "/generate_stream"
        self.headers = {**headers, "host": f"{self.host}:{self.port}"}
        self._idle: list[_Connection] = []

    async def _connection(self, reuse: bool) -> _Connection:
        if reuse and self._idle:
            return self._idle.pop()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return _Connection(reader, writer)

    async def stream(self, body: dict[str, Any], trace: str | None = None) -> StreamResult:
        """One request; the events are read to the end and checked as they come."""
        payload = json.dumps(body).encode()
        headers = {**self.headers, "content-type": "application/json"}
        if trace is not None:
            headers["x-emulator-trace"] = trace
        head = f"POST {self.path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        request = (head + f"content-length: {len(payload)}\r\n\r\n").encode() + payload
        result = StreamResult(time.monotonic(), trace)
        for reuse in (True, False):
            reused = reuse and bool(self._idle)
            conn = await self._connection(reuse)
            reusable = False
            try:
                conn.writer.write(request)
                reusable = await self._read(conn, result)
            except _Closed:
                if reused:  # the server had closed the idle connection: again on a new one
                    continue
                result.error = "the server closed the connection before answering"
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.error = f"{type(exc).__name__}: {exc}"
            finally:
                if reusable:
                    self._idle.append(conn)
                else:
                    conn.close()
            break
        return result

    async def _read(self, conn: _Connection, result: StreamResult) -> bool:
        """Read one response into `result`; True if the connection can be reused."""
        reader = conn.reader
        status_line = await reader.readline()
        if not status_line:
            raise _Closed()
        status = int(status_line.split(b" ", 2)[1])
        chunked = False
        length = 0
        close = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "content-length":
                length = int(value)
            elif name == "connection" and value == "close":
                close = True
        if not chunked:
            body = await reader.readexactly(length)
            result.error = f"HTTP {status}: {body[:200]!r}"
            return not close
        if status != 200:
            result.error = f"HTTP {status}"
        buffer = b""
        while True:
            size = int((await reader.readline()).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readline()  # the blank line after the last chunk
                break
            buffer += await reader.readexactly(size)
            await reader.readexactly(2)
            while b"\n\n" in buffer:
                raw, buffer = buffer.split(b"\n\n", 1)
                if raw.startswith(b"data:"):
                    self._event(json.loads(raw[5:]), result)
        result.ended = time.monotonic()
        return not close

    @staticmethod
    def _event(event: dict[str, Any], result: StreamResult) -> None:
        if "error" in event:
            result.error = result.error or str(event["error"])
            return
        if result.events == 0:
            result.first = time.monotonic()
        result.events += 1
        result.tokens.append(int(event["token"]["id"]))
        result.final = event.get("generated_text") is not None

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
