"""Every validation rule of spec.py: a bad value yields a failure naming the property and what
is allowed; good inputs (both seed documents, verbatim) pass."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from pulumi_hf_endpoints import spec
from tests.seed_examples import GPT2, ZEPHYR


def failures_of(props: dict[str, Any]) -> list[spec.Failure]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return spec.validate_inputs(props)[1]


def only_failure(props: dict[str, Any]) -> spec.Failure:
    failures = failures_of(props)
    assert len(failures) == 1, failures
    return failures[0]


def test_seed_documents_validate() -> None:
    assert failures_of(GPT2) == []
    assert failures_of(ZEPHYR) == []


def test_protected_is_renamed_with_a_warning() -> None:
    with pytest.warns(FutureWarning, match="protected"):
        normalized, failures = spec.validate_inputs(GPT2)
    assert failures == []
    assert normalized["type"] == "authenticated"


def test_seed_custom_image_dict_is_normalised_to_camel_case() -> None:
    normalized, _ = spec.validate_inputs(ZEPHYR)
    image = normalized["customImage"]
    assert image["healthRoute"] == "/health"
    assert "health_route" not in image
    assert image["env"]["MODEL_ID"] == "/repository"


def test_floats_from_the_wire_become_ints_and_defaults_are_filled() -> None:
    normalized, failures = spec.validate_inputs({**GPT2, "minReplica": 0.0, "maxReplica": 2.0})
    assert failures == []
    assert normalized["minReplica"] == 0 and isinstance(normalized["minReplica"], int)
    assert normalized["maxReplica"] == 2 and isinstance(normalized["maxReplica"], int)
    assert normalized["paused"] is False and normalized["wait"] is True
    assert normalized["waitTimeout"] == spec.DEFAULT_WAIT_TIMEOUT


def test_min_replica_defaults_to_zero_with_scale_to_zero() -> None:
    normalized, failures = spec.validate_inputs({**GPT2, "scaleToZeroTimeout": 15})
    assert failures == []
    assert normalized["minReplica"] == 0
    assert normalized["maxReplica"] == 1


@pytest.mark.parametrize(
    ("prop", "value", "expected"),
    [
        ("name", "My_Endpoint", "lowercase letters a-z, digits 0-9 and '-'"),
        ("name", "-leading", "must not start or end with '-'"),
        ("name", "trailing-", "must not start or end with '-'"),
        ("name", "a" * 33, "at most 32 characters long (got"),
        ("type", "secret", "'public', 'authenticated' or 'private'"),
        ("accelerator", "tpu", "'cpu', 'gpu' or 'neuron'"),
        ("vendor", "ibm", "'aws', 'azure' or 'gcp'"),
        ("framework", "jax", "'pytorch', 'custom', 'llamacpp' or 'tensorflow'"),
        ("scalingMetric", "cpu", "'pendingRequests' or 'hardwareUsage'"),
        ("instanceSize", "medium", "x1, x2, x4 or x8"),
        ("scaleToZeroTimeout", 10, "between 15 and 2880 minutes"),
        ("scaleToZeroTimeout", 3000, "between 15 and 2880 minutes"),
        ("minReplica", -1, "greater than or equal to 0"),
        ("maxReplica", 0, "greater than or equal to 1"),
        ("minReplica", 1.5, "valid integer"),
        ("scalingThreshold", -2, "greater than 0"),
        ("waitTimeout", 0, "greater than 0"),
        ("path", "no-slash", "must start with '/'"),
        ("task", "  ", "must not be empty"),
        ("repository", "", "must not be empty"),
        ("tags", "prod", "valid list"),
        ("env", {"A": 1}, "valid string"),
        ("env", ["A=1"], "valid dictionary"),
        ("containerArgs", [1], "valid string"),
        ("paused", "maybe", "valid boolean"),
        ("env", {"": "x"}, "variable names must be non-empty"),
        ("secrets", {"A=B": "x"}, "without '='"),
        ("customImage", {"url": "x", "options": {"a": float("nan")}}, "must be finite"),
    ],
)
def test_each_field_rule_names_the_property_and_what_is_allowed(
    prop: str, value: Any, expected: str
) -> None:
    props = {**GPT2, prop: value}
    if prop == "scalingThreshold":
        props["scalingMetric"] = "pendingRequests"
    if prop == "scaleToZeroTimeout":
        props["minReplica"] = 0
    failure = only_failure(props)
    assert failure.property == prop
    assert prop in failure.reason
    assert expected in failure.reason


@pytest.mark.parametrize("prop", spec.REQUIRED_INPUTS)
def test_each_required_input_is_reported_when_missing(prop: str) -> None:
    props = {k: v for k, v in GPT2.items() if k != prop}
    failure = only_failure(props)
    assert failure.property == prop
    assert f"{prop} is required" in failure.reason


def test_missing_enum_input_lists_the_allowed_values() -> None:
    failure = only_failure({k: v for k, v in GPT2.items() if k != "accelerator"})
    assert "cpu, gpu, neuron" in failure.reason


def test_min_replica_above_max_replica() -> None:
    failure = only_failure({**GPT2, "minReplica": 3, "maxReplica": 2})
    assert failure.property == "minReplica"
    assert "maxReplica (2)" in failure.reason


def test_scale_to_zero_needs_min_replica_zero() -> None:
    failure = only_failure({**GPT2, "minReplica": 1, "scaleToZeroTimeout": 30})
    assert failure.property == "scaleToZeroTimeout"
    assert "minReplica 0" in failure.reason


def test_threshold_needs_a_metric() -> None:
    failure = only_failure({**GPT2, "scalingThreshold": 2})
    assert failure.property == "scalingThreshold"
    assert "pendingRequests, hardwareUsage" in failure.reason


def test_custom_image_needs_a_url() -> None:
    failure = only_failure({**GPT2, "customImage": {"engine": "vLLM", "healthRoute": "/health"}})
    assert failure.property == "customImage"
    assert "customImage.url is required for the 'vLLM' engine" in failure.reason


def test_custom_image_rules() -> None:
    bad_engine = only_failure({**GPT2, "customImage": {"url": "x", "engine": "triton"}})
    assert bad_engine.property == "customImage"
    assert "'custom', 'huggingface', 'huggingfaceNeuron'" in bad_engine.reason
    bad_route = only_failure({**GPT2, "customImage": {"url": "x", "healthRoute": "health"}})
    assert "customImage.healthRoute" in bad_route.reason and "'/'" in bad_route.reason
    bad_port = only_failure({**GPT2, "customImage": {"url": "x", "port": 70000}})
    assert "customImage.port" in bad_port.reason and "65535" in bad_port.reason
    unknown_key = only_failure({**GPT2, "customImage": {"url": "x", "envs": {}}})
    assert "unknown key 'envs'" in unknown_key.reason and "healthRoute" in unknown_key.reason
    creds = only_failure(
        {
            **GPT2,
            "customImage": {"url": "x", "engine": "tgi", "credentials": {"username": "u"}},
        }
    )
    assert "only accepted with engine 'custom'" in creds.reason


def test_env_and_image_env_must_not_disagree() -> None:
    props = {**ZEPHYR, "env": {"MODEL_ID": "/other"}}
    failure = only_failure(props)
    assert failure.property == "env" and "MODEL_ID" in failure.reason


def test_unknown_property_lists_allowed_properties() -> None:
    failure = only_failure({**GPT2, "instance_type_typo": "x"})
    assert failure.property == "instance_type_typo"
    assert "allowed properties are" in failure.reason and "instanceType" in failure.reason


def test_secret_values_never_appear_in_failures() -> None:
    secret = "hf_SUPERSECRETVALUE"
    failures = failures_of({**GPT2, "secrets": {"TOKEN": 12345, "OK": secret}})
    assert failures and all(secret not in f.reason and "12345" not in f.reason for f in failures)
    failures = failures_of(
        {
            **GPT2,
            "customImage": {"url": "x", "credentials": {"username": "u", "password": 987654}},
        }
    )
    assert failures and all("987654" not in f.reason for f in failures)


class _Unknown:
    """Stands for pulumi.output.Unknown without importing Pulumi."""


def _is_unknown(value: Any) -> bool:
    return isinstance(value, _Unknown)


def test_unknown_values_are_never_errors_and_are_kept() -> None:
    region, url = _Unknown(), _Unknown()
    props = {
        **GPT2,
        "region": region,
        "customImage": {"url": url, "healthRoute": "/health"},
        "tags": ["a", _Unknown()],
    }
    props.pop("repository")
    props["repository"] = _Unknown()
    normalized, failures = spec.validate_inputs(props, is_unknown=_is_unknown)
    assert failures == []
    assert normalized["region"] is region
    assert normalized["customImage"]["url"] is url
    assert normalized["customImage"]["healthRoute"] == "/health"
    assert _is_unknown(normalized["tags"][1])


def test_known_errors_are_still_reported_beside_unknowns() -> None:
    props = {**GPT2, "region": _Unknown(), "instanceSize": "large"}
    failures = spec.validate_inputs(props, is_unknown=_is_unknown)[1]
    assert [f.property for f in failures] == ["instanceSize"]


def test_unknown_scale_to_zero_means_min_replica_zero_by_default() -> None:
    normalized, failures = spec.validate_inputs(
        {**GPT2, "scaleToZeroTimeout": _Unknown()}, is_unknown=_is_unknown
    )
    assert failures == []
    assert normalized["minReplica"] == 0


def test_spec_from_properties_raises_with_every_failure() -> None:
    with pytest.raises(spec.SpecError) as info:
        spec.spec_from_properties({"repository": "gpt2"})
    assert {f.property for f in info.value.failures} >= {"framework", "vendor", "region"}
    assert "framework is required" in str(info.value)


@pytest.mark.parametrize(
    ("changes", "prop", "said"),
    [
        ({"repository": "my model"}, "repository", "Hub model id"),
        ({"repository": "a/b/c"}, "repository", "Hub model id"),
        ({"repository": "org/-name"}, "repository", "not starting or ending with '-' or '.'"),
        ({"repository": "org/a--b"}, "repository", "no '--'"),
        ({"task": "text_generation"}, "task", "did you mean 'text-generation'?"),
        ({"task": "Text Generation"}, "task", "did you mean 'text-generation'?"),
        ({"env": {"1BAD KEY": "x"}}, "env", "not starting with a digit"),
        ({"secrets": {"MY SECRET": "x"}}, "secrets", "'MY SECRET' is not allowed"),
        ({"customImage": {"url": "r.io/i:1", "env": {"2X": "y"}}}, "customImage", "'2X'"),
        ({"instanceType": "nvidia-a10g"}, "accelerator", "set accelerator='gpu'"),
        ({"accelerator": "gpu"}, "accelerator", "a cpu instance"),
        ({"env": {"BIG": "x" * (128 * 1024)}}, "env", "at most 131072 bytes per variable"),
        ({"secrets": {"BIG": "x" * (128 * 1024)}}, "secrets", "per variable"),
        ({"env": {f"V{i}": "x" * 110_000 for i in range(20)}}, "env", "2097152 bytes"),
        ({"customImage": {"engine": "tgi"}}, "customImage", "only the managed engines"),
    ],
)
def test_what_the_service_or_a_replica_would_refuse_is_refused_at_preview(
    changes: dict[str, object], prop: str, said: str
) -> None:
    failure = only_failure({**GPT2, **changes})
    assert failure.property == prop and said in failure.reason


@pytest.mark.parametrize(
    "changes",
    [
        {"repository": "HuggingFaceH4/zephyr-7b-beta"},
        {"repository": "gpt2"},
        {"repository": "org/model.v1_final"},
        {"task": "image-text-to-text"},
        {"env": {"my.env-name": "1", "_X": "2", "MAX_INPUT_LENGTH": "3"}},
        {"env": {f"KEY_{i:05d}": "value" for i in range(10_000)}},
        {"customImage": {"engine": "huggingfaceNeuron", "options": {"batchSize": 4}}},
        {"customImage": {"engine": "huggingface"}},
        {"instanceType": "some-new-family", "accelerator": "gpu"},
    ],
)
def test_what_the_service_takes_passes(changes: dict[str, object]) -> None:
    _, failures = spec.validate_inputs({**GPT2, "type": "authenticated", **changes})
    assert failures == []
