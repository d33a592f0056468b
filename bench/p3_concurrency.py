"""P3 concurrency: 16 endpoints created in one operation through Pulumi's provider host.

The emulator provisions every endpoint in exactly T seconds (pending + initializing). As the
engine does in `pulumi up` when `--parallel` is 16 or more, each resource is checked, then the 16
Create RPCs are sent at once (`--parallel` defaults to 4 × the CPU count: on 2 cores the real CLI
sends 8, then 8, which P7 measures). The figure is the wall time from the first
Create sent to the last one returned, divided by T: a provider that waits inside Create is held
to 4 at a time by the host's `ThreadPoolExecutor(max_workers=4)`, hence about 4×. The shipped
provider polls at its default interval (1 s) and raises the host's limit from configure()
(`pulumi_hf_endpoints.hostpool`, default 32 workers); the reference is the same provider held to
Pulumi's own four (`huggingface:hostWorkers` 4).

Other designs measured for comparison:
- (b) `wait=False` creates (return after the POST), then refresh (Read of all 16, repeated
      every second) until every endpoint reads `running`: the time until the stack *knows*
      they are ready;
- (c) a model of a native provider: the same provider in a host without the cap
      (`bench.native_host`).
"""

from __future__ import annotations

import concurrent.futures
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    BenchResult,
    Figure,
    declare_endpoints,
    emulator_process,
    host_env,
    median,
)

ID = "P3"
TITLE = "Concurrency: 16 creates in one operation, wall time / provisioning time T"

N_ENDPOINTS = 16


def _native_python(tmp: str) -> str:
    """An executable that the harness runs as `<it> -u -m pulumi.dynamic`: our wide host."""
    path = Path(tmp) / "native-host"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -u -m bench.native_host\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def _one_run(
    emu: Any,
    option: str,
    tag: str,
    python: str,
) -> dict[str, Any]:
    from tests.harness import ProviderHost

    count = 1 if option == "single" else N_ENDPOINTS
    names = [f"p3-{tag}-{i:02d}" for i in range(count)]
    extra: dict[str, Any] = {"wait": False} if option == "b_nowait_refresh" else {}
    declared = declare_endpoints(names, namespace=emu.user, **extra)
    declared_inputs = [r.inputs for r in declared]
    env = host_env()
    env.pop("PULUMI_HF_ENDPOINTS_POLL_INTERVAL", None)  # the default interval
    with ProviderHost(env=env, inherit_env=False, python=python, rpc_timeout=300) as host:
        config = {"huggingface:token": emu.token, "huggingface:apiUrl": emu.api_url}
        if option == "host_limit_4":
            config["huggingface:hostWorkers"] = "4"
        host.configure(config, secret_keys=["huggingface:token"])
        # Step generation: Check each resource (this also loads and configures the provider).
        checked = []
        for res, inputs in zip(declared, declared_inputs, strict=True):
            result = host.check(res.urn, {}, inputs)
            assert not result.failures, result.failures
            checked.append((res.urn, result.inputs))
        start = time.perf_counter()
        done: list[float] = []

        def create(item: tuple[str, dict[str, Any]]) -> tuple[str, str, dict[str, Any]]:
            urn, inputs = item
            created = host.create(urn, inputs)
            done.append(time.perf_counter() - start)
            return urn, created.id, created.outputs

        with concurrent.futures.ThreadPoolExecutor(N_ENDPOINTS) as pool:
            created = list(pool.map(create, checked))
        creates_s = time.perf_counter() - start
        refreshes = 0
        if option == "b_nowait_refresh":
            inputs_of = dict(checked)

            def read(item: tuple[str, str, dict[str, Any]]) -> str:
                urn, id_, outputs = item
                return str(host.read(urn, id_, outputs, inputs=inputs_of[urn]).outputs["status"])

            while True:
                refreshes += 1
                with concurrent.futures.ThreadPoolExecutor(N_ENDPOINTS) as pool:
                    read_states = list(pool.map(read, created))
                if all(s == "running" for s in read_states):
                    break
                if time.perf_counter() - start > 300:
                    raise RuntimeError(f"endpoints never all ran: {read_states}")
                time.sleep(1.0)
        wall = time.perf_counter() - start
        states = [str(o.get("status")) for _, _, o in created]
    for name in names:
        httpx.delete(f"{emu.api_url}/endpoint/{emu.user}/{name}", headers=emu.headers)
    return {
        "wall_s": wall,
        "creates_s": creates_s,
        "returned_at_s": sorted(round(d, 2) for d in done),
        "refresh_passes": refreshes,
        "create_states": sorted({str(s) for s in states}),
    }


OPTIONS: dict[str, str] = {
    "single": "one create alone (shipped provider)",
    "shipped": "shipped provider (waits in Create, host pool raised)",
    "host_limit_4": "shipped provider held to Pulumi's 4 workers",
    "b_nowait_refresh": "(b) wait=False, then refresh until running",
    "c_native_model": "(c) uncapped host (native-provider model)",
}


def run(quick: bool) -> BenchResult:
    result = BenchResult(ID, TITLE, quick)
    pending, initializing = (0.25, 0.75) if quick else (1.0, 3.0)
    t = pending + initializing
    repeats = 1 if quick else 3
    result.params = {
        "endpoints": N_ENDPOINTS,
        "provisioning_seconds": t,
        "repeats": repeats,
        "host_workers": "shipped default (32) vs 4",
        "poll_interval": "default (1 s)",
    }
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in OPTIONS}
    timings = {"pending_seconds": pending, "initializing_seconds": initializing}
    with emulator_process(**timings) as emu, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        pythons: dict[str, str] = {k: sys.executable for k in OPTIONS}
        pythons["c_native_model"] = _native_python(tmp)
        for rep in range(repeats):
            order = list(OPTIONS) if rep % 2 == 0 else list(reversed(OPTIONS))
            for option in order:
                tag = f"{option[0]}{rep}-{os.getpid() % 1000}"
                runs[option].append(_one_run(emu, option, tag, pythons[option]))

    walls = {k: median([r["wall_s"] for r in v]) for k, v in runs.items()}
    result.add(
        Figure(
            "P3 16 creates: wall / T (shipped)",
            "×",
            walls["shipped"] / t,
            walls["host_limit_4"] / t,
            reference_label="Pulumi's 4 workers",
            goal=1.5,
            goal_kind="max",
            goal_on="ours",
            goal_text="≤ 1.5×",
            note=f"T = {t:g} s; wall {walls['shipped']:.1f} s",
        )
    )
    result.add(
        Figure(
            "P3 one create alone: wall / T",
            "×",
            walls["single"] / t,
            None,
            note=f"wall {walls['single']:.1f} s: the floor (provisioning plus readiness lag)",
        )
    )
    for option in ("b_nowait_refresh", "c_native_model"):
        result.add(
            Figure(
                f"P3 option {OPTIONS[option]}",
                "×",
                walls[option] / t,
                walls["shipped"] / t,
                ours_label=option,
                reference_label="shipped",
                goal=1.5,
                goal_kind="max",
                goal_on="ours",
                goal_text="≤ 1.5×",
                note=f"wall {walls[option]:.1f} s",
            )
        )
    result.samples = {"runs": runs, "wall_median_s": walls}
    nowait = runs["b_nowait_refresh"]
    if nowait:
        result.notes.append(
            "(b) creates returned after "
            f"{median([r['creates_s'] for r in nowait]):.2f} s (median) with states "
            f"{sorted({s for r in nowait for s in r['create_states']})}; refresh passes: "
            f"{[r['refresh_passes'] for r in nowait]}"
        )
    return result
