"""Every route of EndpointsApi: method, path, query, body, headers and what is returned."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_hf_endpoints import __version__
from pulumi_hf_endpoints.client import Account, Endpoint, EndpointsApi
from pulumi_hf_endpoints.client.config import (
    DEFAULT_API_URL,
    ApiConfig,
    resolve_api_url,
    resolve_hub_url,
)
from pulumi_hf_endpoints.client.errors import MalformedResponseError, NotFoundError
from tests.api.api_testkit import API, TOKEN, Script, endpoint, reply


def test_get_endpoint(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(200, endpoint("chat"))]
    answer = api.get_endpoint("acme", "chat")
    assert isinstance(answer, Endpoint) and answer.raw == endpoint("chat")
    assert (answer.name, answer.state, answer.status.url) == ("chat", "running", None)
    assert answer["status"]["state"] == "running"  # the JSON reads through as well
    request = script.requests[0]
    assert request.method == "GET"
    assert str(request.url) == f"{API}/endpoint/acme/chat"
    assert request.content == b""


def test_create_endpoint_posts_the_payload_unchanged(api: EndpointsApi, script: Script) -> None:
    payload: dict[str, Any] = {"name": "chat", "model": {"repository": "gpt2", "revision": None}}
    script.replies = [reply(202, endpoint("chat", "pending"))]
    assert api.create_endpoint("acme", payload).raw == endpoint("chat", "pending")
    assert script.calls == [("POST", "/v2/endpoint/acme")]
    assert script.body() == payload
    assert script.requests[0].headers["content-type"] == "application/json"


def test_update_endpoint_is_a_put(api: EndpointsApi, script: Script) -> None:
    payload = {"compute": {"scaling": {"maxReplica": 3}}}
    script.replies = [reply(200, endpoint("chat", "updating"))]
    assert api.update_endpoint("acme", "chat", payload)["status"]["state"] == "updating"
    assert script.calls == [("PUT", "/v2/endpoint/acme/chat")]
    assert script.body() == payload


@pytest.mark.parametrize("answer", [reply(200, {}), reply(204), reply(200, "")])
def test_delete_endpoint(api: EndpointsApi, script: Script, answer: httpx.Response) -> None:
    script.replies = [answer]
    assert api.delete_endpoint("acme", "chat") is None
    assert script.calls == [("DELETE", "/v2/endpoint/acme/chat")]


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_lifecycle_actions_post_without_body(
    api: EndpointsApi, script: Script, action: str
) -> None:
    script.replies = [reply(200, endpoint("chat", "paused"))]
    method = {"pause": api.pause_endpoint, "resume": api.resume_endpoint}[action]
    assert method("acme", "chat").raw == endpoint("chat", "paused")
    assert script.calls == [("POST", f"/v2/endpoint/acme/chat/{action}")]
    assert script.requests[0].content == b""


def test_list_hardware(api: EndpointsApi, script: Script) -> None:
    # The answer's shape, as huggingface_hub's tests mock it (MOCK_PROVIDERS); CPU rows may
    # lack numCpus and gpuMemoryGb.
    l4 = {
        "id": "aws-us-east-1-nvidia-l4-x1",
        "accelerator": "gpu",
        "numAccelerators": 1,
        "numCpus": 7,
        "memoryGb": 30.0,
        "gpuMemoryGb": 24,
        "instanceType": "nvidia-l4",
        "instanceSize": "x1",
        "architecture": "Nvidia L4",
        "status": "available",
        "pricePerHour": 0.8,
        "quota": {"maxAccelerators": 16, "usedAccelerators": 1},
    }
    cpu = {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2"}
    cpu |= {"numAccelerators": 2, "status": "deprecated", "pricePerHour": 0.067}
    body = {
        "vendors": [
            {
                "name": "aws",
                "status": "available",
                "regions": [{"name": "us-east-1", "computes": [l4, cpu]}],
            },
            {"name": "azure", "regions": []},
        ]
    }
    script.replies = [reply(200, body)]
    answer = api.list_hardware("acme")
    assert answer.raw == body and answer["vendors"][1]["name"] == "azure"
    assert script.calls == [("GET", "/v2/provider/acme")]
    gpu, spr = answer.hardware()
    assert (gpu.id, gpu.vendor, gpu.region, gpu.instance_type, gpu.instance_size) == (
        "aws-us-east-1-nvidia-l4-x1",
        "aws",
        "us-east-1",
        "nvidia-l4",
        "x1",
    )
    assert (gpu.price_per_hour, gpu.gpu_memory_gb, gpu.memory_gb, gpu.num_cpus) == (0.8, 24, 30, 7)
    assert (gpu.max_accelerators, gpu.used_accelerators, gpu.free_accelerators) == (16, 1, 15)
    assert gpu.deployable and gpu["price_per_hour"] == 0.8 and dict(gpu)["status"] == "available"
    assert spr.id == "aws-us-east-1-intel-spr-x2"  # derived as the service builds it
    assert (spr.num_cpus, spr.gpu_memory_gb, spr.max_accelerators) == (None, None, None)
    assert not spr.deployable  # deprecated


@pytest.mark.parametrize(
    ("status", "quota", "deployable", "orderable"),
    [
        ("available", {"maxAccelerators": 4, "usedAccelerators": 0}, True, True),
        ("low_availability", {"maxAccelerators": 4, "usedAccelerators": 0}, True, True),
        ("reserved", {"maxAccelerators": 4, "usedAccelerators": 0}, True, True),
        ("not_available", {"maxAccelerators": 4, "usedAccelerators": 0}, False, False),
        ("deprecated", {"maxAccelerators": 4, "usedAccelerators": 0}, False, False),
        ("available", {"maxAccelerators": 4, "usedAccelerators": 1}, False, True),  # 3 left
        ("available", {"maxAccelerators": 0, "usedAccelerators": 0}, False, False),  # to request
    ],
)
def test_hardware_is_deployable_as_hf_endpoints_hardware_counts_it(
    api: EndpointsApi,
    script: Script,
    status: str,
    quota: dict[str, int],
    deployable: bool,
    orderable: bool,
) -> None:
    compute = {"accelerator": "gpu", "instanceType": "nvidia-l4", "instanceSize": "x4"}
    compute |= {"numAccelerators": 4, "status": status, "quota": quota}
    regions = [{"name": "us-east-1", "computes": [compute]}]
    script.replies = [reply(200, {"vendors": [{"name": "aws", "regions": regions}]})]
    (row,) = api.list_hardware("acme").hardware()
    assert (row.deployable, row.orderable) == (deployable, orderable)


def test_a_hardware_list_without_vendors_names_the_call(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(200, {"vendors": [{"regions": []}]})]
    with pytest.raises(MalformedResponseError, match=r"GET .*/v2/provider/acme.*vendors\.0\.name"):
        api.list_hardware("acme")


def test_list_endpoints_single_page_sends_no_query(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(200, {"items": [endpoint("a"), endpoint("b")]})]
    assert [e["name"] for e in api.list_endpoints("acme")] == ["a", "b"]
    assert str(script.requests[0].url) == f"{API}/endpoint/acme"


def test_list_endpoints_follows_next_cursor_with_filters(api: EndpointsApi, script: Script) -> None:
    script.replies = [
        reply(200, {"items": [endpoint("a")], "nextCursor": "c1", "prevCursor": None}),
        reply(200, {"items": [endpoint("b")], "nextCursor": "c2"}),
        reply(200, {"items": [endpoint("c")], "nextCursor": None}),
    ]
    names = [
        e["name"] for e in api.list_endpoints("acme", tags=["x", "y"], search="ch", page_size=1)
    ]
    assert names == ["a", "b", "c"]
    queries = [dict(r.url.params) for r in script.requests]
    base = {"tags": "x,y", "search": "ch", "limit": "1"}
    assert queries == [base, {**base, "cursor": "c1"}, {**base, "cursor": "c2"}]


def test_iter_endpoints_is_lazy(api: EndpointsApi, script: Script) -> None:
    script.replies = [
        reply(200, {"items": [endpoint("a")], "nextCursor": "c1"}),
        reply(200, {"items": [endpoint("b")]}),
    ]
    pages = api.iter_endpoints("acme")
    assert next(pages)["name"] == "a"
    assert len(script.requests) == 1
    assert [e["name"] for e in pages] == ["b"]


def test_list_endpoints_stops_on_a_repeating_cursor(api: EndpointsApi, script: Script) -> None:
    script.default = reply(200, {"items": [endpoint("a")], "nextCursor": "same"})
    with pytest.raises(MalformedResponseError, match="cursor repeats"):
        api.list_endpoints("acme")
    assert len(script.requests) == 2


@pytest.mark.parametrize("body", [{"endpoints": []}, {"items": "nope"}, {"items": [1]}, []])
def test_list_endpoints_rejects_unexpected_shapes(
    api: EndpointsApi, script: Script, body: Any
) -> None:
    script.replies = [reply(200, body)]
    with pytest.raises(MalformedResponseError):
        api.list_endpoints("acme")


def test_whoami_and_default_namespace_are_cached(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(200, {"name": "alice", "type": "user", "orgs": [{"name": "acme"}]})]
    assert api.default_namespace() == "alice"
    me = api._account
    assert isinstance(me, Account) and me.orgs == [{"name": "acme"}]
    assert api.default_namespace() == "alice"
    assert api.resolve_namespace("acme") == "acme"
    assert api.resolve_namespace(None) == "alice"
    assert [str(r.url) for r in script.requests] == ["https://huggingface.co/api/whoami-v2"]


def test_default_namespace_needs_a_name(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(200, {"type": "user"})]
    with pytest.raises(MalformedResponseError, match="name"):
        api.default_namespace()


def test_path_segments_are_encoded_and_validated(api: EndpointsApi, script: Script) -> None:
    script.replies = [reply(200, endpoint())]
    api.get_endpoint("my org", "a/b")
    assert script.requests[0].url.raw_path == b"/v2/endpoint/my%20org/a%2Fb"
    for bad in ("", " ", ".", ".."):
        with pytest.raises(ValueError):
            api.get_endpoint("acme", bad)
        with pytest.raises(ValueError):
            api.list_hardware(bad)
    assert len(script.requests) == 1


def test_headers_user_agent_auth_and_accept(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    api = make_api(user_agent="my-tool/2.0")
    script.replies = [reply(200, endpoint())]
    api.get_endpoint("acme", "x")
    headers = script.requests[0].headers
    assert headers["user-agent"].startswith(f"pulumi-hf-endpoints/{__version__};")
    assert headers["user-agent"].endswith("; my-tool/2.0")
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/json"


def test_no_token_sends_no_authorization(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    api = make_api(token=None)
    assert not api.has_token
    script.replies = [reply(200, endpoint())]
    api.get_endpoint("acme", "x")
    assert "authorization" not in script.requests[0].headers


def test_the_http_client_is_lazy_reused_and_reopened_after_close(
    make_api: Callable[..., EndpointsApi], script: Script
) -> None:
    api = make_api()
    http = api._http
    assert http._client is None
    script.default = reply(200, endpoint())
    api.get_endpoint("acme", "x")
    first = http._client
    api.get_endpoint("acme", "x")
    assert http._client is first
    api.close()
    assert first is not None and first.is_closed
    api.get_endpoint("acme", "x")
    assert http._client is not None and http._client is not first
    with api as same:
        assert same is api
    assert http._client is None


def test_timeout_is_explicit(make_api: Callable[..., EndpointsApi]) -> None:
    default = make_api()
    assert default.timeout.connect == 10.0 and default.timeout.read == 60.0
    assert default.timeout.write == 60.0 and default.timeout.pool == 10.0
    custom = make_api(timeout=3)
    assert custom.timeout == httpx.Timeout(3)
    assert custom._http._http().timeout == httpx.Timeout(3)


# ----------------------------------------------------------------------------- URLs


def test_default_urls() -> None:
    api = EndpointsApi("t")
    assert api.api_url == DEFAULT_API_URL == "https://api.endpoints.huggingface.cloud/v2"
    assert api.hub_url == "https://huggingface.co"


def test_env_overrides_urls_and_argument_beats_env(
    monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    monkeypatch.setenv("HF_ENDPOINTS_API_URL", "http://127.0.0.1:8123/v2/")
    api = EndpointsApi("t", transport=httpx.MockTransport(script))
    assert api.api_url == "http://127.0.0.1:8123/v2"
    script.default = reply(200, {"items": [], "name": "alice"})
    api.list_endpoints("ns")
    api.whoami()
    assert [str(r.url) for r in script.requests] == [
        "http://127.0.0.1:8123/v2/endpoint/ns",
        "http://127.0.0.1:8123/api/whoami-v2",
    ]
    explicit = EndpointsApi("t", api_url="http://localhost:1/v2", hub_url="http://h:2")
    assert (explicit.api_url, explicit.hub_url) == ("http://localhost:1/v2", "http://h:2")


def test_emulator_url_moves_the_hub_with_it() -> None:
    api = EndpointsApi("t", api_url="http://127.0.0.1:8000/v2")
    assert api.hub_url == "http://127.0.0.1:8000"
    prefixed = EndpointsApi("t", api_url="http://127.0.0.1:8000/emu/v2")
    assert prefixed.hub_url == "http://127.0.0.1:8000/emu"
    assert resolve_hub_url(api_url="http://h:1/other") == "http://h:1"


@pytest.mark.parametrize(
    "given", ["http://127.0.0.1:8765", "http://127.0.0.1:8765/", "http://127.0.0.1:8765/v2"]
)
def test_a_servers_root_means_its_v2_api(given: str) -> None:
    """The emulator prints its root URL first; as an API URL it means the /v2 routes."""
    assert resolve_api_url(given) == "http://127.0.0.1:8765/v2"
    api = EndpointsApi("t", api_url=given)
    assert api.hub_url == "http://127.0.0.1:8765"


def test_a_404_under_an_api_url_without_v2_says_so() -> None:
    script = Script()
    script.default = reply(404, {"error": "Not Found"})
    api = EndpointsApi(
        TOKEN, api_url="http://127.0.0.1:8765/api", transport=httpx.MockTransport(script)
    )
    with pytest.raises(NotFoundError) as info:
        api.create_endpoint("ns", {"name": "x"})
    assert "does not end in /v2" in str(info.value)
    fine = EndpointsApi(
        TOKEN, api_url="http://127.0.0.1:8765/v2", transport=httpx.MockTransport(script)
    )
    with pytest.raises(NotFoundError) as info:
        fine.get_endpoint("ns", "x")
    assert "does not end in /v2" not in str(info.value)


def test_hf_endpoint_moves_whoami_only_for_the_real_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "https://hub-ci.huggingface.co/")
    assert resolve_hub_url() == "https://hub-ci.huggingface.co"
    assert resolve_hub_url(api_url="http://127.0.0.1:5/v2") == "http://127.0.0.1:5"
    assert resolve_hub_url("http://explicit:1") == "http://explicit:1"


def test_empty_env_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINTS_API_URL", "")
    assert resolve_api_url() == DEFAULT_API_URL


@pytest.mark.parametrize("bad", ["ftp://x/v2", "not a url", "127.0.0.1:8000/v2"])
def test_bad_urls_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="http"):
        resolve_api_url(bad)


def test_api_config_resolution_and_secrecy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINTS_API_URL", "http://127.0.0.1:7/v2")
    config = ApiConfig.resolve(namespace=" acme ")
    assert config.token == TOKEN
    assert config.api_url == "http://127.0.0.1:7/v2"
    assert config.hub_url == "http://127.0.0.1:7"
    assert config.namespace == "acme"
    assert ApiConfig.resolve(namespace="").namespace is None
    assert TOKEN not in repr(config)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(config)
    api = EndpointsApi.from_config(config, max_retries=1)
    assert api.api_url == config.api_url and api.max_retries == 1 and api.has_token
    assert TOKEN not in repr(api)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(api)


def test_negative_max_retries_is_rejected() -> None:
    with pytest.raises(ValueError):
        EndpointsApi("t", max_retries=-1)
