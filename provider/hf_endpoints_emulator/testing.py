"""Run the emulator from tests: in-process on a free port, or as a process that can be killed.

    with run_emulator(pending_seconds=0.1) as emu:
        HfApi(endpoint=emu.base_url, token=emu.token)...
        emu.faults.respond(503, path="/v2/endpoint/*", times=2)

    with run_emulator_process(tmp_path / "state.sqlite3", backend="synthetic") as proc:
        ...
        proc.restart()  # SIGKILL, then start again on the same port and state file

Keyword overrides are `EmulatorConfig` fields, or `Timings` fields (`pending_seconds`, ...).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from .config import DEFAULT_USER, KEEP_ALIVE_SECONDS, EmulatorConfig, Timings, generate_token
from .serving_protocol import ServingLayer

_TIMING_FIELDS = {f.name for f in dataclasses.fields(Timings)}
_CAMEL_TIMINGS = {
    "pending_seconds": "pendingSeconds",
    "initializing_seconds": "initializingSeconds",
    "updating_seconds": "updatingSeconds",
    "resume_seconds": "resumeSeconds",
    "wake_seconds": "wakeSeconds",
    "time_scale": "timeScale",
}


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def loopback_client(**options: Any) -> httpx.Client:
    """An httpx client for the emulator's plain-HTTP loopback URLs. It skips loading the CA
    bundle (no TLS here), which otherwise costs ~0.1 s per client."""
    options.setdefault("timeout", 30)
    return httpx.Client(verify=False, **options)


def http_client() -> httpx.Client:
    """One client shared by the helpers here and by tests that need no headers of their own."""
    global _client
    with _client_lock:
        if _client is None:
            _client = loopback_client()
        return _client


class FaultsClient:
    """The `/emulator/*` admin API over HTTP (see `faults.py` and `admin.py`)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = http_client().request(
            method,
            f"{self.base_url}/emulator{path}",
            json=json,
            headers={"authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()
        return response.json()

    def add(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/faults", dict(rule))
        return result

    def respond(
        self,
        status: int,
        *,
        method: str = "*",
        path: str = "*",
        times: int | None = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Matching requests answer `status` (with `Retry-After` if given)."""
        rule = {
            "type": "response",
            "status": status,
            "method": method,
            "path": path,
            "times": times,
        }
        if retry_after is not None:
            rule["retryAfter"] = retry_after
        if message is not None:
            rule["message"] = message
        return self.add(rule)

    def stall(
        self, seconds: float, *, method: str = "*", path: str = "*", times: int | None = 1
    ) -> dict[str, Any]:
        return self.add(
            {"type": "stall", "seconds": seconds, "method": method, "path": path, "times": times}
        )

    def gather(
        self,
        count: int,
        *,
        method: str = "*",
        path: str = "*",
        seconds: float = 30,
        times: int | None = None,
    ) -> dict[str, Any]:
        """Hold matching requests until `count` wait together; the rule's `gathered` and
        `timedOut` (in `list()`) tell whether they ever were in flight at the same time."""
        rule = {
            "type": "gather",
            "count": count,
            "seconds": seconds,
            "method": method,
            "path": path,
            "times": times,
        }
        return self.add(rule)

    def reset(self, *, method: str = "*", path: str = "*", times: int | None = 1) -> dict[str, Any]:
        return self.add({"type": "reset", "method": method, "path": path, "times": times})

    def fail_deployments(
        self,
        times: int | None = 1,
        message: str | None = None,
        *,
        name: str = "*",
        operations: Sequence[str] = ("create", "update", "resume"),
    ) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "type": "deploymentFailure",
            "times": times,
            "name": name,
            "operations": list(operations),
        }
        if message is not None:
            rule["message"] = message
        return self.add(rule)

    def rotate_token(self, user: str) -> str:
        """Issue `user` (not the default user) a new token; the old one stops working."""
        result: dict[str, str] = self._call("POST", "/tokens/rotate", {"user": user})
        return result["token"]

    def transitions(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """Every state the endpoint entered, oldest first: `{"state", "at", "epoch"}` each."""
        result: list[dict[str, Any]] = self._call(
            "GET", f"/endpoints/{namespace}/{name}/transitions"
        )["transitions"]
        return result

    def list(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return result

    def clear(self) -> None:
        self._call("DELETE", "/faults")

    def set_timings(self, **timings: float) -> dict[str, float]:
        """e.g. `set_timings(pending_seconds=2)`; applies to phases that start afterwards."""
        body = {_CAMEL_TIMINGS[name]: value for name, value in timings.items()}
        result: dict[str, float] = self._call("PUT", "/timings", body)
        return result

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/state")
        return result


@dataclasses.dataclass
class EmulatorAccess:
    """What every handle offers: where the emulator is and how to call it."""

    config: EmulatorConfig

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def api_url(self) -> str:
        return self.config.api_url

    @property
    def token(self) -> str:
        return self.config.default_user().token

    @property
    def user(self) -> str:
        return self.config.user

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    @property
    def faults(self) -> FaultsClient:
        return FaultsClient(self.base_url, self.token)

    def seed_endpoint(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create an endpoint as one made before its instance type was deprecated (see
        `POST /emulator/endpoints/{namespace}`); the service's JSON for it."""
        with loopback_client(base_url=self.base_url, headers=self.headers, timeout=10) as client:
            response = client.post(f"/emulator/endpoints/{namespace}", json=dict(body))
        if response.status_code != 200:
            raise RuntimeError(f"seeding {namespace}/{body.get('name')}: {response.text}")
        answer: dict[str, Any] = response.json()
        return answer


def build_config(**overrides: Any) -> EmulatorConfig:
    """An `EmulatorConfig` for tests: `:memory:` state, a fresh token, overrides applied."""
    timing_overrides = {k: overrides.pop(k) for k in list(overrides) if k in _TIMING_FIELDS}
    overrides.setdefault("state", ":memory:")
    overrides.setdefault("token", generate_token())
    config = EmulatorConfig(**overrides)
    if timing_overrides:
        config = dataclasses.replace(
            config, timings=dataclasses.replace(config.timings, **timing_overrides)
        )
    return config


@dataclasses.dataclass
class EmulatorHandle(EmulatorAccess):
    """An emulator running in a background thread of this process."""

    server: Any = None
    thread: threading.Thread | None = None

    @property
    def app(self) -> Any:
        return self.server.config.app if self.server is not None else None

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=15)


@contextmanager
def run_emulator(
    *, serving_factory: Callable[[EmulatorConfig], ServingLayer] | None = None, **overrides: Any
) -> Iterator[EmulatorHandle]:
    """Start the emulator with uvicorn on a free loopback port; stop it on exit."""
    import uvicorn

    from .app import create_app
    from .cli import bind

    overrides.setdefault("host", "127.0.0.1")
    overrides.setdefault("port", 0)
    config = build_config(**overrides)
    sock = bind(config.host, config.port)
    config = dataclasses.replace(config, port=sock.getsockname()[1])
    app = create_app(config, serving_factory)
    config = app.state.emulator.config
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="emulator"
    )
    handle = EmulatorHandle(config, server, thread)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    try:
        yield handle
    finally:
        handle.stop()
        sock.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _flags(options: Mapping[str, Any]) -> list[str]:
    """CLI flags for keyword options: `pending_seconds=0.1` -> `--pending-seconds 0.1`."""
    argv: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, Mapping):
            for k, v in value.items():
                argv += [flag, f"{k}={v}"]
        elif isinstance(value, list | tuple):
            for item in value:
                argv += [flag, str(item)]
        elif value is not None:
            argv += [flag, str(value)]
    return argv


@dataclasses.dataclass
class EmulatorProcess(EmulatorAccess):
    """The emulator as a child process (`python -m hf_endpoints_emulator`); `start` returns once
    it answers `whoami` with its token. `new_session` puts it in a session of its own, so that
    it outlives its parent's (the demo's `--keep`)."""

    argv: list[str] = dataclasses.field(default_factory=list)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    new_session: bool = False

    def start(self, timeout: float = 60) -> None:
        assert self.log_path is not None
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hf_endpoints_emulator", *self.argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=self.new_session,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the emulator exited ({self.process.returncode}):\n{self.log()}"
                )
            url = f"{self.base_url}/api/whoami-v2"
            try:
                if http_client().get(url, headers=self.headers, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the emulator did not start:\n{self.log()}")

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace")
            if self.log_path and self.log_path.exists()
            else ""
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the process dies."""
        if self.process is not None and self.running:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=15)

    def stop(self) -> int | None:
        """SIGTERM and wait: the clean shutdown; returns the exit code."""
        if self.process is None:
            return None
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)

    def restart(self, kill: bool = True) -> None:
        """Stop (SIGKILL by default) and start again on the same port, token and state file."""
        if kill:
            self.kill()
        else:
            self.stop()
        self.start()


def start_emulator_process(
    state: str | Path,
    log_path: Path,
    *,
    port: int | None = None,
    token: str | None = None,
    new_session: bool = False,
    **options: Any,
) -> EmulatorProcess:
    """The one way the emulator is started as a process (the tests, the benchmarks, the demo):
    its state in `state`, its output in `log_path`, ready when this returns (RuntimeError with
    its log otherwise). `options` become CLI flags (`backend="synthetic"`,
    `pending_seconds=0.1`, `model={...}`)."""
    options.setdefault("backend", "synthetic")
    host = "127.0.0.1"
    config = EmulatorConfig(
        host=host,
        port=port or free_port(host),
        state=str(state),
        user=options.pop("user", DEFAULT_USER),
        token=token or generate_token(),
    )
    argv = ["--host", host, "--port", str(config.port), "--state", str(state)]
    argv += ["--user", config.user, "--token", config.default_user().token]
    argv += _flags(options)
    proc = EmulatorProcess(config, argv, log_path, new_session=new_session)
    proc.start()
    return proc


@contextmanager
def run_emulator_process(
    state: str | Path, *, port: int | None = None, token: str | None = None, **options: Any
) -> Iterator[EmulatorProcess]:
    """`start_emulator_process`, its log in a temporary directory; killed on exit."""
    with tempfile.TemporaryDirectory(prefix="emulator-log-") as tmp:
        log_path = Path(tmp) / "emulator.log"
        proc = start_emulator_process(state, log_path, port=port, token=token, **options)
        try:
            yield proc
        finally:
            proc.kill()
