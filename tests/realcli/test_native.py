"""The native provider (`pulumi-resource-hf-endpoints`) through the real Pulumi CLI, from the
languages a dynamic provider cannot serve: a YAML program (Pulumi's YAML language host, built
by `make pulumi-cli` from pulumi-yaml) and a TypeScript program with the SDK `pulumi package
gen-sdk` generates (`make nodejs-sdk`), against the emulator.

For each: the plan, `up` (with status lines while it waits), a call of the endpoint, a preview
with no changes, a refresh without drift, one change in place, `destroy`; `pulumi import` of an
endpoint made elsewhere, whose generated code then plans no change. And, in YAML: two accounts
with explicit providers, the engine's timeout (`customTimeouts`), Ctrl-C during a wait (the
endpoint is recorded and the next `up` finishes it), and the plugin archive installed with
`pulumi plugin install`. A language whose host or packages cannot be built here is skipped with
the reason its make target wrote.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hf_endpoints_emulator.config import User
from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import __version__
from pulumi_hf_endpoints.inference import EndpointClient

from .cli import REPO_ROOT, TOOLS_DIR, CliStack, wait_for
from .conftest import endpoint_names, endpoints

pytestmark = pytest.mark.realcli

NATIVE = Path(__file__).parent / "native"
TYPE = "hf-endpoints:index:InferenceEndpoint"
POLL = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}
NODEJS_TOOLS = REPO_ROOT / ".tools" / "nodejs"
PLUGIN_DIR = Path(sys.executable).parent
"""Where this environment's `pulumi-resource-hf-endpoints` is (a checkout's `.venv/bin`)."""


def _unavailable(language: str) -> str | None:
    """Why programs in `language` cannot run here, or None."""
    if language == "yaml":
        reason = TOOLS_DIR / "unavailable-yaml"
        host = TOOLS_DIR / "bin" / "pulumi-language-yaml"
    else:
        reason = NODEJS_TOOLS / "unavailable"
        host = NODEJS_TOOLS / "project" / "node_modules" / "@pulumi-hf-endpoints"
    if reason.exists():
        return reason.read_text().strip()
    if not host.exists():
        target = "make pulumi-cli" if language == "yaml" else "make nodejs-sdk"
        return f"{host} is missing: run `{target}`"
    if not (PLUGIN_DIR / "pulumi-resource-hf-endpoints").exists():
        return "pulumi-resource-hf-endpoints is not installed: run `make install`"
    return None


def native_stack(
    make_stack: Callable[..., CliStack],
    emulator: EmulatorHandle,
    language: str,
    project: str | None = None,
    *,
    plugin_block: bool = True,
) -> CliStack:
    """A stack of a native-provider project: the plugin named in Pulumi.yaml (`plugins:`, as a
    checkout uses it), the emulator's URL and token in its `hf-endpoints:*` config."""
    reason = _unavailable(language)
    if reason is not None:
        pytest.skip(f"{language} programs cannot run here: {reason}")
    stack = make_stack(NATIVE / (project or language), env=POLL)
    if plugin_block:
        manifest = stack.project_dir / "Pulumi.yaml"
        block = {"providers": [{"name": "hf-endpoints", "path": str(PLUGIN_DIR)}]}
        manifest.write_text(manifest.read_text() + yaml.safe_dump({"plugins": block}))
    if language == "typescript":
        prepared = NODEJS_TOOLS / "project"
        (stack.project_dir / "node_modules").symlink_to(prepared / "node_modules")
        shutil.copy(prepared / "package.json", stack.project_dir / "package.json")
    stack.config_set("hf-endpoints:apiUrl", emulator.api_url)
    stack.config_set("hf-endpoints:token", emulator.token, secret=True)
    return stack


def states(stack: CliStack) -> dict[str, dict[str, Any]]:
    return {r["urn"].split("::")[-1]: r for r in stack.resources(TYPE)}


