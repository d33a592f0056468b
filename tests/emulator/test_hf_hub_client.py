"""huggingface_hub's own client, unchanged, against the emulator: the test of faithfulness.

The client is pointed at the emulator the only way it allows: its endpoints and
catalog constants, and `HfApi(endpoint=...)` for whoami. HF_TOKEN plays the logged-in user, as
the endpoint objects it returns call back with the implicit token.
"""

from __future__ import annotations

import time

import huggingface_hub
import pytest
from huggingface_hub import HfApi, InferenceEndpoint
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, InferenceEndpointError

from hf_endpoints_emulator.testing import EmulatorHandle

REFRESH = 0.05  # seconds between wait() polls


@pytest.fixture
def hub(emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> HfApi:
    monkeypatch.setattr(huggingface_hub.constants, "INFERENCE_ENDPOINTS_ENDPOINT", emulator.api_url)
    monkeypatch.setattr(
        huggingface_hub.constants,
        "INFERENCE_CATALOG_ENDPOINT",
        emulator.base_url + "/api/v1/catalog",
    )
    monkeypatch.setenv("HF_TOKEN", emulator.token)
    return HfApi(endpoint=emulator.base_url, token=emulator.token)


def test_seed_guide_flow(
    hub: HfApi, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guide's calls, verbatim: module-level functions, the logged-in user's namespace."""
    from huggingface_hub import (
        create_inference_endpoint,
        get_inference_endpoint,
        list_inference_endpoints,
    )

    # The module-level functions are bound to a default HfApi: move its Hub (whoami) too.
    monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", emulator.base_url)
    endpoint = create_inference_endpoint(
        "my-endpoint-name",
        repository="gpt2",
        framework="pytorch",
        task="text-generation",
        accelerator="cpu",
        vendor="aws",
        region="us-east-1",
        type="authenticated",
        instance_size="x2",
        instance_type="intel-spr",
    )
    assert isinstance(endpoint, InferenceEndpoint)
    assert endpoint.namespace == emulator.user
    assert endpoint.status == "pending"
    assert endpoint.repository == "gpt2" and endpoint.task == "text-generation"
    assert endpoint.framework == "pytorch" and endpoint.revision is None
    assert endpoint.type == "authenticated" and endpoint.health_route == "/health"
    assert endpoint.created_at.tzinfo is not None

    fetched = get_inference_endpoint("my-endpoint-name")
    assert fetched.name == "my-endpoint-name" and fetched.url == endpoint.url
    assert [e.name for e in list_inference_endpoints()] == ["my-endpoint-name"]
    endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    assert endpoint.status == "running"
    assert endpoint.url is not None and endpoint.url.startswith(emulator.base_url + "/endpoints/")

    endpoint.pause()
    assert endpoint.status == "paused"
    endpoint.resume()
    assert endpoint.status in ("pending", "initializing")
    endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    assert endpoint.status == "running"

    endpoint.update(min_replica=2, max_replica=6)
    assert endpoint.status == "updating"
    assert endpoint.raw["compute"]["scaling"]["minReplica"] == 2
    assert endpoint.raw["compute"]["scaling"]["maxReplica"] == 6
    endpoint.update(accelerator="cpu", instance_size="x4", instance_type="intel-spr")
    assert endpoint.raw["compute"]["instanceSize"] == "x4"
    assert endpoint.raw["compute"]["scaling"]["minReplica"] == 2  # kept by the partial update
    endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    assert endpoint.raw["status"]["readyReplica"] == 2

    endpoint.scale_to_zero()
    assert endpoint.status == "scaledToZero"

    endpoint.delete()
    with pytest.raises(HfHubHTTPError) as caught:
        get_inference_endpoint("my-endpoint-name")
    assert caught.value.response.status_code == 404


def test_resume_of_running_endpoint_is_swallowed_unless_asked(hub: HfApi) -> None:
    endpoint = _gpt2(hub, "runner")
    endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    assert hub.resume_inference_endpoint("runner").status == "running"
    with pytest.raises(BadRequestError, match="already running"):
        hub.resume_inference_endpoint("runner", running_ok=False)


def test_wait_raises_when_the_deployment_fails(hub: HfApi, emulator: EmulatorHandle) -> None:
    emulator.faults.fail_deployments(message="Image pull failed: manifest unknown")
    endpoint = _gpt2(hub, "doomed")
    with pytest.raises(InferenceEndpointError, match="failed to deploy"):
        endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    assert endpoint.status == "failed"
    assert endpoint.raw["status"]["errorMessage"] == "Image pull failed: manifest unknown"


def test_wait_raises_when_an_update_fails(hub: HfApi, emulator: EmulatorHandle) -> None:
    endpoint = _gpt2(hub, "unlucky").wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    emulator.faults.fail_deployments(operations=["update"])
    endpoint.update(max_replica=3)
    with pytest.raises(InferenceEndpointError, match="failed to update"):
        endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]


def test_wait_does_not_return_while_updating(hub: HfApi, emulator: EmulatorHandle) -> None:
    endpoint = _gpt2(hub, "steady").wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    emulator.faults.set_timings(updating_seconds=0.6)
    endpoint.update(max_replica=2)
    started = time.monotonic()
    endpoint.wait(timeout=10, refresh_every=REFRESH)  # type: ignore[arg-type]
    assert time.monotonic() - started >= 0.5
    assert endpoint.status == "running"


def test_errors_reach_the_user_with_the_service_message(hub: HfApi) -> None:
    _gpt2(hub, "taken")
    with pytest.raises(HfHubHTTPError) as conflict:
        _gpt2(hub, "taken")
    assert conflict.value.response.status_code == 409
    with pytest.raises(BadRequestError, match="Instance compute 'Cpu' - 'c6i' - 'medium'"):
        hub.create_inference_endpoint(
            "old-names",
            repository="gpt2",
            framework="pytorch",
            accelerator="cpu",
            vendor="aws",
            region="us-east-1",
            instance_size="medium",
            instance_type="c6i",
        )
    with pytest.raises(BadRequestError, match="scaleToZeroTimeout: must be between 15 and 2880"):
        hub.update_inference_endpoint("taken", scale_to_zero_timeout=5)
    with pytest.raises(BadRequestError, match=r"model\.image\.vLLM: missing field `url`"):
        hub.update_inference_endpoint("taken", custom_image={"vLLM": {"tensorParallelSize": 8}})


def test_secrets_and_env_round_trip_redacted(hub: HfApi) -> None:
    endpoint = hub.create_inference_endpoint(
        "with-secrets",
        repository="gpt2",
        framework="pytorch",
        accelerator="cpu",
        vendor="aws",
        region="us-east-1",
        instance_size="x2",
        instance_type="intel-spr",
        env={"MAX_INPUT_LENGTH": "1024"},
        secrets={"API_KEY": "s3cr3t-value"},
        custom_image={
            "url": "ghcr.io/huggingface/text-generation-inference:1.1.0",
            "health_route": "/ignored",
            "healthRoute": "/health-check",
        },
        container_registry_username="bot",
        container_registry_password="registry-pass",
    )
    assert endpoint.health_route == "/health-check"
    assert endpoint.raw["model"]["env"] == {"MAX_INPUT_LENGTH": "1024"}
    assert endpoint.raw["model"]["secrets"] == {"API_KEY": None}
    assert endpoint.raw["model"]["image"]["custom"]["credentials"] == {
        "username": "",
        "password": None,
    }
    listed = hub.list_inference_endpoints()
    assert "s3cr3t-value" not in repr([e.raw for e in listed])
    assert "registry-pass" not in repr([e.raw for e in listed])


def test_hardware_and_whoami(hub: HfApi, emulator: EmulatorHandle) -> None:
    me = hub.whoami()
    assert me["name"] == emulator.user and me["type"] == "user"
    assert [org["name"] for org in me["orgs"]] == ["emulator-org"]
    hardware = hub.list_inference_endpoints_hardware()
    ids = {h.id for h in hardware}
    assert {
        "aws-us-east-1-intel-spr-x2",
        "aws-us-east-1-nvidia-l4-x1",
        "gcp-us-east4-nvidia-a100-x8",
    } <= ids
    assert "aws-eu-west-1-nvidia-l4-x1" not in ids
    a10g = next(h for h in hardware if h.id == "aws-us-east-1-nvidia-a10g-x4")
    # gpu_memory_gb is per replica, all its GPUs together (huggingface_hub's docstring).
    assert (a10g.accelerator, a10g.num_accelerators, a10g.gpu_memory_gb) == ("gpu", 4, 96)
    assert (a10g.price_per_hour, a10g.status) == (5.0, "available")  # the pricing page's


def test_hardware_quota_counts_running_accelerators(hub: HfApi) -> None:
    hub.create_inference_endpoint(
        "gpu-one",
        repository="gpt2",
        framework="pytorch",
        accelerator="gpu",
        vendor="aws",
        region="us-east-1",
        instance_size="x4",
        instance_type="nvidia-l4",
        min_replica=2,
        max_replica=2,
    )
    l4 = {
        h.instance_size: h
        for h in hub.list_inference_endpoints_hardware()
        if h.instance_type == "nvidia-l4" and h.region == "us-east-1"
    }
    assert l4["x1"].used_accelerators == 8  # 2 replicas x 4 GPUs, shared by the instance type
    hub.pause_inference_endpoint("gpu-one")
    l4 = {
        h.instance_size: h
        for h in hub.list_inference_endpoints_hardware()
        if h.instance_type == "nvidia-l4" and h.region == "us-east-1"
    }
    assert l4["x1"].used_accelerators == 0


def test_catalog_list_and_deploy(hub: HfApi, emulator: EmulatorHandle) -> None:
    models = hub.list_inference_catalog(task="text-generation", accelerator="cpu")
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in [m.repo_id for m in models]
    assert all(r.accelerator == "cpu" for m in models for r in m.recipes)
    assert [m.repo_id for m in hub.list_inference_catalog(engine="tei")] == [
        "BAAI/bge-small-en-v1.5"
    ]
    assert len(hub.list_inference_catalog(limit=1)) == 1

    endpoint = hub.create_inference_endpoint_from_catalog(
        "HuggingFaceTB/SmolLM2-135M-Instruct", name="smol"
    )
    assert endpoint.name == "smol" and endpoint.namespace == emulator.user
    assert endpoint.raw["model"]["fromCatalog"] is True
    assert endpoint.raw["model"]["image"]["llamacpp"]["url"]
    endpoint.pause()  # the returned object targets the right namespace (hub PR #4667)
    assert endpoint.status == "paused"

    generated = hub.create_inference_endpoint_from_catalog(
        "Qwen/Qwen2.5-Coder-7B-Instruct", gguf_file="qwen2.5-coder-7b-instruct-q8_0.gguf"
    )
    assert generated.name.startswith("qwen2-5-coder-7b-instruct-")
    assert generated.raw["compute"]["instanceSize"] == "x16"

    recipe = next(
        r
        for m in hub.list_inference_catalog(engine="vllm", accelerator="neuron")
        for r in m.recipes
    )
    neuron = hub.create_inference_endpoint_from_catalog(recipe_id=recipe.id, name="on-inferentia")
    assert neuron.raw["compute"]["accelerator"] == "neuron"

    with pytest.raises(HfHubHTTPError) as missing:
        hub.create_inference_endpoint_from_catalog("nobody/nothing")
    assert missing.value.response.status_code == 404


def test_list_all_namespaces(hub: HfApi, emulator: EmulatorHandle) -> None:
    _gpt2(hub, "mine")
    _gpt2(hub, "ours", namespace="emulator-org")
    listed = hub.list_inference_endpoints(namespace="*")
    assert sorted((e.namespace, e.name) for e in listed) == [
        ("emulator-org", "ours"),
        (emulator.user, "mine"),
    ]


def _gpt2(hub: HfApi, name: str, namespace: str | None = None) -> InferenceEndpoint:
    return hub.create_inference_endpoint(
        name,
        repository="gpt2",
        framework="pytorch",
        task="text-generation",
        accelerator="cpu",
        vendor="aws",
        region="us-east-1",
        instance_size="x2",
        instance_type="intel-spr",
        namespace=namespace,
    )


def test_private_link_as_huggingface_hub_2_4_sends_it(hub: HfApi) -> None:
    """`private_link_account_id` with its `private_link_region`: accepted, reported back, and
    the VPC endpoint service name appears once the endpoint runs (wait() never returns for a
    private endpoint: it probes the URL, which answers nobody outside the VPC)."""
    endpoint = hub.create_inference_endpoint(
        "hidden",
        repository="gpt2",
        framework="pytorch",
        task="text-generation",
        accelerator="cpu",
        vendor="aws",
        region="us-east-1",
        type="private",
        instance_size="x2",
        instance_type="intel-spr",
        private_link_account_id="012345678901",
        private_link_region="eu-west-1",
    )
    assert endpoint.type == "private"
    assert endpoint.raw["privateService"] == {
        "accountId": "012345678901",
        "region": "eu-west-1",
        "shared": False,
    }
    deadline = time.monotonic() + 20
    while endpoint.fetch().status != "running":
        assert time.monotonic() < deadline, endpoint.status
        time.sleep(REFRESH)
    service = endpoint.raw["status"]["private"]["serviceName"]
    assert service.startswith("com.amazonaws.vpce.eu-west-1.vpce-svc-")
    with pytest.raises(BadRequestError, match="privateService"):
        hub.create_inference_endpoint(
            "open",
            repository="gpt2",
            framework="pytorch",
            accelerator="cpu",
            vendor="aws",
            region="us-east-1",
            type="public",
            instance_size="x2",
            instance_type="intel-spr",
            private_link_account_id="012345678901",
            private_link_region="us-east-1",
        )
