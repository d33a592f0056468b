"""An opt-in timeline of the serving path: where a request's first token spends its time.

Off by default (each call is one attribute check). With `HF_EMULATOR_TRACE=<file>` in the
emulator's environment, every event is appended to the file as a JSON line
`{"t": <time.monotonic()>, "event": ..., ...}`: the request reaching the serving layer, its
prompt handed to the batch scheduler, each `llama_decode` of a scheduler lane (its prompt and
decode rows), its first token chosen, reaching the event loop, and written to the socket; and
each garbage collection of a millisecond or more (it stops every thread that needs the GIL).
A request is named by its `x-emulator-trace` header. `time.monotonic()` is the system-wide
monotonic clock on Linux, so a client's own timestamps line up with these.

The serving benchmark (`python -m bench.serving --trace`) reads the file to split each
first token of a burst into its parts.
"""

from __future__ import annotations

import contextvars
import gc
import json
import os
import threading
import time
from typing import Any, TextIO

#: The request header naming a request in the trace.
HEADER = "x-emulator-trace"
ENV = "HF_EMULATOR_TRACE"

#: The traced request the current task serves (set by the serving layer).
current: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)


class _Trace:
    def __init__(self) -> None:
        self.on = False
        self._file: TextIO | None = None
        self._lock = threading.Lock()

    def open(self, path: str | None) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = open(path, "a", buffering=1) if path else None  # noqa: SIM115
            self.on = self._file is not None
        if self.on and self._collected not in gc.callbacks:
            gc.callbacks.append(self._collected)
        elif not self.on and self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)

    _gc_started = 0.0

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
        elif time.monotonic() - self._gc_started >= 0.001:
            fields = {"start": self._gc_started, "generation": info["generation"]}
            self.write("gc", fields)

    def write(self, event: str, fields: dict[str, Any]) -> None:
        line = json.dumps({"t": time.monotonic(), "event": event, **fields})
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")


_TRACE = _Trace()
_TRACE.open(os.environ.get(ENV) or None)


def enabled() -> bool:
    return _TRACE.on


def event(name: str, **fields: Any) -> None:
    """Record `name` now (a no-op unless tracing is on)."""
    if _TRACE.on:
        _TRACE.write(name, fields)


def open_trace(path: str | None) -> None:
    """Start writing events to `path` (None: stop). The environment variable does this at
    import; tests call it directly."""
    _TRACE.open(path)
