"""Random walks through the engine's paths under the real CLI, counting orphans and losses.

Each seed drives one stack through a random sequence of what users do: change a property,
force a replacement (a region), rename a resource with or without an alias (a named one then
adopts its endpoint, as the refusal advises), adopt an endpoint made outside the stack, delete a
resource from the state, and interrupt an `up` (SIGKILL, or Ctrl-C twice) while it creates.
After every step that ends with a successful `up`, the service must hold exactly the endpoints
the state records for what the program declares: an endpoint on the service that the state does
not know is an orphan (it bills, unseen), an endpoint in the state that the service does not
hold is lost. Both counts must stay at zero.

`HF_ENDPOINTS_RANDOM_SEEDS` sets how many seeds run (default 3, under half a minute each here).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle

from .cli import CliStack, kill_session, wait_for
from .conftest import endpoints
from .programs import PROJECT, endpoint, program

pytestmark = pytest.mark.realcli

SEEDS = int(os.environ.get("HF_ENDPOINTS_RANDOM_SEEDS", "3"))
STEPS = 6
POLL = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}


@dataclass(frozen=True)
class Declared:
    """One resource of the program."""

    logical: str
    name: str | None = None  # None: auto-named
    region: str = "us-east-1"
    max_replica: int = 1
    alias: str | None = None
    adopt: bool = False
    renamed: bool = False
    """Renamed with an alias since its endpoint was made (see `state_delete`)."""

    def code(self) -> str:
        args = [f"max_replica={self.max_replica}"]
        if self.name is not None:
            args.append(f'name="{self.name}"')
        if self.adopt:
            args.append("adopt_existing=True")
        opts = f'aliases=[pulumi.Alias(name="{self.alias}")]' if self.alias else ""
        text = endpoint(self.logical, *args, opts=opts, var=f"r_{self.logical.replace('-', '_')}")
        return text.replace('region="us-east-1"', f'region="{self.region}"')


@dataclass
class Walk:
    stack: CliStack
    emulator: EmulatorHandle
    rng: random.Random
    declared: list[Declared] = field(default_factory=list)
    counter: int = 0
    log: list[str] = field(default_factory=list)
    orphans: int = 0
    lost: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def write(self) -> None:
        self.stack.write_program(program(*(d.code() for d in self.declared)))

    def up(self) -> None:
        self.write()
        self.stack.up()
        # Options that served their purpose come off, as a user would remove them.
        self.declared = [replace(d, alias=None, adopt=False) for d in self.declared]
        self.write()
        self.audit()

    def audit(self) -> None:
        state = {
            r["id"].split("/")[1]
            for r in self.stack.endpoint_states().values()
            if r["urn"].split("::")[-1] in {d.logical for d in self.declared}
        }
        service = {item["name"] for item in endpoints(self.emulator)}
        self.orphans += len(service - state)
        self.lost += len(state - service)
        assert (service - state, state - service) == (set(), set()), self.log

    # --- what users do -----------------------------------------------------------------------

    def change(self) -> None:
        i = self.rng.randrange(len(self.declared))
        d = self.declared[i]
        self.declared[i] = replace(d, max_replica=3 - d.max_replica)
        self.log.append(f"change {d.logical}")
        self.up()

    def move(self) -> None:
        i = self.rng.randrange(len(self.declared))
        d = self.declared[i]
        region = "eu-west-1" if d.region == "us-east-1" else "us-east-1"
        self.declared[i] = replace(d, region=region, renamed=False)  # a new endpoint
        self.log.append(f"replace {d.logical}")
        self.up()

    def rename(self) -> None:
        i = self.rng.randrange(len(self.declared))
        d = self.declared[i]
        alias = self.rng.random() < 0.5
        self.declared[i] = replace(
            d, logical=self.fresh("r"), alias=d.logical if alias else None, renamed=alias
        )
        self.log.append(f"rename {d.logical} -> {self.declared[i].logical} alias={alias}")
        self.write()
        result = self.stack.up(check=False)
        if result.code != 0:  # a named one without an alias: do what the message says next
            assert d.name is not None and not alias, result.output[-2000:]
            assert "alias" in result.output
            self.declared[i] = replace(self.declared[i], adopt=True)
        self.up()

    def adopt_external(self) -> None:
        name = self.fresh("ext-")
        body = {
            "name": name,
            "type": "authenticated",
            "provider": {"vendor": "aws", "region": "us-east-1"},
            "compute": {
                "accelerator": "cpu",
                "instanceType": "intel-spr",
                "instanceSize": "x2",
                "scaling": {"minReplica": 1, "maxReplica": 1},
            },
            "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
        }
        httpx.post(
            f"{self.emulator.api_url}/endpoint/{self.emulator.user}",
            json=body,
            headers=self.emulator.headers,
            timeout=30,
        ).raise_for_status()
        self.declared.append(Declared(self.fresh("x"), name=name, adopt=True))
        self.log.append(f"adopt {name}")
        self.up()

    def state_delete(self) -> None:
        """Not of a resource renamed with an alias since its endpoint was made: its endpoint's
        tag names the old logical name, which the program no longer says once the alias is
        gone (docs/resource.md, "What happens when...", says what to do then)."""
        candidates = [d for d in self.declared if not d.renamed]
        if not candidates:
            self.change()
            return
        d = self.rng.choice(candidates)
        self.stack.run("state", "delete", self.stack.urn(d.logical), "--yes")
        self.log.append(f"state delete {d.logical}")
        self.up()

    def interrupt(self) -> None:
        """A replacement or a new resource, so that `up` creates, cut at a random moment."""
        if self.rng.random() < 0.5:
            self.declared.append(Declared(self.fresh("n")))
        else:
            i = self.rng.randrange(len(self.declared))
            d = self.declared[i]
            self.declared[i] = replace(
                d, region="eu-west-1" if d.region == "us-east-1" else "us-east-1", renamed=False
            )
        how = self.rng.choice(["sigkill", "sigint-twice"])
        self.log.append(f"interrupt ({how})")
        self.write()
        self.emulator.faults.set_timings(initializing_seconds=20)
        process = self.stack.start("up", "--yes", "--skip-preview")
        # A create under way (a named replacement reuses its name, so look at the state).
        wait_for(
            lambda: any(
                i["status"]["state"] in ("pending", "initializing")
                for i in endpoints(self.emulator)
            ),
            timeout=120,
        )
        time.sleep(self.rng.random() * 2)  # somewhere in the wait
        if how == "sigkill":
            kill_session(process.pid, signal.SIGKILL)
        else:
            process.send_signal(signal.SIGINT)
            time.sleep(1)
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)
        self.stack.close()
        self.emulator.faults.set_timings(initializing_seconds=0.2)
        if how == "sigkill":
            self.stack.run("cancel", "--yes")
        self.up()
        self.stack.refresh("--clear-pending-creates")


@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_random_walk_neither_orphans_nor_loses_an_endpoint(
    make_stack: Callable[..., CliStack], emulator: EmulatorHandle, seed: int
) -> None:
    stack = make_stack(PROJECT, emulator=emulator, env=POLL)
    walk = Walk(stack, emulator, random.Random(seed))
    walk.declared = [Declared("a0"), Declared("n0", name=f"rnd-named-{seed}")]
    walk.up()
    moves = [walk.change, walk.move, walk.rename, walk.adopt_external, walk.state_delete]
    moves.append(walk.interrupt)
    for _ in range(STEPS):
        walk.rng.choice(moves)()
    stack.destroy()
    leftover = {item["name"] for item in endpoints(emulator)}
    walk.orphans += len(leftover)
    print(f"seed {seed}: {'; '.join(walk.log)}; orphans {walk.orphans}, lost {walk.lost}")
    assert (walk.orphans, walk.lost) == (0, 0)
