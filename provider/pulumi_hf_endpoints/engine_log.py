"""Messages to the Pulumi engine while an operation runs: a status line beside the resource
(what the CLI shows while `up` waits for an endpoint), or a warning in its diagnostics.

The engine's address is the first argument every provider plugin is started with: the native
plugin and Pulumi's Python host (`python -m pulumi.dynamic <address>`) alike, so both front
ends can send them. A message that cannot be sent is dropped: progress is a courtesy, never a
reason for an operation to fail.
"""

from __future__ import annotations

import logging
import re
import threading

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

log = logging.getLogger("pulumi_hf_endpoints.engine_log")
_ADDRESS = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d+$")


def engine_address(argv: list[str]) -> str | None:
    """The engine's address among a plugin's arguments: the first that is no flag
    (`-v=9`, `--logtostderr`...) and reads `host:port`."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if _ADDRESS.match(arg) else None
    return None


class EngineLog:
    """Sends log messages to the engine at `address` (none: messages are dropped)."""

    def __init__(self, address: str | None) -> None:
        self._address = address
        self._stub: engine_pb2_grpc.EngineStub | None = None
        self._lock = threading.Lock()

    def _engine(self) -> engine_pb2_grpc.EngineStub | None:
        if not self._address:
            return None
        with self._lock:
            if self._stub is None:
                channel = grpc.insecure_channel(self._address)
                self._stub = engine_pb2_grpc.EngineStub(channel)
            return self._stub

    def _send(
        self, severity: engine_pb2.LogSeverity.ValueType, message: str, urn: str, ephemeral: bool
    ) -> None:
        engine = self._engine()
        if engine is None:
            return
        request = engine_pb2.LogRequest(
            severity=severity, message=message, urn=urn, ephemeral=ephemeral
        )
        try:
            engine.Log(request, timeout=5)
        except grpc.RpcError as exc:
            log.debug("could not send a message to the engine: %s", exc)

    def status(self, urn: str, message: str) -> None:
        """A status line beside the resource, replaced by the next one (not kept in the log)."""
        self._send(engine_pb2.INFO, message, urn, ephemeral=True)

    def warning(self, urn: str, message: str) -> None:
        self._send(engine_pb2.WARNING, message, urn, ephemeral=False)
