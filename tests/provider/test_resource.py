"""The public resource API in a program: both argument forms, secrets, outputs, get()."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pulumi
import pytest
from pydantic.alias_generators import to_camel

from pulumi_hf_endpoints import (
    CustomImageArgs,
    InferenceEndpoint,
    InferenceEndpointArgs,
    PrivateServiceArgs,
    spec,
)
from pulumi_hf_endpoints.resource import RegistryCredentialsArgs
from tests.harness import capture_program
from tests.provider.test_check_diff import GPT2

TYPE = "pulumi-python:dynamic/hf-endpoints:InferenceEndpoint"


def test_args_fields_are_the_schema_properties() -> None:
    fields = {to_camel(f.name) for f in dataclasses.fields(InferenceEndpointArgs)}
    assert fields == set(spec.PROPERTY_NAMES)
    image_fields = {to_camel(f.name) for f in dataclasses.fields(CustomImageArgs)}
    assert image_fields == {to_camel(n) for n in spec.CustomImage.model_fields}
    private_fields = {to_camel(f.name) for f in dataclasses.fields(PrivateServiceArgs)}
    assert private_fields == {to_camel(n) for n in spec.PrivateService.model_fields}


def test_private_service_args_register_as_the_plain_dict() -> None:
    def program() -> None:
        args = {**GPT2, "type": "private"}
        InferenceEndpoint(
            "a", **args, private_service=PrivateServiceArgs(account_id="012345678901")
        )
        InferenceEndpoint("b", **args, private_service={"accountId": "012345678901"})

    by_name = {r.name: r for r in capture_program(program)}
    # The argument class leaves unset keys out, as the dict does: check fills in the defaults.
    assert by_name["a"].inputs["privateService"] == {"accountId": "012345678901"}
    assert by_name["b"].inputs["privateService"] == {"accountId": "012345678901"}
    assert "privateService" not in by_name["a"].secret_keys  # an account id is not a secret


def test_keyword_and_args_forms_register_the_same_inputs() -> None:
    def program() -> None:
        InferenceEndpoint("a", **GPT2)
        InferenceEndpoint("b", InferenceEndpointArgs(**GPT2))

    by_name = {r.name: r for r in capture_program(program)}  # either may register first
    a, b = by_name["a"], by_name["b"]
    assert a.type == b.type == TYPE
    strip = {"__provider", "__logicalName", "__owner", "__urn"}
    assert {k: v for k, v in a.inputs.items() if k not in strip} == {
        k: v for k, v in b.inputs.items() if k not in strip
    }
    assert a.inputs["instanceType"] == "intel-spr"
    assert a.inputs["__logicalName"] == "a"
    assert b.inputs["__logicalName"] == "b"
    # The URN the engine gives it, for the provider's status lines (provider.py).
    assert a.inputs["__urn"] == f"urn:pulumi:stack::project::{TYPE}::a"
    # Each resource's owner id: its own, the same on every run (ownership.py).
    assert a.inputs["__owner"] != b.inputs["__owner"]
    again = {r.name: r for r in capture_program(program)}
    assert again["a"].inputs["__owner"] == a.inputs["__owner"]


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="instance_typo"):
        capture_program(lambda: InferenceEndpoint("a", **GPT2, instance_typo="x"))


def test_secrets_and_registry_password_are_secret_in_the_program() -> None:
    def program() -> None:
        InferenceEndpoint(
            "a",
            **GPT2,
            secrets={"API_KEY": "s3cr3t"},
            custom_image=CustomImageArgs(
                url="registry.example.com/app:1",
                credentials=RegistryCredentialsArgs(username="bot", password="pw-123"),
            ),
        )

    (res,) = capture_program(program)
    # The SDK lifts a nested secret to the top-level value: the whole image is secret.
    assert {"secrets", "customImage"} <= res.secret_keys
    assert "secrets" in res.options["additional_secret_outputs"]
    image = res.inputs["customImage"]
    assert image["url"] == "registry.example.com/app:1"
    assert image["credentials"]["username"] == "bot"


def test_an_image_without_credentials_is_not_secret() -> None:
    image = CustomImageArgs(url="registry.example.com/app:1")
    (res,) = capture_program(lambda: InferenceEndpoint("a", **GPT2, custom_image=image))
    assert res.inputs["customImage"]["url"] == "registry.example.com/app:1"
    assert "customImage" not in res.secret_keys and "secrets" not in res.secret_keys


def test_outputs_exist_as_attributes() -> None:
    seen: dict[str, Any] = {}

    def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "me/ep", {**args.inputs, "url": "http://emulated/ep", "status": "running"}

    def program() -> None:
        ep = InferenceEndpoint("a", **GPT2, name="ep")
        seen["ep"] = ep
        pulumi.export("url", ep.url)

    capture_program(program, new_resource=new_resource)
    ep = seen["ep"]
    for attr in ("url", "status", "name", "namespace", "status_message", "ready_replica"):
        assert isinstance(getattr(ep, attr), pulumi.Output), attr


def test_provider_blob_is_a_small_class_reference_without_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_program_side_token_value")
    (res,) = capture_program(lambda: InferenceEndpoint("a", **GPT2))
    blob = res.inputs["__provider"]
    assert isinstance(blob, str) and len(blob) < 200
    raw = base64.b64decode(blob)
    assert b"pulumi_hf_endpoints.provider" in raw and b"InferenceEndpointProvider" in raw
    assert b"hf_program_side_token_value" not in raw
    assert b"co_code" not in raw and len(raw) < 150  # by reference, not by value


def test_get_registers_a_read_of_the_id() -> None:
    (res,) = capture_program(lambda: InferenceEndpoint.get("existing", "me/my-endpoint"))
    assert res.read_id == "me/my-endpoint"
    assert res.type == TYPE
