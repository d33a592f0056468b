"""A stack deployed with release 0.1.0 keeps working with this code.

`tests/fixtures/golden_state_0_1_0.json` is the state 0.1.0 wrote (checked inputs, outputs, the
pickled `__provider` blob) for a named custom-image endpoint and an auto-named one, recorded by
`tests/fixtures/record_golden_state.py` from the 0.1.0 checkout. The same program, declared with
today's code, must plan no change; the saved state must refresh without drift, update in place
and destroy, through Pulumi's provider host. The engine unpickles the *saved* blob for Read and
Delete, so those calls run the class path 0.1.0 pickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import InferenceEndpoint
from tests.harness import Engine, ProviderHost, RegisteredResource, ResourceState, capture_program
from tests.provider.test_lifecycle import api_of

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "golden_state_0_1_0.json"
GOLDEN: dict[str, Any] = json.loads(FIXTURE.read_text())
OLD_BLOB = GOLDEN["resources"]["named"]["inputs"]["__provider"]


def program(key: str, **changes: Any) -> RegisteredResource:
    """The 0.1.0 program's resource `key`, declared with today's code."""
    kwargs = {**GOLDEN["program"][key], **changes}
    (res,) = capture_program(lambda: InferenceEndpoint(key, **kwargs))
    return res


@pytest.fixture
def stack(live_host: ProviderHost, emulator: EmulatorHandle) -> Engine:
    """An engine holding the 0.1.0 state, over endpoints the service really has."""
    engine = Engine(live_host)
    for saved in GOLDEN["resources"].values():
        namespace = saved["id"].split("/")[0]
        assert namespace == emulator.user
        # Created when its instance type (intel-icl) was not deprecated yet.
        emulator.seed_endpoint(namespace, saved["createPayload"])
    for saved in GOLDEN["resources"].values():
        urn = saved["urn"]
        engine.state[urn] = ResourceState(urn, saved["id"], saved["inputs"], saved["outputs"])
    return engine


def test_the_fixture_is_what_0_1_0_wrote() -> None:
    assert GOLDEN["version"] == "0.1.0"
    named, auto = GOLDEN["resources"]["named"], GOLDEN["resources"]["auto"]
    assert "customImage" in named["outputs"] and named["outputs"]["name"] == "golden-named"
    assert auto["inputs"]["__defaults"] == ["name"]  # an auto-name
    # A reference to the class, by module path: nothing of the instance is in it.
    import base64

    pickled = base64.b64decode(OLD_BLOB)
    assert b"pulumi_hf_endpoints.provider" in pickled and b"InferenceEndpointProvider" in pickled


def test_the_unchanged_program_plans_no_change(stack: Engine) -> None:
    for key in ("named", "auto"):
        res = program(key)
        step = stack.preview(res.urn, res.inputs)
        assert step.op == "same", (key, step.changed)
        assert stack.up(res.urn, res.inputs).op == "same"


def test_the_saved_state_refreshes_without_drift(stack: Engine, live_host: ProviderHost) -> None:
    for key, saved in GOLDEN["resources"].items():
        urn = saved["urn"]
        start = len(live_host.transcript)
        step = stack.refresh(urn)
        assert step.op == "refresh" and step.drift is False, (key, step.changed)
        read = next(e for e in live_host.transcript[start:] if e.method == "Read")
        assert read.request["properties"]["__provider"] == OLD_BLOB  # the saved class path
        public = {k for k in saved["inputs"] if not k.startswith("__")}
        assert {k for k in stack.state[urn].inputs if not k.startswith("__")} == public
        res = program(key)
        assert stack.preview(res.urn, res.inputs).op == "same"


def test_the_saved_state_updates_in_place(stack: Engine, emulator: EmulatorHandle) -> None:
    res = program("named", max_replica=3)
    step = stack.up(res.urn, res.inputs)
    assert step.op == "update" and step.changed == {"maxReplica": (2.0, 3.0)}
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, "golden-named")
    assert live["compute"]["scaling"]["maxReplica"] == 3
    assert live["model"]["image"]["custom"]["url"].endswith("text-generation-inference:1.1.0")
    auto = program("auto", max_replica=2)
    assert stack.up(auto.urn, auto.inputs).op == "update"
    assert stack.state[auto.urn].outputs["name"] == GOLDEN["resources"]["auto"]["outputs"]["name"]


def test_the_saved_state_destroys(
    stack: Engine, live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    start = len(live_host.transcript)
    steps = stack.destroy_all()
    assert sorted(s.op for s in steps) == ["delete", "delete"] and stack.state == {}
    deletes = [e for e in live_host.transcript[start:] if e.method == "Delete"]
    assert {e.request["properties"]["__provider"] for e in deletes} == {OLD_BLOB}
    with api_of(emulator) as api:
        assert api.list_endpoints(emulator.user) == []


def test_a_0_1_0_endpoint_takes_its_ownership_tag_at_its_first_update(
    stack: Engine, emulator: EmulatorHandle
) -> None:
    """0.1.0 wrote no ownership tag: the endpoint has none until its next update, and a delete
    of such an endpoint goes ahead as before."""
    with api_of(emulator) as api:
        assert not any(
            t.startswith("pulumi-owner:")
            for t in api.get_endpoint(emulator.user, "golden-named")["tags"] or []
        )
    res = program("named", max_replica=3)
    stack.up(res.urn, res.inputs)
    marker = stack.state[res.urn].outputs["__ownership"]
    with api_of(emulator) as api:
        tags = api.get_endpoint(emulator.user, "golden-named")["tags"]
    assert marker in tags and marker.startswith("pulumi-owner:")
    assert "pulumi-owner" not in json.dumps(stack.state[res.urn].outputs.get("tags"))
    stack.destroy_all()
    with api_of(emulator) as api:
        assert api.list_endpoints(emulator.user) == []


def test_a_0_1_0_endpoint_adopted_by_a_renamed_resource_survives_the_old_ones_delete(
    stack: Engine, emulator: EmulatorHandle
) -> None:
    """Rename without an alias, then adoption, as the refusal advises: the 0.1.0 state records
    no tag, the endpoint now carries the new resource's, so the old resource's delete (at the
    end of the run) leaves it alone."""
    saved = GOLDEN["resources"]["named"]
    renamed = capture_program(
        lambda: InferenceEndpoint(
            "renamed", **{**GOLDEN["program"]["named"], "adopt_existing": True}
        )
    )[0]
    with stack.deployment():
        assert stack.register(renamed).op == "create"
        stack.remove_undeclared([renamed.urn, GOLDEN["resources"]["auto"]["urn"]])
    assert saved["urn"] not in stack.state
    assert stack.state[renamed.urn].id == saved["id"]
    with api_of(emulator) as api:
        assert api.get_endpoint(emulator.user, "golden-named")["name"] == "golden-named"
