"""Engine flows (up/preview/refresh/destroy/get) over the real host, with the echo provider."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.harness import (
    UNKNOWN,
    CheckFailedError,
    Engine,
    ProviderError,
    ProviderHost,
    RegisteredResource,
)
from tests.harness.sdk import HOST_SENDS_TRACEBACKS

from .conftest import PROJECT, TOKEN, urn


def props(blob: str, **values: Any) -> dict[str, Any]:
    return {"__provider": blob, **values}


def rpc_log(engine: Engine, start: int) -> list[tuple[str, Any]]:
    """(method, id) of each RPC since `start`; the id of a Create is the one it returned."""
    out: list[tuple[str, Any]] = []
    for method, request, response in engine.host.transcript[start:]:
        if method == "Create" and isinstance(response, dict):
            out.append((method, response.get("id")))
        else:
            out.append((method, request.get("id")))
    return out


def test_create_same_update(engine: Engine, blob: str) -> None:
    u = urn("csu")
    created = engine.up(u, props(blob, name="csu", size=1))
    assert created.op == "create" and created.rpcs == ["Check", "Create"]
    assert engine.state[u].id == created.id and engine.state[u].outputs["op"] == "create"
    assert engine.state[u].inputs["size"] == 1.0

    same = engine.up(u, props(blob, name="csu", size=1))
    assert same.op == "same" and same.rpcs == ["Check", "Diff"]
    assert same.diff is not None and same.diff.changes is False
    assert engine.state[u].outputs["op"] == "create"  # a same step keeps the old outputs

    updated = engine.up(u, props(blob, name="csu", size=2))
    assert updated.op == "update" and updated.rpcs == ["Check", "Diff", "Update"]
    assert updated.id == created.id
    assert engine.state[u].outputs["op"] == "update" and engine.state[u].outputs["size"] == 2.0

    diff_req = next(r for m, r, _ in reversed(engine.host.transcript) if m == "Diff")
    assert diff_req["olds"]["op"] == "create"  # Diff gets the old outputs ...
    assert "op" not in diff_req["old_inputs"]  # ... and the old inputs separately
    check_req = next(r for m, r, _ in reversed(engine.host.transcript) if m == "Check")
    assert "op" not in check_req["olds"]  # Check gets the old inputs


def test_replace_create_before_delete(engine: Engine, blob: str) -> None:
    u = urn("cbd")
    old = engine.up(u, props(blob, name="cbd", region="a", replace_keys=["region"]))
    start = len(engine.host.transcript)
    step = engine.up(u, props(blob, name="cbd", region="b", replace_keys=["region"]))
    assert step.op == "replace" and step.delete_before_replace is False
    assert step.diff is not None and step.diff.replaces == ["region"]
    assert step.rpcs == ["Check", "Diff", "Check", "Create", "Delete"]
    assert rpc_log(engine, start) == [
        ("Check", None),
        ("Diff", old.id),
        ("Check", None),
        ("Create", step.id),
        ("Delete", old.id),
    ]
    second_check = engine.host.transcript[start + 2].request
    assert "olds" not in second_check or second_check["olds"] == {}  # re-check with no olds
    assert step.old_id == old.id and step.id != old.id
    assert engine.state[u].id == step.id and engine.state[u].outputs["region"] == "b"


def test_replace_delete_before_replace(engine: Engine, blob: str) -> None:
    u = urn("dbr")
    old = engine.up(u, props(blob, name="dbr", region="a", replace_keys=["region"], dbr=True))
    start = len(engine.host.transcript)
    step = engine.up(u, props(blob, name="dbr", region="b", replace_keys=["region"], dbr=True))
    assert step.op == "replace" and step.delete_before_replace is True
    assert step.rpcs == ["Check", "Diff", "Check", "Delete", "Create"]
    assert [m for m, _ in rpc_log(engine, start)][3:] == ["Delete", "Create"]
    assert rpc_log(engine, start)[3] == ("Delete", old.id)
    assert engine.state[u].id == step.id


def test_delete_before_replace_option_overrides_the_provider(engine: Engine, blob: str) -> None:
    u = urn("opt")
    engine.up(u, props(blob, name="opt", region="a", replace_keys=["region"]))
    step = engine.up(
        u, props(blob, name="opt", region="b", replace_keys=["region"]), delete_before_replace=True
    )
    assert step.rpcs[-2:] == ["Delete", "Create"]


def test_failed_delete_after_create_leaves_a_pending_delete(engine: Engine, blob: str) -> None:
    u = urn("pend")
    old = engine.up(u, props(blob, name="pend", region="a", replace_keys=["region"]))
    engine.state[u].outputs["fail_on"] = "delete"  # the old resource refuses to go
    with pytest.raises(ProviderError, match="fail in delete"):
        engine.up(u, props(blob, name="pend", region="b", replace_keys=["region"]))
    assert [p.id for p in engine.pending_deletes] == [old.id]
    assert engine.state[u].id != old.id


def test_diff_unknown_falls_back_to_comparing_inputs(engine: Engine, blob: str) -> None:
    u = urn("dunk")
    engine.up(u, props(blob, name="dunk", size=1, diff_unknown=True))
    same = engine.up(u, props(blob, name="dunk", size=1, diff_unknown=True))
    assert same.diff is not None and same.diff.changes is None and same.op == "same"
    assert engine.up(u, props(blob, name="dunk", size=2, diff_unknown=True)).op == "update"


def test_preview_plans_without_create_or_update(engine: Engine, blob: str) -> None:
    u = urn("prev")
    start = len(engine.host.transcript)
    plan = engine.preview(u, props(blob, name="prev", model=UNKNOWN))
    assert plan.op == "create" and plan.id is None and u not in engine.state
    engine.up(u, props(blob, name="prev", model="m", region="a", replace_keys=["region"]))
    before = engine.state[u]
    unknown = props(blob, name="prev", model=UNKNOWN, region="a", replace_keys=["region"])
    assert engine.preview(u, unknown).op == "update"
    replace = engine.preview(
        u, props(blob, name="prev", model="m", region="b", replace_keys=["region"])
    )
    assert replace.op == "replace" and replace.rpcs == ["Check", "Diff", "Check"]
    assert engine.state[u] is before
    methods = [m for m, _, _ in engine.host.transcript[start:]]
    assert methods.count("Create") == 1 and "Update" not in methods and "Delete" not in methods


def test_check_failures_stop_the_engine(engine: Engine, blob: str) -> None:
    u = urn("chk")
    start = len(engine.host.transcript)
    with pytest.raises(CheckFailedError) as info:
        engine.up(u, props(blob, name="chk", replicas=-2))
    assert info.value.failures == [("replicas", "must not be negative")]
    assert [m for m, _, _ in engine.host.transcript[start:]] == ["Check"]
    assert u not in engine.state


def test_refresh_updates_outputs_inputs_and_removes(engine: Engine, blob: str) -> None:
    u = urn("ref")
    engine.up(u, props(blob, name="ref"))
    start = len(engine.host.transcript)
    step = engine.refresh(u)
    assert step.op == "refresh" and engine.state[u].outputs["op"] == "read"
    assert step.rpcs == ["Read", "Diff"]
    (_, read_req, _), (_, diff_req, _) = engine.host.transcript[start:]
    assert read_req["properties"]["op"] == "create" and "op" not in read_req["inputs"]
    # ST RefreshStep.Apply: Diff(olds = refreshed outputs, news = the stored inputs).
    assert diff_req["olds"]["op"] == "read" and "op" not in diff_req["news"]
    assert step.drift is False  # the echo's diff ignores its computed outputs ("op", ...)

    engine.state[u].outputs["read_inputs"] = True
    engine.refresh(u)
    assert engine.state[u].inputs == {"__provider": blob, "name": "ref", "read_inputs": True}

    engine.state[u].outputs["gone"] = True
    removed = engine.refresh(u)
    assert removed.op == "removed" and removed.rpcs == ["Read"] and u not in engine.state


def test_refresh_without_drift_reports_none(engine: Engine, blob: str) -> None:
    u = urn("nodrift")
    engine.up(u, props(blob, name="nodrift", diff_unknown=True))
    engine.state[u].outputs["read_inputs"] = True
    step = engine.refresh(u)
    # DIFF_UNKNOWN: the engine compares the refreshed inputs with the stored ones.
    assert step.diff is not None and step.diff.changes is None
    assert step.drift is True and "read_inputs" in step.changed
    assert engine.refresh(u).drift is False


def test_destroy_and_get(engine: Engine, blob: str) -> None:
    u = urn("des")
    created = engine.up(u, props(blob, name="des"))
    step = engine.destroy(u)
    assert step.op == "delete" and step.rpcs == ["Delete"] and u not in engine.state
    assert engine.host.transcript[-1].request["id"] == created.id

    g = urn("got")
    read = engine.get(g, "ns/got", props(blob, name="got"))
    assert read.op == "read" and engine.state[g].external and read.outputs is not None
    assert read.outputs["op"] == "read"
    assert engine.destroy(g).rpcs == []  # the engine never deletes what it only read


def test_get_reads_with_state_equal_to_inputs(engine: Engine, blob: str) -> None:
    engine.get(urn("got2"), "ns/got2", props(blob, name="got2"))
    request = engine.host.transcript[-1].request
    assert request["properties"] == request["inputs"]  # ST ReadStep: State = Inputs


def test_get_of_a_missing_id_keeps_the_id(engine: Engine, blob: str) -> None:
    # The host answers an empty id with `__provider` as outputs: the engine accepts it.
    step = engine.get(urn("ghost"), "ns/ghost", props(blob, name="ghost", gone=True))
    assert step.id == "ns/ghost" and step.outputs is not None


def test_import_reads_with_neither_inputs_nor_state(engine: Engine) -> None:
    with pytest.raises(ProviderError) as info:
        engine.import_(urn("imp"), "ns/imp")
    assert "'__provider'" in info.value.details
    assert "KeyError" in info.value.details or not HOST_SENDS_TRACEBACKS
    request = engine.host.transcript[-1].request
    assert not request.get("properties") and not request.get("inputs")


def test_forced_replacement_skips_diff_and_uses_the_option(engine: Engine, blob: str) -> None:
    u = urn("forced")
    # The provider would ask for delete-before-replace, but Diff is not called.
    old = engine.up(u, props(blob, name="forced", dbr=True))
    start = len(engine.host.transcript)
    step = engine.up(u, props(blob, name="forced", dbr=True), replace=True)
    assert step.op == "replace" and step.replace_reason == "forced"
    assert step.rpcs == ["Check", "Create", "Delete"]  # create first: the option is unset
    check = engine.host.transcript[start].request
    assert not check.get("olds")  # SG: a targeted replacement is checked without olds
    assert rpc_log(engine, start)[-1] == ("Delete", old.id)
    again = engine.up(u, props(blob, name="forced"), replace=True, delete_before_replace=True)
    assert again.rpcs == ["Check", "Delete", "Create"]


def test_replacement_trigger_replaces_without_diff(engine: Engine, blob: str) -> None:
    u = urn("trig")
    engine.up(u, props(blob, name="trig"), replacement_trigger="v1")
    assert engine.up(u, props(blob, name="trig"), replacement_trigger="v1").op == "same"
    step = engine.up(u, props(blob, name="trig"), replacement_trigger="v2")
    assert step.op == "replace" and step.replace_reason == "trigger"
    assert step.rpcs == ["Check", "Check", "Create", "Delete"]
    # From or to nothing is not a trigger (SG shouldTriggerReplace).
    assert engine.up(u, props(blob, name="trig")).op == "same"


def test_ignore_changes_applies_before_check(engine: Engine, blob: str) -> None:
    u = urn("ign")
    engine.up(u, props(blob, name="ign", size=1, color="red"))
    step = engine.up(u, props(blob, name="ign", size=2, color="blue"), ignore_changes=["size"])
    assert step.op == "update" and step.changed["color"] == ("red", "blue")
    assert "size" not in step.changed
    check = next(r for m, r, _ in reversed(engine.host.transcript) if m == "Check")
    assert check["news"]["size"] == 1  # the old value, before Check saw it
    assert engine.state[u].inputs["size"] == 1


def test_replace_on_changes_needs_the_providers_changed_keys(engine: Engine, blob: str) -> None:
    u = urn("roc")
    engine.up(u, props(blob, name="roc", size=1))
    # The host returns no changed keys with an explicit diff: the option cannot act.
    step = engine.up(u, props(blob, name="roc", size=2), replace_on_changes=["size"])
    assert step.op == "update"
    v = urn("roc-unknown")
    engine.up(v, props(blob, name="r", size=1, diff_unknown=True))
    unknown = props(blob, name="r", size=2, diff_unknown=True)
    assert engine.up(v, unknown, replace_on_changes=["size"]).op == "replace"


def test_replaced_resources_are_deleted_after_every_create_and_update(
    engine: Engine, blob: str
) -> None:
    a, b = urn("order-a"), urn("order-b")
    res_a = RegisteredResource("t", "order-a", a, props(blob, name="a", region="x"))
    res_b = RegisteredResource("t", "order-b", b, props(blob, name="b", size=1))
    old_a = engine.up_program([res_a, res_b])[0]
    start = len(engine.host.transcript)
    moved = RegisteredResource(
        "t", "order-a", a, props(blob, name="a", region="y", replace_keys=["region"])
    )
    grown = RegisteredResource("t", "order-b", b, props(blob, name="b", size=2))
    steps = engine.up_program([moved, grown])
    assert [s.op for s in steps] == ["replace", "update", "delete-replaced"]
    applied = [m for m, _ in rpc_log(engine, start) if m not in ("Check", "Diff")]
    assert applied == ["Create", "Update", "Delete"]
    assert rpc_log(engine, start)[-1] == ("Delete", old_a.id)


def test_check_and_diff_run_one_at_a_time(engine: Engine, blob: str, tmp_path: Path) -> None:
    marks = str(tmp_path)
    resources = [
        RegisteredResource("t", f"s{i}", urn(f"serial-{i}"), props(blob, name=f"s{i}", marks=marks))
        for i in range(6)
    ]
    for _ in range(2):  # creates (Check), then sames (Check and Diff)
        with ThreadPoolExecutor(6) as pool:  # registrations arrive on several threads at once
            steps = list(pool.map(lambda r: engine.up_program([r]), resources))
        assert len(steps) == 6  # an overlap would have failed in the provider


def test_destroy_deletes_in_parallel_on_a_fresh_host(blob: str, tmp_path: Path) -> None:
    with ProviderHost(project=PROJECT) as first:
        engine = Engine(first)
        engine.use_host(first, {f"{PROJECT}:token": TOKEN, f"{PROJECT}:n": 3})
        for i in range(4):
            engine.up(urn(f"par-{i}"), props(blob, name=f"p{i}", marks=str(tmp_path), gather=4))
    with ProviderHost(project=PROJECT) as second:
        engine.use_host(second)  # `pulumi destroy`: the config saved by the last up
        steps = engine.destroy_all()  # each Delete waits until all four are under way
        assert {s.op for s in steps} == {"delete"} and engine.state == {}
        methods = [m for m, _, _ in second.transcript]
        assert methods == ["Configure", "Delete", "Delete", "Delete", "Delete"]
        configure = second.transcript[0].request
        assert configure["args"] == {f"{PROJECT}:token": TOKEN, f"{PROJECT}:n": "3"}
