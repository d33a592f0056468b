"""Fault injection through `/emulator/faults`: what clients' error paths are tested against."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from hf_endpoints_emulator.config import User
from hf_endpoints_emulator.testing import EmulatorHandle, http_client
from tests.emulator.control_plane_testkit import Endpoints, endpoint_body

HTTP = http_client()


@pytest.fixture
def endpoints(emulator: EmulatorHandle) -> Iterator[Endpoints]:
    client = Endpoints(emulator)
    yield client
    client.close()


def test_response_faults_answer_n_times_then_stop(
    emulator: EmulatorHandle, endpoints: Endpoints
) -> None:
    rule = emulator.faults.respond(
        429, method="GET", path="/v2/endpoint/*", times=2, retry_after=1.5
    )
    assert rule["remaining"] == 2
    url = f"/v2/endpoint/{emulator.user}"
    for _ in range(2):
        response = endpoints.http.get(url)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"  # whole seconds, rounded up
        assert response.json() == {"error": "429 Too Many Requests (fault injection)"}
    assert endpoints.http.get(url).status_code == 200
    assert emulator.faults.list() == []
    assert emulator.faults.state()["faultsFired"] == {"response": 2}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_with_a_message(
    emulator: EmulatorHandle, endpoints: Endpoints, status: int
) -> None:
    emulator.faults.respond(
        status, method="POST", path="/v2/endpoint/*", message="upstream exploded"
    )
    response = endpoints.http.post(f"/v2/endpoint/{emulator.user}", json=endpoint_body("x"))
    assert (response.status_code, response.json()) == (status, {"error": "upstream exploded"})
    assert "retry-after" not in response.headers
    assert (
        endpoints.http.get(f"/v2/endpoint/{emulator.user}").json()["items"] == []
    )  # never reached the route
    endpoints.create(endpoint_body("x"))


def test_method_and_path_must_match(emulator: EmulatorHandle, endpoints: Endpoints) -> None:
    endpoints.create(endpoint_body("a"))
    emulator.faults.respond(503, method="put", path=f"/v2/endpoint/{emulator.user}/a", times=None)
    assert endpoints.http.get(f"/v2/endpoint/{emulator.user}/a").status_code == 200
    assert endpoints.http.put(f"/v2/endpoint/{emulator.user}/b", json={}).status_code == 404
    for _ in range(3):
        assert endpoints.http.put(f"/v2/endpoint/{emulator.user}/a", json={}).status_code == 503
    (rule,) = emulator.faults.list()
    assert (rule["remaining"], rule["fired"]) == (None, 3)
    emulator.faults.clear()
    assert endpoints.http.put(f"/v2/endpoint/{emulator.user}/a", json={}).status_code == 200


def test_faults_apply_to_endpoint_urls_too(emulator: EmulatorHandle, endpoints: Endpoints) -> None:
    endpoints.create(endpoint_body("a"))
    url = endpoints.watch("a", "running") and endpoints.url("a")
    emulator.faults.respond(502, path="/endpoints/*/health")
    assert HTTP.get(url + "/health").status_code == 502
    assert HTTP.get(url + "/health").status_code == 200


def test_stall_delays_then_answers(emulator: EmulatorHandle, endpoints: Endpoints) -> None:
    emulator.faults.stall(0.6, path="/api/whoami-v2")
    started = time.monotonic()
    assert endpoints.http.get("/api/whoami-v2").status_code == 200
    assert time.monotonic() - started >= 0.55
    with pytest.raises(httpx.ReadTimeout):
        emulator.faults.stall(2, path="/api/whoami-v2")
        endpoints.http.get("/api/whoami-v2", timeout=0.3)


def test_reset_drops_the_connection(emulator: EmulatorHandle, endpoints: Endpoints) -> None:
    emulator.faults.reset(method="GET", path="/v2/*", times=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
        HTTP.get(f"{emulator.base_url}/v2/endpoint/{emulator.user}", headers=emulator.headers)
    assert endpoints.http.get(f"/v2/endpoint/{emulator.user}").status_code == 200


def test_deployment_failures_by_name_and_operation(
    emulator: EmulatorHandle, endpoints: Endpoints
) -> None:
    emulator.faults.fail_deployments(
        times=2, message="no capacity", name="doomed-*", operations=["create"]
    )
    endpoints.create(endpoint_body("fine"))
    endpoints.create(endpoint_body("doomed-1"))
    endpoints.create(endpoint_body("doomed-2"))
    endpoints.create(endpoint_body("doomed-3"))
    assert endpoints.watch("fine", "running")[-1] == "running"
    for name in ("doomed-1", "doomed-2"):
        assert endpoints.watch(name, "failed")[-1] == "failed"
        assert endpoints.get(name)["status"]["errorMessage"] == "no capacity"
    assert endpoints.watch("doomed-3", "running")[-1] == "running"


def test_resume_can_fail_too(emulator: EmulatorHandle, endpoints: Endpoints) -> None:
    endpoints.create(endpoint_body("ep"))
    endpoints.watch("ep", "running")
    endpoints.action("ep", "pause")
    emulator.faults.fail_deployments(operations=["resume"])
    mark = endpoints.mark("ep")
    endpoints.action("ep", "resume")
    assert endpoints.watch("ep", "failed", since=mark) == ["pending", "initializing", "failed"]
    assert "fault injection" in endpoints.get("ep")["status"]["errorMessage"]


def test_timings_can_be_changed_at_run_time(emulator: EmulatorHandle, endpoints: Endpoints) -> None:
    timings = emulator.faults.set_timings(pending_seconds=3, initializing_seconds=0.05)
    assert (timings["pendingSeconds"], timings["initializingSeconds"]) == (3, 0.05)
    endpoints.create(endpoint_body("slow"))
    assert endpoints.watch("slow", "running") == ["pending", "initializing", "running"]
    (_, pending), (_, initializing), (_, running) = endpoints.transitions("slow")
    assert initializing - pending == pytest.approx(3)  # not the fixture's 0.2 s
    assert running - initializing == pytest.approx(0.05)
    bad = endpoints.http.put("/emulator/timings", json={"pendingSeconds": -1})
    assert bad.status_code == 400
    assert endpoints.http.put("/emulator/timings", json={"bogus": 1}).status_code == 400


def test_admin_routes_need_the_default_users_token(make_emulator: object) -> None:
    other = User("intruder", "hf_intruder", ())
    emu = make_emulator(extra_users=(other,))  # type: ignore[operator]
    routes = [
        ("GET", "/emulator/faults"),
        ("POST", "/emulator/faults"),
        ("DELETE", "/emulator/faults"),
        ("GET", "/emulator/state"),
        ("PUT", "/emulator/timings"),
    ]
    for method, path in routes:
        body = {"type": "response", "status": 500}
        assert HTTP.request(method, emu.base_url + path, json=body).status_code == 401
        forbidden = HTTP.request(
            method, emu.base_url + path, json=body, headers={"authorization": "Bearer hf_intruder"}
        )
        assert forbidden.status_code == 403
    assert emu.faults.list() == []


def test_admin_routes_are_never_faulted_and_validate_rules(emulator: EmulatorHandle) -> None:
    emulator.faults.respond(500, path="*", times=None)
    assert emulator.faults.list()[0]["status"] == 500  # /emulator/* still answers
    headers = emulator.headers
    for rule in (
        {"type": "response", "status": 200},
        {"type": "stall", "seconds": 0},
        {"type": "explode"},
        {"type": "deploymentFailure", "operations": ["delete"]},
        {"type": "response", "status": 500, "times": 0},
    ):
        response = HTTP.post(emulator.base_url + "/emulator/faults", json=rule, headers=headers)
        assert response.status_code == 400, rule
    rule_id = emulator.faults.list()[0]["id"]
    assert (
        HTTP.delete(f"{emulator.base_url}/emulator/faults/{rule_id}", headers=headers).status_code
        == 200
    )
    assert (
        HTTP.delete(f"{emulator.base_url}/emulator/faults/{rule_id}", headers=headers).status_code
        == 404
    )
    assert HTTP.get(f"{emulator.base_url}/api/whoami-v2", headers=headers).status_code == 200
