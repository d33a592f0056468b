"""The `/v2` control plane over HTTP: routes, JSON, merge rules, validation and error codes."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle, http_client, loopback_client

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PARSE = "Failed to parse the request body as JSON: "
RANGE = "VALIDATION_FAILED: compute.scaling.scaleToZeroTimeout: must be between 15 and 2880 minutes"

HTTP = http_client()


def payload(name: str = "my-endpoint", **top: Any) -> dict[str, Any]:
    """The create body huggingface_hub sends for the guide's gpt2 endpoint."""
    body: dict[str, Any] = {
        "compute": {
            "accelerator": "cpu",
            "instanceSize": "x2",
            "instanceType": "intel-spr",
            "scaling": {"maxReplica": 1, "minReplica": 1, "scaleToZeroTimeout": None},
        },
        "model": {
            "framework": "pytorch",
            "repository": "gpt2",
            "revision": None,
            "image": {"huggingface": {}},
            "task": "text-generation",
        },
        "name": name,
        "provider": {"region": "us-east-1", "vendor": "aws"},
        "type": "authenticated",
    }
    body.update(top)
    return body


def with_change(path: str, value: Any, name: str = "my-endpoint") -> dict[str, Any]:
    """`payload()` with the dotted `path` set to `value` (or removed when value is ...)."""
    body = payload(name)
    *parents, leaf = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return body


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    with loopback_client(base_url=emulator.base_url, headers=emulator.headers, timeout=10) as c:
        yield c


@pytest.fixture
def ns(emulator: EmulatorHandle) -> str:
    return f"/v2/endpoint/{emulator.user}"


def test_create_answers_every_key_huggingface_hub_reads(
    client: httpx.Client, ns: str, emulator: EmulatorHandle
) -> None:
    response = client.post(ns, json=payload())
    assert response.status_code == 200
    raw = response.json()
    assert raw["name"] == "my-endpoint" and raw["type"] == "authenticated"
    assert raw["healthRoute"] == "/health"
    assert {k: raw["model"][k] for k in ("repository", "framework", "revision", "task")} == {
        "repository": "gpt2",
        "framework": "pytorch",
        "revision": None,
        "task": "text-generation",
    }
    status = raw["status"]
    assert status["state"] == "pending" and status["message"] == "Endpoint waiting to be scheduled"
    assert (status["readyReplica"], status["targetReplica"]) == (0, 1)
    assert TIMESTAMP.match(status["createdAt"]) and TIMESTAMP.match(status["updatedAt"])
    assert status["createdBy"]["name"] == emulator.user and status["errorMessage"] is None
    assert re.fullmatch(re.escape(emulator.base_url) + r"/endpoints/[a-z0-9]{16}", status["url"])
    assert raw["compute"]["id"] == "aws-us-east-1-intel-spr-x2"
    for key in (
        "compute",
        "experimentalFeatures",
        "healthRoute",
        "model",
        "name",
        "notifications",
        "provider",
        "status",
        "tags",
        "type",
    ):
        assert key in raw


def test_get_list_delete(client: httpx.Client, ns: str) -> None:
    first = client.post(ns, json=payload("first")).json()
    second = client.post(ns, json=payload("second")).json()
    assert first["status"]["url"] != second["status"]["url"]
    assert client.get(f"{ns}/first").json()["status"]["url"] == first["status"]["url"]
    listed = client.get(ns).json()
    assert [e["name"] for e in listed["items"]] == ["first", "second"]
    assert listed["nextCursor"] is None and listed["prevCursor"] is None
    deleted = client.delete(f"{ns}/first")
    assert (deleted.status_code, deleted.json()) == (200, {})
    missing = client.get(f"{ns}/first")
    assert (missing.status_code, missing.json()) == (404, {"error": "Endpoint not found"})
    assert client.delete(f"{ns}/first").status_code == 404
    for action in ("pause", "resume", "scale-to-zero"):
        assert client.post(f"{ns}/first/{action}").status_code == 404
    assert client.put(f"{ns}/first", json={}).status_code == 404
    assert [e["name"] for e in client.get(ns).json()["items"]] == ["second"]


