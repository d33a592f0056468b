"""Mapping to and from the service's JSON, checked against the shapes in the API reference."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest

from pulumi_hf_endpoints import properties, spec
from pulumi_hf_endpoints.client.errors import MalformedResponseError
from pulumi_hf_endpoints.client.models import Endpoint
from tests.seed_examples import GPT2, ZEPHYR


def make(props: dict[str, Any]) -> spec.EndpointSpec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return spec.spec_from_properties(props)


def test_create_payload_of_the_guide_example_is_exact() -> None:
    payload = spec.create_payload(make(GPT2), "my-endpoint-name")
    assert payload == {
        "name": "my-endpoint-name",
        "type": "authenticated",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceSize": "x2",
            "instanceType": "intel-spr",
            "scaling": {"minReplica": 1, "maxReplica": 1, "scaleToZeroTimeout": None},
        },
        "model": {
            "repository": "gpt2",
            "framework": "pytorch",
            "revision": None,
            "image": {"huggingface": {}},
            "task": "text-generation",
        },
    }


def test_task_is_omitted_not_null_and_revision_is_always_present() -> None:
    props = {k: v for k, v in GPT2.items() if k != "task"}
    model = spec.create_payload(make(props), "n")["model"]
    assert "task" not in model
    assert "revision" in model and model["revision"] is None


def test_create_payload_maps_the_guide_custom_image() -> None:
    payload = spec.create_payload(make(ZEPHYR), "aws-zephyr-7b-beta-0486")
    assert payload["model"]["image"] == {
        "custom": {
            "url": "ghcr.io/huggingface/text-generation-inference:1.1.0",
            "healthRoute": "/health",
        }
    }
    # The service reads env at model.env, not inside the image.
    assert payload["model"]["env"] == ZEPHYR["customImage"]["env"]
    assert payload["compute"]["instanceType"] == "nvidia-a10g"


def test_create_payload_optional_blocks() -> None:
    props = {
        **GPT2,
        "minReplica": 0,
        "maxReplica": 4,
        "scaleToZeroTimeout": 30,
        "scalingMetric": "pendingRequests",
        "scalingThreshold": 1.5,
        "env": {"A": "1"},
        "secrets": {"S": "s3cret"},
        "tags": ["dev"],
        "domain": "api.example.com",
        "path": "/v1",
        "cacheHttpResponses": False,
        "containerCommand": ["python"],
        "containerArgs": [],
        "customImage": {
            "engine": "vLLM",
            "url": "vllm/vllm-openai:latest",
            "port": 8000,
            "tensorParallelSize": 2,
            "options": {"maxNumSeqs": 8},
        },
    }
    payload = spec.create_payload(make(props), "n")
    assert payload["compute"]["scaling"] == {
        "minReplica": 0,
        "maxReplica": 4,
        "scaleToZeroTimeout": 30,
        "measure": {"pendingRequests": 1.5},
    }
    assert payload["model"]["image"] == {
        "vLLM": {
            "url": "vllm/vllm-openai:latest",
            "port": 8000,
            "tensorParallelSize": 2,
            "maxNumSeqs": 8,
        }
    }
    assert payload["model"]["env"] == {"A": "1"}
    assert payload["model"]["secrets"] == {"S": "s3cret"}
    assert payload["model"]["command"] == ["python"]
    assert payload["model"]["args"] == []
    assert payload["route"] == {"domain": "api.example.com", "path": "/v1"}
    assert payload["cacheHttpResponses"] is False
    assert payload["tags"] == ["dev"]


def test_registry_credentials_are_sent_inside_the_custom_image() -> None:
    props = {
        **GPT2,
        "customImage": {"url": "r.io/i", "credentials": {"username": "u", "password": "p"}},
    }
    image = spec.create_payload(make(props), "n")["model"]["image"]
    assert image == {"custom": {"url": "r.io/i", "credentials": {"username": "u", "password": "p"}}}


def test_update_payload_is_empty_when_nothing_changed() -> None:
    assert spec.update_payload(make(GPT2), make(dict(GPT2))) == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"minReplica": 2, "maxReplica": 6},
            {"compute": {"scaling": {"minReplica": 2, "maxReplica": 6}}},
        ),
        ({"maxReplica": 3}, {"compute": {"scaling": {"maxReplica": 3}}}),
        (
            {"instanceSize": "x4"},
            {"compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x4"}},
        ),
        ({"revision": "abc123"}, {"model": {"revision": "abc123"}}),
        ({"repository": "distilgpt2"}, {"model": {"repository": "distilgpt2"}}),
        ({"env": {"A": "2"}}, {"model": {"env": {"A": "2"}}}),
        ({"tags": ["prod", "x"]}, {"tags": ["prod", "x"]}),
        ({"containerArgs": ["--a"]}, {"model": {"args": ["--a"]}}),
        ({"path": "/p"}, {"route": {"path": "/p"}}),
    ],
)
def test_update_payload_contains_only_the_changed_group(
    change: dict[str, Any], expected: dict[str, Any]
) -> None:
    old = {**GPT2, "env": {"A": "1"}, "tags": ["prod"]}
    assert spec.update_payload(make(old), make({**old, **change})) == expected


def test_update_sends_emptied_maps_and_lists_whole() -> None:
    old = make(
        {**GPT2, "env": {"A": "1"}, "secrets": {"S": "x"}, "tags": ["t"], "containerArgs": ["a"]}
    )
    new = make(GPT2)
    assert spec.update_payload(old, new) == {
        "model": {"env": {}, "secrets": {}, "args": []},
        "tags": [],
    }


def test_update_sends_the_whole_image_when_any_part_changes() -> None:
    old = make(ZEPHYR)
    changed = copy.deepcopy(ZEPHYR)
    changed["customImage"]["url"] = "ghcr.io/huggingface/text-generation-inference:3.0.0"
    payload = spec.update_payload(old, make(changed))
    assert payload == {
        "model": {
            "image": {
                "custom": {
                    "url": "ghcr.io/huggingface/text-generation-inference:3.0.0",
                    "healthRoute": "/health",
                }
            }
        }
    }


def test_update_sends_env_whole_when_the_image_env_changes() -> None:
    changed = copy.deepcopy(ZEPHYR)
    changed["customImage"]["env"]["MAX_INPUT_LENGTH"] = "2048"
    payload = spec.update_payload(make(ZEPHYR), make(changed))
    assert payload == {
        "model": {"env": {**ZEPHYR["customImage"]["env"], "MAX_INPUT_LENGTH": "2048"}}
    }


def test_removing_task_sends_nothing_since_the_service_refuses_null() -> None:
    props = {k: v for k, v in GPT2.items() if k != "task"}
    assert spec.update_payload(make(GPT2), make(props)) == {}


def test_changed_properties_marks_replacements_and_in_place_changes() -> None:
    old = make({**GPT2, "name": "a", "namespace": "ns"})
    new = make({**GPT2, "name": "a", "region": "eu-west-1", "maxReplica": 3})
    changed = spec.changed_properties(old, new)
    assert "region" in changed and "maxReplica" in changed
    assert "namespace" not in changed  # unset namespace keeps the resolved one
    assert set(changed) & set(properties.REPLACE_ON_CHANGES) == {"region"}


def test_changed_properties_treats_the_two_env_spellings_as_equal() -> None:
    with_image_env = make(ZEPHYR)
    moved = copy.deepcopy(ZEPHYR)
    moved["env"] = moved["customImage"].pop("env")
    assert spec.changed_properties(with_image_env, make(moved)) == []


def test_unknown_values_count_as_changes() -> None:
    changed = spec.changed_properties(make(GPT2), make(GPT2), unknown=["region", "env"])
    assert changed == ["region", "env"]


def test_paused_is_a_change_but_wait_settings_are_not() -> None:
    old = make(GPT2)
    assert spec.changed_properties(old, make({**GPT2, "paused": True})) == ["paused"]
    assert spec.changed_properties(old, make({**GPT2, "wait": False, "waitTimeout": 5})) == []


FULL_RESPONSE: dict[str, Any] = {
    "name": "my-endpoint-name",
    "type": "protected",
    "accountId": None,
    "provider": {"vendor": "aws", "region": "us-east-1"},
    "healthRoute": "/health",
    "compute": {
        "accelerator": "gpu",
        "id": "aws-us-east-1-nvidia-l4-x1",
        "instanceType": "nvidia-l4",
        "instanceSize": "x1",
        "scaling": {
            "minReplica": 0,
            "maxReplica": 1,
            "scaleToZeroTimeout": 15,
            "metric": "hardwareUsage",
            "measure": {"hardwareUsage": None},
        },
    },
    "model": {
        "repository": "meta-llama/Llama-3.2-3B-Instruct",
        "revision": "0cb88a4f764b7a12671c53f0838cd831a0843b95",
        "task": "text-generation",
        "framework": "pytorch",
        "image": {
            "tgi": {
                "url": "ghcr.io/huggingface/text-generation-inference:3.1.1",
                "healthRoute": "/health",
                "port": 80,
                "disableCustomKernels": False,
            }
        },
        "env": {},
        "secrets": {"HF_TOKEN": ""},
        "args": [],
        "command": [],
        "fromCatalog": False,
    },
    "tags": [],
    "experimentalFeatures": {"cacheHttpResponses": False, "kvRouter": None},
    "status": {
        "state": "running",
        "message": "Endpoint is ready",
        "url": "https://vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud",
        "readyReplica": 1,
        "targetReplica": 1,
        "createdAt": "2023-10-26T12:41:53.263078506Z",
        "createdBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
        "updatedAt": "2023-10-26T12:41:53.263Z",
        "updatedBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
        "private": None,
        "errorMessage": None,
        "lastUsedAt": "2023-10-26T12:41:53.263Z",
    },
}


def test_parse_full_response() -> None:
    info = Endpoint.from_raw(FULL_RESPONSE)
    assert info.status.state == "running"
    assert info.status.created_at == "2023-10-26T12:41:53.263078506Z"
    outputs = spec.status_outputs(info)
    assert outputs == {
        "url": "https://vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud",
        "status": "running",
        "statusMessage": "Endpoint is ready",
        "readyReplica": 1,
        "targetReplica": 1,
        "createdAt": "2023-10-26T12:41:53.263078506Z",
        "updatedAt": "2023-10-26T12:41:53.263Z",
        "healthRoute": "/health",
    }
    live = spec.spec_from_api(info, "ns", prior=make({**GPT2, "secrets": {"HF_TOKEN": "hf_x"}}))
    assert live.type == "authenticated"
    assert live.custom_image is not None and live.custom_image.engine == "tgi"
    assert live.custom_image.options == {"disableCustomKernels": False}
    assert live.scaling_metric is None  # the service's default measure: no metric was chosen
    assert live.secrets == {"HF_TOKEN": "hf_x"}  # redacted by the service, kept from prior
    # minReplica 0 and the schema's default timeout: unset, as the program has it ...
    assert live.min_replica == 0 and live.scale_to_zero_timeout is None
    # ... and 15 when the program says 15.
    declared = spec.spec_from_api(info, "ns", prior=make({**GPT2, "scaleToZeroTimeout": 15}))
    assert declared.scale_to_zero_timeout == 15
    assert spec.spec_from_api(info, "ns").scale_to_zero_timeout == 15  # a lookup: as reported


def test_parse_response_missing_optional_keys() -> None:
    minimal = {
        "name": "e",
        "type": "public",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x1"},
        "model": {"repository": "gpt2"},
        "status": {"state": "pending"},
    }
    info = Endpoint.from_raw(minimal)
    assert spec.status_outputs(info) == {"status": "pending"}
    live = spec.spec_from_api(info, "ns")
    assert live.custom_image is None and live.env is None and live.tags is None


def test_parse_failure_names_the_missing_key() -> None:
    broken = copy.deepcopy(FULL_RESPONSE)
    del broken["model"]["repository"]
    with pytest.raises(MalformedResponseError, match=r"model\.repository"):
        Endpoint.from_raw(broken)


def test_live_spec_round_trips_to_no_changes() -> None:
    """What create sends, read back from the service, is not a change."""
    desired = make({**ZEPHYR, "name": "z", "namespace": "ns", "tags": ["a"]})
    payload = spec.create_payload(desired, "z")
    response = {
        **payload,
        "healthRoute": "/health",
        "status": {"state": "running", "createdAt": "2024-01-01T00:00:00Z"},
    }
    live = spec.spec_from_api(Endpoint.from_raw(response), "ns", prior=desired)
    assert spec.changed_properties(live, desired) == []


@pytest.mark.parametrize(
    ("removed", "expected"),
    [
        ({"path": "/v1"}, {"route": {}}),
        ({"domain": "api.example.com"}, {"route": {}}),
        (
            {"scalingMetric": "pendingRequests", "scalingThreshold": 1.5},
            {"compute": {"scaling": {"measure": {"hardwareUsage": None}}}},
        ),
        ({"cacheHttpResponses": True}, {"cacheHttpResponses": False}),
        ({"revision": "abc"}, {"model": {"revision": "main"}}),
        ({"env": {"A": "1"}}, {"model": {"env": {}}}),
        ({"secrets": {"S": "1"}}, {"model": {"secrets": {}}}),
        ({"tags": ["a"]}, {"tags": []}),
        ({"containerCommand": ["x"]}, {"model": {"command": []}}),
        ({"containerArgs": ["x"]}, {"model": {"args": []}}),
        ({"customImage": {"url": "r.io/i:1"}}, {"model": {"image": {"huggingface": {}}}}),
    ],
)
def test_removing_an_optional_property_sends_the_services_default(
    removed: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert spec.update_payload(make({**GPT2, **removed}), make(GPT2)) == expected


def test_removing_the_path_sends_the_route_with_the_domain_only() -> None:
    old = make({**GPT2, "domain": "api.example.com", "path": "/v1"})
    new = make({**GPT2, "domain": "api.example.com"})
    assert spec.update_payload(old, new) == {"route": {"domain": "api.example.com"}}


def _nulls(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [k for k, v in value.items() if v is None and k not in ("hardwareUsage",)] + [
            n for v in value.values() for n in _nulls(v)
        ]
    return []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # minReplica stays 0: the schema's default timeout, so no earlier value lingers.
        (
            {"minReplica": 0, "scaleToZeroTimeout": 60},
            {"minReplica": 0},
            {"compute": {"scaling": {"scaleToZeroTimeout": 15}}},
        ),
        # minReplica 1: the timeout does nothing and is left out, as huggingface_hub does.
        (
            {"minReplica": 0, "scaleToZeroTimeout": 60},
            {"minReplica": 1},
            {"compute": {"scaling": {"minReplica": 1}}},
        ),
        # Turning scale-to-zero on without a timeout: the default, not a value left from before.
        (
            {"minReplica": 1},
            {"minReplica": 0},
            {"compute": {"scaling": {"minReplica": 0, "scaleToZeroTimeout": 15}}},
        ),
        (
            {"minReplica": 0, "scaleToZeroTimeout": 60},
            {"minReplica": 0, "scaleToZeroTimeout": 90},
            {"compute": {"scaling": {"scaleToZeroTimeout": 90}}},
        ),
    ],
)
def test_the_scale_to_zero_timeout_is_cleared_without_null(
    before: dict[str, Any], after: dict[str, Any], expected: dict[str, Any]
) -> None:
    payload = spec.update_payload(make({**GPT2, **before}), make({**GPT2, **after}))
    assert payload == expected


def test_no_update_body_holds_a_null() -> None:
    """A null is, as far as any source shows, the same as a key left out: clearing never uses it."""
    full = make(
        {
            **GPT2,
            "revision": "abc",
            "minReplica": 0,
            "scaleToZeroTimeout": 30,
            "scalingMetric": "pendingRequests",
            "scalingThreshold": 2,
            "customImage": {"url": "r.io/i:1"},
            "containerCommand": ["a"],
            "containerArgs": ["b"],
            "env": {"E": "1"},
            "secrets": {"S": "1"},
            "tags": ["t"],
            "domain": "d.example.com",
            "path": "/p",
            "cacheHttpResponses": True,
        }
    )
    bare = make({k: v for k, v in GPT2.items() if k != "task"})
    for old, new in ((full, bare), (bare, full)):
        payload = spec.update_payload(old, new)
        assert payload and _nulls(payload) == [], payload


def test_defaults_written_out_are_no_change() -> None:
    explicit = make({**GPT2, "cacheHttpResponses": False, "scalingMetric": "hardwareUsage"})
    assert spec.update_payload(make(GPT2), explicit) == {}
    assert spec.changed_properties(make(GPT2), explicit) == []


def test_the_services_default_measure_reads_as_no_metric_unless_the_program_chose_it() -> None:
    info = Endpoint.from_raw(FULL_RESPONSE)  # measure {"hardwareUsage": null}
    assert spec.spec_from_api(info, "ns", prior=make(GPT2)).scaling_metric is None
    chosen = make({**GPT2, "scalingMetric": "hardwareUsage"})
    assert spec.spec_from_api(info, "ns", prior=chosen).scaling_metric == "hardwareUsage"


def test_cache_http_responses_reads_as_unset_when_false_unless_the_program_set_it() -> None:
    info = Endpoint.from_raw(FULL_RESPONSE)  # experimentalFeatures.cacheHttpResponses false
    assert spec.spec_from_api(info, "ns", prior=make(GPT2)).cache_http_responses is None
    declared = make({**GPT2, "cacheHttpResponses": False})
    assert spec.spec_from_api(info, "ns", prior=declared).cache_http_responses is False
    turned_on = Endpoint.from_raw(
        {**FULL_RESPONSE, "experimentalFeatures": {"cacheHttpResponses": True}}
    )
    assert spec.spec_from_api(turned_on, "ns", prior=make(GPT2)).cache_http_responses is True


def test_cache_http_responses_is_read_where_the_schema_reports_it() -> None:
    """`experimentalFeatures.cacheHttpResponses` decides; the top-level key of older answers is
    read only when the answer has no `experimentalFeatures` value."""
    both = {**FULL_RESPONSE, "cacheHttpResponses": False}
    both["experimentalFeatures"] = {"cacheHttpResponses": True}
    assert Endpoint.from_raw(both).caches_http_responses is True
    older = {k: v for k, v in FULL_RESPONSE.items() if k != "experimentalFeatures"}
    assert Endpoint.from_raw({**older, "cacheHttpResponses": True}).caches_http_responses is True
    assert Endpoint.from_raw(older).caches_http_responses is False


@pytest.mark.parametrize(
    ("live", "prior", "expected"),
    [
        ({"A": None}, {"A": "a"}, {"A": "a"}),  # values never come back: kept by key
        ({"A": None, "B": None}, {"A": "a"}, {"A": "a", "B": ""}),  # a key set elsewhere
        ({}, {"A": "a"}, {}),  # cleared elsewhere
        ("absent", {"A": "a"}, {"A": "a"}),  # an answer without the key says nothing
        ("absent", None, None),
    ],
)
def test_secrets_are_read_by_key(live: Any, prior: Any, expected: Any) -> None:
    raw = copy.deepcopy(FULL_RESPONSE)
    raw["model"].pop("secrets", None)
    if live != "absent":
        raw["model"]["secrets"] = live
    props = {**GPT2, **({"secrets": prior} if prior is not None else {})}
    assert spec.spec_from_api(Endpoint.from_raw(raw), "ns", prior=make(props)).secrets == expected


@pytest.mark.parametrize(
    ("variant", "engine"),
    [("vLLMOmni", "vLLMOmni"), ("someFutureEngine", "someFutureEngine"), ("sGLang", "sGLang")],
)
def test_an_image_variant_is_read_back_verbatim(variant: str, engine: str) -> None:
    raw = copy.deepcopy(FULL_RESPONSE)
    raw["model"]["image"] = {variant: {"url": "r.io/i:1", "port": 8000, "extra": 1}}
    live = spec.spec_from_api(Endpoint.from_raw(raw), "ns", prior=make(GPT2))
    assert live.custom_image is not None and live.custom_image.engine == engine
    assert live.to_properties()["customImage"] == {
        "url": "r.io/i:1",
        "engine": engine,
        "port": 8000,
        "options": {"extra": 1},
    }
    # Sent back as it was read: a refresh or an adoption never rewrites the image.
    assert spec.image_payload(live.custom_image) == raw["model"]["image"]


def test_managed_images_are_read_back() -> None:
    raw = copy.deepcopy(FULL_RESPONSE)
    raw["model"]["image"] = {"huggingfaceNeuron": {"batchSize": 4, "sequenceLength": 2048}}
    live = spec.spec_from_api(Endpoint.from_raw(raw), "ns", prior=make(GPT2))
    assert live.custom_image is not None and live.custom_image.engine == "huggingfaceNeuron"
    assert live.custom_image.url is None
    assert spec.image_payload(live.custom_image) == raw["model"]["image"]
    raw["model"]["image"] = {"huggingface": {}}
    assert spec.spec_from_api(Endpoint.from_raw(raw), "ns", prior=make(GPT2)).custom_image is None
    written = make({**GPT2, "customImage": {"engine": "huggingface"}})
    read = spec.spec_from_api(Endpoint.from_raw(raw), "ns", prior=written)
    assert read.custom_image is not None and read.custom_image.engine == "huggingface"
    assert "customImage" not in spec.changed_properties(read, written)


@pytest.mark.parametrize(
    ("live", "declared", "expected"),
    [
        ("main", None, None),
        ("a" * 40, None, None),  # the commit the service resolved the default to
        ("v1.0", None, "v1.0"),  # pinned elsewhere: drift
        ("main", "main", "main"),
        ("a" * 40, "b" * 40, "a" * 40),
    ],
)
def test_the_default_revision_reads_as_unset(live: str, declared: Any, expected: Any) -> None:
    raw = copy.deepcopy(FULL_RESPONSE)
    raw["model"]["revision"] = live
    props = {**GPT2, **({"revision": declared} if declared else {})}
    assert spec.spec_from_api(Endpoint.from_raw(raw), "ns", prior=make(props)).revision == expected


def test_removing_task_is_no_change_since_the_service_cannot_unset_it() -> None:
    props = {k: v for k, v in GPT2.items() if k != "task"}
    assert spec.changed_properties(make(GPT2), make(props)) == []


def test_state_keeps_an_unknown_image_variant_verbatim() -> None:
    """State written by a refresh that read a variant this version does not know: the spec
    keeps it, so a program that says otherwise plans a visible change, and one that is silent
    about the image plans the default image, never a silent rewrite to `custom`."""
    state = {**GPT2, "customImage": {"engine": "vLLMOmni", "url": "r.io/i:1", "port": 8000}}
    old = spec.spec_from_state(state)
    assert old.custom_image is not None and old.custom_image.engine == "vLLMOmni"
    assert spec.image_payload(old.custom_image) == {"vLLMOmni": {"url": "r.io/i:1", "port": 8000}}
    assert "customImage" in spec.changed_properties(old, make(GPT2))
    managed = spec.spec_from_state({**GPT2, "customImage": {"engine": "futureManaged"}})
    assert managed.custom_image is not None and managed.custom_image.engine == "futureManaged"
