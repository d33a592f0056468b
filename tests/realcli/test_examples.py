"""Every example project through the real Pulumi CLI, against the emulator.

For each one: the plan `pulumi preview` shows, `pulumi up`, a call of the endpoint, `pulumi
preview --expect-no-changes`, `pulumi refresh` with no drift, one change applied in place, and
`pulumi destroy`, after which the service holds nothing. Each step is checked against what the
service holds and what the state records, not only the exit code.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.inference import EndpointClient

from .cli import REPO_ROOT, CliStack
from .conftest import endpoint_names, endpoints
from .plans import plan

EXAMPLES = REPO_ROOT / "examples"
POLL = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}

pytestmark = pytest.mark.realcli


def live(emulator: EmulatorHandle, endpoint_id: str) -> dict[str, Any]:
    namespace, name = endpoint_id.split("/")
    response = httpx.get(
        f"{emulator.api_url}/endpoint/{namespace}/{name}", headers=emulator.headers, timeout=30
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def generate(url: str, emulator: EmulatorHandle) -> str:
    with EndpointClient(url, token=emulator.token) as client:
        return client.text_generation("Once upon a time", max_new_tokens=4)


def settled(stack: CliStack) -> None:
    """Nothing to do on a second look: no change planned, and refresh finds no drift."""
    stack.preview("--expect-no-changes")
    before = {name: r["outputs"] for name, r in stack.endpoint_states().items()}
    refresh = stack.refresh("--expect-no-changes")
    assert "unchanged" in refresh.output
    after = {name: r["outputs"] for name, r in stack.endpoint_states().items()}
    assert set(after) == set(before)
    drift = {
        (name, key): (before[name].get(key), after[name].get(key))
        for name in before
        for key in {*before[name], *after[name]} - _VOLATILE - {"__provider"}
        if before[name].get(key) != after[name].get(key)
    }
    assert drift == {}


_VOLATILE = {"readyReplica", "targetReplica", "updatedAt", "status", "statusMessage"}
"""Outputs of the moment, which a refresh may change without drift: replica counts and status
(a scale-to-zero endpoint left idle is `scaledToZero` by then). The encrypted `__provider` is
left out too: its ciphertext is new on every write."""


def destroyed(stack: CliStack, emulator: EmulatorHandle) -> None:
    stack.destroy()
    assert endpoint_names(emulator) == []
    assert stack.endpoint_states() == {}
    assert stack.pending_operations() == []


def test_quickstart(make_stack: Callable[..., CliStack], emulator: EmulatorHandle) -> None:
    stack = make_stack(EXAMPLES / "quickstart", emulator=emulator, env=POLL)
    assert plan(stack) == {"my-endpoint-name": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    assert outputs["status"] == "running"
    state = stack.endpoint_states()["my-endpoint-name"]
    assert state["id"] == outputs["endpoint"]
    service = live(emulator, outputs["endpoint"])
    assert (service["model"]["repository"], service["compute"]["instanceType"]) == (
        "gpt2",
        "intel-spr",
    )
    assert generate(outputs["url"], emulator)
    settled(stack)

    stack.config_set("minReplica", "2")
    stack.config_set("maxReplica", "2")
    assert plan(stack) == {"my-endpoint-name": ("update", ["maxReplica", "minReplica"])}
    stack.up()
    scaling = live(emulator, outputs["endpoint"])["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (2, 2)
    assert stack.endpoint_states()["my-endpoint-name"]["outputs"]["minReplica"] == 2
    settled(stack)
    destroyed(stack, emulator)


def test_tgi_custom_image(make_stack: Callable[..., CliStack], emulator: EmulatorHandle) -> None:
    stack = make_stack(EXAMPLES / "tgi-custom-image", emulator=emulator, env=POLL)
    assert plan(stack) == {"aws-zephyr-7b-beta": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    service = live(emulator, outputs["endpoint"])
    assert service["model"]["image"]["custom"]["url"] == (
        "ghcr.io/huggingface/text-generation-inference:1.1.0"
    )
    assert service["model"]["env"]["MAX_INPUT_LENGTH"] == "1024"
    assert generate(outputs["url"], emulator)
    settled(stack)

    stack.edit_program('"MAX_INPUT_LENGTH": "1024"', '"MAX_INPUT_LENGTH": "2048"')
    assert plan(stack) == {"aws-zephyr-7b-beta": ("update", ["customImage"])}
    stack.up()
    assert live(emulator, outputs["endpoint"])["model"]["env"]["MAX_INPUT_LENGTH"] == "2048"
    settled(stack)
    destroyed(stack, emulator)


def test_llm_streaming(make_stack: Callable[..., CliStack], emulator: EmulatorHandle) -> None:
    stack = make_stack(EXAMPLES / "llm-streaming", emulator=emulator, env=POLL)
    assert plan(stack) == {"falcon-40b-instruct": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    service = live(emulator, outputs["endpoint"])
    assert service["model"]["repository"] == "tiiuae/falcon-40b-instruct"
    # The example's script, run as its README says: it reads the URL with `pulumi stack output`.
    script = subprocess.run(
        [sys.executable, "stream.py", "--max-new-tokens", "12"],
        cwd=stack.project_dir,
        env={**stack.env, "HF_TOKEN": emulator.token},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert script.returncode == 0, script.stderr
    assert len(script.stdout.split()) == 12  # the synthetic source: one word per token
    settled(stack)

    stack.config_set("tgiImage", "ghcr.io/huggingface/text-generation-inference:1.1.0")
    assert plan(stack) == {"falcon-40b-instruct": ("update", ["customImage"])}
    stack.up()
    image = live(emulator, outputs["endpoint"])["model"]["image"]
    assert image["tgi"]["url"] == "ghcr.io/huggingface/text-generation-inference:1.1.0"
    settled(stack)
    destroyed(stack, emulator)


def test_batch_job(make_stack: Callable[..., CliStack], emulator: EmulatorHandle) -> None:
    stack = make_stack(
        EXAMPLES / "batch-job", emulator=emulator, env=POLL, config={"paused": "true"}
    )
    assert plan(stack) == {"batch-endpoint": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    assert outputs["endpoint"] == f"{emulator.user}/batch-endpoint"
    assert live(emulator, outputs["endpoint"])["status"]["state"] == "paused"
    script = subprocess.run(
        [sys.executable, "run_batch.py", "--concurrency", "2", "--max-new-tokens", "4"],
        cwd=stack.project_dir,
        env={**stack.env, "HF_TOKEN": emulator.token, "HF_ENDPOINTS_API_URL": emulator.api_url},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert script.returncode == 0, script.stderr
    answers = [json.loads(line) for line in script.stdout.splitlines()]
    prompts = [p for p in (EXAMPLES / "batch-job" / "prompts.txt").read_text().splitlines() if p]
    assert [a["prompt"] for a in answers] == prompts
    assert live(emulator, outputs["endpoint"])["status"]["state"] == "paused"
    settled(stack)

    stack.config_set("paused", "false")
    assert plan(stack) == {"batch-endpoint": ("update", ["paused"])}
    stack.up()
    assert live(emulator, outputs["endpoint"])["status"]["state"] == "running"
    assert generate(stack.endpoint_states()["batch-endpoint"]["outputs"]["url"], emulator)
    settled(stack)
    destroyed(stack, emulator)


def test_multi_environment_and_its_consumer(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = make_stack(EXAMPLES / "multi-environment", emulator=emulator, env=POLL)
    assert plan(stack) == {"chat-dev": ("create", []), "chat-prod": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    assert set(outputs["urls"]) == {"dev", "prod"}
    dev = live(emulator, outputs["endpoints"]["dev"])["compute"]
    assert (dev["accelerator"], dev["scaling"]["minReplica"]) == ("cpu", 0)
    assert generate(outputs["prodUrl"], emulator)
    settled(stack)

    # The consumer reads the URLs through a StackReference, on the same backend.
    consumer = make_stack(
        EXAMPLES / "multi-environment" / "consumer",
        backend=stack.backend_dir,
        config={"endpointsStack": "organization/multi-environment/test", "environment": "dev"},
    )
    consumer.up()
    assert consumer.outputs()["chatUrl"] == outputs["urls"]["dev"]

    stack.run("config", "set", "--path", "environments.prod.maxReplica", "8")
    assert plan(stack) == {"chat-prod": ("update", ["maxReplica"])}  # same steps are not listed
    stack.up()
    assert live(emulator, outputs["endpoints"]["prod"])["compute"]["scaling"]["maxReplica"] == 8
    settled(stack)
    consumer.destroy()
    destroyed(stack, emulator)


def test_cheapest_gpu(make_stack: Callable[..., CliStack], emulator: EmulatorHandle) -> None:
    stack = make_stack(EXAMPLES / "cheapest-gpu", emulator=emulator, env=POLL)
    assert plan(stack) == {"llm": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    assert dict(outputs["choice"])["instance_type"] == "nvidia-l4"
    assert outputs["pricePerHour"] == 0.8
    assert generate(outputs["url"], emulator)
    settled(stack)

    stack.config_set("parametersBillions", "70")
    assert plan(stack) == {"llm": ("update", ["instanceSize", "instanceType"])}
    stack.up()
    compute = live(emulator, stack.outputs()["endpoint"])["compute"]
    assert (compute["instanceType"], compute["instanceSize"]) == ("nvidia-l40s", "x4")
    assert stack.outputs()["pricePerHour"] == 8.3
    settled(stack)
    destroyed(stack, emulator)


def _aws_standin_path(work: Path) -> list[str]:
    """A `pulumi_aws` the program can import when pulumi-aws is not installed (the example
    imports it; with `createVpcEndpoint: false` it registers nothing from it)."""
    if importlib.util.find_spec("pulumi_aws") is not None:
        return []
    site = work / "aws-standin"
    (site / "pulumi_aws").mkdir(parents=True)
    (site / "pulumi_aws" / "__init__.py").write_text(
        "from tests.examples.aws_standin import module as _module\n"
        "import sys as _sys\n"
        "_standin = _module()\n"
        "ec2 = _standin.ec2\n"
        "_sys.modules['pulumi_aws.ec2'] = ec2\n"
    )
    return [str(site), str(REPO_ROOT)]


def test_private_link(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    extra = _aws_standin_path(tmp_path)
    env = {**POLL, **({"PYTHONPATH": ":".join(extra)} if extra else {})}
    config = {"awsAccountId": "123456789012", "createVpcEndpoint": "false"}
    stack = make_stack(EXAMPLES / "private-link", emulator=emulator, env=env, config=config)
    assert plan(stack) == {"private-llm": ("create", [])}
    stack.up()
    outputs = stack.outputs()
    service = live(emulator, outputs["endpoint"])
    assert service["privateService"]["accountId"] == "123456789012"
    assert outputs["privateServiceName"] == service["status"]["private"]["serviceName"]
    # The call: nobody outside the VPC gets through.
    response = httpx.get(f"{outputs['url']}/health", headers=emulator.headers, timeout=10)
    assert response.status_code == 403
    settled(stack)

    stack.edit_program('    type="private",\n', '    type="private",\n    tags=["team:ml"],\n')
    assert plan(stack) == {"private-llm": ("update", ["tags"])}
    stack.up()
    tags = live(emulator, outputs["endpoint"])["tags"]
    assert [t for t in tags if not t.startswith("pulumi-owner:")] == ["team:ml"]
    settled(stack)
    destroyed(stack, emulator)
    assert endpoints(emulator) == []
