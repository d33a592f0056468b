"""The engine's paths through the real Pulumi CLI, against the emulator.

Each test asserts on what the service holds (the emulator's list route) and on what the state
records (`pulumi stack export`), not only on exit codes. A path that shows a defect which Step 15
fixes is a strict expected failure: its fix turns it green, and a change that hides it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.config import User
from hf_endpoints_emulator.testing import EmulatorHandle

from .cli import CliStack
from .conftest import endpoint_names, endpoints
from .plans import plan
from .programs import PROJECT, endpoint, program

pytestmark = pytest.mark.realcli

POLL = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}
MakeStack = Callable[..., CliStack]


@pytest.fixture
def deploy(make_stack: MakeStack, emulator: EmulatorHandle) -> Callable[..., CliStack]:
    """A stack of the test project running `statements`, deployed with `pulumi up`."""

    def make(*statements: str, up: bool = True) -> CliStack:
        stack = make_stack(PROJECT, emulator=emulator, env=POLL)
        stack.write_program(program(*statements))
        if up:
            stack.up()
        return stack

    return make


def state_ids(stack: CliStack) -> dict[str, str]:
    """Logical name -> endpoint id ("namespace/name") in the state."""
    return {name: r["id"] for name, r in stack.endpoint_states().items()}


def provider_error(result: Any) -> str:
    """The provider's own message in a failed command's output (after the host's traceback)."""
    marker = "ResourceError: "
    return result.output.split(marker, 1)[1].split("\n\n", 1)[0] if marker in result.output else ""


def held(emulator: EmulatorHandle) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in endpoints(emulator)}


def consistent(stack: CliStack, emulator: EmulatorHandle) -> dict[str, str]:
    """The state records exactly what the service holds; returns logical name -> name."""
    ids = state_ids(stack)
    assert sorted(i.split("/")[1] for i in ids.values()) == endpoint_names(emulator)
    assert stack.pending_operations() == []
    return {logical: i.split("/")[1] for logical, i in ids.items()}


# --- replacements the user forces ---------------------------------------------------------------


