"""`EndpointsApi.get_logs` and `follow_logs`: the query sent, the lines read, redaction, and a
stream that is retried before it starts and never after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle, http_client
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.client.errors import ApiConnectionError, NotFoundError, ServerError
from pulumi_hf_endpoints.client.logs import event_data, log_params
from tests.api.api_testkit import TOKEN, Script, reply
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

LOGS = ("GET", "/v2/endpoint/ns/chat/logs")
SSE = ("GET", "/v2/endpoint/ns/chat/logs/sse")


# ----------------------------------------------------------------------- the query


def test_log_params_take_whole_seconds_covering_the_range() -> None:
    assert log_params() == {}
    assert log_params(tail=0) == {"tail": "0"}
    moment = datetime(2025, 1, 2, 3, 4, 5, 600_000, tzinfo=timezone.utc)
    params = log_params(tail=5, since=moment, until=moment)
    assert params == {"tail": "5", "from": "1735787045", "to": "1735787046"}
    naive = datetime(2025, 1, 2, 3, 4, 5)  # taken as UTC
    assert log_params(since=naive) == {"from": "1735787045"}
    assert log_params(since=1735787045.9, until=1735787045.1) == {
        "from": "1735787045",
        "to": "1735787046",
    }
    for bad in ({"tail": -1}, {"tail": True}, {"since": -5}, {"until": float("nan")}):
        with pytest.raises(ValueError):
            log_params(**bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log_params(since="yesterday")  # type: ignore[arg-type]


def test_get_logs_sends_the_range_and_reads_text_lines(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    script.replies.append(reply(200, "first line\nsecond line\n", **{"content-type": "text/plain"}))
    api = make_api()
    assert api.get_logs("ns", "chat", tail=2, since=100, until=200.5) == [
        "first line",
        "second line",
    ]
    (request,) = script.requests
    assert (request.method, request.url.path) == LOGS
    assert dict(request.url.params) == {"tail": "2", "from": "100", "to": "201"}
    assert request.headers["accept"] == "text/plain"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_get_logs_redacts_tokens_in_lines(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    other = "hf_SomeoneElsesToken0123456789"
    text = f"env HF_TOKEN={TOKEN}\nlogin with {other}\nAuthorization: Bearer abc.def\n"
    script.replies.append(reply(200, text))
    lines = make_api().get_logs("ns", "chat")
    joined = "\n".join(lines)
    assert TOKEN not in joined and other not in joined and "abc.def" not in joined
    assert lines[0] == "env HF_TOKEN=***"


def test_get_logs_errors_are_the_client_errors(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    script.replies.append(reply(404, {"error": "Endpoint not found"}))
    with pytest.raises(NotFoundError):
        make_api().get_logs("ns", "chat")
    script.replies.append(reply(500, {"error": "logs backend down"}))
    with pytest.raises(ServerError, match="logs backend down"):
        make_api().get_logs("ns", "chat", max_retries=0)


# ----------------------------------------------------------------------- the stream


def test_event_data_follows_the_sse_rules() -> None:
    lines = ["data: one", "", ": keep-alive", "", "event: log", "data:two", "data:  three", ""]
    lines += ["id: 7", "data: cut off"]
    assert list(event_data(lines)) == ["one", "two\n three", "cut off"]


class _Breaks(httpx.SyncByteStream):
    """A log stream that sends one line, then loses its connection."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"data: before the break\n\n"
        raise httpx.ReadError("connection reset by peer")


def test_a_stream_is_retried_before_it_starts_and_never_after(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    script.replies.append(reply(503, {"error": "busy"}))
    script.replies.append(
        lambda request: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Breaks()
        )
    )
    api = make_api()
    stream = api.follow_logs("ns", "chat", tail=3)
    assert script.requests == []  # nothing is sent before the iteration starts
    got: list[str] = []
    with pytest.raises(ApiConnectionError, match="broke after it started") as info:
        for line in stream:
            got.append(line)
    assert got == ["before the break"]
    assert script.calls == [SSE, SSE]  # the 503 was retried; the broken stream was not
    assert dict(script.requests[-1].url.params) == {"tail": "3"}
    assert script.requests[-1].headers["accept"] == "text/event-stream"
    assert TOKEN not in str(info.value)


