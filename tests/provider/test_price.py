"""`pricePerHour`: the instance's price from the namespace's hardware list, read by the provider
after create, update and refresh (cached per provider process), never at check or diff, never a
cause of a diff, and never a cause of failure."""

from __future__ import annotations

from typing import Any

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import InferenceEndpoint
from tests.harness import Engine, ProviderHost, capture_program
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2

SPR: dict[str, Any] = {**GPT2, "type": "authenticated", "instance_type": "intel-spr"}
"""aws us-east-1 intel-spr: $0.033 per hour at x1, $0.134 at x4 (the service's pricing page)."""


def hardware_requests(emulator: EmulatorHandle) -> str:
    """Count the requests for the hardware list (a rule that delays each by a millisecond)."""
    rule = emulator.faults.stall(0.001, method="GET", path="/v2/provider/*", times=None)
    return str(rule["id"])


def fired(emulator: EmulatorHandle, rule_id: str) -> int:
    return next(int(f["fired"]) for f in emulator.faults.list() if f["id"] == rule_id)


def test_price_after_create_update_and_refresh_without_a_diff(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    small = declare("priced", **{**SPR, "instance_size": "x1"})
    created = engine.up(small.urn, small.inputs)
    assert created.op == "create" and created.outputs is not None
    assert created.outputs["pricePerHour"] == 0.033
    assert "pricePerHour" not in engine.state[small.urn].inputs  # an output only

    requests = hardware_requests(emulator)
    assert engine.preview(small.urn, small.inputs).op == "same"
    assert fired(emulator, requests) == 0  # a preview never reads prices

    bigger = declare("priced", **{**SPR, "instance_size": "x4"})
    plan = engine.preview(bigger.urn, bigger.inputs)
    assert plan.op == "update" and set(plan.changed) == {"instanceSize"}
    updated = engine.up(bigger.urn, bigger.inputs)
    assert updated.op == "update" and updated.outputs is not None
    assert updated.outputs["pricePerHour"] == 0.134  # the new size's price

    refreshed = engine.refresh(bigger.urn)
    assert refreshed.drift is False and refreshed.changed == {}
    assert refreshed.outputs is not None and refreshed.outputs["pricePerHour"] == 0.134
    assert engine.preview(bigger.urn, bigger.inputs).op == "same"
    assert fired(emulator, requests) == 0  # update and refresh found the list in the cache

    (read,) = capture_program(lambda: InferenceEndpoint.get("read", created.id or ""))
    found = engine.get(read.urn, created.id or "", read.inputs)  # InferenceEndpoint.get
    assert found.outputs is not None and found.outputs["pricePerHour"] == 0.134
    engine.destroy_all()


def test_one_lookup_serves_endpoints_created_together(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    requests = hardware_requests(emulator)
    engine = Engine(live_host)
    gpu = {**SPR, "accelerator": "gpu", "instance_type": "nvidia-l4", "instance_size": "x1"}
    resources = [declare("cpu", **{**SPR, "instance_size": "x2"}), declare("gpu", **gpu)]
    steps = engine.up_program(resources)
    prices = {s.name: (s.outputs or {}).get("pricePerHour") for s in steps}
    assert prices == {"cpu": 0.067, "gpu": 0.8}
    assert fired(emulator, requests) == 1
    engine.destroy_all()


def test_a_failed_lookup_leaves_the_price_out_with_a_warning(emulator: EmulatorHandle) -> None:
    emulator.faults.respond(503, method="GET", path="/v2/provider/*", times=None)
    with ProviderHost(env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}) as host:
        host.configure(
            {
                "huggingface:token": emulator.token,
                "huggingface:apiUrl": emulator.api_url,
                "huggingface:maxRetries": "0",
            },
            secret_keys=["huggingface:token"],
        )
        engine = Engine(host)
        res = declare("unpriced", **{**SPR, "instance_size": "x1"})
        step = engine.up(res.urn, res.inputs)
        assert step.op == "create" and step.outputs is not None
        assert step.outputs["status"] == "running" and "pricePerHour" not in step.outputs
        refreshed = engine.refresh(res.urn)
        assert refreshed.drift is False and "pricePerHour" not in (refreshed.outputs or {})
        engine.destroy_all()
        log = host.stderr_text()
    assert f"pricePerHour of {emulator.user}/" in log and "503" in log
    assert emulator.token not in log


def test_the_program_reads_the_price_as_an_attribute() -> None:
    seen: dict[str, Any] = {}

    def new_resource(args: Any) -> tuple[str, dict[str, Any]]:
        return "me/ep", {**args.inputs, "pricePerHour": 0.8}

    def program() -> None:
        ep = InferenceEndpoint("a", **SPR)
        ep.price_per_hour.apply(lambda price: seen.__setitem__("price", price))

    capture_program(program, new_resource=new_resource)
    assert seen["price"] == 0.8