def test_duplicate_name_is_409_per_namespace(client: httpx.Client, ns: str) -> None:
    assert client.post(ns, json=payload("dup")).status_code == 200
    conflict = client.post(ns, json=payload("dup"))
    assert conflict.status_code == 409
    assert conflict.json() == {"error": "An endpoint with the same name already exists"}
    assert client.post("/v2/endpoint/emulator-org", json=payload("dup")).status_code == 200


# Partial update (PUT) merge rules


def _create_full(client: httpx.Client, ns: str) -> dict[str, Any]:
    body = payload("full")
    body["compute"]["scaling"] = {"minReplica": 0, "maxReplica": 2, "scaleToZeroTimeout": 30}
    body["model"].update(
        image={"custom": {"url": "ghcr.io/acme/server:1", "port": 8080, "healthRoute": "/ready"}},
        env={"A": "1", "B": "2"},
        secrets={"S1": "x", "S2": "y"},
        args=["--flag"],
        command=["serve"],
    )
    body["tags"] = ["dev", "team-a"]
    response = client.post(ns, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _put(client: httpx.Client, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"{ns}/full", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_update_merges_compute_and_scaling_key_by_key(client: httpx.Client, ns: str) -> None:
    _create_full(client, ns)
    raw = _put(client, ns, {"compute": {"scaling": {"maxReplica": 5}}})
    assert raw["compute"]["scaling"] == {
        "minReplica": 0,
        "maxReplica": 5,
        "scaleToZeroTimeout": 30,
        "metric": "hardwareUsage",  # the service's default measure, reported when none is set
        "measure": {"hardwareUsage": None},
    }
    raw = _put(client, ns, {"compute": {"instanceSize": "x4"}})
    assert (
        raw["compute"]["accelerator"],
        raw["compute"]["instanceType"],
        raw["compute"]["instanceSize"],
    ) == ("cpu", "intel-spr", "x4")
    assert raw["compute"]["scaling"]["maxReplica"] == 5
    raw = _put(client, ns, {"compute": {"scaling": {"scaleToZeroTimeout": 60}}})
    assert raw["compute"]["scaling"]["scaleToZeroTimeout"] == 60
    assert raw["model"]["env"] == {"A": "1", "B": "2"}  # untouched by compute updates


def test_a_null_is_a_key_not_sent(client: httpx.Client, ns: str) -> None:
    """A `null` where a key may be left out changes nothing, at the top and inside merged
    objects; the route is replaced whole, so its keys are cleared by leaving them out."""
    _create_full(client, ns)
    raw = _put(
        client,
        ns,
        {
            "compute": {"scaling": {"measure": {"pendingRequests": 2.0}}},
            "route": {"domain": "api.example.com", "path": "/v1"},
            "cacheHttpResponses": True,
        },
    )
    assert raw["compute"]["scaling"]["measure"] == {"pendingRequests": 2.0}
    assert raw["route"] == {"domain": "api.example.com", "path": "/v1"}
    assert raw["experimentalFeatures"]["cacheHttpResponses"] is True
    nulls = {
        "compute": {"scaling": {"measure": None, "scaleToZeroTimeout": None}},
        "model": {"revision": None, "env": None},
        "route": None,
        "cacheHttpResponses": None,
        "tags": None,
    }
    after = _put(client, ns, nulls)
    for key in ("compute", "model", "route", "tags", "experimentalFeatures"):
        assert after[key] == raw[key], key
    raw = _put(client, ns, {"route": {"domain": "api.example.com"}})
    assert raw["route"] == {"domain": "api.example.com"}  # replaced whole: the path is gone
    raw = _put(client, ns, {"route": {}, "cacheHttpResponses": False})
    assert raw["route"] is None and raw["experimentalFeatures"]["cacheHttpResponses"] is False
    raw = _put(client, ns, {"compute": {"scaling": {"measure": {"hardwareUsage": None}}}})
    assert raw["compute"]["scaling"]["measure"] == {"hardwareUsage": None}


def test_the_default_written_out_is_no_change() -> None:
    """The update that only restates defaults leaves the stored configuration as it was, so
    it does not redeploy the endpoint."""
    from hf_endpoints_emulator.validation import merge_update, normalize

    stored = normalize(payload(route={"domain": "api.example.com"}))
    patch = {
        "compute": {"scaling": {"measure": {"hardwareUsage": None}}},
        "route": {"domain": "api.example.com"},
        "cacheHttpResponses": False,
    }
    assert normalize(merge_update(stored, patch)) == stored


def test_update_replaces_env_secrets_args_command_image_tags_whole(
    client: httpx.Client, ns: str
) -> None:
    _create_full(client, ns)
    raw = _put(client, ns, {"model": {"env": {"C": "3"}, "secrets": {"S3": "z"}, "args": []}})
    assert raw["model"]["env"] == {"C": "3"}
    assert raw["model"]["secrets"] == {"S3": None}  # values never come back
    assert raw["model"]["args"] == [] and raw["model"]["command"] == ["serve"]
    assert raw["model"]["repository"] == "gpt2"  # model merges key by key
    raw = _put(client, ns, {"model": {"image": {"custom": {"url": "ghcr.io/acme/server:2"}}}})
    assert raw["model"]["image"] == {"custom": {"url": "ghcr.io/acme/server:2"}}  # port gone
    assert raw["healthRoute"] == "/health"
    raw = _put(client, ns, {"tags": ["prod"], "model": {"command": ["run", "--fast"]}})
    assert raw["tags"] == ["prod"] and raw["model"]["command"] == ["run", "--fast"]


def test_rejected_update_changes_nothing(client: httpx.Client, ns: str) -> None:
    before = _create_full(client, ns)
    for body, status in (
        ({"compute": {"scaling": {"scaleToZeroTimeout": 5}}}, 400),
        ({"compute": {"instanceType": "nvidia-l4"}}, 400),  # a GPU type with accelerator cpu
        ({"model": {"task": None}}, 400),
        ({"name": "renamed"}, 400),
        ({"provider": {"vendor": "aws", "region": "eu-west-1"}}, 400),
        ({"type": "protected"}, 400),
    ):
        response = client.put(f"{ns}/full", json=body)
        assert response.status_code == status, (body, response.text)
    after = client.get(f"{ns}/full").json()
    for key in ("compute", "model", "tags", "type", "name", "provider"):
        assert after[key] == before[key]


def test_update_restating_type_name_and_provider_is_accepted(client: httpx.Client, ns: str) -> None:
    """Some clients send `type`, `name` and `provider` with every update: the same values pass."""
    _create_full(client, ns)
    raw = _put(
        client,
        ns,
        {
            "type": "authenticated",
            "name": "full",
            "provider": {"vendor": "aws", "region": "us-east-1"},
            "tags": ["prod"],
        },
    )
    assert raw["type"] == "authenticated" and raw["tags"] == ["prod"]
    assert raw["model"]["image"]["custom"]["port"] == 8080


@pytest.mark.parametrize("new_type", ["public", "private"])
def test_update_refuses_to_change_the_type(client: httpx.Client, ns: str, new_type: str) -> None:
    """No documentation of the service offers a type change on an existing endpoint
    (docs/resource.md, "Update or replacement"): a new endpoint is needed, and the endpoint is
    left unchanged."""
    _create_full(client, ns)
    response = client.put(f"{ns}/full", json={"type": new_type, "tags": ["prod"]})
    assert response.status_code == 400
    assert response.json()["error"] == (
        f"VALIDATION_FAILED: type: cannot be changed from `authenticated` to `{new_type}` on an"
        " existing endpoint, create a new endpoint instead"
    )
    kept = client.get(f"{ns}/full").json()
    assert kept["type"] == "authenticated" and kept["tags"] == ["dev", "team-a"]


# Validation: the service's messages and codes

HARDWARE_CASES = [
    (
        ("cpu", "c6i", "medium", "aws", "us-east-1"),
        "Instance compute 'Cpu' - 'c6i' - 'medium' in 'aws' - 'us-east-1' not found",
    ),
    (
        ("gpu", "nvidia-l4", "x1", "aws", "eu-west-1"),
        "Instance compute 'Gpu' - 'nvidia-l4' - 'x1' in 'aws' - 'eu-west-1' not found",
    ),
    (
        ("gpu", "intel-spr", "x2", "aws", "us-east-1"),
        "Instance compute 'Gpu' - 'intel-spr' - 'x2' in 'aws' - 'us-east-1' not found",
    ),
    (
        ("cpu", "intel-spr", "x2", "azure", "eastus"),
        "Instance compute 'Cpu' - 'intel-spr' - 'x2' in 'azure' - 'eastus' not found",
    ),
    (
        ("cpu", "intel-spr", "x2", "aws", "mars-1"),
        "Instance compute 'Cpu' - 'intel-spr' - 'x2' in 'aws' - 'mars-1' not found",
    ),
]


@pytest.mark.parametrize(("combo", "message"), HARDWARE_CASES)
def test_unknown_hardware_is_400_with_the_service_wording(
    client: httpx.Client, ns: str, combo: tuple[str, str, str, str, str], message: str
) -> None:
    accelerator, instance_type, size, vendor, region = combo
    body = payload()
    body["compute"].update(accelerator=accelerator, instanceType=instance_type, instanceSize=size)
    body["provider"] = {"vendor": vendor, "region": region}
    response = client.post(ns, json=body)
    assert (response.status_code, response.json()) == (400, {"error": message})


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("model.task", None, PARSE + "model.task: expected value"),
        (
            "model.image",
            {"vLLM": {"tensorParallelSize": 8}},
            "VALIDATION_FAILED: model.image.vLLM: missing field `url`",
        ),
        (
            "model.image",
            {"custom": {"port": 80}},
            "VALIDATION_FAILED: model.image.custom: missing field `url`",
        ),
        (
            "model.image",
            {},
            PARSE + "model.image: invalid type: map, expected map with a single key",
        ),
        (
            "model.image",
            {"tgi": {"url": "a"}, "tei": {"url": "b"}},
            PARSE + "model.image: invalid type: map, expected map with a single key",
        ),
        (
            "compute.scaling.scaleToZeroTimeout",
            14,
            RANGE,
        ),
        (
            "compute.scaling.scaleToZeroTimeout",
            2881,
            RANGE,
        ),
        (
            "compute.scaling.minReplica",
            3,
            "VALIDATION_FAILED: compute.scaling: minReplica must be lower than or equal to"
            " maxReplica",
        ),
        (
            "compute.scaling.minReplica",
            -1,
            "VALIDATION_FAILED: compute.scaling.minReplica: must be between 0 and 1000",
        ),
        (
            "compute.scaling.minReplica",
            "1",
            PARSE + 'compute.scaling.minReplica: invalid type: string "1", expected an integer',
        ),
        (
            "compute.scaling.maxReplica",
            1.5,
            PARSE
            + "compute.scaling.maxReplica: invalid type: floating point `1.5`, expected an integer",
        ),
        ("compute.instanceType", ..., PARSE + "compute: missing field `instanceType`"),
        (
            "model.repository",
            42,
            PARSE + "model.repository: invalid type: integer `42`, expected a string",
        ),
        ("model.repository", " ", "VALIDATION_FAILED: model.repository: must not be empty"),
        (
            "type",
            "protected",
            PARSE + "type: unknown variant `protected`, expected one of `public`, `authenticated`,"
            " `private`",
        ),
        ("provider", None, PARSE + "provider: invalid type: null, expected a map"),
        ("name", ..., PARSE + "missing field `name`"),
    ],
)
def test_invalid_create_bodies(
    client: httpx.Client, ns: str, path: str, value: Any, message: str
) -> None:
    response = client.post(ns, json=with_change(path, value))
    assert (response.status_code, response.json()) == (400, {"error": message})
    assert client.get(ns).json()["items"] == []