def live(emulator: EmulatorHandle, endpoint_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{emulator.api_url}/endpoint/{endpoint_id}", headers=emulator.headers, timeout=30
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


LANGUAGES = ["yaml", "typescript"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_deploys_updates_and_destroys_an_endpoint(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle, language: str
) -> None:
    stack = native_stack(make_stack, emulator, language)
    steps = stack.preview_steps()
    assert [(s["op"], s["urn"].split("::")[-1]) for s in steps] == [("create", "chat")]
    assert steps[0]["newState"]["type"] == TYPE

    up = stack.up()
    # The status lines the provider sent while it waited, shown beside the resource.
    assert "endpoint initializing" in up.output
    assert "endpoint running, 1/1 replicas ready" in up.output
    outputs = stack.outputs()
    state = states(stack)["chat"]
    assert outputs["status"] == "running" and outputs["pricePerHour"] > 0
    rows = outputs["hardwareRows"]
    assert (len(rows) if isinstance(rows, list) else rows) >= 1  # getHardware, invoked
    held = live(emulator, state["id"])
    assert held["name"] == outputs["name"] and sorted(held["tags"])[0] == "native"
    assert state["outputs"]["__ownership"] in held["tags"]
    with EndpointClient(outputs["url"], token=emulator.token) as client:
        assert client.text_generation("Once upon a time", max_new_tokens=4)

    stack.preview("--expect-no-changes")
    stack.refresh("--expect-no-changes")

    stack.config_set("instanceSize", "x2")
    diff = stack.preview("--diff")
    assert 'instanceSize: "x1" => "x2"' in diff.output  # a diff by property, from the provider
    changed = stack.up()
    assert "[diff: ~instanceSize]" in changed.output
    assert live(emulator, state["id"])["compute"]["instanceSize"] == "x2"
    assert stack.outputs()["url"] == outputs["url"]  # in place: same endpoint, same URL
    stack.preview("--expect-no-changes")

    stack.destroy()
    assert endpoint_names(emulator) == [] and states(stack) == {}


def _merge_imported(stack: CliStack, language: str, generated: str) -> None:
    """Put the code `pulumi import` generated into the program, as its message asks."""
    if language == "yaml":
        manifest = stack.project_dir / "Pulumi.yaml"
        program = yaml.safe_load(manifest.read_text())
        program["resources"].update(yaml.safe_load(generated)["resources"])
        manifest.write_text(yaml.safe_dump(program, sort_keys=False))
    else:
        body = [line for line in generated.splitlines() if not line.startswith("import ")]
        index = stack.project_dir / "index.ts"
        index.write_text(index.read_text() + "\n" + "\n".join(body) + "\n")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_imported_endpoint_plans_no_change_with_the_generated_code(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle, language: str
) -> None:
    stack = native_stack(make_stack, emulator, language)
    stack.up()
    seeded = emulator.seed_endpoint(
        emulator.user,
        {
            "name": "outside",
            "type": "authenticated",
            "provider": {"vendor": "aws", "region": "us-east-1"},
            "compute": {
                "accelerator": "cpu",
                "instanceType": "intel-spr",
                "instanceSize": "x1",
                "scaling": {"minReplica": 1, "maxReplica": 2},
            },
            "model": {
                "repository": "gpt2",
                "framework": "pytorch",
                "task": "text-generation",
                "image": {"huggingface": {}},
                "env": {"MAX_BATCH": "4"},
            },
            "tags": ["made-elsewhere"],
        },
    )
    code = stack.work / "imported.code"
    stack.run(
        "import",
        TYPE,
        "outside",
        f"{emulator.user}/{seeded['name']}",
        "--yes",
        "--out",
        str(code),
    )
    generated = code.read_text()
    assert "outside" in generated and "made-elsewhere" in generated and "MAX_BATCH" in generated
    imported = states(stack)["outside"]
    assert imported["id"] == f"{emulator.user}/outside" and imported.get("protect") is True
    _merge_imported(stack, language, generated)
    stack.preview("--expect-no-changes")
    assert sorted(endpoint_names(emulator)) == sorted(["outside", stack.outputs()["name"]])


def _yaml_program(stack: CliStack, edit: Callable[[dict[str, Any]], None]) -> None:
    manifest = stack.project_dir / "Pulumi.yaml"
    program = yaml.safe_load(manifest.read_text())
    edit(program)
    manifest.write_text(yaml.safe_dump(program, sort_keys=False))


def test_two_accounts_in_one_program_through_explicit_providers(
    make_stack: Callable[..., CliStack], make_emulator: Callable[..., EmulatorHandle]
) -> None:
    alice = User("alice", "hf_alice_token_for_native_tests_01")
    emulator = make_emulator(extra_users=(alice,))
    stack = native_stack(make_stack, emulator, "yaml", "accounts")
    stack.config_set("apiUrl", emulator.api_url)
    stack.config_set("otherToken", alice.token, secret=True)
    stack.up()
    assert stack.outputs() == {"mine": emulator.user, "theirs": "alice"}
    namespaces = sorted(e["id"].split("/")[0] for e in states(stack).values())
    assert namespaces == sorted([emulator.user, "alice"])
    export = json.dumps(stack.export())
    assert alice.token not in export and emulator.token not in export  # secrets stay sealed
    stack.destroy()
    assert endpoints(emulator) == []


def test_the_engines_timeout_bounds_the_wait(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    emulator.faults.set_timings(initializing_seconds=600)
    stack = native_stack(make_stack, emulator, "yaml")
    _yaml_program(
        stack,
        lambda program: program["resources"]["chat"].update(
            options={"customTimeouts": {"create": "2s"}}
        ),
    )
    result = stack.up(check=False)
    assert result.code != 0
    assert "after 2 s" in result.output
    assert "was deleted so that it does not keep billing" in result.output
    assert endpoint_names(emulator) == []


def test_ctrl_c_ends_the_wait_and_the_next_up_finishes_the_endpoint(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    """Without Cancel reaching the provider, one Ctrl-C would wait until the endpoint serves
    and the `up` would succeed; with it, the wait ends, the `up` fails saying so, and the state
    records the endpoint as it was."""
    emulator.faults.set_timings(initializing_seconds=20)
    stack = native_stack(make_stack, emulator, "yaml")
    process = stack.start("up", "--yes", "--skip-preview")
    wait_for(lambda: endpoint_names(emulator))
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        stack.close()
        output, _ = process.communicate()
        raise AssertionError(f"one Ctrl-C did not end the wait:\n{output}") from None
    assert process.returncode != 0
    assert "was cancelled" in output
    recorded = states(stack)["chat"]
    assert recorded["outputs"]["status"] in ("pending", "initializing")
    name = recorded["id"].split("/")[1]
    assert endpoint_names(emulator) == [name]

    # The engine updates a resource whose create did not finish: the update waits for it.
    finished = stack.up()
    assert "endpoint running, 1/1 replicas ready" in finished.output
    assert states(stack)["chat"]["outputs"]["status"] == "running"
    assert endpoint_names(emulator) == [name]  # the same endpoint, finished, not a second one


def test_the_plugin_archive_installs_and_serves_a_program(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    archives = sorted(
        (REPO_ROOT / "dist").glob(f"pulumi-resource-hf-endpoints-v{__version__}-*.tar.gz")
    )
    if not archives:
        pytest.skip("no plugin archive for this version in dist/: run `make plugin`")
    stack = native_stack(make_stack, emulator, "yaml", plugin_block=False)
    stack.run(
        "plugin", "install", "resource", "hf-endpoints", __version__, "--file", str(archives[-1])
    )
    listed = stack.run("plugin", "ls", "--json").json()
    installed = [(p["name"], p["kind"], p["version"]) for p in listed]
    assert ("hf-endpoints", "resource", __version__) in installed
    # Without the virtualenv on PATH: only the installed plugin can serve the program.
    stack.env["PATH"] = stack.env["PATH"].replace(str(PLUGIN_DIR), "")
    stack.up()
    assert stack.outputs()["status"] == "running"
    stack.destroy()
    assert endpoint_names(emulator) == []


def test_an_endpoint_moves_from_the_dynamic_resource_without_a_replacement(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    """`pulumi state delete` from the Python stack, `pulumi import` into the native one: the
    endpoint is never touched, and the native resource then holds it (its delete works)."""
    from .programs import PROJECT, endpoint, program

    python = make_stack(PROJECT, emulator=emulator, env=POLL)
    python.write_program(program(endpoint("chat")))
    python.up()
    (dynamic,) = python.resources()
    endpoint_id = dynamic["id"]
    created = live(emulator, endpoint_id)
    python.write_program(program())
    python.run("state", "delete", dynamic["urn"], "--yes")
    python.preview("--expect-no-changes")

    native = native_stack(make_stack, emulator, "yaml")
    _yaml_program(native, lambda program: program.update(resources={}, outputs={}))
    native.run("import", TYPE, "chat", endpoint_id, "--yes")
    imported = states(native)["chat"]
    assert imported["outputs"]["__ownership"] == dynamic["outputs"]["__ownership"]
    assert live(emulator, endpoint_id)["status"]["updatedAt"] == created["status"]["updatedAt"]
    native.run("state", "unprotect", imported["urn"], "--yes")
    native.destroy()
    assert endpoint_names(emulator) == []
