"""Outputs read like any Pulumi Python SDK: snake_case attributes, typed values, and a nested
image read the way `CustomImageArgs` writes it. State keeps the camelCase names."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pulumi
import pytest

from pulumi_hf_endpoints import CustomImage, CustomImageArgs, InferenceEndpoint, PrivateService
from pulumi_hf_endpoints.properties import to_snake
from tests.harness import Engine, EngineMonitor, ProviderHost, capture_program, run_program
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schema.json").read_text())
RESOURCE = SCHEMA["resources"]["hf-endpoints:index:InferenceEndpoint"]
OUTPUT_NAMES = sorted(RESOURCE["properties"])


def collect(outputs: dict[str, pulumi.Output[Any]], into: dict[str, Any]) -> pulumi.Output[Any]:
    """Store what each output resolves to in `into`; the program returns this, so that the
    run waits for it."""
    stored = [
        output.apply(lambda value, key=key: into.__setitem__(key, value))
        for key, output in outputs.items()
    ]
    return pulumi.Output.all(*stored)


def test_every_output_is_a_snake_case_attribute_with_its_value() -> None:
    state = {
        **{name: f"value-of-{name}" for name in OUTPUT_NAMES},
        "minReplica": 0.0,  # numbers arrive as floats from the wire
        "maxReplica": 2.0,
        "scaleToZeroTimeout": 30.0,
        "readyReplica": 1.0,
        "targetReplica": 1.0,
        "scalingThreshold": 1.5,
        "waitTimeout": 1800.0,
        "paused": False,
        "wait": True,
        "adoptExisting": False,
        "cacheHttpResponses": True,
        "containerCommand": ["python"],
        "containerArgs": ["--port", "80"],
        "env": {"MAX_INPUT_LENGTH": "1024", "instance_type": "kept as written"},
        "secrets": {"API_KEY": "k"},
        "tags": ["a"],
        "customImage": {
            "url": "ghcr.io/huggingface/text-generation-inference:3.1.0",
            "engine": "tgi",
            "healthRoute": "/health",
            "port": 80,
            "env": {"MODEL_ID": "/repository"},
            "tensorParallelSize": 2,
            "options": {"maxInputLength": 1024},
        },
        "privateService": {"accountId": "012345678901", "region": "eu-west-1", "shared": True},
    }
    seen: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        ep = InferenceEndpoint("a", **GPT2)
        outputs = {}
        for name in OUTPUT_NAMES:
            attribute = getattr(ep, to_snake(name))
            assert isinstance(attribute, pulumi.Output), name
            outputs[name] = attribute
        return collect(outputs, seen)

    capture_program(program, new_resource=lambda args: ("me/a", dict(state)))
    for name in OUTPUT_NAMES:
        if name not in ("customImage", "privateService"):
            assert seen[name] == state[name], name
    assert type(seen["minReplica"]) is int and type(seen["readyReplica"]) is int
    assert type(seen["scaleToZeroTimeout"]) is int
    assert seen["env"] == {"MAX_INPUT_LENGTH": "1024", "instance_type": "kept as written"}
    image = seen["customImage"]
    assert isinstance(image, CustomImage)
    assert image.health_route == image["health_route"] == "/health"
    assert image.tensor_parallel_size == 2 and image.port == 80 and image.engine == "tgi"
    assert image.env == {"MODEL_ID": "/repository"}
    assert image.options == {"maxInputLength": 1024}  # the engine's own names, as sent
    private = seen["privateService"]
    assert isinstance(private, PrivateService)
    assert private.account_id == private["account_id"] == "012345678901"  # text, zero kept
    assert (private.region, private.shared) == ("eu-west-1", True)


def test_state_names_are_not_attributes_but_still_work_with_a_warning() -> None:
    kept: dict[str, Any] = {}

    def program() -> None:
        kept["ep"] = InferenceEndpoint("a", **GPT2)

    capture_program(program)
    ep = kept["ep"]
    assert "instanceType" not in vars(ep) and "instance_type" in vars(ep)
    with pytest.warns(DeprecationWarning, match="use InferenceEndpoint.instance_type"):
        assert ep.instanceType is ep.instance_type
    with pytest.raises(AttributeError, match="no_such_output"):
        ep.no_such_output  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(ep.status_message, pulumi.Output)


def test_outputs_of_a_deployed_endpoint_through_the_provider_host(
    live_host: ProviderHost, emulator: Any
) -> None:
    engine = Engine(live_host)
    seen: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        ep = InferenceEndpoint(
            "chat",
            **{**GPT2, "instance_type": "intel-spr", "instance_size": "x1"},
            min_replica=0,
            scale_to_zero_timeout=30,
            custom_image=CustomImageArgs(
                url="ghcr.io/huggingface/text-generation-inference:3.1.0",
                health_route="/health",
                env={"MAX_INPUT_LENGTH": "1024"},
            ),
        )
        pulumi.export("instance_type", ep.instance_type)
        return collect(
            {
                "instance_type": ep.instance_type,
                "min_replica": ep.min_replica,
                "scale_to_zero_timeout": ep.scale_to_zero_timeout,
                "health_route": ep.custom_image.apply(lambda i: i and i.health_route),
                "image_env": ep.custom_image.apply(lambda i: i and i["env"]),
                "status": ep.status,
            },
            seen,
        )

    monitor = EngineMonitor(engine, "project", "stack", preview=False)
    run_program(program, monitor, project="project", stack="stack", preview=False)
    assert not monitor.errors
    assert seen == {
        "instance_type": "intel-spr",
        "min_replica": 0,
        "scale_to_zero_timeout": 30,
        "health_route": "/health",
        "image_env": {"MAX_INPUT_LENGTH": "1024"},
        "status": "running",
    }
    (state,) = engine.state.values()
    assert state.outputs["instanceType"] == "intel-spr"  # state keeps the schema's names
    assert state.outputs["customImage"]["healthRoute"] == "/health"
    engine.destroy_all()


def test_a_managed_engine_is_declared_with_the_typed_args_and_read_back(
    live_host: ProviderHost, emulator: Any
) -> None:
    """`huggingfaceNeuron` takes no URL: declared with `CustomImageArgs`, sent as the service's
    variant with its settings, and read back as the same engine."""
    engine = Engine(live_host)
    seen: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        ep = InferenceEndpoint(
            "neuron",
            **{**GPT2, "accelerator": "neuron", "instance_type": "inf2", "instance_size": "x1"},
            custom_image=CustomImageArgs(
                engine="huggingfaceNeuron", options={"batchSize": 4, "sequenceLength": 2048}
            ),
        )
        return collect(
            {
                "engine": ep.custom_image.apply(lambda i: i and i.engine),
                "url": ep.custom_image.apply(lambda i: i and i.url),
                "options": ep.custom_image.apply(lambda i: i and i.options),
            },
            seen,
        )

    monitor = EngineMonitor(engine, "project", "stack", preview=False)
    run_program(program, monitor, project="project", stack="stack", preview=False)
    assert not monitor.errors
    assert seen == {
        "engine": "huggingfaceNeuron",
        "url": None,
        "options": {"batchSize": 4, "sequenceLength": 2048},
    }
    (state,) = engine.state.values()
    with api_of(emulator) as api:
        live = api.get_endpoint(emulator.user, state.outputs["name"])
    assert live["model"]["image"] == {"huggingfaceNeuron": {"batchSize": 4, "sequenceLength": 2048}}
    (urn,) = engine.state
    assert engine.refresh(urn).drift is False
    engine.destroy_all()