def test_a_stream_redacts_lines_and_closes(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    body = f"data: token {TOKEN}\n\ndata: a\ndata: b\n\n".encode()
    script.replies.append(reply(200, body.decode(), **{"content-type": "text/event-stream"}))
    with make_api().follow_logs("ns", "chat") as stream:
        assert list(stream) == ["token ***", "a", "b"]


# ----------------------------------------------------------------------- against the emulator


@pytest.fixture
def running(emulator: EmulatorHandle) -> Iterator[tuple[EndpointsApi, Endpoints]]:
    endpoints = Endpoints(emulator)
    endpoints.create(endpoint_body("chat"))
    endpoints.watch("chat", "running")
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        yield api, endpoints
    endpoints.close()


def _time(line: str) -> float:
    return datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()


def test_get_logs_against_the_emulator_honours_tail_and_range(
    running: tuple[EndpointsApi, Endpoints], emulator: EmulatorHandle
) -> None:
    api, endpoints = running
    http_client().get(endpoints.url("chat") + "/health")  # an access line
    every = api.get_logs(emulator.user, "chat")
    assert len(every) > 5
    assert any("Starting shard" in line for line in every)
    assert any('"GET /health HTTP/1.1" 200' in line for line in every)
    times = [_time(line) for line in every]
    assert times == sorted(times)
    assert api.get_logs(emulator.user, "chat", tail=3) == every[-3:]
    assert api.get_logs(emulator.user, "chat", tail=0) == []
    # A range of whole seconds: `since` inclusive, `until` exclusive.
    cut = int(times[len(times) // 2])
    assert api.get_logs(emulator.user, "chat", since=cut) == [
        line for line, at in zip(every, times, strict=True) if at >= cut
    ]
    assert api.get_logs(emulator.user, "chat", until=cut) == [
        line for line, at in zip(every, times, strict=True) if at < cut
    ]
    assert api.get_logs(emulator.user, "chat", since=cut, until=cut) == []


def test_follow_logs_against_the_emulator_ends_when_the_endpoint_is_deleted(
    running: tuple[EndpointsApi, Endpoints], emulator: EmulatorHandle
) -> None:
    api, endpoints = running
    before = api.get_logs(emulator.user, "chat")
    got: list[str] = []
    with api.follow_logs(emulator.user, "chat", tail=2) as stream:
        for line in stream:
            got.append(line)
            if len(got) == 2:  # the two lines asked for: write a new one
                http_client().get(endpoints.url("chat") + "/health")
            elif "/health" in line:
                api.delete_endpoint(emulator.user, "chat")
    assert got[:2] == before[-2:]
    assert len(got) == 3 and '"GET /health HTTP/1.1" 200' in got[2]
    with pytest.raises(NotFoundError):
        api.get_logs(emulator.user, "chat")


def test_replica_selects_one_replicas_lines_in_get_and_follow(
    running: tuple[EndpointsApi, Endpoints], emulator: EmulatorHandle
) -> None:
    api, endpoints = running
    mark = endpoints.mark("chat")
    endpoints.update("chat", {"model": {"env": {"A": "1"}}})  # a new replica rolls out
    endpoints.watch("chat", "running", since=mark)
    every = api.get_logs(emulator.user, "chat")
    ids = list(dict.fromkeys(line.split()[2] for line in every))
    assert len(ids) == 2
    for replica in ids:
        mine = [line for line in every if line.split()[2] == replica]
        assert api.get_logs(emulator.user, "chat", replica=replica) == mine
        with api.follow_logs(emulator.user, "chat", tail=1, replica=replica) as stream:
            assert next(iter(stream)) == mine[-1]
    with pytest.raises(ValueError, match="replica"):
        api.get_logs(emulator.user, "chat", replica=" ")