@pytest.mark.parametrize(
    "name", ["Upper", "-lead", "trail-", "a" * 33, "under_score", "", "dot.ted", "ünï"]
)
def test_bad_names_are_400(client: httpx.Client, ns: str, name: str) -> None:
    response = client.post(ns, json=payload(name))
    assert response.status_code == 400
    assert response.json()["error"].startswith(
        "VALIDATION_FAILED: name: must only contain lowercase alphanumeric"
    )


@pytest.mark.parametrize("name", ["a", "0abc", "a" * 32, "my-endpoint-2"])
def test_good_names(client: httpx.Client, ns: str, name: str) -> None:
    assert client.post(ns, json=payload(name)).status_code == 200


@pytest.mark.parametrize("timeout", [15, 2880])
def test_scale_to_zero_timeout_bounds_are_inclusive(
    client: httpx.Client, ns: str, timeout: int
) -> None:
    assert (
        client.post(ns, json=with_change("compute.scaling.scaleToZeroTimeout", timeout)).status_code
        == 200
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b"null", b'"text"', b'{"name": 1}'],
)
def test_malformed_json_is_400(client: httpx.Client, ns: str, content: bytes) -> None:
    response = client.post(ns, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"].startswith(PARSE)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            '"scaleToZeroTimeout": null',
            '"scaleToZeroTimeout": null, "measure": {"pendingRequests": NaN}',
        ),
        ('"maxReplica": 1', '"maxReplica": 1, "threshold": Infinity'),
        ('"repository": "gpt2"', '"repository": "gpt2", "env": {"A": "\\ud800"}'),
        ('"type": "authenticated"', '"type": "authenticated", "tags": ["\\udfff"]'),
    ],
)
def test_values_json_cannot_carry_are_400(
    client: httpx.Client, ns: str, old: str, new: str
) -> None:
    """Python's parser takes NaN and lone surrogates; the service's does not, nor may we store
    what could not be answered."""
    raw = json.dumps(payload())
    assert old in raw
    response = client.post(
        ns, content=raw.replace(old, new), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"].startswith(PARSE)
    assert client.get(ns).json()["items"] == []


def test_unknown_fields_are_ignored_and_images_keep_their_settings(
    client: httpx.Client, ns: str
) -> None:
    body = with_change(
        "model.image",
        {"vLLM": {"url": "vllm/vllm-openai:v0.11.0", "tensorParallelSize": 2, "futureField": True}},
    )
    body["somethingNew"] = {"x": 1}
    raw = client.post(ns, json=body).json()
    assert raw["model"]["image"] == {
        "vLLM": {"url": "vllm/vllm-openai:v0.11.0", "tensorParallelSize": 2, "futureField": True}
    }
    assert "somethingNew" not in raw


# Pagination and filters


def test_pagination_with_cursors(client: httpx.Client, ns: str) -> None:
    names = [f"ep-{i}" for i in range(7)]
    for name in names:
        client.post(ns, json=payload(name))
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = client.get(ns, params=params).json()
        pages.append(page)
        if page["nextCursor"] is None:
            break
        params = {"limit": 3, "cursor": page["nextCursor"]}
    assert [[e["name"] for e in p["items"]] for p in pages] == [names[0:3], names[3:6], names[6:7]]
    assert pages[0]["prevCursor"] is None and pages[1]["prevCursor"] is not None
    back = client.get(ns, params={"limit": 3, "cursor": pages[2]["prevCursor"]}).json()
    assert [e["name"] for e in back["items"]] == names[3:6]


def test_default_page_size_is_20(client: httpx.Client, ns: str) -> None:
    for i in range(21):
        client.post(ns, json=payload(f"ep-{i}"))
    first = client.get(ns).json()
    assert len(first["items"]) == 20 and first["nextCursor"]
    rest = client.get(ns, params={"cursor": first["nextCursor"]}).json()
    assert [e["name"] for e in rest["items"]] == ["ep-20"] and rest["nextCursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ4IjoxfQ"},
    ],
)
def test_bad_list_parameters_are_400(client: httpx.Client, ns: str, params: dict[str, Any]) -> None:
    response = client.get(ns, params=params)
    assert response.status_code == 400 and response.json()["error"]


