"""`pulumi-hf-endpoints demo` end to end, its `--keep` mode, the Pulumi CLI driver it uses when
the CLI is installed, and the small provider-host engine it uses when it is not."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.demo.local_stack import UNKNOWN, LocalStack, Step
from pulumi_hf_endpoints.demo.pulumi_cli import PulumiCli
from pulumi_hf_endpoints.demo.stack import PROJECT_DIR, StackError, project_name
from tests.harness.sdk import needs_internal_inputs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FAST = ["--backend", "synthetic", "--phase-seconds", "0.2"]


def without_pulumi_on_path() -> dict[str, str]:
    """The environment minus any PATH entry that holds a `pulumi` executable (CI has none)."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    kept = [p for p in parts if not (Path(p) / "pulumi").exists()]
    return {**os.environ, "PATH": os.pathsep.join(kept)}


def run_demo(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_hf_endpoints.cli", "demo", *args],
        env=without_pulumi_on_path(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def streamed_answer(output: str) -> str:
    """The text printed between the answer's frame lines."""
    match = re.search(r"┌──\n(.*?)\n\s*└── (\d+) tokens", output, re.S)
    assert match, output
    return "\n".join(line.split("│", 1)[1] for line in match.group(1).splitlines()).strip()


# ------------------------------------------------------------------------------ the command


@needs_internal_inputs  # else the auto-named endpoint is replaced, not updated in place
def test_demo_runs_end_to_end_without_the_pulumi_cli() -> None:
    result = run_demo(*FAST, "--max-new-tokens", "24")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Pulumi CLI not found" in out and "https://get.pulumi.com" in out
    assert re.search(
        r"\+ pulumi-python:dynamic/hf-endpoints:InferenceEndpoint\s+my-endpoint-name\s+create", out
    )
    assert "pending → initializing" in out and "initializing → running" in out
    assert re.search(r"\+ created my-endpoint-name in [\d.]+ s", out)
    assert "output url = http://127.0.0.1:" in out

    answer = streamed_answer(out)
    assert len(answer.split()) == 24  # the synthetic source: one word per token

    assert "update  [diff: maxReplica 1 → 2, minReplica 1 → 2]" in out
    assert "running → updating" in out
    assert re.search(r"~ updated my-endpoint-name in [\d.]+ s", out)
    assert "minReplica/maxReplica 1/1 → 2/2, same URL" in out
    assert re.search(r"- deleted my-endpoint-name in [\d.]+ s", out)
    assert "endpoints left in the emulator: 0" in out
    assert re.search(
        r"Demo complete in [\d.]+ s: .*streamed 24 tokens.*left in the emulator: 0\.", out
    )

    assert "hf_emu_" not in out + result.stderr  # the token is never shown without --keep
    work = re.search(r"\(state: (\S+)\)", out)
    assert work and not Path(work.group(1)).exists()  # the temporary state is gone


def test_demo_keep_leaves_the_emulator_and_the_endpoint_serving() -> None:
    result = run_demo(*FAST, "--max-new-tokens", "4", "--keep")
    out = result.stdout
    pid = re.search(r"kill (\d+) && rm -rf (\S+)", out)
    try:
        assert result.returncode == 0, out + result.stderr
        assert "[6/6]" not in out  # nothing destroyed
        assert pid
        token = re.search(r"export HF_TOKEN=(\S+) HF_ENDPOINTS_API_URL=(\S+)", out)
        endpoint = re.search(r"endpoint\s+(\S+)/(\S+)\s+(http\S+)", out)
        assert token and endpoint
        with EndpointsApi(token.group(1), api_url=token.group(2)) as api:
            live = api.get_endpoint(endpoint.group(1), endpoint.group(2))
        assert live["status"]["state"] == "running"
        assert live["compute"]["scaling"]["maxReplica"] == 2
        health = httpx.get(
            endpoint.group(3) + "/health",
            headers={"authorization": f"Bearer {token.group(1)}"},
            timeout=10,
        )
        assert health.status_code == 200
        assert Path(pid.group(2), "stack.json").is_file()
    finally:
        if pid:
            os.kill(int(pid.group(1)), signal.SIGTERM)
            shutil.rmtree(pid.group(2), ignore_errors=True)


@pytest.mark.model
def test_demo_with_the_real_model_streams_a_real_answer() -> None:
    result = run_demo("--phase-seconds", "0.3", "--max-new-tokens", "48", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = streamed_answer(result.stdout)
    assert len(re.findall(r"[A-Za-z]{3,}", answer)) >= 10, answer
    assert "llama: SmolLM2-135M-Instruct" in result.stdout


def test_demo_explains_a_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from pulumi_hf_endpoints.demo import command

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llama_cpp" else real(name, *a),
    )
    assert command.missing_requirements("llama") == (
        "demo: the emulator needs llama_cpp: pip install 'pulumi-hf-endpoints[emulator]' "
        "(or run with --backend synthetic)"
    )
    assert command.missing_requirements("synthetic") is None


# ------------------------------------------------------------------------------ the project


@pytest.mark.parametrize("name", ["Pulumi.yaml", "__main__.py", "requirements.txt"])
def test_the_demo_deploys_the_quickstart_example(name: str) -> None:
    """The package ships a copy of examples/quickstart (the demo must work from a wheel): the
    two stay identical. After changing the example: `cp examples/quickstart/{Pulumi.yaml,
    __main__.py,requirements.txt} provider/pulumi_hf_endpoints/demo/project/`."""
    shipped, example = PROJECT_DIR / name, EXAMPLES / "quickstart" / name
    assert shipped.read_bytes() == example.read_bytes(), f"{shipped} differs from {example}"


def test_the_demo_project_holds_only_the_program() -> None:
    assert sorted(p.name for p in PROJECT_DIR.iterdir() if p.name != "__pycache__") == [
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    assert project_name(PROJECT_DIR) == "quickstart"


# ------------------------------------------------------------------------------ with the CLI

FAKE_PULUMI = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
record = {{
    "args": args,
    "stdin": sys.stdin.read(),
    "cwd": os.getcwd(),
    "env": {{k: os.environ.get(k) for k in (
        "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_PYTHON_CMD",
        "PULUMI_SKIP_UPDATE_CHECK", "PULUMI_HF_ENDPOINTS_POLL_INTERVAL")}},
}}
with open({log!r}, "a") as log:
    log.write(json.dumps(record) + "\\n")
if args[:2] == ["stack", "output"]:
    print(json.dumps({{"url": "http://127.0.0.1:1/endpoints/x", "endpoint": "ns/x"}}))
elif args[0] == "destroy" and os.environ.get("FAKE_PULUMI_FAIL"):
    print("error: the destroy failed on purpose")
    sys.exit(255)
else:
    print("pulumi " + " ".join(args))
"""


def test_with_the_pulumi_cli_the_stack_uses_a_throwaway_local_backend(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(FAKE_PULUMI.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    echoed: list[str] = []
    work = tmp_path / "work"
    work.mkdir()
    cli = PulumiCli(
        str(fake),
        PROJECT_DIR,
        work,
        env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.1"},
        echo=echoed.append,
    )
    cli.init()
    cli.set_config("huggingface:apiUrl", "http://127.0.0.1:1/v2")
    cli.set_config("huggingface:token", "hf_emu_secret_value", secret=True)
    cli.preview()
    cli.up()
    assert cli.outputs() == {"url": "http://127.0.0.1:1/endpoints/x", "endpoint": "ns/x"}
    cli.destroy()
    cli.remove()

    calls: list[dict[str, Any]] = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["args"][:2] for c in calls] == [
        ["stack", "init"],
        ["config", "set"],
        ["config", "set"],
        ["preview", "--diff"],
        ["up", "--yes"],
        ["stack", "output"],
        ["destroy", "--yes"],
        ["stack", "rm"],
    ]
    for call in calls:
        assert call["args"][-1] == "--non-interactive"
        assert call["cwd"] == str(work / "project")
        assert call["env"] == {
            "PULUMI_BACKEND_URL": (work / "backend").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.1",
        }
        assert "hf_emu_secret_value" not in " ".join(call["args"])
    secret = calls[2]
    assert secret["args"][:4] == ["config", "set", "--secret", "huggingface:token"]
    assert secret["stdin"] == "hf_emu_secret_value"
    assert calls[1]["args"][2:4] == ["huggingface:apiUrl", "http://127.0.0.1:1/v2"]
    # The program runs with this interpreter, not a virtualenv of the copied project.
    assert (work / "project" / "Pulumi.yaml").read_text().splitlines()[-1] == "runtime: python"
    assert (work / "project" / "__main__.py").read_text() == (
        PROJECT_DIR / "__main__.py"
    ).read_text()
    assert "pulumi preview --diff --non-interactive" in echoed  # Pulumi's own output shown
    assert not any("hf_emu_secret_value" in line for line in echoed)


def test_a_failing_pulumi_command_raises_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text(FAKE_PULUMI.format(python=sys.executable, log=str(tmp_path / "log")))
    fake.chmod(0o755)
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "1")
    (tmp_path / "work").mkdir()
    cli = PulumiCli(str(fake), PROJECT_DIR, tmp_path / "work", echo=lambda _: None)
    with pytest.raises(
        StackError, match=r"(?s)`pulumi destroy --yes --skip-preview` failed \(255\).*on purpose"
    ):
        cli.destroy()


# ------------------------------------------------------------------------------ without the CLI


@needs_internal_inputs  # else the auto-named endpoint is deleted before it is replaced
def test_local_stack_plans_replaces_deletes_and_destroys(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    events: list[tuple[str, str, str]] = []
    stack = LocalStack(
        EXAMPLES / "multi-environment",
        tmp_path,
        env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"},
        listener=lambda phase, step: events.append((phase, step.op, step.name)),
    )
    stack.set_config("huggingface:apiUrl", emulator.api_url)
    stack.set_config("huggingface:token", emulator.token, secret=True)

    def ops(steps: list[Step]) -> dict[str, str]:
        return {s.name: s.op for s in steps}

    assert ops(stack.preview()) == {"chat-dev": "create", "chat-prod": "create"}
    assert stack.resources == {}
    # A plan knows the inputs only: the URLs come from the service.
    assert stack.planned_outputs["urls"] == UNKNOWN
    assert ops(stack.up()) == {"chat-dev": "create", "chat-prod": "create"}
    first = dict(stack.outputs["endpoints"])
    assert set(stack.outputs["urls"]) == {"dev", "prod"}

    stack.set_config("environments", json.dumps({"dev": {"region": "eu-west-1"}}))
    steps = stack.up()
    assert [s.op for s in steps if s.name == "chat-dev"] == ["replace", "delete-replaced"]
    assert ops(steps[:-1]) == {"chat-dev": "replace", "chat-prod": "same"}
    replaced = next(s for s in steps if s.op == "replace")
    # As the CLI lists it: old inputs against the re-checked ones, with the fresh auto-name.
    assert replaced.changed["region"] == ("us-east-1", "eu-west-1")
    assert set(replaced.changed) == {"name", "region"}
    assert stack.outputs["endpoints"]["dev"] != first["dev"]  # auto-named: a new endpoint first
    assert stack.outputs["endpoints"]["prod"] == first["prod"]

    stack.set_config("environments", json.dumps({"dev": {"enabled": "false"}}))
    assert ops(stack.preview()) == {"chat-dev": "delete", "chat-prod": "same"}
    assert ops(stack.up()) == {"chat-dev": "delete", "chat-prod": "same"}
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        names = {e["name"] for e in api.list_endpoints(emulator.user)}
    assert names == {first["prod"].split("/")[1]}
    assert ("start", "delete", "chat-dev") in events and ("done", "delete", "chat-dev") in events

    state = (tmp_path / "stack.json").read_text()
    assert emulator.token not in state  # secret config stays out of the state file

    assert ops(stack.destroy()) == {"chat-prod": "delete"}
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        assert api.list_endpoints(emulator.user) == []
    assert json.loads((tmp_path / "stack.json").read_text())["resources"] == []


def test_local_stack_reports_check_failures_and_provider_errors(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    stack = LocalStack(PROJECT_DIR, tmp_path)
    stack.set_config("huggingface:apiUrl", emulator.api_url)
    stack.set_config("huggingface:token", emulator.token, secret=True)
    stack.set_config("maxReplica", "0")
    with pytest.raises(StackError, match=r"my-endpoint-name has invalid properties: maxReplica"):
        stack.preview()

    stack.set_config("maxReplica", "1")
    emulator.faults.fail_deployments(message="no capacity for intel-spr today")
    with pytest.raises(
        StackError, match=r"Create my-endpoint-name: .*no capacity for intel-spr today"
    ):
        stack.up()
    assert stack.resources == {}
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        assert api.list_endpoints(emulator.user) == []  # the provider rolled its create back


def test_local_stack_writes_secrets_as_pulumi_marks_them(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: sealed\nruntime: python\n")
    (project / "__main__.py").write_text(
        "import pulumi\n"
        "from pulumi_hf_endpoints import InferenceEndpoint\n"
        "InferenceEndpoint('s', repository='gpt2', framework='pytorch', accelerator='cpu',\n"
        "    vendor='aws', region='us-east-1', instance_type='intel-spr', instance_size='x2',\n"
        "    secrets={'API_KEY': 'sv-sealed-value-4711'}, wait=False)\n"
    )
    stack = LocalStack(
        project, tmp_path / "work", env={"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}
    )
    (tmp_path / "work").mkdir()
    stack.set_config("huggingface:apiUrl", emulator.api_url)
    stack.set_config("huggingface:token", emulator.token, secret=True)
    stack.up()
    text = (tmp_path / "work" / "stack.json").read_text()
    assert "sv-sealed-value-4711" not in text and emulator.token not in text
    (resource,) = json.loads(text)["resources"]
    for props in (resource["inputs"], resource["outputs"]):
        assert set(props["secrets"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}
    assert resource["outputs"]["repository"] == "gpt2"  # the rest stays readable
    stack.destroy()
