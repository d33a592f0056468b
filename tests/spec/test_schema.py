"""schema.json is the contract: it and the spec models must agree in both directions."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from pulumi_hf_endpoints import properties, spec

SCHEMA = json.loads((Path(__file__).parents[2] / "schema.json").read_text())
TOKEN = "hf-endpoints:index:InferenceEndpoint"
RESOURCE = SCHEMA["resources"][TOKEN]


def _strip_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        assert len(rest) == 1
        return rest[0]
    return annotation


def _schema_type(prop: dict[str, Any]) -> Any:
    """A comparable description of a schema property's type."""
    if "$ref" in prop:
        ref = prop["$ref"]
        if ref == "pulumi.json#/Any":
            return "any"
        declared = SCHEMA["types"][ref.removeprefix("#/types/")]
        if "enum" in declared:
            return ("enum", tuple(e["value"] for e in declared["enum"]))
        return ("object", ref.rsplit(":", 1)[-1])
    kind = prop["type"]
    if kind == "array":
        return ("array", _schema_type(prop["items"]))
    if kind == "object":
        return ("map", _schema_type(prop["additionalProperties"]))
    return kind


def _model_type(annotation: Any) -> Any:
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return ("enum", typing.get_args(annotation))
    if origin is list:
        return ("array", _model_type(typing.get_args(annotation)[0]))
    if origin is dict:
        return ("map", _model_type(typing.get_args(annotation)[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("object", annotation.__name__)
    return {str: "string", int: "integer", float: "number", bool: "boolean", Any: "any"}[annotation]


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {to_camel(name): field.annotation for name, field in model.model_fields.items()}


def test_input_properties_are_exactly_the_spec_fields() -> None:
    assert set(RESOURCE["inputProperties"]) == set(spec.PROPERTY_NAMES)


def test_output_properties_are_inputs_plus_computed() -> None:
    assert set(RESOURCE["properties"]) == set(spec.PROPERTY_NAMES) | set(properties.OUTPUT_ONLY)
    for name in spec.PROPERTY_NAMES:
        assert RESOURCE["properties"][name] == RESOURCE["inputProperties"][name]


def test_required_inputs_match() -> None:
    assert set(RESOURCE["requiredInputs"]) == set(spec.REQUIRED_INPUTS)


@pytest.mark.parametrize("name", spec.PROPERTY_NAMES)
def test_each_input_type_matches_the_model(name: str) -> None:
    model_fields = _fields(spec.EndpointSpec)
    assert _schema_type(RESOURCE["inputProperties"][name]) == _model_type(model_fields[name])


@pytest.mark.parametrize(
    ("type_name", "model"),
    [
        ("CustomImage", spec.CustomImage),
        ("RegistryCredentials", spec.RegistryCredentials),
        ("PrivateService", spec.PrivateService),
    ],
)
def test_object_types_match_their_models(type_name: str, model: type[BaseModel]) -> None:
    declared = SCHEMA["types"][f"hf-endpoints:index:{type_name}"]
    fields = _fields(model)
    assert set(declared["properties"]) == set(fields)
    for name, annotation in fields.items():
        assert _schema_type(declared["properties"][name]) == _model_type(annotation), name


def test_object_type_defaults_are_the_models_defaults() -> None:
    for type_name, model in (
        ("CustomImage", spec.CustomImage),
        ("PrivateService", spec.PrivateService),
    ):
        declared = SCHEMA["types"][f"hf-endpoints:index:{type_name}"]["properties"]
        defaults = {n: p["default"] for n, p in declared.items() if "default" in p}
        fields = {to_camel(n): f.default for n, f in model.model_fields.items()}
        assert defaults == {n: fields[n] for n in defaults}, type_name
        assert defaults, type_name
    assert SCHEMA["types"]["hf-endpoints:index:PrivateLinkRegion"]["enum"] == [
        {"value": region, "name": name}
        for region, name in zip(spec.PRIVATE_LINK_REGIONS, ("UsEast1", "EuWest1"), strict=True)
    ]


def test_secrets_match() -> None:
    secret_inputs = {n for n, p in RESOURCE["inputProperties"].items() if p.get("secret")}
    assert secret_inputs == set(properties.SECRET_PROPERTIES)
    creds = SCHEMA["types"]["hf-endpoints:index:RegistryCredentials"]["properties"]
    assert {n for n, p in creds.items() if p.get("secret")} == {"password"}
    assert SCHEMA["config"]["variables"]["token"]["secret"] is True


def test_replace_on_changes_match() -> None:
    replaced = {n for n, p in RESOURCE["inputProperties"].items() if p.get("replaceOnChanges")}
    assert replaced == set(properties.REPLACE_ON_CHANGES)


def test_defaults_match_what_check_fills_in() -> None:
    normalized, failures = spec.validate_inputs(
        {
            "repository": "gpt2",
            "framework": "pytorch",
            "accelerator": "cpu",
            "vendor": "aws",
            "region": "us-east-1",
            "instanceType": "intel-spr",
            "instanceSize": "x1",
        }
    )
    assert failures == []
    declared = {n: p["default"] for n, p in RESOURCE["inputProperties"].items() if "default" in p}
    assert declared == {k: normalized[k] for k in declared}
    assert set(declared) == {
        "type",
        "minReplica",
        "maxReplica",
        "paused",
        "wait",
        "waitTimeout",
        "adoptExisting",
    }


def test_state_enum_matches() -> None:
    declared = SCHEMA["types"]["hf-endpoints:index:EndpointState"]["enum"]
    assert tuple(e["value"] for e in declared) == spec.STATES


def test_every_property_is_documented() -> None:
    for name, prop in RESOURCE["properties"].items():
        assert len(prop.get("description", "")) > 20, name


def test_config_variables_are_the_settings_the_provider_reads() -> None:
    import inspect

    from pulumi_hf_endpoints import settings
    from pulumi_hf_endpoints.client.api import EndpointsApi

    variables = SCHEMA["config"]["variables"]
    keys = {settings.TOKEN, settings.API_URL, settings.NAMESPACE, settings.HOST_WORKERS}
    keys |= {settings.REQUEST_TIMEOUT, settings.MAX_RETRIES}
    assert {f"huggingface:{name}" for name in variables} == keys
    default_retries = inspect.signature(EndpointsApi).parameters["max_retries"].default
    assert variables["maxRetries"]["default"] == default_retries
    low, high = settings.MAX_RETRIES_RANGE
    assert f"From {low} to {high}" in variables["maxRetries"]["description"]
    low_s, high_s = settings.REQUEST_TIMEOUT_RANGE
    assert f"from {low_s:g} to {high_s:g}" in variables["requestTimeout"]["description"]


# --------------------------------------------------------------------------- functions


def _result_type(annotation: Any) -> tuple[Any, bool]:
    """A dataclass field's annotation as a comparable schema type, and whether it is required."""
    stripped = _strip_optional(annotation)
    required = stripped is annotation
    if typing.get_origin(stripped) is tuple:
        return ("array", _result_type(typing.get_args(stripped)[0])[0]), required
    if dataclasses.is_dataclass(stripped):
        return ("object", stripped.__name__), required
    return {str: "string", int: "integer", float: "number", bool: "boolean"}[stripped], required


def _matches_dataclass(declared: dict[str, Any], cls: type) -> None:
    hints = typing.get_type_hints(cls)
    fields = {to_camel(f.name): hints[f.name] for f in dataclasses.fields(cls)}
    assert set(declared["properties"]) == set(fields), cls
    for name, annotation in fields.items():
        kind, required = _result_type(annotation)
        assert _schema_type(declared["properties"][name]) == kind, (cls, name)
        assert (name in declared.get("required", [])) == required, (cls, name)
        assert len(declared["properties"][name].get("description", "")) > 5, (cls, name)


FUNCTIONS = {
    "getHardware": ("get_hardware", "GetHardwareResult"),
    "listEndpoints": ("list_endpoints", "ListEndpointsResult"),
}


@pytest.mark.parametrize("token", sorted(FUNCTIONS))
def test_each_function_is_its_python_forms(token: str) -> None:
    """schema.json's functions are the Python ones: inputs are the parameters (of the plain and
    the `_output` form), outputs the result dataclass's fields."""
    import inspect

    from pulumi_hf_endpoints import functions

    declared = SCHEMA["functions"][f"hf-endpoints:index:{token}"]
    fn_name, result_name = FUNCTIONS[token]
    for fn in (getattr(functions, fn_name), getattr(functions, f"{fn_name}_output")):
        parameters = {to_camel(p) for p in inspect.signature(fn).parameters}
        assert parameters == set(declared["inputs"]["properties"]), fn
    _matches_dataclass(declared["outputs"], getattr(functions, result_name))
    assert len(declared["description"]) > 100


@pytest.mark.parametrize("name", ["Hardware", "EndpointSummary"])
def test_result_types_match_their_classes(name: str) -> None:
    from pulumi_hf_endpoints import functions

    _matches_dataclass(SCHEMA["types"][f"hf-endpoints:index:{name}"], getattr(functions, name))
