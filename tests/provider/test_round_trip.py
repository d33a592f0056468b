"""Every optional property round-trips through the service: set, change, remove, refresh.

Through Pulumi's provider host against the emulator, whose answers carry exactly the documented
shape (docs/service-api.md). After each step the service holds what the program says (the
service's default once the property is removed, sent in the form docs/service-api.md gives),
and a refresh followed by a preview finds nothing to do: no drift, and no update that would
change nothing, forever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pulumi_hf_endpoints.properties import to_camel
from tests.harness import Engine, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of


def _scaling(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda raw: raw["compute"]["scaling"].get(key)


def _model(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda raw: raw["model"].get(key)


def _route(raw: dict[str, Any]) -> Any:
    return raw.get("route")


def _cache(raw: dict[str, Any]) -> Any:
    assert "cacheHttpResponses" not in raw  # reported under experimentalFeatures only
    return raw["experimentalFeatures"]["cacheHttpResponses"]


NEURON = {"accelerator": "neuron", "instance_type": "inf2", "instance_size": "x1"}


@dataclass(frozen=True)
class Case:
    """`first` then `second` are declared (with `always`), then the keys of `first` removed;
    `live` reads the value from the service, which must be `expect` at each of those steps."""

    id: str
    first: dict[str, Any]
    second: dict[str, Any]
    live: Callable[[dict[str, Any]], Any]
    expect: tuple[Any, Any, Any]
    always: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("revision", {"revision": "abc123"}, {"revision": "def456"}, _model("revision"),
         ("abc123", "def456", "main")),  # "main": the schema's default, never null
    Case("min-replica", {"min_replica": 2}, {"min_replica": 3}, _scaling("minReplica"), (2, 3, 1),
         always={"max_replica": 4}),
    Case("max-replica", {"max_replica": 3}, {"max_replica": 5}, _scaling("maxReplica"), (3, 5, 1)),
    # Removed with minReplica back to 1: left out, and inert (scale-to-zero is off) ...
    Case("scale-to-zero", {"scale_to_zero_timeout": 30}, {"scale_to_zero_timeout": 60},
         lambda raw: (raw["compute"]["scaling"]["minReplica"],
                      raw["compute"]["scaling"]["scaleToZeroTimeout"]),
         ((0, 30), (0, 60), (1, 60))),
    # ... removed with minReplica kept at 0: the schema's default, 15.
    Case("scale-to-zero-kept-on", {"scale_to_zero_timeout": 30},
         {"scale_to_zero_timeout": 60}, _scaling("scaleToZeroTimeout"), (30, 60, 15),
         always={"min_replica": 0}),
    Case(
        "scaling-metric",
        {"scaling_metric": "pendingRequests", "scaling_threshold": 1.5},
        {"scaling_metric": "hardwareUsage", "scaling_threshold": 75},
        _scaling("measure"),
        ({"pendingRequests": 1.5}, {"hardwareUsage": 75}, {"hardwareUsage": None}),
    ),
    Case(
        "scaling-threshold",
        {"scaling_threshold": 2},
        {"scaling_threshold": 3},
        _scaling("measure"),
        ({"pendingRequests": 2}, {"pendingRequests": 3}, {"pendingRequests": None}),
        always={"scaling_metric": "pendingRequests"},
    ),
    Case(
        "custom-image",
        {"custom_image": {"url": "ghcr.io/huggingface/text-generation-inference:3.0.0"}},
        {"custom_image": {"url": "ghcr.io/huggingface/text-generation-inference:3.1.0",
                          "health_route": "/health"}},
        _model("image"),
        (
            {"custom": {"url": "ghcr.io/huggingface/text-generation-inference:3.0.0"}},
            {"custom": {"url": "ghcr.io/huggingface/text-generation-inference:3.1.0",
                        "healthRoute": "/health"}},
            {"huggingface": {}},
        ),
    ),
    Case(
        "engine",
        {"custom_image": {"url": "ghcr.io/huggingface/text-generation-inference:3.3.4",
                          "engine": "tgi", "options": {"maxInputLength": 1024}}},
        {"custom_image": {"url": "vllm/vllm-openai:v0.10.0", "engine": "vLLM", "port": 8000,
                          "tensor_parallel_size": 1}},
        _model("image"),
        (
            {"tgi": {"url": "ghcr.io/huggingface/text-generation-inference:3.3.4",
                     "maxInputLength": 1024}},
            {"vLLM": {"url": "vllm/vllm-openai:v0.10.0", "port": 8000,
                      "tensorParallelSize": 1}},
            {"huggingface": {}},
        ),
    ),
    Case(
        "managed-neuron-image",
        {"custom_image": {"engine": "huggingfaceNeuron", "options": {"batchSize": 1}}},
        {"custom_image": {"engine": "huggingfaceNeuron",
                          "options": {"batchSize": 4, "sequenceLength": 2048}}},
        _model("image"),
        (
            {"huggingfaceNeuron": {"batchSize": 1}},
            {"huggingfaceNeuron": {"batchSize": 4, "sequenceLength": 2048}},
            {"huggingface": {}},
        ),
        always=NEURON,
    ),
    # A required property: "removed" is the program's own value again.
    Case("instance-size", {"instance_size": "x4"}, {"instance_size": "x8"},
         lambda raw: raw["compute"]["instanceSize"], ("x4", "x8", "x2")),
    Case("container-command", {"container_command": ["python"]},
         {"container_command": ["python3", "-u"]}, _model("command"),
         (["python"], ["python3", "-u"], [])),
    Case("container-args", {"container_args": ["--a"]}, {"container_args": ["--b"]},
         _model("args"), (["--a"], ["--b"], [])),
    Case("env", {"env": {"A": "1"}}, {"env": {"A": "2", "B": "3"}}, _model("env"),
         ({"A": "1"}, {"A": "2", "B": "3"}, {})),
    Case("secrets", {"secrets": {"S": "s-1"}}, {"secrets": {"T": "t-2"}}, _model("secrets"),
         ({"S": None}, {"T": None}, {})),  # values never come back
    Case("tags", {"tags": ["a"]}, {"tags": ["a", "b"]}, lambda raw: user_tags(raw["tags"]),
         (["a"], ["a", "b"], [])),
    Case("domain", {"domain": "a.example.com"}, {"domain": "b.example.com"}, _route,
         ({"domain": "a.example.com"}, {"domain": "b.example.com"}, None)),
    Case("path", {"path": "/a"}, {"path": "/b"}, _route,
         ({"path": "/a"}, {"path": "/b"}, None)),
    Case("domain-and-path", {"domain": "a.example.com", "path": "/a"}, {"path": "/b"}, _route,
         ({"domain": "a.example.com", "path": "/a"}, {"path": "/b"}, None)),
    Case(
        "path-beside-domain",
        {"path": "/a"},
        {"path": "/b"},
        _route,
        (
            {"domain": "api.example.com", "path": "/a"},
            {"domain": "api.example.com", "path": "/b"},
            {"domain": "api.example.com"},
        ),
        always={"domain": "api.example.com"},
    ),
    Case("cache-http-responses", {"cache_http_responses": False},
         {"cache_http_responses": True}, _cache, (False, True, False)),
]  # fmt: skip


def user_tags(tags: list[str]) -> list[str]:
    """The tags without the provider's ownership marker, which is never the user's."""
    return [tag for tag in tags if not tag.startswith("pulumi-owner:")]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_set_change_remove_and_refresh_leave_no_drift(
    case: Case, live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    name = f"rt-{case.id}"
    programs = [
        {**case.always, **case.first},
        {**case.always, **case.second},
        dict(case.always),
    ]
    for index, (extra, expected) in enumerate(zip(programs, case.expect, strict=True)):
        res = declare("rt", **{**GPT2, **extra}, name=name)
        step = engine.up(res.urn, res.inputs)
        assert step.op == ("create" if index == 0 else "update"), (index, step.op)
        assert step.outputs is not None and step.outputs["status"] == "running"
        with api_of(emulator) as api:
            raw = api.get_endpoint(emulator.user, name)
        assert case.live(raw) == expected, (index, raw)

        refreshed = engine.refresh(res.urn)
        assert refreshed.op == "refresh"
        assert engine.preview(res.urn, res.inputs).op == "same", (index, refreshed.inputs)
        assert engine.up(res.urn, res.inputs).op == "same"
    engine.destroy_all()


def test_removing_task_leaves_the_services_value_and_plans_nothing(
    live_host: ProviderHost, emulator: Any
) -> None:
    """The service refuses `task: null`, so a removed task cannot be cleared: it stays as the
    service has it, and neither the plan nor a refresh pretends otherwise."""
    engine = Engine(live_host)
    res = declare("task", **GPT2, name="rt-task")
    engine.up(res.urn, res.inputs)
    without = declare("task", **{k: v for k, v in GPT2.items() if k != "task"}, name="rt-task")
    assert engine.preview(without.urn, without.inputs).op == "same"
    assert engine.up(without.urn, without.inputs).op == "same"
    engine.refresh(without.urn)
    assert engine.preview(without.urn, without.inputs).op == "same"
    with api_of(emulator) as api:
        assert api.get_endpoint(emulator.user, "rt-task")["model"]["task"] == "text-generation"
    engine.destroy_all()


@pytest.mark.parametrize(
    ("declared", "elsewhere", "drifted"),
    [
        ({}, {"cacheHttpResponses": True}, {"cacheHttpResponses": True}),
        (
            {"cache_http_responses": True},
            {"cacheHttpResponses": False},
            {"cacheHttpResponses": False},
        ),
        (
            {},
            {"compute": {"scaling": {"measure": {"pendingRequests": 4.0}}}},
            {"scalingMetric": "pendingRequests", "scalingThreshold": 4.0},
        ),
        ({}, {"route": {"path": "/elsewhere"}}, {"path": "/elsewhere"}),
        (
            {"secrets": {"S": "s-1"}},
            {"model": {"secrets": {"S": "s-1", "T": "t"}}},
            {"secrets": {"S": "s-1", "T": ""}},
        ),
        (  # a variant this version does not know: kept verbatim, never read as `custom`
            {},
            {"model": {"image": {"vLLMOmni": {"url": "vllm/vllm-omni:1", "port": 8000}}}},
            {"customImage": {"engine": "vLLMOmni", "url": "vllm/vllm-omni:1", "port": 8000}},
        ),
    ],
    ids=[
        "cache-turned-on",
        "cache-turned-off",
        "metric-set",
        "path-set",
        "secret-added",
        "unknown-engine",
    ],
)
def test_refresh_reports_changes_made_elsewhere_and_up_reverts_them(
    declared: dict[str, Any],
    elsewhere: dict[str, Any],
    drifted: dict[str, Any],
    live_host: ProviderHost,
    emulator: Any,
) -> None:
    engine = Engine(live_host)
    res = declare("drift", **GPT2, name="rt-drift", **declared)
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        before = api.get_endpoint(emulator.user, "rt-drift")
        api.update_endpoint(emulator.user, "rt-drift", elsewhere)
    step = engine.refresh(res.urn)
    assert step.outputs is not None and step.drift is True  # the refresh reports it
    declared_keys = {to_camel(k) for k in declared}
    for key, value in drifted.items():
        assert step.outputs.get(key) == value, key
        # Refreshed inputs hold the program's keys (with live values), and no others.
        assert step.inputs.get(key) == (value if key in declared_keys else None), key
    assert engine.preview(res.urn, res.inputs).op == "update"
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        after = api.get_endpoint(emulator.user, "rt-drift")
    for key in ("experimentalFeatures", "route"):
        assert after.get(key) == before.get(key), key
    assert after["compute"]["scaling"] == before["compute"]["scaling"]
    for key in ("image", "secrets"):
        assert after["model"][key] == before["model"][key], key
    engine.refresh(res.urn)
    assert engine.preview(res.urn, res.inputs).op == "same"
    engine.destroy_all()
