"""Private endpoints (AWS PrivateLink) and the `type` decision, through Pulumi's provider host:
check refuses bad `privateService` inputs before any request, a private endpoint is created
with its account and exports its VPC endpoint service name, waiting never probes its URL,
refresh finds no drift, and changing `privateService` or `type` replaces the endpoint."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import PrivateServiceArgs
from pulumi_hf_endpoints.client.models import Endpoint
from pulumi_hf_endpoints.waiting import Waiter
from tests.harness import CheckFailedError, Engine, ProviderHost
from tests.provider.conftest import CountingServer, declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of

ACCOUNT = "012345678901"
SERVICE_NAME = re.compile(r"^com\.amazonaws\.vpce\.us-east-1\.vpce-svc-[0-9a-f]{17}$")
PRIVATE: dict[str, Any] = {
    **GPT2,
    "type": "private",
    "private_service": PrivateServiceArgs(account_id=ACCOUNT),
}


# ------------------------------------------------------------------------------ check, offline


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"private_service": None}, "privateService is required for a private endpoint"),
        ({"type": "authenticated"}, "only for endpoints of type 'private'"),
        (
            {"private_service": PrivateServiceArgs(account_id="1234")},
            "privateService.accountId must be a 12-digit AWS account id",
        ),
        (
            {"private_service": {"accountId": ACCOUNT, "region": "ap-south-1"}},
            "entry point: us-east-1 or eu-west-1 (got 'ap-south-1')",
        ),
        (
            {"region": "us-east-2"},
            "privateService.region is required: the AWS region of the PrivateLink entry point, "
            "one of: us-east-1, eu-west-1",
        ),
    ],
)
def test_check_refuses_bad_private_service_without_a_request(
    offline_host: ProviderHost,
    counting_server: CountingServer,
    changes: dict[str, Any],
    fragment: str,
) -> None:
    args = {k: v for k, v in {**PRIVATE, **changes}.items() if v is not None}
    res = declare("hidden", **args)
    failures = offline_host.check(res.urn, {}, res.inputs).failures
    assert [f.property for f in failures] == ["privateService"]
    assert fragment in failures[0].reason
    with pytest.raises(CheckFailedError, match="privateService"):
        Engine(offline_host).up(res.urn, res.inputs)
    assert counting_server.requests == []


def test_both_forms_check_to_the_same_inputs(offline_host: ProviderHost) -> None:
    as_args = declare("a", **PRIVATE, name="a")
    as_dict = declare("a", **{**PRIVATE, "private_service": {"account_id": ACCOUNT}}, name="a")
    checked = [offline_host.check(r.urn, {}, r.inputs).inputs for r in (as_args, as_dict)]
    assert (
        checked[0]["privateService"]
        == checked[1]["privateService"]
        == {
            "accountId": ACCOUNT,
            "region": "us-east-1",
            "shared": False,
        }
    )


# ------------------------------------------------------------------------- against the emulator


def data_plane_counter(emulator: EmulatorHandle) -> dict[str, Any]:
    """A rule that delays every request to an endpoint URL by a millisecond: its `fired` count
    is how many requests reached the data plane, denied ones included."""
    return emulator.faults.stall(0.001, path="/endpoints/*", times=None)


def fired(emulator: EmulatorHandle, rule: dict[str, Any]) -> int:
    (found,) = [r for r in emulator.faults.list() if r["id"] == rule["id"]]
    return int(found["fired"])


def test_a_private_endpoint_is_created_with_its_account_and_exports_its_service_name(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    counter = data_plane_counter(emulator)
    res = declare("hidden", **PRIVATE, name="hidden", wait_timeout=120)
    step = engine.up(res.urn, res.inputs)
    assert step.op == "create"
    out = step.outputs
    assert out is not None and out["status"] == "running" and out["type"] == "private"
    assert out["privateService"] == {"accountId": ACCOUNT, "region": "us-east-1", "shared": False}
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "hidden")
    assert live["privateService"]["accountId"] == ACCOUNT
    assert out["privateServiceName"] == live["status"]["private"]["serviceName"]
    assert SERVICE_NAME.match(out["privateServiceName"])
    # Its URL answers nobody outside the VPC: readiness came from the status alone.
    assert fired(emulator, counter) == 0

    refreshed = engine.refresh(res.urn)
    assert refreshed.drift is False
    assert refreshed.outputs is not None
    assert refreshed.outputs["privateServiceName"] == out["privateServiceName"]
    assert engine.up(res.urn, res.inputs).op == "same"

    # The instrument works: an authenticated endpoint's readiness is probed at its URL.
    public = declare("open", **GPT2, name="open")
    assert engine.up(public.urn, public.inputs).op == "create"
    assert fired(emulator, counter) >= 1
    engine.destroy_all()


def test_changing_private_service_replaces_the_endpoint(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("hidden", **PRIVATE, name="hidden")
    first = engine.up(res.urn, res.inputs).outputs
    assert first is not None
    other = "999999999999"
    moved = declare(
        "hidden",
        **{**PRIVATE, "private_service": PrivateServiceArgs(account_id=other)},
        name="hidden",
    )
    planned = engine.preview(moved.urn, moved.inputs)
    assert planned.op == "replace"
    assert planned.diff is not None and planned.diff.replaces == ["privateService"]
    step = engine.up(moved.urn, moved.inputs)
    assert step.op == "replace" and step.outputs is not None
    assert step.outputs["privateService"]["accountId"] == other
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "hidden")
    assert live["privateService"]["accountId"] == other
    assert step.outputs["url"] != first["url"]  # a new endpoint
    assert step.outputs["privateServiceName"] != first["privateServiceName"]
    assert engine.refresh(moved.urn).drift is False
    engine.destroy_all()


# ------------------------------------------------------------------------------ type


@pytest.mark.parametrize("name", ["web", None])
def test_changing_type_replaces_the_endpoint(
    live_host: ProviderHost, emulator: EmulatorHandle, name: str | None
) -> None:
    """The service's documentation offers no type change on an existing endpoint (docs/resource.md,
    "Update or replacement"): a new endpoint gets the new type, at a new URL."""
    engine = Engine(live_host)
    named = {"name": name} if name else {}
    res = declare("web", **{**GPT2, "type": "authenticated"}, **named)
    first = engine.up(res.urn, res.inputs).outputs
    assert first is not None
    opened = declare("web", **{**GPT2, "type": "public"}, **named)
    planned = engine.preview(opened.urn, opened.inputs)
    assert planned.op == "replace"
    assert planned.diff is not None and planned.diff.replaces == ["type"]
    assert planned.diff.delete_before_replace is bool(name)  # a name is unique: delete first
    step = engine.up(opened.urn, opened.inputs)
    assert step.op == "replace" and step.outputs is not None
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, step.outputs["name"])
        names = {e["name"] for e in api.list_endpoints(emulator.user)}
    assert live["type"] == "public" and step.outputs["type"] == "public"
    assert step.outputs["url"] != first["url"]
    assert names == {step.outputs["name"]}  # the old endpoint is gone
    engine.destroy_all()


# ------------------------------------------------------------------------------ waiting


class ProbeRecordingApi:
    """Answers every poll with `answer`; records health probes."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.probed: list[str] = []

    def get_endpoint(self, namespace: str, name: str) -> Endpoint:
        return Endpoint.from_raw(self.answer)

    def probe(self, url: str) -> int:
        self.probed.append(url)
        return 200


@pytest.mark.parametrize(("kind", "probes"), [("private", 0), ("authenticated", 1)])
def test_the_waiter_probes_every_endpoint_but_a_private_one(kind: str, probes: int) -> None:
    api = ProbeRecordingApi(
        {
            "name": "e",
            "type": kind,
            "healthRoute": "/health",
            "provider": {"vendor": "aws", "region": "us-east-1"},
            "compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2"},
            "model": {"repository": "gpt2"},
            "status": {"state": "running", "url": "https://e.example"},
        }
    )
    found = Waiter(api, "ns", "e", interval=0.01).wait("running", 60)  # type: ignore[arg-type]
    assert found is not None and found.state == "running"
    assert len(api.probed) == probes
