"""What the real engine does that a simpler model hides: forced replacements, refresh followed by
Diff, `get` of a missing id, deletes sent all at once to a fresh host, configuration saved in
state, preview outputs. Each through Pulumi's provider host and the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from hf_endpoints_emulator.config import User
from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints import InferenceEndpoint
from pulumi_hf_endpoints.provider import INPUT_KEYS_KEY
from tests.harness import (
    Engine,
    EngineMonitor,
    ProviderError,
    ProviderHost,
    capture_program,
    run_program,
)
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import api_of, declare_get, names_in

FAST = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}


def config_of(emulator: EmulatorHandle, token: str | None = None) -> dict[str, str]:
    return {"huggingface:token": token or emulator.token, "huggingface:apiUrl": emulator.api_url}


@pytest.fixture
def fresh_host() -> Iterator[Any]:
    """Start unconfigured hosts, as the CLI starts one per command; all stop afterwards."""
    hosts: list[ProviderHost] = []

    def start() -> ProviderHost:
        host = ProviderHost(env=FAST)
        hosts.append(host.start())  # type: ignore[arg-type]
        return host

    yield start
    for host in hosts:
        host.close()


# --- 1. forced replacement of a named endpoint -------------------------------------------------


def test_an_explicit_name_asks_the_engine_to_delete_first() -> None:
    assert declare("a", **GPT2, name="named").delete_before_replace is True
    assert declare("b", **GPT2).delete_before_replace is None  # auto-named: create first

    def program() -> None:
        InferenceEndpoint(
            "c", **GPT2, name="kept", opts=pulumi.ResourceOptions(delete_before_replace=False)
        )

    (chosen,) = capture_program(program)
    assert chosen.delete_before_replace is False  # the user's choice stands


def test_forced_replacement_of_a_named_endpoint_deletes_first(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="pinned")
    first = engine.up_program([res])[0]
    # `pulumi up --replace URN`: no Diff, so the order comes from the registration alone.
    (step,) = engine.up_program([res], replace={res.urn})
    assert step.op == "replace" and step.replace_reason == "forced"
    assert step.rpcs == ["Check", "Delete", "Create"]
    assert names_in(emulator) == {"pinned"}
    assert engine.state[res.urn].outputs["status"] == "running"
    with api_of(emulator) as api:
        assert api.get_endpoint(emulator.user, "pinned")["status"]["createdAt"] != (
            first.outputs or {}
        ).get("createdAt")
    engine.destroy_all()


def test_forced_replacement_creating_first_keeps_the_named_endpoint(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    """Creating first under a taken name: the endpoint carries this resource's own marker, so
    the create takes it over, and the old half's delete leaves it (the marker is new)."""

    def program() -> None:
        InferenceEndpoint(
            "chat", **GPT2, name="pinned", opts=pulumi.ResourceOptions(delete_before_replace=False)
        )

    (res,) = capture_program(program)
    engine = Engine(live_host)
    created = engine.up_program([res])[0].outputs or {}
    steps = engine.up_program([res], replace={res.urn})
    assert [s.op for s in steps] == ["replace", "delete-replaced"]
    kept = engine.state[res.urn].outputs
    assert names_in(emulator) == {"pinned"} and kept["createdAt"] == created["createdAt"]
    assert kept["__ownership"] != created["__ownership"]  # held anew
    engine.destroy_all()
    assert names_in(emulator) == set()


def test_forced_replacement_of_an_auto_named_endpoint_keeps_it(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2)
    old = engine.up_program([res])[0].outputs or {}
    steps = engine.up_program([res], replace={res.urn})
    assert [s.op for s in steps] == ["replace", "delete-replaced"]
    new = engine.state[res.urn].outputs
    assert new["name"] == old["name"] and names_in(emulator) == {new["name"]}
    engine.destroy_all()
    assert names_in(emulator) == set()


# --- 2. get of an id that does not exist ------------------------------------------------------


