"""The emulator's logs routes: lines made from what happened to the endpoint (its transitions,
the cause of a failed deployment, the requests its replicas served), never a secret value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from hf_endpoints_emulator import activity
from hf_endpoints_emulator.logs import image_name
from hf_endpoints_emulator.testing import EmulatorHandle, http_client, loopback_client
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

CAUSE = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"


@pytest.fixture
def endpoints(emulator: EmulatorHandle) -> Iterator[Endpoints]:
    client = Endpoints(emulator)
    yield client
    client.close()


def logs(endpoints: Endpoints, name: str, **params: int) -> list[str]:
    response = endpoints.http.get(f"/v2/endpoint/{endpoints.namespace}/{name}/logs", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text.splitlines()


def at(line: str) -> float:
    return datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()


def first(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def test_a_deployment_logs_its_phases_in_order_at_their_times(endpoints: Endpoints) -> None:
    endpoints.create(endpoint_body("chat"))
    endpoints.watch("chat", "running")
    lines = logs(endpoints, "chat")
    order = [
        "Scheduling replica",
        "Pulling image",
        "Starting shard rank=0",
        "Loading model weights from gpt2",
        "Shard ready",
        "text_generation_router: Connected",
    ]
    indexes = [first(lines, text) for text in order]
    assert indexes == sorted(indexes)
    times = [at(line) for line in lines]
    assert times == sorted(times)
    entered = dict(endpoints.transitions("chat"))
    # Scheduling starts the pending phase; "Connected" is the moment it runs (to the ms).
    assert at(lines[indexes[0]]) == pytest.approx(entered["pending"], abs=0.001)
    assert at(lines[indexes[-1]]) == pytest.approx(entered["running"], abs=0.001)
    replica = lines[0].split()[2]
    assert all(line.split()[2] == replica for line in lines)
    assert f"Scheduling replica {replica} (aws us-east-1, intel-spr x1)" in lines[0]


def test_a_failed_deployment_logs_its_cause_before_it_failed(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    emulator.faults.fail_deployments(1, f"{CAUSE}\nsecond line of the trace")
    endpoints.create(endpoint_body("oom"))
    endpoints.watch("oom", "failed")
    lines = logs(endpoints, "oom")
    cause = first(lines, CAUSE)
    assert " ERROR " in lines[cause] and "second line of the trace" in lines[cause + 1]
    assert first(lines, "Loading model weights") < cause < first(lines, "Shard 0 failed to start")
    assert not any("Connected" in line for line in lines)
    assert at(lines[cause]) <= dict(endpoints.transitions("oom"))["failed"]


def test_the_cause_of_an_earlier_failure_stays_in_the_log(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    emulator.faults.fail_deployments(1, CAUSE, operations=["create"])
    endpoints.create(endpoint_body("retry"))
    endpoints.watch("retry", "failed")
    endpoints.action("retry", "resume")  # a new schedule replaces the failed one
    endpoints.watch("retry", "running", since=3)
    lines = logs(endpoints, "retry")
    assert first(lines, CAUSE) < first(lines, "Connected")
    # The resume is a new deployment, on a new replica.
    assert lines[first(lines, CAUSE)].split()[2] != lines[first(lines, "Connected")].split()[2]


def test_an_update_that_fails_logs_its_cause_and_keeps_the_old_replicas(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    endpoints.create(endpoint_body("upd"))
    endpoints.watch("upd", "running")
    mark = endpoints.mark("upd")
    emulator.faults.fail_deployments(1, "KeyError: 'model.safetensors'", operations=["update"])
    endpoints.update("upd", {"compute": {"scaling": {"maxReplica": 3, "minReplica": 1}}})
    endpoints.watch("upd", "updateFailed", since=mark)
    lines = logs(endpoints, "upd")
    rollout = first(lines, "Rolling out a new configuration")
    assert rollout < first(lines, "KeyError: 'model.safetensors'")
    assert "Shard 0 failed to start" in lines[first(lines, "KeyError") + 1]
    # The new configuration ran on a replica of its own; the old one had served.
    assert lines[rollout].split()[2] != lines[first(lines, "Connected")].split()[2]


def test_served_requests_become_access_lines_with_method_path_and_status(
    endpoints: Endpoints,
) -> None:
    endpoints.create(endpoint_body("web"))
    endpoints.watch("web", "running")
    url = endpoints.url("web")
    client = http_client()
    assert client.get(f"{url}/health").status_code == 200
    assert client.post(f"{url}/generate?secret=1", json={"inputs": 3}).status_code == 422
    lines = logs(endpoints, "web")
    assert '"GET /health HTTP/1.1" 200' in lines[-2]
    assert '"POST /generate HTTP/1.1" 422' in lines[-1]  # the path only, never the query
    replica = lines[first(lines, "Connected")].split()[2]
    assert lines[-1].split()[2] == replica


def test_only_the_recent_requests_are_kept(
    endpoints: Endpoints, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activity, "RECENT_REQUESTS", 3)
    endpoints.create(endpoint_body("busy"))
    endpoints.watch("busy", "running")
    url = endpoints.url("busy")
    for index in range(5):
        http_client().get(f"{url}/health?n={index}")
        http_client().get(f"{url}/info")
    access = [line for line in logs(endpoints, "busy") if "HTTP/1.1" in line]
    assert len(access) == 3
    assert [line.split()[5] for line in access] == ["/info", "/health", "/info"]


def test_tail_and_the_time_range_select_lines(endpoints: Endpoints) -> None:
    endpoints.create(endpoint_body("sel"))
    endpoints.watch("sel", "running")
    lines = logs(endpoints, "sel")
    assert logs(endpoints, "sel", tail=2) == lines[-2:]
    assert logs(endpoints, "sel", tail=0) == []
    assert logs(endpoints, "sel", tail=10_000) == lines
    cut = int(at(lines[-1]))
    assert logs(endpoints, "sel", **{"from": cut}) == [x for x in lines if at(x) >= cut]
    assert logs(endpoints, "sel", to=cut) == [x for x in lines if at(x) < cut]
    assert logs(endpoints, "sel", **{"from": cut + 1}) == []


def test_the_logs_routes_check_their_input_and_access(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    endpoints.create(endpoint_body("acl"))
    base = f"/v2/endpoint/{endpoints.namespace}"
    for query in ("tail=-1", "from=-3", "to=soon"):
        response = endpoints.http.get(f"{base}/acl/logs?{query}")
        assert response.status_code == 400, query
        assert "error" in response.json()
    assert endpoints.http.get(f"{base}/missing/logs").status_code == 404
    assert endpoints.http.get(f"{base}/missing/logs/sse").status_code == 404
    assert endpoints.http.get("/v2/endpoint/someone-else/acl/logs").status_code == 403
    with loopback_client(base_url=emulator.base_url) as anonymous:
        assert anonymous.get(f"{base}/acl/logs").status_code == 401
        assert anonymous.get(f"{base}/acl/logs/sse").status_code == 401


def test_no_secret_value_reaches_the_log(endpoints: Endpoints) -> None:
    password = "registry-pass-0a9b8c"
    secret = "secret-value-7f6e5d"
    body = endpoint_body(
        "private-image",
        secrets={"API_KEY": secret},
        env={"MODE": "fast"},
        image={
            "custom": {
                "url": "robot:inline-pass-1c2d@registry.example.com/team/server:1.0",
                "healthRoute": "/health",
                "credentials": {"username": "robot", "password": password},
            }
        },
    )
    endpoints.create(body)
    endpoints.watch("private-image", "running")
    text = "\n".join(logs(endpoints, "private-image"))
    assert "Pulling image registry.example.com/team/server:1.0" in text
    for value in (password, secret, "inline-pass-1c2d"):
        assert value not in text


def test_image_names_drop_registry_credentials_but_keep_digests() -> None:
    def config(url: str) -> dict[str, object]:
        return {"model": {"image": {"custom": {"url": url}}}}

    assert image_name(config("u:p@reg.io/a/b:1")) == "reg.io/a/b:1"
    assert image_name(config("reg.io/a/b@sha256:abc")) == "reg.io/a/b@sha256:abc"
    assert image_name(config("u:p@reg.io/a/b@sha256:abc")) == "reg.io/a/b@sha256:abc"
    assert image_name(config("https://u:p@reg.io/a")) == "https://reg.io/a:latest"
    assert image_name(config("reg.io:5000/a/b")) == "reg.io:5000/a/b:latest"  # a port is no tag
    assert "pytorch" in image_name(
        {"model": {"framework": "pytorch", "image": {"huggingface": {}}}}
    )


def test_the_sse_route_sends_the_lines_then_follows_until_the_endpoint_is_deleted(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    endpoints.create(endpoint_body("follow"))
    endpoints.watch("follow", "running")
    before = logs(endpoints, "follow")
    url = endpoints.url("follow")
    path = f"/v2/endpoint/{endpoints.namespace}/follow/logs/sse"
    received: list[str] = []
    with endpoints.http.stream("GET", path, params={"tail": 2}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            received.append(line[len("data: ") :])
            if len(received) == 2:
                http_client().get(f"{url}/health")  # a new line, written after the stream began
            elif "/health" in received[-1]:
                delete = endpoints.http.delete(f"/v2/endpoint/{endpoints.namespace}/follow")
                assert delete.status_code == 200
    # The stream ended by itself once the endpoint was gone.
    assert received[:2] == before[-2:]
    assert len(received) == 3 and '"GET /health HTTP/1.1" 200' in received[2]


def replicas(lines: list[str]) -> list[str]:
    """The `deployment-replica` id of each line, in order of first appearance."""
    seen: list[str] = []
    for line in lines:
        replica = line.split()[2]
        if replica not in seen:
            seen.append(replica)
    return seen


def test_replica_keeps_the_lines_of_one_replica(endpoints: Endpoints) -> None:
    """`replica` (sent by a Go client of the service) selects one replica's lines, named as the
    lines name it; an update rolls out a new replica, so the log holds two."""
    endpoints.create(endpoint_body("two"))
    endpoints.watch("two", "running")
    mark = endpoints.mark("two")
    endpoints.update("two", {"model": {"env": {"A": "1"}}})
    endpoints.watch("two", "running", since=mark)
    lines = logs(endpoints, "two")
    first_replica, second_replica = replicas(lines)
    for replica in (first_replica, second_replica):
        response = endpoints.http.get(
            f"/v2/endpoint/{endpoints.namespace}/two/logs", params={"replica": replica}
        )
        assert response.status_code == 200
        assert response.text.splitlines() == [x for x in lines if x.split()[2] == replica]
    response = endpoints.http.get(
        f"/v2/endpoint/{endpoints.namespace}/two/logs", params={"replica": "none-such"}
    )
    assert response.status_code == 200 and response.text == ""
