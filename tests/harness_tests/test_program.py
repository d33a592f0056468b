"""capture_program: what a Pulumi program registers, fed to the real host."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks

from tests.harness import Engine, Step, capture_program, engine_urn
from tests.harness.echo_provider import Echo

from .conftest import PROJECT


def test_captures_type_name_urn_and_provider_blob(blob: str) -> None:
    def program() -> None:
        Echo("first", {"name": "ep", "replicas": 2, "unset": None, "nested": {"minReplica": 0}})

    (res,) = capture_program(program, project=PROJECT)
    assert res.type == "pulumi-python:dynamic/harness:Echo" and res.name == "first"
    assert res.urn == f"urn:pulumi:stack::{PROJECT}::pulumi-python:dynamic/harness:Echo::first"
    assert res.inputs == {
        "__provider": blob,
        "name": "ep",
        "replicas": 2.0,
        "nested": {"minReplica": 0.0},
    }
    assert isinstance(res.inputs["replicas"], float)
    assert res.custom and res.read_id is None
    assert "__provider" in res.secret_keys  # the SDK marks the blob secret; we unwrap it


def test_outputs_callback_and_preview_unknowns() -> None:
    def new_resource(args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", {**args.inputs, "url": f"https://{args.name}.example"}

    def program() -> None:
        a = Echo("a", {"name": "a", "url": None})
        Echo("b", {"name": "b", "upstream": a.url}, pulumi.ResourceOptions(parent=a))

    a, b = capture_program(program, new_resource=new_resource)
    assert b.inputs["upstream"] == "https://a.example"
    assert b.urn == engine_urn("project", "stack", b.type, "b", a.urn)
    assert f"::{a.type}${b.type}::b" in b.urn

    def unknown_outputs(args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "", dict(args.inputs)  # no url in preview: it stays unknown

    _, b_preview = capture_program(program, preview=True, new_resource=unknown_outputs)
    assert isinstance(b_preview.inputs["upstream"], Unknown)


def test_secret_inputs_are_unwrapped_and_listed() -> None:
    (res,) = capture_program(lambda: Echo("s", {"pw": pulumi.Output.secret("hunter2")}))
    assert res.inputs["pw"] == "hunter2"
    assert res.secret_keys == {"__provider", "pw"}


def test_get_registrations_and_options() -> None:
    def program() -> None:
        Echo("kept", {"name": "k"}, pulumi.ResourceOptions(delete_before_replace=True))
        Echo("looked-up", {"name": "g"}, pulumi.ResourceOptions(id="ns/g"))

    by_name = {r.name: r for r in capture_program(program)}  # reads may overtake registrations
    kept, got = by_name["kept"], by_name["looked-up"]
    assert kept.delete_before_replace is True
    assert got.read_id == "ns/g" and got.inputs["name"] == "g" and "__provider" in got.inputs


def test_a_captured_program_runs_on_the_host(engine: Engine) -> None:
    def program(size: int) -> None:
        Echo("app", {"name": "app", "size": size})
        Echo("ext", {"name": "ext"}, pulumi.ResourceOptions(id="ns/ext"))

    def ops(steps: list[Step]) -> dict[str, str]:
        return {s.urn.rsplit("::", 1)[1]: s.op for s in steps}

    assert ops(engine.up_program(capture_program(lambda: program(1)))) == {
        "app": "create",
        "ext": "read",
    }
    plan = engine.up_program(capture_program(lambda: program(2)), preview=True)
    assert ops(plan) == {"app": "update"}
    steps = engine.up_program(capture_program(lambda: program(2)))
    assert ops(steps) == {"app": "update", "ext": "read"}
    (app_urn,) = [s.urn for s in steps if s.op == "update"]
    assert engine.state[app_urn].outputs["size"] == 2.0
    assert [s.op for s in engine.up_program([])] == ["delete", "delete"]
    assert engine.state == {}
