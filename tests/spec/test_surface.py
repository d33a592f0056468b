"""What stays hand-written beside schema.json is checked against it: every input property has a
validation rule and a place in the service's JSON, and no rule or place exists without a
property of the schema. (The typed surface itself is generated: scripts/generate_surface.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_hf_endpoints import spec
from pulumi_hf_endpoints.spec import payloads, validation
from pulumi_hf_endpoints.spec.properties import (
    INPUTS,
    NESTED_SECRETS,
    REPLACE_ON_CHANGES,
    SECRET_PROPERTIES,
)

SCHEMA = json.loads((Path(__file__).parents[2] / "schema.json").read_text())
RESOURCE = SCHEMA["resources"]["hf-endpoints:index:InferenceEndpoint"]
TYPES = SCHEMA["types"]

#: Two values of each input that each pass the rules of a single value, and differ.
VALUES: dict[str, tuple[Any, Any]] = {
    "name": ("ep-one", "ep-two"),
    "namespace": ("alice", "bob"),
    "repository": ("gpt2", "distilgpt2"),
    "revision": ("v1", "v2"),
    "framework": ("pytorch", "custom"),
    "task": ("text-generation", "feature-extraction"),
    "accelerator": ("cpu", "gpu"),
    "vendor": ("aws", "gcp"),
    "region": ("us-east-1", "eu-west-1"),
    "type": ("public", "authenticated"),
    "privateService": ({"accountId": "123456789012"}, {"accountId": "210987654321"}),
    "instanceSize": ("x1", "x2"),
    "instanceType": ("intel-spr", "nvidia-l4"),
    "minReplica": (0, 1),
    "maxReplica": (2, 3),
    "scaleToZeroTimeout": (15, 30),
    "scalingMetric": ("pendingRequests", "hardwareUsage"),
    "scalingThreshold": (1.5, 2.5),
    "customImage": ({"url": "registry.example/a:1"}, {"url": "registry.example/a:2"}),
    "containerCommand": (["serve"], ["run"]),
    "containerArgs": (["--a"], ["--b"]),
    "env": ({"A": "1"}, {"A": "2"}),
    "secrets": ({"S": "one"}, {"S": "two"}),
    "tags": (["t1"], ["t2"]),
    "domain": ("a.example.com", "b.example.com"),
    "path": ("/a", "/b"),
    "cacheHttpResponses": (True, False),
    "paused": (True, False),
    "wait": (True, False),
    "waitTimeout": (10.0, 20.0),
    "adoptExisting": (True, False),
}


def _wrong_value(prop: dict[str, Any]) -> Any:
    """A value of the wrong kind for a schema property."""
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        declared = TYPES[ref.removeprefix("#/types/")]
        return "not-one-of-them" if "enum" in declared else 5
    return {
        "string": 5,
        "integer": "many",
        "number": "many",
        "boolean": "maybe",
        "array": 5,
        "object": 5,
    }[prop["type"]]


def _spec(**changes: Any) -> spec.EndpointSpec:
    props = {name: first for name, (first, _) in VALUES.items()}
    return spec.EndpointSpec.model_validate({**props, **changes})


def _at(payload: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = payload
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return KeyError(path)
        value = value[part]
    return value


def test_the_hand_written_tables_cover_exactly_the_schema_inputs() -> None:
    assert set(VALUES) == set(INPUTS) == set(RESOURCE["inputProperties"])
    assert set(payloads.PAYLOAD_PATHS) == set(INPUTS)
    assert set(spec.PROPERTY_NAMES) == set(INPUTS)
    grouped = {p for group in payloads._UPDATE_GROUPS for p in group.properties}
    assert grouped <= set(INPUTS)
    # Every property sent to the service is sent by an update, or replaces the endpoint.
    sent = {p for p, where in payloads.PAYLOAD_PATHS.items() if isinstance(where, tuple)}
    assert sent - grouped == set(REPLACE_ON_CHANGES) - {"namespace"}
    assert set(validation._ALLOWED_HINT) <= set(INPUTS)
    nested = {"customImage": "CustomImage", "privateService": "PrivateService"}
    for path in validation._NESTED:
        assert path[0] in nested
    secrets = {(p,) for p in SECRET_PROPERTIES}
    secrets |= {("customImage", "credentials", key) for _, key in NESTED_SECRETS}
    assert secrets == validation._SECRET_PATHS


@pytest.mark.parametrize("name", INPUTS)
def test_every_input_has_a_rule_that_names_it(name: str) -> None:
    """A value of the wrong kind fails check, naming the property (before any request)."""
    props = {key: first for key, (first, _) in VALUES.items() if key != "privateService"}
    props[name] = _wrong_value(RESOURCE["inputProperties"][name])
    _, failures = spec.validate_inputs(props)
    assert name in [f.property for f in failures]


@pytest.mark.parametrize(
    ("owner", "token"),
    [
        ("customImage", "CustomImage"),
        ("privateService", "PrivateService"),
    ],
)
def test_every_key_of_an_object_has_a_rule(owner: str, token: str) -> None:
    declared = TYPES[f"hf-endpoints:index:{token}"]["properties"]
    base = {key: first for key, (first, _) in VALUES.items() if key != "privateService"}
    if owner == "privateService":
        base.update(type="private", privateService={"accountId": "123456789012"})
    for key, prop in declared.items():
        value = dict(VALUES[owner][0])
        value[key] = _wrong_value(prop)
        _, failures = spec.validate_inputs({**base, owner: value})
        reasons = [f.reason for f in failures if f.property == owner]
        assert any(key in reason for reason in reasons), (key, failures)


@pytest.mark.parametrize("name", INPUTS)
def test_every_input_has_its_place_in_the_service_json(name: str) -> None:
    """The create body carries each property at its path (changing it changes what is there,
    and nothing else moves but what the property governs); an update that changes it sends the
    same path; provider-only inputs and the namespace change no body."""
    where = payloads.PAYLOAD_PATHS[name]
    first, second = VALUES[name]
    before, after = _spec(**{name: first}), _spec(**{name: second})
    body_before = payloads.create_payload(before, "ep")
    body_after = payloads.create_payload(after, "ep")
    if where in ("provider", "url"):
        assert body_before == body_after
        assert payloads.update_payload(before, after) == {}
        return
    assert isinstance(where, tuple)
    if name == "name":  # the create body takes the name as its own argument
        body_before = payloads.create_payload(before, str(before.name))
        body_after = payloads.create_payload(after, str(after.name))
    assert _at(body_before, where) != _at(body_after, where)
    assert not isinstance(_at(body_after, where), KeyError)
    if name in REPLACE_ON_CHANGES:
        return
    update = payloads.update_payload(before, after)
    assert not isinstance(_at(update, where), KeyError), update
