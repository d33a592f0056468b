"""Private endpoints (AWS PrivateLink) in the emulator: `privateService` is validated as the
service's own rules say, the VPC endpoint service name is reported once the endpoint has been
deployed, stable for its life, and the public URL refuses everyone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.emulator.control_plane_testkit import PRIVATE_LINK_ACCOUNT, Endpoints, endpoint_body

SERVICE_NAME = re.compile(r"^com\.amazonaws\.vpce\.(us-east-1|eu-west-1)\.vpce-svc-[0-9a-f]{17}$")


@pytest.fixture
def endpoints(emulator: EmulatorHandle) -> Iterator[Endpoints]:
    client = Endpoints(emulator)
    yield client
    client.close()


def private_body(name: str, **private: Any) -> dict[str, Any]:
    body = endpoint_body(name, type="private")
    body["privateService"] = {"accountId": PRIVATE_LINK_ACCOUNT, **private}
    return body


def refused(endpoints: Endpoints, body: dict[str, Any]) -> str:
    response = endpoints.http.post(f"/v2/endpoint/{endpoints.namespace}", json=body)
    assert response.status_code == 400, response.text
    assert (
        endpoints.http.get(f"/v2/endpoint/{endpoints.namespace}/{body['name']}").status_code == 404
    )
    return str(response.json()["error"])


def test_a_private_endpoint_reports_its_service_name_once_deployed(
    endpoints: Endpoints, emulator: EmulatorHandle
) -> None:
    created = endpoints.create(private_body("hidden"))
    assert created["status"]["state"] == "pending"
    assert created["status"]["private"] is None  # no VPC endpoint service before it runs
    assert created["privateService"] == {
        "accountId": PRIVATE_LINK_ACCOUNT,
        "region": "us-east-1",  # the endpoint's own region: an intra-region link
        "shared": False,
    }
    endpoints.watch("hidden", "running")
    running = endpoints.get("hidden")
    name = running["status"]["private"]["serviceName"]
    assert SERVICE_NAME.match(name) and ".us-east-1." in name
    endpoints.http.post(f"/v2/endpoint/{endpoints.namespace}/hidden/pause")
    paused = endpoints.get("hidden")
    assert paused["status"]["state"] == "paused"
    assert paused["status"]["private"]["serviceName"] == name  # stable for its life
    # Reachable only through PrivateLink: the public URL refuses the owner too.
    response = endpoints.http.get(running["status"]["url"] + "/health")
    assert response.status_code == 403


def test_service_names_are_per_endpoint_unless_shared(endpoints: Endpoints) -> None:
    for name, shared in (
        ("alone-a", False),
        ("alone-b", False),
        ("team-a", True),
        ("team-b", True),
    ):
        endpoints.create(private_body(name, shared=shared, region="eu-west-1"))
    names = {}
    for name in ("alone-a", "alone-b", "team-a", "team-b"):
        endpoints.watch(name, "running")
        names[name] = endpoints.get(name)["status"]["private"]["serviceName"]
        assert ".eu-west-1." in names[name]
    assert names["alone-a"] != names["alone-b"]
    assert names["team-a"] == names["team-b"] != names["alone-a"]  # one shared VPC endpoint


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"privateService": None},
            "VALIDATION_FAILED: privateService: a private endpoint needs the AWS account allowed"
            " to connect through PrivateLink (`privateService.accountId`)",
        ),
        (
            {"type": "authenticated"},
            "VALIDATION_FAILED: privateService: only a private endpoint is reached through"
            " PrivateLink (type is `authenticated`)",
        ),
        (
            {"privateService": {"accountId": "12345"}},
            "VALIDATION_FAILED: privateService.accountId: must be a 12-digit AWS account id",
        ),
        (
            {"privateService": {"accountId": PRIVATE_LINK_ACCOUNT, "region": "us-west-2"}},
            "VALIDATION_FAILED: privateService.region: no PrivateLink entry point in `us-west-2`,"
            " expected one of `us-east-1`, `eu-west-1`",
        ),
        (
            {
                "provider": {"vendor": "aws", "region": "us-east-2"},
                "privateService": {"accountId": PRIVATE_LINK_ACCOUNT},
            },
            "VALIDATION_FAILED: privateService.region: required, the endpoint's region has no"
            " PrivateLink entry point: one of `us-east-1`, `eu-west-1`",
        ),
        (
            {"privateService": {"region": "us-east-1"}},
            "Failed to parse the request body as JSON: privateService: missing field `accountId`",
        ),
    ],
)
def test_private_service_rules(endpoints: Endpoints, change: dict[str, Any], message: str) -> None:
    body = {**private_body("bad"), **change}
    if body["privateService"] is None:
        del body["privateService"]
    if body["provider"]["region"] == "us-east-2":
        body["compute"]["instanceType"] = "intel-spr"
    assert refused(endpoints, body) == message


def test_an_entry_point_in_another_region_is_accepted(endpoints: Endpoints) -> None:
    body = private_body("cross", region="eu-west-1")
    body["provider"] = {"vendor": "aws", "region": "us-east-2"}
    assert endpoints.create(body)["privateService"]["region"] == "eu-west-1"