def test_up_replace_of_an_auto_named_endpoint_creates_first_then_deletes(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat"))
    (before,) = consistent(stack, emulator).values()
    result = stack.up("--replace", stack.urn("chat"))
    assert "replaced" in result.output
    (after,) = consistent(stack, emulator).values()
    assert after != before and after.startswith("chat-")


def test_up_replace_of_a_named_endpoint_deletes_first(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="named-chat"'))
    created = held(emulator)["named-chat"]["status"]["createdAt"]
    stack.up("--replace", stack.urn("chat"))
    assert consistent(stack, emulator) == {"chat": "named-chat"}
    assert held(emulator)["named-chat"]["status"]["createdAt"] != created  # a new endpoint


def test_state_taint_replaces_at_the_next_up(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat"))
    (before,) = consistent(stack, emulator).values()
    stack.run("state", "taint", stack.urn("chat"))
    # The replacement is checked with no olds: a fresh auto-name, which the plan shows.
    assert plan(stack) == {"chat": ("replace", ["name"])}
    stack.up()
    (after,) = consistent(stack, emulator).values()
    assert after != before


# --- targets and refresh ------------------------------------------------------------------------


def test_target_updates_only_the_targeted_endpoint(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("a", 'name="ep-a"'), endpoint("b", 'name="ep-b"'))
    stack.write_program(
        program(
            endpoint("a", 'name="ep-a"', "max_replica=3"),
            endpoint("b", 'name="ep-b"', "max_replica=3"),
        )
    )
    stack.up("--target", stack.urn("a"))
    service = held(emulator)
    assert service["ep-a"]["compute"]["scaling"]["maxReplica"] == 3
    assert service["ep-b"]["compute"]["scaling"]["maxReplica"] == 1
    states = stack.endpoint_states()
    assert (states["a"]["outputs"]["maxReplica"], states["b"]["outputs"]["maxReplica"]) == (3, 1)
    assert plan(stack) == {"b": ("update", ["maxReplica"])}


def test_up_refresh_reverts_a_change_made_outside_the_stack(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="drifting"'))
    response = httpx.put(
        f"{emulator.api_url}/endpoint/{emulator.user}/drifting",
        headers=emulator.headers,
        json={"compute": {"scaling": {"minReplica": 2, "maxReplica": 2}}},
        timeout=30,
    )
    response.raise_for_status()
    stack.preview("--expect-no-changes")  # without --refresh the drift is invisible
    stack.up("--refresh")
    assert held(emulator)["drifting"]["compute"]["scaling"]["maxReplica"] == 1
    assert stack.endpoint_states()["chat"]["outputs"]["maxReplica"] == 1
    stack.preview("--refresh", "--expect-no-changes")


# --- reading and importing ----------------------------------------------------------------------


def test_get_reads_an_endpoint_the_stack_does_not_manage(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    outside = deploy(endpoint("outside", 'name="made-elsewhere"', "max_replica=2"))
    stack = deploy(
        f'found = InferenceEndpoint.get("found", "{emulator.user}/made-elsewhere")',
        'pulumi.export("maxReplica", found.max_replica)',
        'pulumi.export("status", found.status)',
        up=False,
    )
    stack.up()
    assert stack.outputs() == {"maxReplica": 2, "status": "running"}
    (read,) = [r for r in stack.deployment()["resources"] if r["urn"].endswith("::found")]
    assert read.get("external") is True
    stack.destroy()  # a read resource is never deleted
    assert endpoint_names(emulator) == ["made-elsewhere"]
    outside.destroy()


def test_get_of_a_missing_endpoint_fails_with_the_providers_message(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(
        f'found = InferenceEndpoint.get("found", "{emulator.user}/not-there")',
        'pulumi.export("status", found.status)',
        up=False,
    )
    result = stack.up(check=False)
    assert result.code != 0
    assert f"there is no endpoint '{emulator.user}/not-there'" in result.output


def test_import_is_refused_for_a_dynamic_resource(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    """`pulumi import` reads with neither inputs nor state, so the host has no provider to
    unpickle: the CLI reports the failure, and nothing is imported or touched."""
    source = deploy(endpoint("source", 'name="importable"'))
    stack = deploy(up=False)
    result = stack.run(
        "import",
        "pulumi-python:dynamic:Resource",
        "adopted",
        f"{emulator.user}/importable",
        "--yes",
        check=False,
    )
    assert result.code != 0
    assert "__provider" in result.output
    assert stack.endpoint_states() == {}
    assert endpoint_names(emulator) == ["importable"]
    source.destroy()


# --- renames ------------------------------------------------------------------------------------


def test_rename_with_an_alias_keeps_the_endpoint(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("old-name", 'name="kept"'))
    created = held(emulator)["kept"]["status"]["createdAt"]
    stack.write_program(
        program(endpoint("new-name", 'name="kept"', opts='aliases=[pulumi.Alias(name="old-name")]'))
    )
    assert plan(stack) == {}
    stack.up()
    assert consistent(stack, emulator) == {"new-name": "kept"}
    assert held(emulator)["kept"]["status"]["createdAt"] == created


def test_rename_of_an_auto_named_endpoint_without_an_alias_replaces_it(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("old-name"))
    stack.write_program(program(endpoint("new-name")))
    assert plan(stack) == {"new-name": ("create", []), "old-name": ("delete", [])}
    stack.up()
    (name,) = consistent(stack, emulator).values()
    assert name.startswith("new-name-")


@pytest.mark.xfail(
    strict=True,
    reason="Step 15: a named endpoint renamed without an alias gets a 409 that advises "
    "adoptExisting; with it, the new URN adopts the endpoint and the old URN's delete removes it",
)
def test_rename_of_a_named_endpoint_without_an_alias_keeps_it(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("old-name", 'name="renamed"'))
    stack.write_program(program(endpoint("new-name", 'name="renamed"')))
    first = stack.up(check=False)
    assert first.code != 0 and "alias" in first.output
    # Following the message's advice must not lose the endpoint.
    stack.write_program(program(endpoint("new-name", 'name="renamed"', "adopt_existing=True")))
    stack.up()
    assert consistent(stack, emulator) == {"new-name": "renamed"}


# --- resource options ---------------------------------------------------------------------------


def test_protect_blocks_destroy_and_replace(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="guarded"', opts="protect=True"))
    destroy = stack.destroy(check=False)
    assert destroy.code != 0 and "protect" in destroy.output
    replace = stack.up("--replace", stack.urn("chat"), check=False)
    assert replace.code != 0 and "protect" in replace.output
    assert consistent(stack, emulator) == {"chat": "guarded"}
    stack.run("state", "unprotect", stack.urn("chat"), "--yes")
    stack.destroy()
    assert endpoint_names(emulator) == []


def test_retain_on_delete_leaves_the_endpoint_when_it_leaves_the_program(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="retained"', opts="retain_on_delete=True"))
    stack.write_program(program())
    assert plan(stack) == {"chat": ("delete", [])}
    stack.up()
    assert stack.endpoint_states() == {}
    assert endpoint_names(emulator) == ["retained"]  # as Pulumi documents: deleted from state only


@pytest.mark.xfail(
    strict=True,
    reason="Step 15: replacing a retained named endpoint deletes nothing, then its create gets "
    "a 409 and every later up retries it",
)
def test_retain_on_delete_does_not_wedge_a_named_replacement(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="retained"', opts="retain_on_delete=True"))
    stack.edit_program('region="us-east-1"', 'region="eu-west-1"')
    first = stack.up(check=False)
    second = stack.up(check=False)
    # Either the replacement goes through, or it is refused with a message that names the option.
    assert second.code == 0 or "retain_on_delete" in provider_error(first)


def test_deleted_with_skips_the_delete_when_the_other_resource_goes(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    """Pulumi's documented meaning: the user says deleting `a` deletes `b` too, so `b`'s Delete
    is skipped. Two endpoints are independent, so `b` is left on the service."""
    stack = deploy(
        endpoint("a", 'name="ep-a"'),
        endpoint("b", 'name="ep-b"', opts="deleted_with=a"),
    )
    stack.destroy()
    assert stack.endpoint_states() == {}
    assert endpoint_names(emulator) == ["ep-b"]


def test_ignore_changes_with_the_camel_case_name(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="ignoring"', opts='ignore_changes=["maxReplica"]'))
    stack.edit_program('name="ignoring"', 'name="ignoring", max_replica=3, tags=["team:ml"]')
    assert plan(stack) == {"chat": ("update", ["tags"])}
    stack.up()
    service = held(emulator)["ignoring"]
    assert (service["compute"]["scaling"]["maxReplica"], service["tags"]) == (1, ["team:ml"])


@pytest.mark.xfail(
    strict=True,
    reason="Step 15: ignore_changes names are matched against the camelCase inputs, so the "
    "constructor's snake_case name is silently ignored",
)
def test_ignore_changes_with_the_snake_case_name(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(endpoint("chat", 'name="ignoring"', opts='ignore_changes=["max_replica"]'))
    stack.edit_program('name="ignoring"', 'name="ignoring", max_replica=3, tags=["team:ml"]')
    assert plan(stack) == {"chat": ("update", ["tags"])}


# --- configuration saved in state ---------------------------------------------------------------


def test_a_rotated_token_needs_run_program_for_refresh_and_destroy(
    make_stack: MakeStack, make_emulator: Callable[..., EmulatorHandle]
) -> None:
    old = "hf_alice_first_token_0001"
    emulator = make_emulator(extra_users=(User("alice", old),))
    stack = make_stack(PROJECT, env=POLL)
    stack.write_program(program(endpoint("chat", 'name="rotated"', 'namespace="alice"')))
    stack.use_emulator(emulator.api_url, old)
    stack.up()
    new = emulator.faults.rotate_token("alice")
    stack.config_set("huggingface:token", new, secret=True)

    refresh = stack.refresh(check=False)
    assert refresh.code != 0
    assert "401" in refresh.output and "--run-program" in refresh.output
    assert old not in refresh.output and new not in refresh.output
    stack.refresh("--run-program")  # which also saves the new config in the state

    newer = emulator.faults.rotate_token("alice")
    stack.config_set("huggingface:token", newer, secret=True)
    destroy = stack.destroy(check=False)
    assert destroy.code != 0 and "--run-program" in destroy.output
    stack.destroy("--run-program")
    listed = httpx.get(
        f"{emulator.api_url}/endpoint/alice",
        headers={"authorization": f"Bearer {newer}"},
        timeout=30,
    ).json()["items"]
    assert listed == [] and stack.endpoint_states() == {}


# --- many endpoints -----------------------------------------------------------------------------


def test_destroy_of_sixteen_endpoints(
    deploy: Callable[..., CliStack], emulator: EmulatorHandle
) -> None:
    stack = deploy(*(endpoint(f"ep{i}", f'name="many-{i:02d}"') for i in range(16)))
    assert len(consistent(stack, emulator)) == 16
    stack.destroy()
    assert endpoint_names(emulator) == []
    assert stack.endpoint_states() == {}
