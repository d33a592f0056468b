"""The project's own control-plane client (`EndpointsApi`) against the emulator: every
route, every error class, and its retries against injected faults."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.client import errors
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.spec import EndpointSpec, create_payload
from tests.emulator.control_plane_testkit import endpoint_body

SPEC = EndpointSpec(
    repository="gpt2",
    framework="pytorch",
    task="text-generation",
    accelerator="cpu",
    vendor="aws",
    region="us-east-1",
    type="authenticated",
    instance_size="x2",
    instance_type="intel-spr",
    min_replica=0,
    max_replica=2,
    scale_to_zero_timeout=15,
    env={"A": "1"},
    secrets={"TOKEN": "do-not-echo"},
    tags=["dev"],
)


@pytest.fixture
def api(emulator: EmulatorHandle) -> Iterator[EndpointsApi]:
    client = EndpointsApi(
        emulator.token, api_url=emulator.api_url, backoff_factor=0.01, max_backoff=0.05, timeout=10
    )
    yield client
    client.close()


def test_every_route(api: EndpointsApi, emulator: EmulatorHandle) -> None:
    emulator.faults.set_timings(pending_seconds=600)  # still deploying when read back
    ns = api.default_namespace()
    assert ns == emulator.user
    created = api.create_endpoint(ns, create_payload(SPEC, "from-spec"))
    assert created["model"]["secrets"] == {"TOKEN": None} and created["tags"] == ["dev"]
    assert api.get_endpoint(ns, "from-spec")["status"]["state"] == "pending"
    updated = api.update_endpoint(ns, "from-spec", {"compute": {"scaling": {"maxReplica": 3}}})
    assert updated["compute"]["scaling"] == {
        "minReplica": 0,
        "maxReplica": 3,
        "scaleToZeroTimeout": 15,
        "metric": "hardwareUsage",  # the service's default measure: none was chosen
        "measure": {"hardwareUsage": None},
    }
    assert api.pause_endpoint(ns, "from-spec")["status"]["state"] == "paused"
    assert api.resume_endpoint(ns, "from-spec")["status"]["state"] == "pending"
    hardware = api.list_hardware(ns)
    assert {v["name"] for v in hardware["vendors"]} == {"aws", "azure", "gcp"}
    for i in range(5):
        api.create_endpoint(ns, endpoint_body(f"extra-{i}"))
    assert len(api.list_endpoints(ns, page_size=2)) == 6  # followed the cursors
    assert [e["name"] for e in api.list_endpoints(ns, tags=["dev"])] == ["from-spec"]
    assert [e["name"] for e in api.list_endpoints(ns, search="extra-3")] == ["extra-3"]
    api.delete_endpoint(ns, "from-spec")
    api.delete_endpoint(ns, "from-spec", missing_ok=True)


def test_every_error_class(api: EndpointsApi, emulator: EmulatorHandle) -> None:
    ns = emulator.user
    api.create_endpoint(ns, endpoint_body("taken"))
    with pytest.raises(errors.ConflictError):
        api.create_endpoint(ns, endpoint_body("taken"))
    with pytest.raises(errors.NotFoundError):
        api.get_endpoint(ns, "missing")
    with pytest.raises(errors.BadRequestError) as bad:
        api.update_endpoint(ns, "taken", {"compute": {"scaling": {"scaleToZeroTimeout": 1}}})
    assert bad.value.server_message and "between 15 and 2880" in bad.value.server_message
    _wait_running(api, ns, "taken")
    assert api.resume_endpoint(ns, "taken")["status"]["state"] == "running"
    with pytest.raises(errors.BadRequestError) as running:
        api.resume_endpoint(ns, "taken", running_ok=False)
    assert running.value.server_message == "Endpoint is already running"
    with pytest.raises(errors.PermissionDeniedError):
        api.list_endpoints("someone-else")
    stranger = EndpointsApi("hf_wrong", api_url=emulator.api_url, max_retries=0)
    with pytest.raises(errors.AuthenticationError):
        stranger.list_endpoints(ns)
    stranger.close()


def test_retries_through_injected_faults(api: EndpointsApi, emulator: EmulatorHandle) -> None:
    ns = emulator.user
    emulator.faults.respond(429, method="GET", path=f"/v2/endpoint/{ns}", times=2, retry_after=0)
    assert api.list_endpoints(ns) == []
    emulator.faults.respond(503, method="POST", path=f"/v2/endpoint/{ns}", times=1)
    assert api.create_endpoint(ns, endpoint_body("once"))["name"] == "once"
    emulator.faults.reset(method="GET", path=f"/v2/endpoint/{ns}/once", times=1)
    assert api.get_endpoint(ns, "once")["name"] == "once"
    assert [e["name"] for e in api.list_endpoints(ns)] == ["once"]  # one create, not two
    assert emulator.faults.state()["faultsFired"] == {"response": 3, "reset": 1}
    emulator.faults.respond(500, path="*", times=None)
    with pytest.raises(errors.ServerError):
        api.get_endpoint(ns, "once")


def _wait_running(api: EndpointsApi, ns: str, name: str) -> None:
    deadline = time.monotonic() + 10
    while api.get_endpoint(ns, name)["status"]["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