def test_tags_and_search_filters(client: httpx.Client, ns: str) -> None:
    client.post(ns, json=payload("alpha-api", tags=["prod", "api"]))
    client.post(ns, json=payload("beta-api", tags=["dev", "api"]))
    client.post(ns, json=payload("gamma", tags=["prod"]))

    def names(**params: str) -> list[str]:
        return [e["name"] for e in client.get(ns, params=params).json()["items"]]

    assert names(tags="prod") == ["alpha-api", "gamma"]
    assert names(tags="prod,api") == ["alpha-api"]
    assert names(search="API") == ["alpha-api", "beta-api"]
    assert names(search="api", tags="dev") == ["beta-api"]
    assert names(tags="none") == []


# Auth on the control plane

ROUTES = [
    ("GET", "/v2/endpoint/{ns}"),
    ("POST", "/v2/endpoint/{ns}"),
    ("GET", "/v2/endpoint/{ns}/x"),
    ("PUT", "/v2/endpoint/{ns}/x"),
    ("DELETE", "/v2/endpoint/{ns}/x"),
    ("POST", "/v2/endpoint/{ns}/x/pause"),
    ("POST", "/v2/endpoint/{ns}/x/resume"),
    ("POST", "/v2/endpoint/{ns}/x/scale-to-zero"),
    ("GET", "/v2/provider/{ns}"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer hf_wrong", "Basic abc", "Bearer"])
def test_every_route_needs_a_valid_token(
    emulator: EmulatorHandle, method: str, route: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    url = emulator.base_url + route.format(ns=emulator.user)
    response = HTTP.request(method, url, headers=headers, json=payload())
    assert response.status_code == 401
    assert response.json() == {
        "error": "A valid user or organization token, sent as a Bearer, is required"
    }


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_foreign_namespace_is_403_before_anything_else(
    emulator: EmulatorHandle, method: str, route: str
) -> None:
    url = emulator.base_url + route.format(ns="someone-else")
    response = HTTP.request(method, url, headers=emulator.headers, content=b"not json")
    assert response.status_code == 403
    assert "someone-else" in response.json()["error"]


def test_unknown_routes_answer_json_errors(client: httpx.Client, ns: str) -> None:
    missing = client.get("/v2/nothing-here")
    assert missing.status_code == 404 and "error" in missing.json()
    wrong_method = client.patch(f"{ns}/x", json={})
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    assert wrong_method.headers["allow"] == "DELETE, GET, PUT"


def test_openapi_describes_the_control_plane(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    expected = {
        "/v2/endpoint/{namespace}": {"get", "post"},
        "/v2/endpoint/{namespace}/{name}": {"get", "put", "delete"},
        "/v2/endpoint/{namespace}/{name}/pause": {"post"},
        "/v2/endpoint/{namespace}/{name}/resume": {"post"},
        "/v2/endpoint/{namespace}/{name}/scale-to-zero": {"post"},
        "/v2/endpoint/{namespace}/{name}/logs": {"get"},
        "/v2/endpoint/{namespace}/{name}/logs/sse": {"get"},
        "/v2/provider/{namespace}": {"get"},
        "/api/whoami-v2": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods
    assert not any(p.startswith(("/endpoints", "/emulator")) for p in paths)
    assert all("422" not in op["responses"] for item in paths.values() for op in item.values())
    create = paths["/v2/endpoint/{namespace}"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/EndpointBody"
    )
    assert {"400", "401", "403", "409"} <= set(create["responses"])
    logs = paths["/v2/endpoint/{namespace}/{name}/logs"]["get"]
    assert set(logs["responses"]["200"]["content"]) == {"text/plain"}
    assert {p["name"] for p in logs["parameters"]} >= {"from", "to", "tail"}
    stream = paths["/v2/endpoint/{namespace}/{name}/logs/sse"]["get"]
    assert set(stream["responses"]["200"]["content"]) == {"text/event-stream"}
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_responses_match_the_documented_schema(client: httpx.Client, ns: str) -> None:
    """What the OpenAPI document promises is what the routes answer (schemathesis relies on it)."""
    from hf_endpoints_emulator.schemas import EndpointDoc, EndpointListDoc

    body = copy.deepcopy(payload("documented"))
    body["type"] = "private"
    body["privateService"] = {"accountId": "123456789012", "region": "us-east-1"}
    created = client.post(ns, json=body).json()
    EndpointDoc.model_validate(created, strict=True)
    EndpointListDoc.model_validate(client.get(ns).json(), strict=True)
    assert created["privateService"] == {
        "accountId": "123456789012",
        "region": "us-east-1",
        "shared": False,
    }


def test_a_null_anywhere_but_task_is_a_key_not_sent(client: httpx.Client, ns: str) -> None:
    before = _create_full(client, ns)
    nulls = {
        "name": None,
        "type": None,
        "provider": None,
        "compute": {"accelerator": None, "instanceSize": None, "scaling": {"minReplica": None}},
        "model": {"repository": None, "image": None, "env": None},
        "route": None,
        "tags": None,
    }
    response = client.put(f"{ns}/full", json=nulls)
    assert response.status_code == 200, response.text
    after = response.json()
    for key in ("compute", "model", "tags", "type", "name", "provider", "route"):
        assert after[key] == before[key], key
    assert client.put(f"{ns}/full", json={"compute": None, "model": None}).status_code == 200
