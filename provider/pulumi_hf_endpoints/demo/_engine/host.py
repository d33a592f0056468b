"""Run Pulumi's dynamic-provider host (`python -m pulumi.dynamic`) and call it like the engine.

The engine starts one host process per stack, reads the port it prints, calls `Configure` once and
then sends Check/Diff/Create/Read/Update/Delete requests. `ProviderHost` does the same, with the
property bags of `wire`, so providers see exactly what they get under `pulumi up`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import grpc
from google.protobuf import empty_pb2, json_format, message
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .wire import from_struct, run_coroutine, to_struct

_REDACTED = "[secret]"


class ProviderError(Exception):
    """A failed RPC. `message` is the exception text that ends the host's traceback; `urn` is the
    resource's ("" for Configure and other calls about no resource)."""

    def __init__(
        self, method: str, code: grpc.StatusCode | None, details: str, urn: str = ""
    ) -> None:
        self.method = method
        self.code = code
        self.details = details
        self.urn = urn
        self.message = exception_text(details)
        super().__init__(self.message)


class HostStartError(RuntimeError):
    """The host process exited or stayed silent before printing its port."""


class CheckFailure(NamedTuple):
    property: str
    reason: str


class CheckResult(NamedTuple):
    inputs: dict[str, Any]
    failures: list[CheckFailure]


class DiffResult(NamedTuple):
    """`changes` is True (DIFF_SOME), False (DIFF_NONE) or None (DIFF_UNKNOWN)."""

    changes: bool | None
    replaces: list[str]
    delete_before_replace: bool


class CreateResult(NamedTuple):
    id: str
    outputs: dict[str, Any]


class ReadResult(NamedTuple):
    """`id` is "" when the resource is gone; `inputs` is None unless the provider returned some."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


class TranscriptEntry(NamedTuple):
    """One RPC: the request and the response as JSON-like dicts, or the error details."""

    method: str
    request: dict[str, Any]
    response: dict[str, Any] | str


GRPC_WRAPPER = "Exception calling application: "
"""How gRPC words the details of an exception a servicer raised: what hosts before pulumi 3.260
send, where later ones send the traceback."""


def exception_text(details: str) -> str:
    """The exception line(s) after the last indented traceback line; the exception's own text
    from gRPC's wrapper (no traceback, no type); all of `details` otherwise."""
    if details.startswith(GRPC_WRAPPER):
        return details.removeprefix(GRPC_WRAPPER).strip()
    lines = details.rstrip().splitlines()
    last_indented = max((i for i, line in enumerate(lines) if line[:1].isspace()), default=-1)
    tail = [line for line in lines[last_indented + 1 :] if line.strip()]
    return "\n".join(tail) if tail else details.strip()


