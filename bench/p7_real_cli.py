"""P7 real CLI: `pulumi preview`, `up` and `destroy` of 1 and 16 endpoints under the real Pulumi.

The CLI built by `make pulumi-cli` runs each command on a throw-away project with a `file://`
backend (`tests.realcli.cli.CliStack`) against the emulator in its own process (synthetic
serving, every endpoint provisioned in T = pending + initializing seconds, deleted at once).
Four stacks take turns, in an order that rotates every round: 1 and N endpoints
(`InferenceEndpoint`, the huggingface_hub guide's CPU endpoint) and 1 and N no-op dynamic
resources (`bench.noop_provider.NoopProvider`, the same property bag and the same stack config),
so both kinds go through the same CLI, language host and provider host. Each round, on each
stack: `preview` of the creates (empty stack), `up`, `preview` of the unchanged stack,
`destroy`; and on the N-endpoint stack `up --parallel N` then `destroy` again. A figure is the
median wall time of one `pulumi` command, from start to exit; a first untimed `preview` per
stack warms the disk cache.

- preview: N endpoints against N no-op resources, and 1 against 1 (what the provider adds);
- up and destroy: N endpoints against 1 (do the N operations overlap, or queue?), with the
  no-op stacks' own N / 1 beside them (what the CLI itself costs per resource), and the extra
  time of N over 1 in units of T (0 when all N provision side by side, 1 per extra round).

Commands run with the CLI's defaults. `--parallel` is then 4 × the CPU count (the CLI's
`defaultParallel`): with 2 cores, 8 creates at once, so 16 endpoints come up in two rounds;
`up --parallel N` shows what the provider and its host do once the engine lets all N go.
`--quick` runs 2 endpoints, one round, T = 1 s, without the `preview` of creates and the
`--parallel` variant.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, SMALL_ENDPOINT, BenchResult, Figure, emulator_process, median

ID = "P7"
TITLE = "Real CLI: preview, up and destroy of 1 and 16 endpoints vs no-op resources"

MANY, ROUNDS, PHASES = 16, 5, {"pending_seconds": 1.0, "initializing_seconds": 3.0}
QUICK_MANY, QUICK_ROUNDS, QUICK_PHASES = 2, 1, {"pending_seconds": 0.5, "initializing_seconds": 0.5}
POLL_INTERVAL = 0.1
"""Seconds between the provider's polls: small beside T, so the figures are not polling lag."""

PROJECT = """\
name: bench-real-cli
description: Benchmark stack (bench/p7_real_cli.py)
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
"""

PROGRAM = '''\
"""{count} {kind} resources, the same property bag for both kinds."""

import pulumi

PROPS = {props!r}

if {kind!r} == "endpoint":
    from pulumi_hf_endpoints import InferenceEndpoint

    for i in range({count}):
        InferenceEndpoint(f"{prefix}-{{i:02d}}", **PROPS)
else:
    from pulumi.dynamic import Resource

    from bench.noop_provider import NoopProvider

    class Noop(Resource, module="bench-noop", name="Noop"):
        pass

    provider = NoopProvider()
    for i in range({count}):
        Noop(provider, f"{prefix}-{{i:02d}}", dict(PROPS))
'''

UP = ("up", "--yes", "--skip-preview")
DESTROY = ("destroy", "--yes", "--skip-preview")
STACKS = ("endpoint-1", "endpoint-n", "noop-1", "noop-n")


def cli_unavailable() -> str | None:
    """Why the real CLI cannot run here (the line the real-CLI tests skip with), or None."""
    from tests.realcli.cli import tools_bin

    found = tools_bin()
    return None if isinstance(found, Path) else found


def commands(key: str, many: int, quick: bool) -> dict[str, tuple[str, ...]]:
    """What one round runs on stack `key`, in order: label -> `pulumi` arguments."""
    steps: dict[str, tuple[str, ...]] = {}
    if not quick:
        steps["preview-create"] = ("preview",)
    steps.update({"up": UP, "preview": ("preview",), "destroy": DESTROY})
    if key == "endpoint-n" and not quick:
        steps["up-parallel"] = (*UP, "--parallel", str(many))
        steps["destroy-after-parallel"] = DESTROY
    return steps


