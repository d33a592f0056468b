"""The client over real sockets: a server that resets connections mid-request or never answers."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import ApiConnectionError, ApiTimeoutError, NotFoundError
from tests.api.api_testkit import TOKEN, Sleeps, endpoint, just_now

# What the server does with one request: ("json", status, body), ("reset",) or ("hang", seconds).
Action = tuple[Any, ...]


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None
    body: bytes


@dataclass
class Behaviour:
    """Per-route queues of actions; the last action of a queue repeats."""

    routes: dict[tuple[str, str], list[Action]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    """Ends every hang at once (set when the test is over)."""
    hangs_ended: int = 0

    def next_action(self, method: str, path: str) -> Action:
        with self.lock:
            queue = self.routes.get((method, path))
            if not queue:
                return ("json", 404, {"error": "Endpoint not found"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def calls(self) -> list[tuple[str, str]]:
        return [(s.method, s.path) for s in self.seen]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    behaviour: Behaviour  # set on a subclass per server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.behaviour.seen.append(
            Seen(self.command, self.path, self.headers.get("authorization"), body)
        )
        action = self.behaviour.next_action(self.command, self.path)
        if action[0] == "reset":
            # RST instead of FIN: the client sees "connection reset" with the request consumed.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if action[0] == "hang":
            self.behaviour.release.wait(action[1])
            with self.behaviour.lock:
                self.behaviour.hangs_ended += 1
            self.close_connection = True
            return
        _, status, payload = action
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", "srv-1")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets make the stdlib complain on stderr


@pytest.fixture
def server() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    handler = type("BoundHandler", (Handler,), {"behaviour": behaviour})
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", behaviour
    finally:
        behaviour.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client_for(sleeps: Sleeps) -> Iterator[Callable[..., EndpointsApi]]:
    made: list[EndpointsApi] = []

    def factory(base: str, **options: Any) -> EndpointsApi:
        options.setdefault("timeout", httpx.Timeout(2.0, read=0.3))
        options.setdefault("sleep", sleeps)
        api = EndpointsApi(TOKEN, api_url=f"{base}/v2", **options)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()


GET_PATH = ("GET", "/v2/endpoint/ns/chat")
POST_PATH = ("POST", "/v2/endpoint/ns")


def test_connection_reset_then_success(
    server: tuple[str, Behaviour], client_for: Callable[..., EndpointsApi]
) -> None:
    base, behaviour = server
    behaviour.routes[GET_PATH] = [("reset",), ("json", 200, endpoint("chat"))]
    api = client_for(base)
    assert api.get_endpoint("ns", "chat").raw == endpoint("chat")
    assert behaviour.calls() == [GET_PATH, GET_PATH]
    assert all(s.authorization == f"Bearer {TOKEN}" for s in behaviour.seen)


def test_connection_resets_until_giving_up(
    server: tuple[str, Behaviour], client_for: Callable[..., EndpointsApi], sleeps: Sleeps
) -> None:
    base, behaviour = server
    behaviour.routes[GET_PATH] = [("reset",)]
    with pytest.raises(ApiConnectionError, match="gave up after 3 attempts"):
        client_for(base, max_retries=2).get_endpoint("ns", "chat")
    assert behaviour.calls() == [GET_PATH] * 3
    assert len(sleeps.delays) == 2


def test_read_timeout_then_success(
    server: tuple[str, Behaviour], client_for: Callable[..., EndpointsApi]
) -> None:
    base, behaviour = server
    behaviour.routes[GET_PATH] = [("hang", 60.0), ("json", 200, endpoint("chat"))]
    assert client_for(base).get_endpoint("ns", "chat").raw == endpoint("chat")
    assert behaviour.calls() == [GET_PATH, GET_PATH]
    assert behaviour.hangs_ended == 0  # the client gave up on the silent server and retried


def test_read_timeout_gives_up(
    server: tuple[str, Behaviour], client_for: Callable[..., EndpointsApi]
) -> None:
    base, behaviour = server
    behaviour.routes[GET_PATH] = [("hang", 1.0)]
    with pytest.raises(ApiTimeoutError, match=r"Timed out on GET .*ReadTimeout") as info:
        client_for(base, max_retries=1).get_endpoint("ns", "chat")
    assert info.value.attempts == 2
    assert len(behaviour.seen) == 2


def test_connection_refused(client_for: Callable[..., EndpointsApi], sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ApiConnectionError, match="ConnectError") as info:
        client_for(f"http://127.0.0.1:{port}", max_retries=2).list_hardware("ns")
    assert info.value.attempts == 3 and len(sleeps.delays) == 2


def test_create_reset_after_the_server_got_it_creates_once(
    server: tuple[str, Behaviour], client_for: Callable[..., EndpointsApi]
) -> None:
    base, behaviour = server
    behaviour.routes[POST_PATH] = [("reset",), ("json", 409, {"error": "exists"})]
    made = endpoint("chat", "pending", created_at=just_now())
    behaviour.routes[GET_PATH] = [("json", 200, made)]
    payload = {"name": "chat", "model": {"repository": "gpt2"}}
    assert client_for(base).create_endpoint("ns", payload).raw == made
    assert behaviour.calls() == [POST_PATH, GET_PATH]
    assert json.loads(behaviour.seen[0].body) == payload


def test_create_timeout_then_absent_is_resent(
    server: tuple[str, Behaviour], client_for: Callable[..., EndpointsApi]
) -> None:
    base, behaviour = server
    behaviour.routes[POST_PATH] = [("hang", 1.0), ("json", 202, endpoint("chat", "pending"))]
    payload = {"name": "chat"}
    assert client_for(base).create_endpoint("ns", payload)["name"] == "chat"
    assert behaviour.calls() == [POST_PATH, GET_PATH, POST_PATH]


def test_nothing_at_debug_level_carries_the_token(
    server: tuple[str, Behaviour],
    client_for: Callable[..., EndpointsApi],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx's and httpcore's
    base, behaviour = server
    behaviour.routes[GET_PATH] = [("reset",), ("hang", 1.0), ("json", 200, endpoint("chat"))]
    behaviour.routes[("GET", "/v2/endpoint/ns/gone")] = [("json", 404, {"error": TOKEN})]
    api = client_for(base)
    api.get_endpoint("ns", "chat")
    with pytest.raises(NotFoundError) as info:
        api.get_endpoint("ns", "gone")
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert {r.name for r in caplog.records} >= {
        "pulumi_hf_endpoints.client",
        "httpx",
        "httpcore.http11",
    }
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
        assert TOKEN not in text, record.name
    assert all(s.authorization == f"Bearer {TOKEN}" for s in behaviour.seen)
