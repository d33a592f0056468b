"""check() and diff() through Pulumi's provider host: validation, normalisation, auto-naming,
the plan (update versus replacement), unknown values at preview, and never a network call."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import UNKNOWN, CheckFailedError, Engine, ProviderHost
from tests.provider.conftest import CountingServer, declare

GPT2: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "protected",
    "instance_size": "x2",
    "instance_type": "intel-spr",
}


def test_program_inputs_check_clean_and_normalised(offline_host: ProviderHost) -> None:
    res = declare("my-endpoint", **GPT2, min_replica=0, max_replica=2, scale_to_zero_timeout=15)
    result = offline_host.check(res.urn, {}, res.inputs)
    assert result.failures == []
    inputs = result.inputs
    assert inputs["type"] == "authenticated"
    assert inputs["instanceType"] == "intel-spr"
    assert inputs["minReplica"] == 0 and inputs["maxReplica"] == 2
    # Auto-naming: the logical name plus a suffix, within the service's rules.
    assert inputs["name"].startswith("my-endpoint-") and len(inputs["name"]) <= 32
    assert inputs["__defaults"] == ["name"]


def test_auto_name_is_kept_on_later_runs_and_derived_again_without_olds(
    offline_host: ProviderHost,
) -> None:
    """Without olds (an interrupted create, `pulumi state delete`) the resource gets the name it
    had; a change that replaces it (region) gets another, so that both can exist for a while."""
    res = declare("my-endpoint", **GPT2)
    first = offline_host.check(res.urn, {}, res.inputs).inputs
    again = offline_host.check(res.urn, first, res.inputs).inputs
    assert again["name"] == first["name"]
    assert offline_host.check(res.urn, {}, res.inputs).inputs["name"] == first["name"]
    moved = declare("my-endpoint", **{**GPT2, "region": "eu-west-1"})
    assert offline_host.check(moved.urn, {}, moved.inputs).inputs["name"] != first["name"]
    other = declare("my-endpoint-2", **GPT2)
    assert offline_host.check(other.urn, {}, other.inputs).inputs["name"] != first["name"]


def test_long_logical_names_are_shortened_to_the_service_limit(
    offline_host: ProviderHost,
) -> None:
    res = declare("A Very_Long Logical Name For An Endpoint In Prod", **GPT2)
    name = offline_host.check(res.urn, {}, res.inputs).inputs["name"]
    assert len(name) <= 32 and name == name.lower() and not name.startswith("-")
    assert name.startswith("a-very-long-logical-name")


def test_explicit_name_is_used_as_is(offline_host: ProviderHost) -> None:
    res = declare("x", **GPT2, name="my-endpoint-name")
    inputs = offline_host.check(res.urn, {}, res.inputs).inputs
    assert inputs["name"] == "my-endpoint-name"
    assert "__defaults" not in inputs


@pytest.mark.parametrize(
    ("change", "prop", "fragment"),
    [
        ({"accelerator": "tpu"}, "accelerator", "'cpu', 'gpu' or 'neuron'"),
        ({"type": "hidden"}, "type", "'public', 'authenticated' or 'private'"),
        ({"name": "Bad_Name"}, "name", "lowercase letters"),
        ({"scale_to_zero_timeout": 5, "min_replica": 0}, "scaleToZeroTimeout", "15 and 2880"),
        ({"min_replica": 3, "max_replica": 1}, "minReplica", "must not exceed maxReplica"),
        ({"instance_size": "medium"}, "instanceSize", "x1, x2, x4"),
        ({"custom_image": {"health_route": "/health"}}, "customImage", "url is required"),
    ],
)
def test_check_failures_name_the_property_and_allowed_values(
    offline_host: ProviderHost, change: dict[str, Any], prop: str, fragment: str
) -> None:
    args = {**GPT2, **change}
    res = declare("bad", **{k: v for k, v in args.items() if v is not None})
    failures = offline_host.check(res.urn, {}, res.inputs).failures
    assert [f.property for f in failures] == [prop]
    assert fragment in failures[0].reason


def test_check_messages_show_each_value_once_and_as_the_program_wrote_it(
    offline_host: ProviderHost,
) -> None:
    res = declare(
        "bad", **GPT2, name="My_Endpoint", min_replica=-1, env={"PORT": 8080}, max_replica=2.5
    )
    assert isinstance(res.inputs["minReplica"], float)  # how numbers travel to the provider
    reasons = {f.property: f.reason for f in offline_host.check(res.urn, {}, res.inputs).failures}
    assert reasons["name"].count("My_Endpoint") == 1
    assert reasons["name"].endswith("(got 'My_Endpoint')")
    assert reasons["minReplica"].endswith("(got -1)")
    assert reasons["env"] == "env.PORT input should be a valid string (got 8080)"
    assert reasons["maxReplica"].endswith("(got 2.5)")


def test_missing_required_input(offline_host: ProviderHost) -> None:
    without_vendor = {k: v for k, v in GPT2.items() if k != "vendor"}
    with pytest.raises(TypeError, match="vendor"):
        declare("bad", **without_vendor)  # the program fails before registering
    res = declare("ok", **GPT2)
    news = {k: v for k, v in res.inputs.items() if k != "vendor"}
    failures = offline_host.check(res.urn, {}, news).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("vendor", "vendor is required (one of: aws, azure, gcp)")
    ]


def test_preview_with_unknown_values_plans_without_errors(offline_host: ProviderHost) -> None:
    res = declare("chat", **GPT2)
    news = {**res.inputs, "region": UNKNOWN, "env": {"MODEL": UNKNOWN}, "repository": UNKNOWN}
    checked = offline_host.check(res.urn, {}, news)
    assert checked.failures == []
    engine = Engine(offline_host)
    step = engine.preview(res.urn, news)
    assert step.op == "create"


def test_plan_in_place_update_versus_replacement(offline_host: ProviderHost) -> None:
    engine = Engine(offline_host)
    res = declare("chat", **GPT2, name="chat-endpoint")
    inputs = offline_host.check(res.urn, {}, res.inputs).inputs
    outputs = {**inputs, "namespace": "me", "url": "http://x", "status": "running"}
    engine.state[res.urn] = _state(res.urn, "me/chat-endpoint", inputs, outputs)

    same = engine.preview(res.urn, res.inputs)
    assert same.op == "same"

    scaled = declare("chat", **GPT2, name="chat-endpoint", max_replica=4)
    step = engine.preview(scaled.urn, scaled.inputs)
    assert step.op == "update" and step.diff is not None and step.diff.replaces == []

    moved = declare("chat", **{**GPT2, "region": "eu-west-1"}, name="chat-endpoint")
    step = engine.preview(moved.urn, moved.inputs)
    assert step.op == "replace"
    assert step.diff is not None and step.diff.replaces == ["region"]
    assert step.diff.delete_before_replace is True  # explicit name: delete first


def test_auto_named_replacement_creates_before_deleting(offline_host: ProviderHost) -> None:
    engine = Engine(offline_host)
    res = declare("chat", **GPT2)
    inputs = offline_host.check(res.urn, {}, res.inputs).inputs
    outputs = {**inputs, "namespace": "me", "status": "running"}
    engine.state[res.urn] = _state(res.urn, f"me/{inputs['name']}", inputs, outputs)
    moved = declare("chat", **{**GPT2, "vendor": "gcp", "region": "us-east4"})
    step = engine.preview(moved.urn, moved.inputs)
    assert step.op == "replace"
    assert sorted(step.diff.replaces) == ["region", "vendor"]  # type: ignore[union-attr]
    assert step.diff.delete_before_replace is False  # type: ignore[union-attr]
    assert step.inputs["name"] != inputs["name"]  # the replacement gets a fresh name


def test_unknown_replace_key_is_planned_as_replacement(offline_host: ProviderHost) -> None:
    res = declare("chat", **GPT2, name="chat-endpoint")
    inputs = offline_host.check(res.urn, {}, res.inputs).inputs
    outputs = {**inputs, "namespace": "me"}
    news = offline_host.check(res.urn, inputs, {**res.inputs, "region": UNKNOWN}).inputs
    diff = offline_host.diff(res.urn, "me/chat-endpoint", outputs, news)
    assert diff.changes is True and diff.replaces == ["region"]
    news = offline_host.check(res.urn, inputs, {**res.inputs, "maxReplica": UNKNOWN}).inputs
    diff = offline_host.diff(res.urn, "me/chat-endpoint", outputs, news)
    assert diff.changes is True and diff.replaces == []


def test_computed_outputs_and_wait_settings_never_cause_a_diff(
    offline_host: ProviderHost,
) -> None:
    res = declare("chat", **GPT2, name="chat-endpoint")
    inputs = offline_host.check(res.urn, {}, res.inputs).inputs
    outputs = {
        **inputs,
        "namespace": "me",
        "url": "http://old",
        "status": "scaledToZero",
        "updatedAt": "2024-01-01T00:00:00Z",
    }
    relaxed = declare("chat", **GPT2, name="chat-endpoint", wait=False, wait_timeout=60)
    news = offline_host.check(res.urn, inputs, relaxed.inputs).inputs
    diff = offline_host.diff(res.urn, "me/chat-endpoint", outputs, news)
    assert diff.changes is False and diff.replaces == []
    paused = declare("chat", **GPT2, name="chat-endpoint", paused=True)
    news = offline_host.check(res.urn, inputs, paused.inputs).inputs
    assert offline_host.diff(res.urn, "me/chat-endpoint", outputs, news).changes is True


def test_check_and_diff_make_no_http_request(
    offline_host: ProviderHost, counting_server: CountingServer
) -> None:
    engine = Engine(offline_host)
    for i in range(5):
        res = declare(f"ep{i}", **GPT2, max_replica=i + 1)
        engine.preview(res.urn, res.inputs)
        inputs = offline_host.check(res.urn, {}, res.inputs).inputs
        offline_host.diff(res.urn, "me/x", {**inputs, "namespace": "me"}, inputs)
    assert counting_server.requests == []


def test_check_failure_stops_the_engine(offline_host: ProviderHost) -> None:
    res = declare("bad", **{**GPT2, "accelerator": "quantum"})
    with pytest.raises(CheckFailedError, match="accelerator"):
        Engine(offline_host).up(res.urn, res.inputs)


def _state(urn: str, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> Any:
    from tests.harness import ResourceState

    return ResourceState(urn, id_, inputs, outputs)
