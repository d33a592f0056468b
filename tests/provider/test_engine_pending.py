"""The engine model's pending states, as the real engine keeps them (checked against the real
CLI in tests/realcli): a create the CLI never saw finish, a delete-before-replace whose create
failed, and a delete left for the next run. Each through Pulumi's provider host and the
emulator, with the provider's ownership markers doing their part."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from tests.harness import Engine, ProviderError, ProviderHost
from tests.provider.conftest import declare
from tests.provider.test_check_diff import GPT2
from tests.provider.test_lifecycle import names_in
from tests.realcli.cli import wait_for

FAST = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}


@pytest.fixture
def hosts(emulator: EmulatorHandle) -> Iterator[Any]:
    """Configured hosts, one per command, as the CLI starts them; all stop afterwards."""
    started: list[ProviderHost] = []

    def start() -> ProviderHost:
        host = ProviderHost(env=FAST)
        started.append(host.start())  # type: ignore[arg-type]
        host.configure(
            {"huggingface:token": emulator.token, "huggingface:apiUrl": emulator.api_url},
            secret_keys=["huggingface:token"],
        )
        return host

    yield start
    for host in started:
        host.close()


@pytest.mark.parametrize("named", [False, True], ids=["auto-named", "named"])
def test_a_create_killed_mid_wait_is_pending_and_the_next_up_takes_it_over(
    emulator: EmulatorHandle, hosts: Any, named: bool
) -> None:
    emulator.faults.set_timings(initializing_seconds=30)
    res = declare("chat", **GPT2, **({"name": "pending-named"} if named else {}))
    host = hosts()
    engine = Engine(host)
    failures: list[BaseException] = []

    def up() -> None:
        try:
            engine.up_program([res])
        except BaseException as exc:
            failures.append(exc)

    run = threading.Thread(target=up)
    run.start()
    wait_for(lambda: names_in(emulator))  # created, initializing: the provider waits
    host.kill()  # the CLI and its plugins killed
    run.join(60)
    (failure,) = failures
    assert isinstance(failure, ProviderError)
    assert [(op.urn, op.type) for op in engine.pending_operations] == [(res.urn, "creating")]
    assert res.urn not in engine.state
    (orphan,) = names_in(emulator)

    emulator.faults.set_timings(initializing_seconds=0.2)
    engine.host = hosts()
    (step,) = engine.up_program([res])
    assert step.op == "create" and step.id == f"{emulator.user}/{orphan}"
    assert names_in(emulator) == {orphan}  # taken over, not created twice
    assert len(engine.pending_operations) == 1  # until cleared, as the engine keeps it
    engine.clear_pending_creates()
    assert engine.pending_operations == []
    engine.destroy_all()
    assert names_in(emulator) == set()


def test_a_retained_named_replacement_stays_pending_until_it_can_go_through(
    emulator: EmulatorHandle, hosts: Any
) -> None:
    """ST PendingReplacement: the delete-before-replace deleted nothing (retain_on_delete) and
    the create was refused; the entry stays, and the next `up` replaces it without a Delete."""
    engine = Engine(hosts())
    first = dataclasses.replace(declare("chat", **GPT2, name="kept"), retain_on_delete=True)
    engine.up_program([first])
    moved = dataclasses.replace(
        declare("chat", **{**GPT2, "region": "eu-west-1"}, name="kept"), retain_on_delete=True
    )
    for _ in range(2):  # refused each time, with what to do; nothing is touched
        with pytest.raises(ProviderError, match="retain_on_delete") as info:
            engine.up_program([moved])
        assert "region" in info.value.message
        assert engine.state[first.urn].pending_replacement
        assert names_in(emulator) == {"kept"}
    renamed = dataclasses.replace(
        declare("chat", **{**GPT2, "region": "eu-west-1"}, name="moved"), retain_on_delete=True
    )
    (step,) = engine.up_program([renamed])
    assert step.op == "replace" and "Delete" not in step.rpcs
    assert not engine.state[first.urn].pending_replacement
    assert engine.state[first.urn].id == f"{emulator.user}/moved"
    assert names_in(emulator) == {"kept", "moved"}


def test_a_failed_delete_of_a_replaced_endpoint_is_tried_again_by_the_next_up(
    emulator: EmulatorHandle, hosts: Any
) -> None:
    engine = Engine(hosts())
    res = declare("chat", **GPT2)
    (created,) = engine.up_program([res])
    moved = declare("chat", **{**GPT2, "region": "eu-west-1"})
    emulator.faults.respond(400, method="DELETE", path=f"/v2/endpoint/{emulator.user}/*")
    with pytest.raises(ProviderError):
        engine.up_program([moved])  # created first, then the old one's delete fails
    assert [e.id for e in engine.pending_deletes] == [created.id]
    assert len(names_in(emulator)) == 2
    steps = engine.up_program([moved])  # nothing to change: the pending delete goes
    assert [s.op for s in steps] == ["same", "delete-replaced"]
    assert engine.pending_deletes == []
    assert names_in(emulator) == {engine.state[res.urn].id.split("/")[1]}