def test_get_of_a_missing_endpoint_fails_naming_it(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    got = declare_get("ghost", f"{emulator.user}/no-such-endpoint")
    with pytest.raises(ProviderError) as info:
        Engine(live_host).get(got.urn, f"{emulator.user}/no-such-endpoint", got.inputs)
    assert f"'{emulator.user}/no-such-endpoint'" in info.value.message
    assert "InferenceEndpoint.get" in info.value.message


# --- 3. refresh: the program's keys, live values, then Diff -----------------------------------


def test_refresh_keeps_the_programs_keys_and_reports_drift(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, max_replica=2)
    created = engine.up(res.urn, res.inputs)
    checked = set(engine.state[res.urn].inputs)
    assert "namespace" not in checked and "namespace" in (created.outputs or {})

    quiet = engine.refresh(res.urn)
    assert quiet.drift is False and quiet.rpcs == ["Read", "Diff"]
    assert set(engine.state[res.urn].inputs) == checked  # nothing added, nothing lost
    assert engine.up(res.urn, res.inputs).op == "same"

    name = engine.state[res.urn].outputs["name"]
    with api_of(emulator) as api:  # someone scales it by hand
        api.update_endpoint(emulator.user, name, {"compute": {"scaling": {"maxReplica": 5}}})
    drifted = engine.refresh(res.urn)
    assert drifted.drift is True and drifted.changed == {"maxReplica": (2.0, 5.0)}
    assert set(engine.state[res.urn].inputs) == checked
    back = engine.up(res.urn, res.inputs)
    assert back.op == "update" and back.changed == {"maxReplica": (5.0, 2.0)}
    with api_of(emulator) as api:
        assert api.get_endpoint(emulator.user, name)["compute"]["scaling"]["maxReplica"] == 2
    engine.destroy_all()


def test_refresh_of_state_written_without_input_keys(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2)
    engine.up(res.urn, res.inputs)
    entry = engine.state[res.urn]
    del entry.outputs[INPUT_KEYS_KEY]  # as 0.1.0 wrote its outputs
    checked = set(entry.inputs)
    assert engine.refresh(res.urn).drift is False
    assert set(engine.state[res.urn].inputs) == checked
    assert engine.up(res.urn, res.inputs).op == "same"
    engine.destroy_all()


# --- 4. destroy: all deletes at once on a fresh host ------------------------------------------


def test_destroy_sends_every_delete_at_once_to_a_fresh_host(
    emulator: EmulatorHandle, fresh_host: Any
) -> None:
    up_host = fresh_host()
    engine = Engine(up_host)
    engine.use_host(up_host, config_of(emulator), secret_keys=["huggingface:token"])
    resources = [declare(f"ep{i}", **GPT2, wait=False) for i in range(8)]
    engine.up_program(resources)
    emulator.faults.gather(8, method="DELETE", path=f"/v2/endpoint/{emulator.user}/*")
    engine.use_host(fresh_host())  # `pulumi destroy` starts its own host
    steps = engine.destroy_all()
    assert len(steps) == 8 and names_in(emulator) == set()
    (rule,) = emulator.faults.list()
    # Each DELETE was held until all eight were in flight together: one wave, not two of four.
    assert (rule["gathered"], rule["timedOut"]) == (8, 0)


# --- 5 and 6. configuration saved in state; where the token came from -------------------------


def test_a_rotated_token_is_explained_on_destroy(
    make_emulator: Any, fresh_host: Any, tmp_path: Path
) -> None:
    emulator = make_emulator(extra_users=(User("alice", "hf_alice_first_token_0001"),))
    old_token = "hf_alice_first_token_0001"
    up_host = fresh_host()
    engine = Engine(up_host)
    engine.use_host(up_host, config_of(emulator, old_token), secret_keys=["huggingface:token"])
    engine.up_program([declare("chat", **GPT2, wait=False)])
    new_token = emulator.faults.rotate_token("alice")

    # `pulumi destroy` without --run-program: the provider gets the config of the last up.
    stale = fresh_host()
    engine.use_host(stale)
    with pytest.raises(ProviderError) as info:
        engine.destroy_all()
    message = info.value.message
    assert "401" in message and "stack config `huggingface:token`" in message
    assert "last `pulumi up`" in message and "--run-program" in message
    assert old_token not in info.value.details + stale.stderr_text()
    assert new_token not in info.value.details

    # What the message says to do: `pulumi up` (or --run-program) with the new token.
    current = fresh_host()
    engine.use_host(current, config_of(emulator, new_token), secret_keys=["huggingface:token"])
    assert [s.op for s in engine.destroy_all()] == ["delete"]


def test_no_token_names_the_minimum_cli(emulator: EmulatorHandle, fresh_host: Any) -> None:
    host = fresh_host()
    engine = Engine(host)
    engine.use_host(host, {"huggingface:apiUrl": emulator.api_url})
    with pytest.raises(ProviderError) as info:
        engine.up_program([declare("chat", **GPT2)])
    assert "No Hugging Face token was found" in info.value.message
    assert "3.139" in info.value.message and "huggingface:token" in info.value.message


def test_config_reaches_the_provider_as_strings(emulator: EmulatorHandle, fresh_host: Any) -> None:
    host = fresh_host()
    engine = Engine(host)
    engine.use_host(host, {**config_of(emulator), "huggingface:requestTimeout": 30})
    (configure,) = [e for e in host.transcript if e.method == "Configure"]
    assert configure.request["args"]["huggingface:requestTimeout"] == "30"
    assert engine.up_program([declare("chat", **GPT2, wait=False)])[0].op == "create"
    engine.destroy_all()


# --- 7. preview: only the checked inputs are known --------------------------------------------


def test_preview_gives_the_program_only_the_checked_inputs(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    seen: dict[str, Any] = {}

    def run(preview: bool, max_replica: int = 1) -> None:
        def program() -> None:
            ep = InferenceEndpoint("chat", **GPT2, name="previewed", max_replica=max_replica)
            replicas = ep.max_replica
            pulumi.Output.all(replicas, ep.url, ep.status).apply(
                lambda values: seen.update(max_replica=values[0], url=values[1], status=values[2])
            )
            replicas.apply(lambda value: seen.update(known_max_replica=value))

        seen.clear()
        monitor = EngineMonitor(engine, "project", "stack", preview=preview)
        with engine.deployment(preview=preview):
            run_program(program, monitor, project="project", stack="stack", preview=preview)
        assert monitor.errors == []

    run(preview=True)  # a planned create: url and status unknown, so the apply never ran
    assert seen == {"known_max_replica": 1}
    run(preview=False)
    assert seen["url"] and seen["status"] == "running"
    run(preview=True)  # nothing to change: a "same" step keeps the outputs in state
    assert seen["url"] and seen["status"] == "running"
    run(preview=True, max_replica=2)  # a planned update: the new inputs, not the old outputs
    assert seen == {"known_max_replica": 2}
    engine.destroy_all()


def test_a_property_set_elsewhere_that_the_program_leaves_unset_is_cleared(
    live_host: ProviderHost, emulator: EmulatorHandle
) -> None:
    engine = Engine(live_host)
    res = declare("chat", **GPT2, name="unset-revision")
    engine.up(res.urn, res.inputs)
    with api_of(emulator) as api:
        api.update_endpoint(emulator.user, "unset-revision", {"model": {"revision": "abc"}})
    refreshed = engine.refresh(res.urn)
    assert refreshed.drift is True and refreshed.outputs is not None
    assert refreshed.outputs["revision"] == "abc" and "revision" not in refreshed.inputs
    step = engine.up(res.urn, res.inputs)
    assert step.op == "update"
    with api_of(emulator) as api:  # the default the schema names, "latest main"
        assert api.get_endpoint(emulator.user, "unset-revision")["model"]["revision"] == "main"
    assert engine.refresh(res.urn).drift is False
    engine.destroy_all()
