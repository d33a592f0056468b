"""Engine flows (up/preview/refresh/destroy/get) over the real host, with the echo provider."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import UNKNOWN, CheckFailedError, Engine, ProviderError

from .conftest import urn


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
    step = engine.refresh(u)
    assert step.op == "refresh" and engine.state[u].outputs["op"] == "read"
    read_req = engine.host.transcript[-1].request
    assert read_req["properties"]["op"] == "create" and "op" not in read_req["inputs"]

    engine.state[u].outputs["read_inputs"] = True
    engine.refresh(u)
    assert engine.state[u].inputs == {"__provider": blob, "name": "ref", "read_inputs": True}

    engine.state[u].outputs["gone"] = True
    assert engine.refresh(u).op == "removed" and u not in engine.state


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