def _config_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def urn_name_type(urn: str) -> tuple[str, str]:
    """The resource's name and type in an engine URN ("", "" if `urn` is not one)."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", ""
    return parts[-1], parts[-2].split("$")[-1]


def _message_dict(msg: message.Message) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    return result


def _kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)  # the host runs in its own session: pgid == pid
        elif process.poll() is None:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _reap(process: subprocess.Popen[bytes], grace: float) -> None:
    """Stop the host and anything it started; SIGTERM first, SIGKILL after `grace` seconds."""
    if process.poll() is None:
        _kill_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    _kill_group(process, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def _abandon(process: subprocess.Popen[bytes], log_dir: Path | None) -> None:
    _reap(process, 0.0)
    if log_dir is not None:
        shutil.rmtree(log_dir, ignore_errors=True)


class ProviderHost:
    """A running `python -m pulumi.dynamic` plus a gRPC client that speaks to it like the engine.

    Use as a context manager. `env` is added to the current environment (the engine passes its own
    environment on) unless `inherit_env=False`; `pythonpath` is prepended to PYTHONPATH. The host
    runs in `cwd` (default: this process's). Every RPC has a deadline of `rpc_timeout` seconds
    (None: none; a per-call `timeout=` overrides it). The host writes `host.stdout` and
    `host.stderr` (appended to) in `log_dir`; without one, in a temporary directory removed on
    `close()` after its contents are kept for `stdout_text()`/`stderr_text()`. `command` starts
    another provider plugin instead, which prints its port the same way (the native provider:
    `python -m pulumi_hf_endpoints.native`).
    """

    def __init__(
        self,
        *,
        project: str = "project",
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        pythonpath: Iterable[str | os.PathLike[str]] = (),
        inherit_env: bool = True,
        python: str = sys.executable,
        rpc_timeout: float | None = 60.0,
        start_timeout: float = 30.0,
        log_dir: str | os.PathLike[str] | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self.project = project
        self._command = list(command) if command is not None else None
        self.rpc_timeout = rpc_timeout
        self.start_timeout = start_timeout
        self.transcript: list[TranscriptEntry] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._python = python
        self._cwd = os.fspath(cwd) if cwd is not None else None
        self._env = self._build_env(env, pythonpath, inherit_env)
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self._own_log_dir = log_dir is None
        self._stdout_path: Path | None = None
        self._stderr_path: Path | None = None
        self._captured: dict[str, str] = {}
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def _build_env(
        self,
        env: Mapping[str, str] | None,
        pythonpath: Iterable[str | os.PathLike[str]],
        inherit_env: bool,
    ) -> dict[str, str]:
        merged = dict(os.environ) if inherit_env else {}
        merged.update(env or {})
        merged["PULUMI_PROJECT"] = self.project
        paths = [os.fspath(p) for p in pythonpath]
        if merged.get("PYTHONPATH"):
            paths.append(merged["PYTHONPATH"])
        if paths:
            merged["PYTHONPATH"] = os.pathsep.join(paths)
        return merged

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> ProviderHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> ProviderHost:
        """Start the host process, wait for its port and connect."""
        if self.process is not None:
            raise RuntimeError("host already started")
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="pulumi-dynamic-host-"))
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._stdout_path = self._log_dir / "host.stdout"
        self._stderr_path = self._log_dir / "host.stderr"
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                self._command or [self._python, "-u", "-m", "pulumi.dynamic"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
            )
        # A host that is garbage-collected (or still running at exit) is killed, logs removed.
        own_dir = self._log_dir if self._own_log_dir else None
        self._finalizer = weakref.finalize(self, _abandon, self.process, own_dir)
        try:
            self.port = self._wait_for_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
            self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        except BaseException:
            self.close()
            raise
        return self

    def _wait_for_port(self) -> int:
        assert self.process is not None and self._stdout_path is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            first, newline, _ = self._stdout_path.read_bytes().partition(b"\n")
            if newline:
                try:
                    return int(first)
                except ValueError:
                    raise HostStartError(f"host printed {first!r} instead of a port") from None
            if self.process.poll() is not None:
                raise HostStartError(
                    f"host exited with {self.process.returncode}:\n{self.stderr_text()}"
                )
            if time.monotonic() > deadline:
                raise HostStartError(f"host printed no port in {self.start_timeout}s")
            time.sleep(0.02)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """Kill the host at once (SIGKILL), as when the CLI dies."""
        self._shutdown(grace=0.0)

    def close(self, grace: float = 5.0) -> None:
        """Disconnect, stop the host (SIGTERM, then SIGKILL after `grace` s), keep its output."""
        self._shutdown(grace=grace)

    def _shutdown(self, grace: float) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self.process is not None:
            _reap(self.process, grace)
            if self._finalizer is not None:
                self._finalizer.detach()
        if self._own_log_dir and self._log_dir is not None and self._log_dir.exists():
            self._captured = {"stdout": self.stdout_text(), "stderr": self.stderr_text()}
            shutil.rmtree(self._log_dir, ignore_errors=True)

    # -- captured output ---------------------------------------------------------------------

    def _read_log(self, name: str, path: Path | None) -> str:
        if path is not None and path.exists():
            return path.read_bytes().decode("utf-8", "replace")
        return self._captured.get(name, "")

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far (still available after `close()`)."""
        return self._read_log("stderr", self._stderr_path)

    def stdout_text(self) -> str:
        """The host's stdout: the port line, then whatever provider code printed."""
        return self._read_log("stdout", self._stdout_path)

    def transcript_text(self) -> str:
        """The transcript as one JSON string, for leak scans (secret config values redacted)."""
        return json.dumps([entry._asdict() for entry in self.transcript], default=str)

    # -- raw calls ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        request: message.Message,
        *,
        timeout: float | None = None,
        record: dict[str, Any] | None = None,
    ) -> Any:
        """Send one RPC, record it and map gRPC errors to `ProviderError`."""
        if self._stub is None:
            raise RuntimeError("host is not running")
        recorded = record if record is not None else _message_dict(request)
        urn: str = getattr(request, "urn", "")
        try:
            response = getattr(self._stub, method)(
                request, timeout=self.rpc_timeout if timeout is None else timeout
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
            self._record(TranscriptEntry(method, recorded, details))
            raise ProviderError(method, code, details, urn) from None
        self._record(TranscriptEntry(method, recorded, _message_dict(response)))
        return response

    def _record(self, entry: TranscriptEntry) -> None:
        with self._lock:
            self.transcript.append(entry)

    # -- engine-shaped RPCs ------------------------------------------------------------------

    def get_plugin_info(self) -> str:
        version: str = self.call("GetPluginInfo", empty_pb2.Empty()).version
        return version

    def configure(
        self,
        config: Mapping[str, Any],
        *,
        secret_keys: Iterable[str] = (),
        timeout: float | None = None,
    ) -> bool:
        """Send the stack config (namespaced keys such as "huggingface:token") like the engine.

        Every value goes out as a string, structured ones as JSON: the engine reads stack config
        as text (target.go GetPackageConfig; config/value.go). Values under `secret_keys`, or
        already wrapped with `rpc.wrap_rpc_secret`, go out as secrets, which the host unwraps;
        the transcript shows them as "[secret]". The deprecated `variables` field carries the
        same values under `pulumi-python:config:<key>`, as PP Configure fills it.
        Returns the host's `acceptSecrets`.
        """
        secret = set(secret_keys)
        plain = {k: _config_text(rpc.unwrap_rpc_secret(v)) for k, v in config.items()}
        args = {
            k: rpc.wrap_rpc_secret(v) if k in secret or rpc.is_rpc_secret(config[k]) else v
            for k, v in plain.items()
        }
        variables = {f"pulumi-python:config:{k}": v for k, v in plain.items()}
        struct = run_coroutine(lambda: rpc.serialize_properties(args, {}))
        request = provider_pb2.ConfigureRequest(
            variables=variables,
            args=struct,
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
            type="pulumi:providers:pulumi-python",
            name="default",
        )
        hidden = {k for k, v in args.items() if rpc.is_rpc_secret(v)}
        record = {
            "args": {k: _REDACTED if k in hidden else v for k, v in plain.items()},
            "acceptSecrets": True,
        }
        response = self.call("Configure", request, timeout=timeout, record=record)
        accept: bool = response.acceptSecrets
        return accept

    def check(
        self,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        random_seed: bytes | None = None,
        timeout: float | None = None,
    ) -> CheckResult:
        """Check(olds = previous inputs, news = program inputs)."""
        name, type_ = urn_name_type(urn)
        request = provider_pb2.CheckRequest(
            urn=urn,
            olds=to_struct(olds),
            news=to_struct(news),
            randomSeed=random_seed if random_seed is not None else os.urandom(32),
            name=name,
            type=type_,
        )
        response = self.call("Check", request, timeout=timeout)
        failures = [CheckFailure(f.property, f.reason) for f in response.failures]
        return CheckResult(from_struct(response.inputs), failures)

    def diff(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Iterable[str] = (),
        timeout: float | None = None,
    ) -> DiffResult:
        """Diff(olds = previous outputs, news = checked inputs)."""
        name, type_ = urn_name_type(urn)
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs) if old_inputs is not None else None,
            ignoreChanges=list(ignore_changes),
            name=name,
            type=type_,
        )
        response = self.call("Diff", request, timeout=timeout)
        changes = {
            provider_pb2.DiffResponse.DIFF_SOME: True,
            provider_pb2.DiffResponse.DIFF_NONE: False,
        }.get(response.changes)
        return DiffResult(changes, list(response.replaces), response.deleteBeforeReplace)

    def create(
        self, urn: str, props: Mapping[str, Any], *, timeout: float | None = None
    ) -> CreateResult:
        """Create(checked inputs) -> (id, outputs)."""
        name, type_ = urn_name_type(urn)
        request = provider_pb2.CreateRequest(
            urn=urn, properties=to_struct(props), name=name, type=type_
        )
        response = self.call("Create", request, timeout=timeout)
        return CreateResult(response.id, from_struct(response.properties))

    def read(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> ReadResult:
        """Read(props = previous outputs, inputs). Refresh sends both; `get` sends inputs only."""
        name, type_ = urn_name_type(urn)
        request = provider_pb2.ReadRequest(
            id=id,
            urn=urn,
            properties=to_struct(props) if props is not None else None,
            inputs=to_struct(inputs) if inputs is not None else None,
            name=name,
            type=type_,
        )
        response = self.call("Read", request, timeout=timeout)
        new_inputs = from_struct(response.inputs) if response.HasField("inputs") else None
        return ReadResult(response.id, from_struct(response.properties), new_inputs)

    def update(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Iterable[str] = (),
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Update(olds = previous outputs, news = checked inputs) -> outputs."""
        name, type_ = urn_name_type(urn)
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs) if old_inputs is not None else None,
            ignoreChanges=list(ignore_changes),
            name=name,
            type=type_,
        )
        response = self.call("Update", request, timeout=timeout)
        return from_struct(response.properties)

    def delete(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Delete(props = previous outputs)."""
        name, type_ = urn_name_type(urn)
        request = provider_pb2.DeleteRequest(
            id=id,
            urn=urn,
            properties=to_struct(props),
            old_inputs=to_struct(old_inputs) if old_inputs is not None else None,
            name=name,
            type=type_,
        )
        self.call("Delete", request, timeout=timeout)