def _label(key: str, many: int) -> str:
    kind, size = key.split("-")
    count = 1 if size == "1" else many
    return f"{count} {'endpoint' if kind == 'endpoint' else 'no-op'}{'s' if count > 1 else ''}"


def _make_stacks(work: Path, emu: Any, many: int) -> dict[str, Any]:
    from tests.realcli.cli import CliStack, tools_bin

    bin_dir = tools_bin()
    assert isinstance(bin_dir, Path), bin_dir
    src = work / "src"
    src.mkdir()
    (src / "Pulumi.yaml").write_text(PROJECT)
    path = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {
        "PULUMI_HF_ENDPOINTS_POLL_INTERVAL": str(POLL_INTERVAL),
        # The no-op program and its provider host import bench.noop_provider from here.
        "PYTHONPATH": os.pathsep.join(path),
    }
    props = {**SMALL_ENDPOINT, "type": "authenticated"}  # the guide's 'protected' would warn
    stacks = {}
    for key in STACKS:
        kind, size = key.split("-")
        count = 1 if size == "1" else many
        stack = CliStack(bin_dir, src, work / key, env_extra=env)
        stacks[key] = stack
        stack.write_program(PROGRAM.format(kind=kind, count=count, prefix=f"p7-{key}", props=props))
        stack.init()
        # The same config for both kinds (the no-op program ignores it): the CLI decrypts the
        # secret token for both.
        stack.use_emulator(emu.api_url, emu.token)
    return stacks


def _service(emu: Any) -> dict[str, str]:
    """The endpoints the service holds: name -> creation time (ISO 8601)."""
    import httpx

    response = httpx.get(f"{emu.api_url}/endpoint/{emu.user}", headers=emu.headers, timeout=30)
    response.raise_for_status()
    return {item["name"]: item["status"]["createdAt"] for item in response.json()["items"]}


def _check(emu: Any, key: str, label: str, count: int, t: float) -> list[int]:
    """Each up made the stack's endpoints and each destroy removed them, so the time measured
    is that of the work done. After an up: how many creates began together, per round (creation
    times further apart than half a provisioning time start a new round)."""
    if not key.startswith("endpoint"):
        return []
    mine = {n: c for n, c in _service(emu).items() if n.startswith(f"p7-{key}-")}
    if label.startswith("destroy") and mine:
        raise AssertionError(f"{key}: `pulumi destroy` left {sorted(mine)}")
    if not label.startswith("up"):
        return []
    if len(mine) != count:
        raise AssertionError(f"{key}: `pulumi up` left {len(mine)} endpoints, not {count}")
    return creation_rounds(sorted(mine.values()), gap=0.5 * t)


def creation_rounds(created: list[str], gap: float) -> list[int]:
    """Sizes of the groups of creation times (sorted ISO 8601) separated by more than `gap` s."""
    from datetime import datetime

    stamps = [datetime.fromisoformat(c.replace("Z", "+00:00")).timestamp() for c in created]
    rounds: list[int] = []
    for i, stamp in enumerate(stamps):
        if i == 0 or stamp - stamps[i - 1] > gap:
            rounds.append(0)
        rounds[-1] += 1
    return rounds


