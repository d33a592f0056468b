"""Every example project: its program deployed through Pulumi's provider host against the
emulator, its outputs, its own script, and nothing left behind after destroy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from pulumi.runtime import mocks

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.examples import aws_standin
from tests.examples.conftest import (
    EXAMPLES,
    ExampleStack,
    live_names,
    project_name,
    run_program,
)
from tests.harness import ProviderHost

PROJECTS = sorted(p.parent for p in EXAMPLES.glob("**/Pulumi.yaml"))


def get_live(emulator: EmulatorHandle, endpoint_id: str) -> dict[str, Any]:
    namespace, name = endpoint_id.split("/")
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        return api.get_endpoint(namespace, name)


def healthy(url: str, emulator: EmulatorHandle) -> bool:
    response = httpx.get(f"{url.rstrip('/')}/health", headers=emulator.headers, timeout=10)
    return response.status_code == 200


def run_script(path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(path), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=path.parent,
    )


# ------------------------------------------------------------------------------ every project


def test_every_example_is_a_python_pulumi_project_with_both_sets_of_commands() -> None:
    assert {p.name for p in PROJECTS} >= {
        "quickstart",
        "tgi-custom-image",
        "llm-streaming",
        "batch-job",
        "multi-environment",
        "consumer",
        "cheapest-gpu",
        "private-link",
    }
    for project in PROJECTS:
        manifest = (project / "Pulumi.yaml").read_text()
        assert re.search(r"^runtime:\s*\n\s+name: python", manifest, re.M), project
        assert project_name(project)
        requirements = (project / "requirements.txt").read_text().split()
        assert any(r.startswith("pulumi-hf-endpoints") for r in requirements), project
        assert (project / "__main__.py").is_file()
    for project in (p for p in PROJECTS if p.name != "consumer"):
        readme = (project / "README.md").read_text()
        assert "pulumi config set --secret huggingface:token" in readme, project
        assert "pulumi config set huggingface:apiUrl" in readme, project  # the emulator
        assert "pulumi-hf-endpoints emulator" in readme, project


# ------------------------------------------------------------------------------ quickstart


def test_quickstart_deploys_serves_scales_in_place_and_destroys(
    host: ProviderHost, emulator: EmulatorHandle
) -> None:
    stack = ExampleStack(host, EXAMPLES / "quickstart")
    (step,) = stack.up()
    assert step.op == "create"
    assert set(stack.outputs) == {"url", "endpoint", "status"}
    assert stack.outputs["status"] == "running"
    assert stack.outputs["endpoint"] == step.id
    assert healthy(stack.outputs["url"], emulator)
    live = get_live(emulator, step.id or "")
    assert live["model"]["repository"] == "gpt2"
    assert live["compute"]["instanceType"] == "intel-spr"

    stack.config.update(minReplica=2, maxReplica=2)
    (planned,) = stack.preview()
    assert planned.op == "update"
    (step,) = stack.up()
    assert step.op == "update"
    scaling = get_live(emulator, step.id or "")["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (2, 2)
    assert [s.op for s in stack.preview()] == ["same"]

    stack.destroy()
    assert live_names(emulator) == set()


# ------------------------------------------------------------------------------ tgi-custom-image


def test_tgi_custom_image_runs_the_guides_image_and_env(
    host: ProviderHost, emulator: EmulatorHandle
) -> None:
    stack = ExampleStack(host, EXAMPLES / "tgi-custom-image")
    (step,) = stack.up()
    assert step.op == "create"
    assert healthy(stack.outputs["url"], emulator)
    live = get_live(emulator, stack.outputs["endpoint"])
    assert live["model"]["image"]["custom"]["url"] == (
        "ghcr.io/huggingface/text-generation-inference:1.1.0"
    )
    assert live["model"]["env"] == {
        "MAX_BATCH_PREFILL_TOKENS": "2048",
        "MAX_INPUT_LENGTH": "1024",
        "MAX_TOTAL_TOKENS": "1512",
        "MODEL_ID": "/repository",
    }
    assert live["compute"]["instanceType"] == "nvidia-a10g"
    assert [s.op for s in stack.preview()] == ["same"]
    stack.destroy()
    assert live_names(emulator) == set()


# ------------------------------------------------------------------------------ llm-streaming


def test_llm_streaming_deploys_falcon_on_an_a100_and_streams_the_blogs_loop(
    host: ProviderHost, emulator: EmulatorHandle, script_env: dict[str, str]
) -> None:
    stack = ExampleStack(host, EXAMPLES / "llm-streaming")
    (step,) = stack.up()
    assert step.op == "create"
    live = get_live(emulator, stack.outputs["endpoint"])
    assert live["model"]["repository"] == "tiiuae/falcon-40b-instruct"
    assert (live["compute"]["instanceType"], live["compute"]["instanceSize"]) == (
        "nvidia-a100",
        "x1",
    )
    tgi = live["model"]["image"]["tgi"]
    assert (tgi["maxInputLength"], tgi["maxTotalTokens"], tgi["quantize"]) == (
        1000,
        1512,
        "bitsandbytes",
    )

    result = run_script(
        EXAMPLES / "llm-streaming" / "stream.py",
        stack.outputs["url"],
        "--max-new-tokens",
        "16",
        env=script_env,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 16  # the synthetic source: one word per token

    stack.destroy()
    assert live_names(emulator) == set()


# ------------------------------------------------------------------------------ batch-job


def test_batch_job_stays_paused_and_the_script_resumes_runs_and_pauses_it(
    host: ProviderHost, emulator: EmulatorHandle, script_env: dict[str, str]
) -> None:
    stack = ExampleStack(host, EXAMPLES / "batch-job", {"paused": True})
    (step,) = stack.up()
    assert step.op == "create"
    endpoint = stack.outputs["endpoint"]
    assert endpoint == f"{emulator.user}/batch-endpoint"
    assert stack.outputs["status"] == "paused"
    assert get_live(emulator, endpoint)["status"]["state"] == "paused"

    result = run_script(
        EXAMPLES / "batch-job" / "run_batch.py",
        endpoint,
        "--concurrency",
        "3",
        "--max-new-tokens",
        "8",
        env=script_env,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    prompts = (EXAMPLES / "batch-job" / "prompts.txt").read_text().splitlines()
    assert [a["prompt"] for a in answers] == [p for p in prompts if p.strip()]
    assert all(len(a["generated_text"].split()) == 8 for a in answers)
    assert get_live(emulator, endpoint)["status"]["state"] == "paused"
    assert [s.op for s in stack.preview()] == ["same"]  # the job left the desired state

    stack.config["paused"] = False
    (step,) = stack.up()
    assert step.op == "update"
    assert stack.outputs["status"] == "running"
    stack.destroy()
    assert live_names(emulator) == set()


# ------------------------------------------------------------------------------ multi-environment


def test_multi_environment_table_config_changes_and_stack_reference(
    host: ProviderHost, emulator: EmulatorHandle
) -> None:
    stack = ExampleStack(host, EXAMPLES / "multi-environment")
    steps = stack.up()
    assert sorted((s.op, s.urn.rsplit("::", 1)[1]) for s in steps) == [
        ("create", "chat-dev"),
        ("create", "chat-prod"),
    ]
    assert set(stack.outputs["urls"]) == {"dev", "prod"}
    assert stack.outputs["prodUrl"] == stack.outputs["urls"]["prod"]
    assert stack.outputs["devUrl"].startswith("http")
    dev = get_live(emulator, stack.outputs["endpoints"]["dev"])["compute"]
    prod = get_live(emulator, stack.outputs["endpoints"]["prod"])["compute"]
    assert (dev["accelerator"], dev["scaling"]["minReplica"]) == ("cpu", 0)
    assert dev["scaling"]["scaleToZeroTimeout"] == 15
    assert (prod["accelerator"], prod["scaling"]["minReplica"]) == ("gpu", 1)

    def plan() -> dict[str, str]:
        return {s.urn.rsplit("::", 1)[1]: s.op for s in stack.preview()}

    # `pulumi config set --path ...` stores strings: the program converts them.
    stack.config["environments"] = {"prod": {"maxReplica": "8"}}
    assert plan() == {"chat-dev": "same", "chat-prod": "update"}
    stack.config["environments"] = {"dev": {"region": "eu-west-1"}}
    assert plan() == {"chat-dev": "replace", "chat-prod": "same"}
    stack.config["environments"] = {
        "staging": {"accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2"},
        "dev": {"enabled": "false"},
    }
    assert plan() == {"chat-dev": "delete", "chat-prod": "same", "chat-staging": "create"}

    stack.config["environments"] = {"prod": {"maxReplica": "8"}}
    stack.up()
    prod = get_live(emulator, stack.outputs["endpoints"]["prod"])["compute"]
    assert prod["scaling"]["maxReplica"] == 8

    # The consumer stack reads the URLs through a StackReference.
    producer = f"organization/multi-environment/{stack.project}"

    def stack_reference(args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]] | None:
        if args.typ != "pulumi:pulumi:StackReference":
            return None
        assert args.inputs["name"] == producer
        return producer, {"name": producer, "outputs": stack.outputs}

    consumer = ExampleStack(
        host,
        EXAMPLES / "multi-environment" / "consumer",
        {"endpointsStack": producer, "environment": "dev"},
        lookup=stack_reference,
    )
    consumer.up()
    assert consumer.outputs["chatUrl"] == stack.outputs["urls"]["dev"]
    assert consumer.outputs["appEnvironment"] == {
        "CHAT_ENDPOINT_URL": stack.outputs["urls"]["dev"],
        "CHAT_ENDPOINT_ENVIRONMENT": "dev",
    }

    stack.destroy()
    assert live_names(emulator) == set()


def test_multi_environment_rejects_an_unknown_property(host: ProviderHost) -> None:
    stack = ExampleStack(
        host, EXAMPLES / "multi-environment", {"environments": {"dev": {"replicas": 3}}}
    )
    with pytest.raises(Exception, match=r"environments\.dev\.replicas is not a property"):
        stack.preview()


# ------------------------------------------------------------------------------ cheapest-gpu


def test_cheapest_gpu_chooses_by_memory_and_price_and_keeps_its_choice(
    host: ProviderHost, emulator: EmulatorHandle
) -> None:
    config = {"huggingface:apiUrl": emulator.api_url, "huggingface:token": emulator.token}
    stack = ExampleStack(host, EXAMPLES / "cheapest-gpu", config)

    def plan() -> list[str]:
        return [s.op for s in stack.preview()]

    (planned,) = stack.preview()  # get_hardware runs at preview: the plan names the instance
    assert planned.op == "create"
    assert (planned.inputs["instanceType"], planned.inputs["instanceSize"]) == ("nvidia-l4", "x1")
    (step,) = stack.up()
    assert step.op == "create"
    assert stack.outputs["neededGpuMemoryGb"] == 17.4  # 7.24e9 parameters x 2 bytes x 1.2
    choice = dict(stack.outputs["choice"])
    assert (choice["instance_type"], choice["gpu_memory_gb"], choice["price_per_hour"]) == (
        "nvidia-l4",
        24.0,
        0.8,  # an a10g x1 holds it too, for $1.00
    )
    assert stack.outputs["pricePerHour"] == 0.8  # what the provider read after deploying
    live = get_live(emulator, stack.outputs["endpoint"])
    assert (live["compute"]["accelerator"], live["compute"]["instanceType"]) == ("gpu", "nvidia-l4")
    assert live["model"]["image"]["tgi"]["healthRoute"] == "/health"
    assert plan() == ["same"]

    # A 70B model needs 168 GB: four L40S, updated in place.
    stack.config["parametersBillions"] = "70"
    assert plan() == ["update"]
    (step,) = stack.up()
    assert step.op == "update" and stack.outputs["pricePerHour"] == 8.3
    compute = get_live(emulator, stack.outputs["endpoint"])["compute"]
    assert (compute["instanceType"], compute["instanceSize"]) == ("nvidia-l40s", "x4")

    # Its own 4 GPUs and another endpoint's 4 use the namespace's L40S quota (8) up: the rows
    # are no longer `deployable`, but still `orderable`, so the program keeps its choice.
    other = {
        "name": "other-l40s",
        "type": "authenticated",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "gpu",
            "instanceType": "nvidia-l40s",
            "instanceSize": "x4",
            "scaling": {"minReplica": 1, "maxReplica": 1},
        },
        "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
    }
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        api.create_endpoint(emulator.user, other)
        rows = api.list_hardware(emulator.user).hardware()
    l40s = next(r for r in rows if r.id == "aws-us-east-1-nvidia-l40s-x4")
    assert (l40s.used_accelerators, l40s.deployable, l40s.orderable) == (8, False, True)
    assert plan() == ["same"]
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        api.delete_endpoint(emulator.user, "other-l40s")

    # eu-west-1 has no L4: the 7B model goes to an A10G, on a new endpoint.
    del stack.config["parametersBillions"]
    stack.config["region"] = "eu-west-1"
    assert plan() == ["replace"]
    stack.up()
    assert dict(stack.outputs["choice"])["id"] == "aws-eu-west-1-nvidia-a10g-x1"
    assert stack.outputs["pricePerHour"] == 1.0


# ------------------------------------------------------------------------------ private-link


@pytest.fixture
def pulumi_aws(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """pulumi_aws when installed, else the stand-in that registers what it would."""
    try:
        import pulumi_aws as installed
    except ImportError:
        standin = aws_standin.module()
        monkeypatch.setitem(sys.modules, "pulumi_aws", standin)
        monkeypatch.setitem(sys.modules, "pulumi_aws.ec2", standin.ec2)  # type: ignore[attr-defined]
        return standin
    return installed


PRIVATE_LINK_CONFIG: dict[str, Any] = {
    "awsAccountId": "012345678901",
    "vpcId": "vpc-0123456789abcdef0",
    "subnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    "securityGroupIds": ["sg-0123456789abcdef0"],
}


def test_private_link_connects_a_vpc_endpoint_to_the_endpoints_service(
    host: ProviderHost, emulator: EmulatorHandle, pulumi_aws: types.ModuleType
) -> None:
    project = EXAMPLES / "private-link"
    stack = ExampleStack(host, project, PRIVATE_LINK_CONFIG)
    (step,) = stack.up()  # the engine manages the endpoint; the aws resource is mocked
    assert step.op == "create"
    endpoint = stack.endpoint("private-llm")
    assert endpoint["type"] == "private" and endpoint["status"] == "running"
    live = get_live(emulator, step.id or "")
    assert live["privateService"]["accountId"] == "012345678901"
    service_name = live["status"]["private"]["serviceName"]
    assert service_name.startswith("com.amazonaws.vpce.us-east-1.vpce-svc-")
    assert stack.outputs["privateServiceName"] == endpoint["privateServiceName"] == service_name

    # The program as `pulumi up` runs it once the endpoint exists: the VPC endpoint's inputs
    # are wired to the endpoint's outputs.
    resources, _ = run_program(project, stack.config, lookup=stack._state_lookup)
    (link,) = [r for r in resources if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    assert link.name == "private-llm-link"
    assert link.inputs["serviceName"] == service_name
    assert link.inputs["vpcEndpointType"] == "Interface"
    assert link.inputs["vpcId"] == PRIVATE_LINK_CONFIG["vpcId"]
    assert link.inputs["subnetIds"] == PRIVATE_LINK_CONFIG["subnetIds"]
    assert link.inputs["securityGroupIds"] == PRIVATE_LINK_CONFIG["securityGroupIds"]
    assert link.inputs["region"] == "us-east-1"  # the entry point the endpoint was given
    # It depends on the endpoint, so Pulumi creates it afterwards.
    assert [d.rsplit("::", 1)[-1] for d in link.dependencies] == ["private-llm"]

    # Nobody reaches the endpoint's URL from outside the VPC.
    response = httpx.get(f"{stack.outputs['url']}/health", headers=emulator.headers, timeout=10)
    assert response.status_code == 403
    assert [s.op for s in stack.preview()] == ["same"]
    stack.destroy()
    assert live_names(emulator) == set()


def test_cheapest_gpu_names_a_region_that_does_not_exist(
    host: ProviderHost, emulator: EmulatorHandle
) -> None:
    config = {
        "huggingface:apiUrl": emulator.api_url,
        "huggingface:token": emulator.token,
        "region": "us-east1",
    }
    stack = ExampleStack(host, EXAMPLES / "cheapest-gpu", config)
    with pytest.raises(ValueError, match=r"region 'us-east1' is in no row .*us-east-1"):
        stack.preview()


def test_private_link_refuses_a_malformed_account_id(
    host: ProviderHost, emulator: EmulatorHandle, pulumi_aws: types.ModuleType
) -> None:
    config = {**PRIVATE_LINK_CONFIG, "awsAccountId": "1234-5678"}
    stack = ExampleStack(host, EXAMPLES / "private-link", config)
    with pytest.raises(Exception, match=r"privateService\.accountId must be a 12-digit"):
        stack.up()
    assert live_names(emulator) == set()


def test_private_link_without_the_vpc_endpoint_against_the_emulator(
    host: ProviderHost, emulator: EmulatorHandle, pulumi_aws: types.ModuleType
) -> None:
    """The README's emulator commands: no AWS resource, the endpoint and its service name."""
    config = {"awsAccountId": "123456789012", "createVpcEndpoint": "false"}
    stack = ExampleStack(host, EXAMPLES / "private-link", config)
    stack.up()
    assert set(stack.outputs) == {"endpoint", "url", "privateServiceName"}
    resources, _ = run_program(EXAMPLES / "private-link", config, lookup=stack._state_lookup)
    assert [r.type for r in resources if not r.type.startswith("pulumi-python:dynamic")] == []
    stack.destroy()


def test_the_aws_standin_matches_pulumi_aws() -> None:
    """The stand-in registers what pulumi_aws 7.x's VpcEndpoint registers (when installed)."""
    real = pytest.importorskip("pulumi_aws.ec2")
    import inspect

    parameters = inspect.signature(real.VpcEndpoint._internal_init).parameters
    assert set(aws_standin.VPC_ENDPOINT_ARGS) <= set(parameters)
    source = inspect.getsource(real.VpcEndpoint._internal_init)
    assert f"'{aws_standin.VPC_ENDPOINT_TYPE}'" in source
    for name in aws_standin.VPC_ENDPOINT_OUTPUTS:
        assert f'__props__.__dict__["{name}"] = None' in source, name
