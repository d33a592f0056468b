"""Hardware the service refuses: a create or update on a deprecated instance, one not offered,
or one over quota fails with a message that names the instance and what to do: the
replacement to pick, what the region offers, or the quota and how to raise it."""

from __future__ import annotations

from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.client.models import Hardware
from pulumi_hf_endpoints.hardware_hints import explain, replacement
from pulumi_hf_endpoints.spec import spec_from_properties
from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of


def refused_create(host: ProviderHost, **changes: Any) -> str:
    engine = Engine(host)
    res = declare("hw", **{**GPT2, **changes}, name="hw")
    with pytest.raises(ProviderError) as info:
        engine.up(res.urn, res.inputs)
    return info.value.message


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        (
            {"instance_type": "intel-icl"},
            "instance intel-icl x2 in aws us-east-1 is deprecated: the service takes no new "
            "deployments on it; pick intel-spr x2, $0.067/h instead",
        ),
        (
            {"accelerator": "gpu", "instance_type": "nvidia-h100", "instance_size": "x1"},
            "pick nvidia-h200 x1, $5/h instead",  # the nearest in price of the same size
        ),
        (
            {"instance_size": "x64"},
            "aws us-east-1 offers no cpu instance intel-spr x64; its cpu instances: "
            "intel-spr x1, $0.033/h; intel-spr x16",
        ),
        (
            {"vendor": "azure"},
            "azure us-east-1 is not offered to this namespace; it may use: aws eu-west-1",
        ),
        (
            {"region": "us-east-9"},
            "aws us-east-9 is not offered to this namespace",
        ),
        (
            {
                "accelerator": "gpu",
                "instance_type": "nvidia-l40s",
                "instance_size": "x8",
                "min_replica": 2,
                "max_replica": 2,
            },
            "the namespace's quota of nvidia-l40s in aws us-east-1 is 8 accelerators, 0 in use "
            "(this endpoint's own included); it starts with 16 (2 replica(s) of 8): lower "
            "minReplica, or ask for more quota at https://endpoints.huggingface.co/contact",
        ),
    ],
    ids=["deprecated-cpu", "deprecated-gpu", "not-offered", "vendor", "region", "quota"],
)
def test_a_refused_create_names_the_instance_and_what_to_pick(
    changes: dict[str, Any],
    said: str,
    live_host: ProviderHost,
    emulator: EmulatorHandle,
) -> None:
    message = refused_create(live_host, **changes)
    assert "400 Bad Request" in message and said in message
    with api_of(emulator) as api:
        assert api.list_endpoints(emulator.user) == []


def test_an_update_onto_a_deprecated_instance_is_refused_and_an_old_one_keeps_running(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("hw", **GPT2, name="hw")
    engine.up(res.urn, res.inputs)
    moved = declare("hw", **{**GPT2, "instance_type": "intel-icl"}, name="hw")
    with pytest.raises(ProviderError) as info:
        engine.up(moved.urn, moved.inputs)
    assert "intel-icl x2 in aws us-east-1 is deprecated" in info.value.message
    assert "pick intel-spr x2" in info.value.message
    # An endpoint created on it before the deprecation takes other changes.
    body = {
        "name": "old-icl",
        "type": "authenticated",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-icl",
            "instanceSize": "x2",
            "scaling": {"minReplica": 1, "maxReplica": 1},
        },
        "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
    }
    emulator.seed_endpoint(emulator.user, body)
    with api_of(emulator) as api:
        updated = api.update_endpoint(emulator.user, "old-icl", {"model": {"env": {"A": "1"}}})
    assert updated["compute"]["instanceType"] == "intel-icl"
    engine.destroy_all()


def _row(**fields: Any) -> Hardware:
    base: dict[str, Any] = {
        "id": "x",
        "vendor": "aws",
        "region": "us-east-1",
        "accelerator": "gpu",
        "instance_type": "nvidia-a",
        "instance_size": "x1",
        "architecture": None,
        "num_accelerators": 1,
        "num_cpus": None,
        "memory_gb": None,
        "gpu_memory_gb": 24.0,
        "price_per_hour": 1.0,
        "status": "available",
        "max_accelerators": 8,
        "used_accelerators": 0,
    }
    return Hardware(**{**base, **fields})


def test_the_replacement_is_the_nearest_in_price_of_the_same_size_and_accelerator() -> None:
    asked = _row(instance_type="old", price_per_hour=4.0, status="deprecated")
    near = _row(instance_type="near", price_per_hour=4.5)
    far = _row(instance_type="far", price_per_hour=1.0)
    other_size = _row(instance_type="size", instance_size="x2", price_per_hour=4.0)
    gone = _row(instance_type="gone", price_per_hour=4.0, status="not_available")
    cpu = _row(instance_type="cpu", accelerator="cpu", price_per_hour=4.0)
    rows = [asked, far, near, other_size, gone, cpu]
    assert replacement(asked, rows) == near
    assert replacement(asked, [asked, other_size]) == other_size  # no row of that size
    assert replacement(asked, [asked, cpu, gone]) is None


def test_nothing_is_said_when_the_hardware_list_shows_nothing_wrong() -> None:
    props = {
        "repository": "gpt2",
        "framework": "pytorch",
        "accelerator": "gpu",
        "vendor": "aws",
        "region": "us-east-1",
        "instanceType": "nvidia-a",
        "instanceSize": "x1",
    }
    assert explain([_row()], spec_from_properties(props)) == ""