def run(quick: bool) -> BenchResult:
    result = BenchResult(ID, TITLE, quick)
    missing = cli_unavailable()
    if missing:
        result.notes.append(f"skipped: {missing}")
        return result
    many, rounds, phases = (
        (QUICK_MANY, QUICK_ROUNDS, QUICK_PHASES) if quick else (MANY, ROUNDS, PHASES)
    )
    t = sum(phases.values())
    plan = {key: commands(key, many, quick) for key in STACKS}
    result.params = {
        "resources": [1, many],
        "rounds": rounds,
        "provisioning_T_s": t,
        "emulator_phases_s": phases,
        "poll_interval_s": POLL_INTERVAL,
        "cpus": os.cpu_count(),
        "cli_parallel_default": 4 * (os.cpu_count() or 1),
        "per_round": {key: list(steps) for key, steps in plan.items()},
    }
    times: dict[str, dict[str, list[float]]] = {k: {c: [] for c in plan[k]} for k in STACKS}
    creation_groups: dict[str, list[list[int]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-p7-") as tmp, emulator_process(**phases) as emu:
        stacks = _make_stacks(Path(tmp), emu, many)
        try:
            if not quick:
                for stack in stacks.values():
                    stack.run("preview")
            for i in range(rounds):
                for key in STACKS[i % len(STACKS) :] + STACKS[: i % len(STACKS)]:
                    count = 1 if key.endswith("-1") else many
                    for label, args in plan[key].items():
                        started = time.perf_counter()
                        stacks[key].run(*args)
                        times[key][label].append(time.perf_counter() - started)
                        groups = _check(emu, key, label, count, t)
                        if groups:
                            creation_groups.setdefault(f"{key} {label}", []).append(groups)
        finally:
            for stack in stacks.values():
                stack.close()
    _figures(result, times, many, t)
    for run_key, runs in creation_groups.items():
        if run_key.startswith("endpoint-n"):
            seen = ", ".join("+".join(map(str, groups)) for groups in runs)
            result.notes.append(f"{many} endpoints, {run_key.split()[1]}: creates began in {seen}")
    result.samples = {"seconds": times, "creates_begun_together": creation_groups}
    return result


def _figures(
    result: BenchResult, times: dict[str, dict[str, list[float]]], many: int, t: float
) -> None:
    def med(key: str, label: str) -> float:
        return median(times[key][label])

    for size in ("n", "1"):
        ours, ref = f"endpoint-{size}", f"noop-{size}"
        for label, what in (("preview", "unchanged stack"), ("preview-create", "plan of creates")):
            if label in times[ours]:
                result.add(
                    Figure(
                        f"P7 `pulumi preview` of {_label(ours, many)}, {what}",
                        "s",
                        med(ours, label),
                        med(ref, label),
                        reference_label=_label(ref, many),
                        goal=1.5,
                        goal_kind="max",
                    )
                )
    for command in ("up", "destroy"):
        result.add(
            Figure(
                f"P7 `pulumi {command}` of {many} endpoints",
                "s",
                med("endpoint-n", command),
                med("endpoint-1", command),
                reference_label="1 endpoint",
                goal=1.5,
                goal_kind="max",
                note=f"T = {t:g} s, CLI defaults (--parallel {4 * (os.cpu_count() or 1)})",
            )
        )
        if command == "up":
            if "up-parallel" in times["endpoint-n"]:
                result.add(
                    Figure(
                        f"P7 `pulumi up --parallel {many}` of {many} endpoints",
                        "s",
                        med("endpoint-n", "up-parallel"),
                        med("endpoint-1", "up"),
                        reference_label="1 endpoint",
                        note="the engine lets all N creates go at once",
                    )
                )
            for label in ("up", "up-parallel"):
                if label in times["endpoint-n"]:
                    extra = (med("endpoint-n", label) - med("endpoint-1", "up")) / t
                    flag = f" --parallel {many}" if label == "up-parallel" else ""
                    result.add(
                        Figure(
                            f"P7 `pulumi up{flag}`: {many} endpoints' extra time over 1, in T",
                            "×",
                            extra,
                            note=f"T = {t:g} s; 0 = all provision side by side, 1 per round",
                        )
                    )
        result.add(
            Figure(
                f"P7 `pulumi {command}` of {many} no-ops (the CLI's own cost)",
                "s",
                med("noop-n", command),
                med("noop-1", command),
                reference_label="1 no-op",
            )
        )
    for key in STACKS:
        for label, values in times[key].items():
            result.notes.append(
                f"{_label(key, many)}, {label}: median {median(values):.2f} s "
                f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
            )
