"""The native provider plugin over gRPC, as the engine calls it: its schema and configuration,
the same checks, plans and operations as the dynamic provider (one core), a diff by property,
Read with no state (import), the functions, the engine's timeout, Cancel and status lines."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from google.rpc import status_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import provider_pb2

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import __version__, ownership
from pulumi_hf_endpoints.demo._engine.wire import from_struct, to_struct

from .conftest import GPT2, TYPE, NativeHost, RecordingEngine, live, urn, wait_until_created

ROOT = Path(__file__).resolve().parents[2]
PropertyDiff = provider_pb2.PropertyDiff


def test_it_answers_its_schema_with_its_version(native: NativeHost) -> None:
    schema = json.loads(native.stub.GetSchema(provider_pb2.GetSchemaRequest(), timeout=30).schema)
    source = json.loads((ROOT / "schema.json").read_text())
    assert schema["version"] == __version__
    assert {k: v for k, v in schema.items() if k != "version"} == source
    assert native.stub.GetPluginInfo(empty_pb2.Empty(), timeout=30).version == __version__


def test_check_config_names_what_it_cannot_use(native: NativeHost) -> None:
    news = {"tokn": "x", "requestTimeout": "0", "apiUrl": "http://127.0.0.1:1/v2", "version": "1"}
    response = native.stub.CheckConfig(
        provider_pb2.CheckRequest(urn=urn("default"), news=to_struct(news)), timeout=30
    )
    reasons = {f.property: f.reason for f in response.failures}
    assert set(reasons) == {"tokn", "requestTimeout"}
    assert "did you mean 'token'" in reasons["tokn"]
    assert (
        "hf-endpoints:requestTimeout" in reasons["requestTimeout"]
        and "1" in reasons["requestTimeout"]
    )


def test_diff_config_reconfigures_and_never_replaces(native: NativeHost) -> None:
    request = provider_pb2.DiffRequest(
        urn=urn("default"),
        olds=to_struct({"token": "a", "apiUrl": "u"}),
        news=to_struct({"token": "b", "apiUrl": "u"}),
    )
    response = native.stub.DiffConfig(request, timeout=30)
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.diffs) == ["token"] and not response.replaces


def test_check_derives_the_owner_and_auto_name_from_the_urn(native: NativeHost) -> None:
    inputs = native.checked("chat", GPT2)
    assert inputs["__owner"] == ownership.owner_id("proj", "dev", "chat")
    assert inputs["__logicalName"] == "chat"
    assert inputs["name"].startswith("chat-") and inputs["__defaults"] == ["name"]
    assert native.checked("chat", GPT2)["name"] == inputs["name"]  # derived, not random
    assert inputs["minReplica"] == 1 and inputs["wait"] is True  # the schema's defaults


def test_check_refuses_bad_input_by_property_with_the_closest_name(native: NativeHost) -> None:
    response = native.check("chat", {**GPT2, "minReplicas": 1, "vendor": "ibm"})
    reasons = {f.property: f.reason for f in response.failures}
    assert "did you mean 'minReplica'" in reasons["minReplicas"]
    assert "aws" in reasons["vendor"]


def test_diff_says_per_property_update_or_replace(native: NativeHost) -> None:
    olds = native.checked("chat", {**GPT2, "tags": ["a"]})
    changes = {"instanceSize": "x2", "region": "eu-west-1", "scalingMetric": "pendingRequests"}
    news = native.checked("chat", {**GPT2, **changes}, olds=olds)  # as the engine checks them
    response = native.diff_raw("chat", olds, news, old_inputs=olds)
    kinds = {name: diff.kind for name, diff in response.detailedDiff.items()}
    assert response.hasDetailedDiff and response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert kinds["instanceSize"] == PropertyDiff.UPDATE
    assert kinds["region"] == PropertyDiff.UPDATE_REPLACE
    assert kinds["scalingMetric"] == PropertyDiff.ADD
    assert kinds["tags"] == PropertyDiff.DELETE
    assert list(response.replaces) == ["region"]
    # Auto-named: the new endpoint is created before the old one goes.
    assert not response.deleteBeforeReplace
    same = native.diff_raw("chat", olds, olds, old_inputs=olds)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE and not same.detailedDiff


def test_a_lifecycle_on_the_shared_core(
    native: NativeHost, emulator: EmulatorHandle, engine: tuple[RecordingEngine, str]
) -> None:
    inputs = native.checked("chat", GPT2)
    created = native.create_raw("chat", inputs)
    outputs = from_struct(created.properties)
    assert created.id == f"{emulator.user}/{inputs['name']}"
    assert outputs["status"] == "running" and outputs["url"]
    assert outputs["__ownership"].startswith(f"pulumi-owner:{inputs['__owner']}.")
    held = live(emulator, inputs["name"])
    assert held is not None and outputs["__ownership"] in held["tags"]
    # Status lines beside the resource while it deployed, ending with it serving.
    statuses = engine[0].statuses(urn("chat"))
    assert statuses and statuses[-1].startswith("endpoint running")
    assert any("initializing" in line for line in statuses)

    news = native.checked("chat", {**GPT2, "instanceSize": "x2"})
    request = provider_pb2.UpdateRequest(
        id=created.id,
        urn=urn("chat"),
        name="chat",
        type=TYPE,
        olds=created.properties,
        news=to_struct(news),
    )
    updated = from_struct(native.stub.Update(request, timeout=120).properties)
    assert updated["instanceSize"] == "x2"
    assert (live(emulator, inputs["name"]) or {})["compute"]["instanceSize"] == "x2"

    read = native.stub.Read(
        provider_pb2.ReadRequest(
            id=created.id,
            urn=urn("chat"),
            name="chat",
            type=TYPE,
            properties=to_struct(updated),
            inputs=to_struct(news),
        ),
        timeout=60,
    )
    assert read.id == created.id and from_struct(read.inputs)["instanceSize"] == "x2"

    native.stub.Delete(
        provider_pb2.DeleteRequest(
            id=created.id, urn=urn("chat"), name="chat", type=TYPE, properties=to_struct(updated)
        ),
        timeout=120,
    )
    assert live(emulator, inputs["name"]) is None


def test_read_with_no_state_imports_an_endpoint_that_then_plans_no_change(
    native: NativeHost, emulator: EmulatorHandle
) -> None:
    made = native.create_raw("made", native.checked("made", {**GPT2, "name": "outside"}))
    read = native.stub.Read(
        provider_pb2.ReadRequest(id=made.id, urn=urn("imported"), name="imported", type=TYPE),
        timeout=60,
    )
    inputs, outputs = from_struct(read.inputs), from_struct(read.properties)
    assert inputs["name"] == "outside" and inputs["namespace"] == emulator.user
    assert inputs["instanceType"] == "intel-spr"
    assert outputs["__ownership"] == from_struct(made.properties)["__ownership"]
    checked = native.checked("imported", inputs)
    plan = native.diff_raw("imported", outputs, checked, old_inputs=inputs)
    assert plan.changes == provider_pb2.DiffResponse.DIFF_NONE, dict(plan.detailedDiff)


def test_functions_are_invoked_with_the_providers_settings(native: NativeHost) -> None:
    response = native.stub.Invoke(
        provider_pb2.InvokeRequest(
            tok="hf-endpoints:index:getHardware", args=to_struct({"vendor": "aws"})
        ),
        timeout=60,
    )
    result = from_struct(getattr(response, "return"))
    assert result["hardware"] and {row["vendor"] for row in result["hardware"]} == {"aws"}
    assert "instanceType" in result["hardware"][0] and "pricePerHour" in result["hardware"][0]
    bad = native.stub.Invoke(
        provider_pb2.InvokeRequest(
            tok="hf-endpoints:index:getHardware", args=to_struct({"vendor": "nowhere"})
        ),
        timeout=60,
    )
    assert "nowhere" in bad.failures[0].reason
    with pytest.raises(grpc.RpcError) as info:
        native.stub.Invoke(
            provider_pb2.InvokeRequest(tok="hf-endpoints:index:getNothing"), timeout=60
        )
    assert "getHardware" in str(info.value.details())


def _details(error: grpc.RpcError) -> provider_pb2.ErrorResourceInitFailed:
    metadata = dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    detail = provider_pb2.ErrorResourceInitFailed()
    assert status.details[0].Unpack(detail)
    return detail


def test_cancel_ends_a_wait_and_the_endpoint_is_recorded(
    native: NativeHost, emulator: EmulatorHandle
) -> None:
    emulator.faults.set_timings(initializing_seconds=3600)  # without Cancel, the create would wait
    inputs = native.checked("slow", GPT2)
    failure: list[grpc.RpcError] = []

    def create() -> None:
        try:
            native.create_raw("slow", inputs)
        except grpc.RpcError as exc:
            failure.append(exc)

    worker = threading.Thread(target=create)
    worker.start()
    wait_until_created(emulator, inputs["name"])
    native.stub.Cancel(empty_pb2.Empty(), timeout=30)
    worker.join(timeout=100)
    assert failure, "the create did not end on Cancel"
    detail = _details(failure[0])
    assert detail.id == f"{emulator.user}/{inputs['name']}"
    outputs = from_struct(detail.properties)
    assert outputs["status"] in ("pending", "initializing")
    assert outputs["__ownership"].startswith("pulumi-owner:")
    assert "cancelled" in detail.reasons[0]
    # Recorded, not rolled back: the endpoint is still there.
    assert live(emulator, inputs["name"]) is not None


def test_the_engines_timeout_bounds_the_wait(native: NativeHost, emulator: EmulatorHandle) -> None:
    emulator.faults.set_timings(initializing_seconds=3600)
    inputs = native.checked("late", GPT2)
    with pytest.raises(grpc.RpcError) as info:
        native.create_raw("late", inputs, timeout=1)
    message = str(info.value.details())  # type: ignore[attr-defined]
    assert "after 1 s" in message and "deleted so that it does not keep billing" in message
    assert live(emulator, inputs["name"]) is None


def test_another_type_is_refused(native: NativeHost) -> None:
    request = provider_pb2.CheckRequest(
        urn="urn:pulumi:dev::proj::aws:s3/bucket:Bucket::b", type="aws:s3/bucket:Bucket"
    )
    with pytest.raises(grpc.RpcError) as info:
        native.stub.Check(request, timeout=30)
    assert TYPE in str(info.value.details())  # type: ignore[attr-defined]
